"""Load one file into a :class:`Document` (text + metadata), one small function per format.

Every loader raises a :class:`DocumentLoadError` subclass with a Chinese reason; the ingest
pipeline turns that into a "skipped" entry and goes on with the next file.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .attribution import header_metadata, split_articles, title_from_text
from .clean import clean_text
from .errors import DocumentLoadError, FileTooLargeError, UnsupportedFileError
from .models import Document, PageSpan
from .zh import FILE_NAME_REGIONS, PLAIN_YEAR_RE

SUPPORTED_SUFFIXES = (".txt", ".md", ".docx", ".pdf", ".html", ".htm")
SIDECAR_SUFFIX = ".meta.json"

_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)
_DATE_IN_NAME = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_KINDS = ("政府工作报告", "工作报告", "条例", "规定", "决定", "办法", "通知", "意见", "方案", "规划", "报告")


def _decode_text(raw: bytes, name: str) -> str:
    """Decode bytes of a text file: BOMs first, then UTF-8, then GB18030 (a superset of GBK)."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="replace")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    if b"\x00" in raw[:4096]:
        raise DocumentLoadError(f"{name}: binary data", f"《{name}》不是文本文件（含二进制数据），已跳过。")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    if best is None:
        raise DocumentLoadError(f"{name}: unknown encoding", f"《{name}》的文字编码无法识别，已跳过。")
    return str(best)


def _normalise(text: str) -> str:
    """Unify line endings and drop characters that break downstream tools (NUL, other C0 controls)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufeff", "")
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", "", text)


def _parse_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """``---\\nkey: value\\n---`` at the top of a txt/md file (simple ``key: value`` lines)."""
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    meta: dict[str, Any] = {}
    for line in match.group(1).splitlines():
        if ":" in line:
            key, _, value = line.partition(":")
            meta[key.strip()] = value.strip().strip("\"'")
    return meta, text[match.end() :]


def load_text(path: Path) -> tuple[str, dict[str, Any], list[PageSpan]]:
    text = _normalise(_decode_text(path.read_bytes(), path.name))
    meta, text = _parse_front_matter(text)
    return text, meta, []


DEFAULT_MAX_UNZIPPED = 100 * 1024 * 1024


def check_zip_members(path: Path, max_unzipped: int) -> None:
    """Refuse an Office (zip) file before parsing when any member, or all of them together,
    would expand beyond ``max_unzipped`` bytes. Only the central directory is read; Python's
    zipfile never returns more than a member's declared size, so the check bounds memory."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise DocumentLoadError(f"{path}: {exc}", f"《{path.name}》不是有效的 Word 文件，已跳过。") from exc
    total = 0
    limit_mb = max_unzipped // (1024 * 1024)
    for member in members:
        total += member.file_size
        if member.file_size > max_unzipped or total > max_unzipped:
            raise FileTooLargeError(
                f"{path}: member {member.filename!r} expands to {member.file_size} bytes (total {total}) "
                f"> {max_unzipped}",
                f"《{path.name}》解压后超过 {limit_mb} MB 上限（可能是压缩炸弹），已拒绝。",
            )


def load_docx(path: Path, max_unzipped: int = DEFAULT_MAX_UNZIPPED) -> tuple[str, dict[str, Any], list[PageSpan]]:
    import docx  # python-docx
    from docx.oxml.ns import qn

    check_zip_members(path, max_unzipped)
    try:
        document = docx.Document(str(path))
    except Exception as exc:  # python-docx raises several unrelated types for broken files
        raise DocumentLoadError(f"{path}: {exc}", f"《{path.name}》不是有效的 Word 文件，已跳过。") from exc
    blocks: list[str] = []
    # Walk the body in order so that tables stay where they are in the document.
    for element in document.element.body.iterchildren():
        if element.tag == qn("w:p"):
            para = "".join(node.text or "" for node in element.iter(qn("w:t")))
            blocks.append(para)
        elif element.tag == qn("w:tbl"):
            for row in element.iter(qn("w:tr")):
                cells = []
                for cell in row.iter(qn("w:tc")):
                    cells.append("".join(node.text or "" for node in cell.iter(qn("w:t"))).strip())
                blocks.append(" | ".join(cells))
    meta: dict[str, Any] = {}
    core = document.core_properties
    if core.title:
        meta["title"] = core.title
    return _normalise("\n".join(blocks)), meta, []


def load_pdf(path: Path) -> tuple[str, dict[str, Any], list[PageSpan]]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    raise DocumentLoadError(f"{path}: encrypted", f"《{path.name}》有密码保护，无法读取，已跳过。")
            except DocumentLoadError:
                raise
            except Exception as exc:
                raise DocumentLoadError(
                    f"{path}: encrypted ({exc})", f"《{path.name}》有密码保护，无法读取，已跳过。"
                ) from exc
        parts: list[str] = []
        pages: list[PageSpan] = []
        offset = 0
        for number, page in enumerate(reader.pages, start=1):
            page_text = _normalise(page.extract_text() or "").strip("\n")
            if parts:
                offset += 1  # the "\n" joining pages
            pages.append(PageSpan(number, offset, offset + len(page_text)))
            parts.append(page_text)
            offset += len(page_text)
        meta: dict[str, Any] = {}
        if reader.metadata and reader.metadata.title:
            meta["title"] = str(reader.metadata.title)
    except DocumentLoadError:
        raise
    except (PdfReadError, ValueError, KeyError, OSError, TypeError, AttributeError) as exc:
        raise DocumentLoadError(f"{path}: {exc}", f"《{path.name}》是损坏或不完整的 PDF，已跳过。") from exc
    return "\n".join(parts), meta, pages


def load_html(path: Path) -> tuple[str, dict[str, Any], list[PageSpan]]:
    from bs4 import BeautifulSoup

    html = _decode_text(path.read_bytes(), path.name)
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript"]):
        tag.decompose()
    meta: dict[str, Any] = {}
    if soup.title and soup.title.string:
        meta["title"] = soup.title.string.strip()
    text = soup.get_text("\n")
    text = re.sub(r"\n\s*\n+", "\n", text)
    return _normalise(text).strip(), meta, []


LOADERS: dict[str, Callable[[Path], tuple[str, dict[str, Any], list[PageSpan]]]] = {
    ".txt": load_text,
    ".md": load_text,
    ".docx": load_docx,
    ".pdf": load_pdf,
    ".html": load_html,
    ".htm": load_html,
}


def infer_metadata(stem: str) -> dict[str, Any]:
    """Guess region, year, date and kind from a file name such as ``2025年北京市政府工作报告``."""
    meta: dict[str, Any] = {}
    if m := _DATE_IN_NAME.search(stem):
        meta["date"] = f"{m.group(1)}-{m.group(2)}-{m.group(3)}"
        meta["year"] = int(m.group(1))
    elif m := PLAIN_YEAR_RE.search(stem):
        meta["year"] = int(m.group(1))
    for key, region in FILE_NAME_REGIONS.items():
        if key in stem:
            meta["region"] = region
            break
    for kind in _KINDS:
        if kind in stem:
            meta["kind"] = "工作报告" if kind == "政府工作报告" else kind
            break
    return meta


def read_sidecar(path: Path) -> dict[str, Any]:
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    if not sidecar.exists():
        sidecar = path.with_suffix(SIDECAR_SUFFIX)
    if not sidecar.exists():
        return {}
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def content_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def load_document(path: Path, doc_id: str | None = None, max_bytes: int | None = None,
                  max_unzipped: int | None = None) -> Document:
    """Load ``path`` into a Document; raise DocumentLoadError (Chinese reason) if it cannot be used.
    ``max_unzipped`` bounds the uncompressed size of zip-based files (.docx)."""
    suffix = path.suffix.lower()
    if suffix not in LOADERS:
        raise UnsupportedFileError(f"{path}: unsupported suffix {suffix}")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DocumentLoadError(f"{path}: {exc}", f"《{path.name}》无法读取，已跳过。") from exc
    if max_bytes is not None and size > max_bytes:
        raise FileTooLargeError(
            f"{path}: {size} bytes > {max_bytes}",
            f"《{path.name}》超过 {max_bytes // (1024 * 1024)} MB 上限，已拒绝。",
        )
    raw = path.read_bytes()
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    if sidecar.exists():
        raw += b"\x00" + sidecar.read_bytes()  # a metadata edit re-indexes the document
    loader = LOADERS[suffix]
    if suffix == ".docx" and max_unzipped is not None:
        loader = functools.partial(load_docx, max_unzipped=max_unzipped)
    text, meta, pages = loader(path)
    cleaned = clean_text(text)  # joined broken lines, no zero-width characters or web residue
    if cleaned.text != text:
        pages = [PageSpan(p.page, cleaned.map_offset(p.start), cleaned.map_offset(p.end)) for p in pages]
        text = cleaned.text
    if not text.strip():
        raise DocumentLoadError(f"{path}: empty", f"《{path.name}》没有可读取的文字，已跳过。")
    merged: dict[str, Any] = {**infer_metadata(path.stem), **meta, **read_sidecar(path)}
    if not merged.get("title"):
        merged["title"] = _title_without_metadata(text, path.stem)
    for key, value in header_metadata(text, str(merged["title"])).items():
        merged.setdefault(key, value)  # metadata wins; the header fills what it leaves out
    if "date" in merged and "year" not in merged:
        year = str(merged["date"])[:4]
        if year.isdigit():
            merged["year"] = int(year)
    if "year" in merged:
        try:
            merged["year"] = int(merged["year"])
        except (TypeError, ValueError):
            merged.pop("year")
    title = str(merged.pop("title", "") or path.stem)
    return Document(
        doc_id=doc_id or path.stem,
        source=str(path),
        title=title,
        text=text,
        content_hash=content_hash(raw),
        metadata={k: v for k, v in merged.items() if v not in (None, "")},
        pages=pages,
        parts=split_articles(text),
    )


def _title_without_metadata(text: str, stem: str) -> str:
    """The document's first heading line, unless the file name already holds it (``2014年…政府工作报告``
    names its file better than its first line ``政府工作报告``); else the file name."""
    first = title_from_text(text)
    return first if first and first not in stem else stem
