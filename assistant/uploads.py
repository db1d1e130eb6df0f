"""Storing uploaded documents safely under ``settings.uploads_dir``.

The original file name is reduced to a safe base name (directories stripped, ``..``, hidden names,
control and odd characters rejected or replaced), the suffix and size are checked, and the file is
copied without following symlinks into the uploads folder, which must itself lie inside the data
folder.  Nothing is ever written outside ``settings.data_dir``.
"""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
from pathlib import Path

from index.loaders import SIDECAR_SUFFIX, SUPPORTED_SUFFIXES

from .errors import AssistantError, FileTooLargeError, UnsupportedFileError
from .settings import Settings

MAX_NAME_CHARS = 120
# A file name on Linux file systems is at most 255 *bytes* (120 CJK characters are 360); the loader also
# looks for a sidecar "<name>.meta.json" next to each document, which must fit as well.
MAX_NAME_BYTES = 255 - len(SIDECAR_SUFFIX.encode("utf-8"))
# Letters/digits of any script (CJK included), space and a few harmless punctuation marks.
_ALLOWED = re.compile(r"[\w\u3000-\u303f\uff08\uff09\u300a\u300b\u3010\u3011 ()\[\]（）《》【】·、，,.+-]")


class UploadError(AssistantError):
    user_message = "文件名不安全，已拒绝上传。"


class DuplicateUploadError(UploadError):
    """A file with the name of an earlier upload: replaced only when the caller confirms (``replace=True``)."""

    user_message = "已有同名的上传文件；如要替换，请确认替换。"


def safe_filename(name: str) -> str:
    """A safe base name for an uploaded file, or :class:`UploadError` / :class:`UnsupportedFileError`.

    At most ``MAX_NAME_CHARS`` characters and ``MAX_NAME_BYTES`` bytes of UTF-8 with the suffix (a longer
    stem is cut, see :func:`shortened`)."""
    return _safe_filename(name)[0]


def shortened(original: str) -> str | None:
    """The Chinese note for an upload whose name had to be cut to fit (None when it was not)."""
    stored, cut = _safe_filename(original)
    if not cut:
        return None
    return (f"文件名过长（最多 {MAX_NAME_CHARS} 个字符、{MAX_NAME_BYTES} 字节，一个汉字占 3 字节），"
            f"已截短保存为《{stored}》。")


def _safe_filename(name: str) -> tuple[str, bool]:
    raw = str(name or "")
    if "\x00" in raw:
        raise UploadError("NUL in file name")
    base = unicodedata.normalize("NFC", raw.replace("\\", "/").split("/")[-1]).strip()
    if not base or base in (".", "..") or ".." in base:
        raise UploadError(f"unsafe name {raw!r}", "文件名不安全（含“..”或为空），已拒绝上传。")
    if base.startswith("."):
        raise UploadError(f"hidden name {raw!r}", "不接受以“.”开头的隐藏文件。")
    if any(unicodedata.category(ch).startswith("C") for ch in base):
        raise UploadError(f"control characters in {raw!r}", "文件名含有控制字符，已拒绝上传。")
    if base.lower().endswith(SIDECAR_SUFFIX):
        raise UnsupportedFileError(f"sidecar {raw!r}", "不接受元数据旁注文件（.meta.json）。")
    suffix = Path(base).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnsupportedFileError(f"unsupported suffix {suffix!r}")
    stem = base[: -len(suffix)]
    cleaned = "".join(ch if _ALLOWED.fullmatch(ch) else "_" for ch in stem)
    cleaned = re.sub(r"_{2,}", "_", cleaned).strip(" ._")
    if not cleaned or not re.search(r"[^\W_]", cleaned):
        raise UploadError(f"no usable characters in {raw!r}", "文件名中没有可用的文字，请改名后上传。")
    cut = cut_to_bytes(cleaned[: MAX_NAME_CHARS - len(suffix)], MAX_NAME_BYTES - len(suffix.encode("utf-8")))
    return cut.rstrip(" ._") + suffix, cut != cleaned


def cut_to_bytes(text: str, limit: int) -> str:
    """The longest prefix of ``text`` whose UTF-8 encoding has at most ``limit`` bytes (never half a character)."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", errors="ignore")


def uploads_root(settings: Settings) -> Path:
    """The uploads folder, created if needed; refuses when it would resolve outside the data folder."""
    data = settings.data_dir.resolve()
    root = settings.uploads_dir
    if root.is_symlink():
        raise UploadError(f"uploads dir {root} is a symlink", "上传目录配置不安全（符号链接），已拒绝。")
    root.mkdir(parents=True, exist_ok=True)
    resolved = root.resolve()
    if resolved != data and data not in resolved.parents:
        raise UploadError(f"uploads dir {resolved} outside data dir", "上传目录不在数据目录内，已拒绝。")
    return resolved


def store_upload(source: Path, original_name: str, settings: Settings) -> Path:
    """Copy an uploaded temp file into the uploads folder under a safe name; return the new path."""
    name = safe_filename(original_name)
    source = Path(source)
    if source.is_symlink() or not source.is_file():
        raise UploadError(f"upload {source} is not a regular file", "上传的不是普通文件，已拒绝。")
    limit = settings.max_upload_mb * 1024 * 1024
    size = source.stat().st_size
    if size > limit:
        raise FileTooLargeError(f"{size} bytes > {limit}",
                                f"文件过大（{size / 1048576:.1f} MB），上限为 {settings.max_upload_mb} MB。")
    if size == 0:
        raise UploadError("empty upload", "文件为空，已拒绝。")
    root = uploads_root(settings)
    dest = root / name
    if dest.parent != root:
        raise UploadError(f"{dest} escapes {root}")
    if dest.is_symlink() or (dest.exists() and not dest.is_file()):
        raise UploadError(f"{dest} exists and is not a regular file", "上传目录中存在同名的非普通文件，已拒绝。")
    tmp = root / f".upload-{os.getpid()}-{os.urandom(4).hex()}{dest.suffix}"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(tmp, flags, 0o640)
    try:
        with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
            shutil.copyfileobj(src, out, 1024 * 1024)
            if out.tell() > limit:
                raise FileTooLargeError("grew while copying", f"文件过大，上限为 {settings.max_upload_mb} MB。")
        os.replace(tmp, dest)
    finally:
        if tmp.exists():
            tmp.unlink()
    return dest


def is_uploaded(path: str | Path, settings: Settings) -> bool:
    """Whether a document source lies in the uploads folder (so deleting it may remove the file)."""
    try:
        p = Path(path).resolve()
        return settings.uploads_dir.resolve() in p.parents
    except OSError:
        return False


def remove_upload(path: str | Path, settings: Settings) -> bool:
    """Delete an uploaded file (only inside the uploads folder, never through a symlink)."""
    p = Path(path)
    if not is_uploaded(p, settings) or p.is_symlink() or not p.is_file():
        return False
    p.unlink()
    return True
