"""Build-time tool: the bundled e5 model as a GGUF file, for llama.cpp's server in embedding mode.

``python -m index.provision.gguf_export --converter DIR`` (``make embed-gguf``) writes
``<model_dir>/multilingual-e5-small-f16.gguf``. It is the model an embeddings endpoint
(``ASSISTANT_EMBEDDING_URL``) serves on this machine, for the tests and for a demo of the remote
path; production deployments point the setting at their own server instead.

The converter is llama.cpp's own ``convert_hf_to_gguf.py``, taken from the llama-cpp-python source
distribution that ``make llm`` builds (``DIR`` is its ``vendor/llama.cpp``): no hub access and no
hand-written GGUF writer. multilingual-e5-small is a BERT encoder with XLM-RoBERTa's SentencePiece
(unigram) vocabulary, a pairing the converter has no class for: its BERT class would write a
WordPiece vocabulary. So the model is staged in a temporary folder under the converter's
XLM-RoBERTa class, with ``pad_token_id`` left out of the staged config (that class would otherwise
drop the first two position embeddings, which RoBERTa offsets and BERT does not) and the Unigram
normaliser's precompiled character map at the top level of ``tokenizer.json`` where the converter
reads it. Vectors of the result match sentence-transformers torch fp32 to a cosine of 0.9997
(tested in ``tests/test_remote_embedder.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from ..errors import ModelNotAvailableError
from ..settings import IndexSettings
from .model_path import resolve_model_path

GGUF_NAME = "multilingual-e5-small-f16.gguf"
# The files the converter reads besides the weights (which are linked, not copied).
_COPIED = ("special_tokens_map.json", "modules.json", "sentence_bert_config.json", "config_sentence_transformers.json")


def gguf_path(settings: IndexSettings) -> Path:
    return settings.model_dir / GGUF_NAME


def stage(model_dir: Path, staging: Path) -> None:
    """Write the converter's view of ``model_dir`` into ``staging`` (see the module docstring)."""
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    config["architectures"] = ["XLMRobertaModel"]
    config.pop("pad_token_id", None)
    (staging / "config.json").write_text(json.dumps(config, indent=1), encoding="utf-8")
    tokenizer = json.loads((model_dir / "tokenizer.json").read_text(encoding="utf-8"))
    normalizer = tokenizer.get("normalizer") or {}
    if normalizer.get("type") == "Sequence":
        precompiled = [n for n in normalizer.get("normalizers", []) if n.get("type") == "Precompiled"]
        if not precompiled:
            raise ModelNotAvailableError(f"{model_dir}/tokenizer.json has no precompiled character map")
        tokenizer["normalizer"] = precompiled[0]
    (staging / "tokenizer.json").write_text(json.dumps(tokenizer, ensure_ascii=False), encoding="utf-8")
    tok_config = json.loads((model_dir / "tokenizer_config.json").read_text(encoding="utf-8"))
    tok_config["tokenizer_class"] = "XLMRobertaTokenizer"
    (staging / "tokenizer_config.json").write_text(json.dumps(tok_config, indent=1), encoding="utf-8")
    for name in _COPIED:
        if (model_dir / name).is_file():
            shutil.copy2(model_dir / name, staging / name)
    if (model_dir / "1_Pooling").is_dir():  # the converter reads the pooling type from it
        shutil.copytree(model_dir / "1_Pooling", staging / "1_Pooling")
    os.symlink((model_dir / "model.safetensors").resolve(), staging / "model.safetensors")


def export(model_dir: Path, out: Path, converter: Path, outtype: str = "f16") -> Path:
    """Convert ``model_dir`` to ``out`` with the converter in ``converter`` (once; atomic)."""
    script = converter / "convert_hf_to_gguf.py"
    if not script.is_file():
        raise ModelNotAvailableError(f"llama.cpp converter not found at {script}; run make embed-gguf")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = out.with_name(out.name + ".part")
    with tempfile.TemporaryDirectory(prefix="e5-gguf-") as tmp:
        staging = Path(tmp)
        stage(model_dir, staging)
        env = dict(os.environ, PYTHONPATH=str(converter / "gguf-py"), HF_HUB_OFFLINE="1",
                   TRANSFORMERS_OFFLINE="1")
        proc = subprocess.run([sys.executable, str(script), str(staging), "--outfile", str(tmp_out),
                               "--outtype", outtype], env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0 or not tmp_out.is_file():
        tmp_out.unlink(missing_ok=True)
        raise ModelNotAvailableError(f"GGUF conversion failed ({proc.returncode}):\n{proc.stderr[-3000:]}",
                                     "嵌入模型的 GGUF 转换失败，请查看 make embed-gguf 的输出。")
    with open(tmp_out, "rb") as fh:
        if fh.read(4) != b"GGUF":
            tmp_out.unlink(missing_ok=True)
            raise ModelNotAvailableError(f"{tmp_out} is not a GGUF file")
    os.replace(tmp_out, out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="导出内置嵌入模型为 GGUF（供 llama.cpp 嵌入服务使用）")
    parser.add_argument("--converter", type=Path, required=True, help="llama.cpp 源码目录（含 convert_hf_to_gguf.py）")
    parser.add_argument("--out", type=Path, default=None, help=f"输出文件（默认 <model_dir>/{GGUF_NAME}）")
    parser.add_argument("--force", action="store_true", help="已存在也重新转换")
    args = parser.parse_args(argv)
    settings = IndexSettings()
    out = args.out or gguf_path(settings)
    if out.is_file() and not args.force:
        print(f"已存在：{out}")
        return 0
    try:
        export(resolve_model_path(settings), out, args.converter)
    except ModelNotAvailableError as exc:
        print(exc.user_message, file=sys.stderr)
        print(str(exc), file=sys.stderr)
        return 1
    print(f"已写入：{out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
