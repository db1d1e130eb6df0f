"""Export the local sentence-transformers encoder to ONNX, fuse it for BERT and quantize it to int8.

Why by hand and not ``SentenceTransformer(backend="onnx")``: that backend needs ``optimum``, whose
releases pin sentence-transformers and transformers to older versions than this project uses. The
three steps below use only torch's exporter and the tools shipped inside ``onnxruntime`` itself:

1. ``torch.onnx.export`` of the transformer (eager attention, so that step 2 recognises it);
2. ``onnxruntime.transformers.optimizer`` fuses embeddings+LayerNorm, attention, bias+GELU and
   skip+LayerNorm into single kernels (what optimum calls O2);
3. ``quantize_dynamic``: int8 weights per output channel, activations quantized on the fly.

Measured on this project's 2-core AVX2 machine (``python -m index.provision.onnx_export --check``): fused fp32
about 1.2x torch fp32, fused int8 about 1.6-1.8x, cosine to torch >= 0.99 per passage. The files are
written next to the model (``<model>/onnx/``) with a marker recording what they were made from, so
a changed model is re-exported and an unchanged one never is. Nothing is downloaded.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import shutil
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import ModelNotAvailableError
from ..settings import IndexSettings
from .folder_lock import folder_lock
from .model_path import resolve_model_path

log = logging.getLogger(__name__)

EXPORT_VERSION = "1"
ONNX_DIR = "onnx"
MARKER = "export.json"
FILES = {"onnx": "model_fused.onnx", "onnx-int8": "model_fused_qint8.onnx"}
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
OPSET = 17


def _model_digest(model_dir: Path) -> str:
    """Digest of what the export depends on: the config and the weights' size and first MiB."""
    digest = hashlib.sha256(EXPORT_VERSION.encode())
    for name in ("config.json", "model.safetensors", "pytorch_model.bin"):
        path = model_dir / name
        if path.exists():
            digest.update(name.encode() + str(path.stat().st_size).encode())
            with path.open("rb") as fh:
                digest.update(fh.read(1 << 20))
    return digest.hexdigest()[:16]


def onnx_path(model_dir: Path, backend: str) -> Path:
    return model_dir / ONNX_DIR / FILES[backend]


def is_current(model_dir: Path) -> bool:
    marker = model_dir / ONNX_DIR / MARKER
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return data.get("source_digest") == _model_digest(model_dir) and all(
        (model_dir / ONNX_DIR / name).exists() for name in FILES.values()
    )


class _DropToolChatter(logging.Filter):
    """Drop onnxruntime's INFO/WARNING chatter (about 80 lines per export: "Quantization parameters for
    tensor … not specified", "Fused Gelu: 12", "Please consider to run pre-processing …"); errors pass."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.ERROR or "onnxruntime" not in record.pathname.replace("\\", "/")


@contextmanager
def _quiet_tools() -> Iterator[None]:
    """Silence the exporter's known, harmless output: torch's TorchScript-exporter deprecation and tracer
    warnings, transformers' weight-loading bar and onnxruntime's optimizer/quantizer logging (which goes
    partly to the root logger directly, hence the filter on the root logger and its handlers)."""
    root = logging.getLogger()
    chatter = _DropToolChatter()
    targets: list[Any] = [root, *root.handlers]
    ort = logging.getLogger("onnxruntime")
    old_level = ort.level
    hf_logging: Any = None
    bar_was_on = False
    try:
        from transformers.utils import logging as hf_logging

        bar_was_on = hf_logging.is_progress_bar_enabled()
        hf_logging.disable_progress_bar()
    except Exception:  # pragma: no cover - transformers without these helpers
        hf_logging = None
    for target in targets:
        target.addFilter(chatter)
    ort.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # DeprecationWarning, TracerWarning, UserWarning of torch.onnx
            yield
    finally:
        ort.setLevel(old_level)
        for target in targets:
            target.removeFilter(chatter)
        if hf_logging is not None and bar_was_on:
            hf_logging.enable_progress_bar()


def _export_fp32(model_dir: Path, out: Path) -> None:
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager", local_files_only=True).eval()

    class LastHidden(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    sample = torch.ones(2, 16, dtype=torch.long)
    axes = {name: {0: "batch", 1: "sequence"} for name in (*INPUT_NAMES, "last_hidden_state")}
    with torch.inference_mode():
        torch.onnx.export(LastHidden(model), (sample, sample, torch.zeros_like(sample)), str(out),
                          input_names=list(INPUT_NAMES), output_names=["last_hidden_state"],
                          dynamic_axes=axes, opset_version=OPSET, dynamo=False)


def export(model_dir: Path) -> Path:
    """(Re-)export ``model_dir`` to ``model_dir/onnx``; returns that folder. Atomic: a crash leaves
    the previous export (or none), never half of one."""
    if not (model_dir / "config.json").exists():
        raise ModelNotAvailableError(f"no transformer config in {model_dir}")
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers import optimizer

    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    target = model_dir / ONNX_DIR
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=model_dir, prefix=".onnx-") as tmp_name, _quiet_tools():
        tmp = Path(tmp_name)
        raw = tmp / "raw.onnx"
        _export_fp32(model_dir, raw)
        fused = optimizer.optimize_model(str(raw), model_type="bert", num_heads=int(config["num_attention_heads"]),
                                         hidden_size=int(config["hidden_size"]), opt_level=1)
        fusions = {k: v for k, v in fused.get_fused_operator_statistics().items() if v}
        fused.save_model_to_file(str(tmp / FILES["onnx"]))
        raw.unlink()
        # reduce_range: 7-bit weights avoid the u8*s8 saturation of AVX2 CPUs without VNNI
        # (onnxruntime's advice); measured no slower here and equally close to fp32.
        quantize_dynamic(str(tmp / FILES["onnx"]), str(tmp / FILES["onnx-int8"]), weight_type=QuantType.QInt8,
                         per_channel=True, reduce_range=True, extra_options={"DefaultTensorType": 1})
        marker = {"export_version": EXPORT_VERSION, "source_digest": _model_digest(model_dir), "opset": OPSET,
                  "fusions": fusions, "files": FILES, "seconds": round(time.perf_counter() - t0, 1)}
        (tmp / MARKER).write_text(json.dumps(marker, indent=2), encoding="utf-8")
        old = model_dir / ".onnx-old"
        shutil.rmtree(old, ignore_errors=True)
        if target.exists():
            target.rename(old)
        tmp.chmod(0o755)
        tmp.rename(target)
        shutil.rmtree(old, ignore_errors=True)
        Path(tmp_name).mkdir()  # let TemporaryDirectory clean up an empty folder
    log.info("exported %s to ONNX (fused fp32 + int8) in %.0f s: %s -> %s", model_dir.name, time.perf_counter() - t0,
             ", ".join(f"{k} {v}" for k, v in fusions.items()), target)
    return target


def ensure_onnx(model_dir: Path, backend: str) -> Path:
    """The ONNX file for ``backend``, exported first if missing or made from another model."""
    if not is_current(model_dir):
        with folder_lock(model_dir / ONNX_DIR):  # one exporter at a time per model folder
            if not is_current(model_dir):
                export(model_dir)
    return onnx_path(model_dir, backend)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model_dir", type=Path, nargs="?", default=None)
    parser.add_argument("--force", action="store_true", help="export even if up to date")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    model_dir = args.model_dir or resolve_model_path(IndexSettings())
    if args.force or not is_current(model_dir):
        export(model_dir)  # logs its one summary line
    else:
        print(f"ONNX export up to date: {onnx_path(model_dir, 'onnx-int8')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
