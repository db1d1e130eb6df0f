"""Each loader on files made by the test: encodings, docx, pdf (pages), html, bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.errors import DocumentLoadError, FileTooLargeError, UnsupportedFileError
from index.loaders import infer_metadata, load_document

TEXT = "第一条 为了推进京津冀协同发展，制定本规定。\n第二条 本市与天津市、河北省共同建设雄安新区。"


@pytest.mark.parametrize("encoding", ["utf-8", "gbk", "gb18030", "utf-16", "utf-8-sig"])
def test_text_encodings(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / f"规定-{encoding}.txt"
    path.write_bytes(TEXT.encode(encoding))
    doc = load_document(path)
    assert doc.text == TEXT
    assert doc.title == path.stem


def test_crlf_and_front_matter_and_sidecar(tmp_path: Path) -> None:
    path = tmp_path / "通知.md"
    front = "---\ntitle: 关于推进一卡通的通知\nregion: 天津\ndate: 2024-05-01\n---\n"
    path.write_bytes((front + "正文第一段。\r\n第二段。").encode())
    doc = load_document(path)
    assert doc.title == "关于推进一卡通的通知"
    assert doc.text == "正文第一段。\n第二段。"
    assert doc.metadata["region"] == "天津" and doc.metadata["year"] == 2024
    (tmp_path / "通知.md.meta.json").write_text(json.dumps({"issuer": "天津市人民政府", "kind": "通知"}), "utf-8")
    doc2 = load_document(path)
    assert doc2.metadata["issuer"] == "天津市人民政府"
    assert doc2.content_hash != doc.content_hash  # a metadata edit re-indexes the document


def test_metadata_from_file_name() -> None:
    assert infer_metadata("2025年北京市政府工作报告") == {"year": 2025, "region": "北京", "kind": "工作报告"}
    meta = infer_metadata("北京市推进京津冀社会保障卡一卡通规定(2024-09-27)")
    assert meta["date"] == "2024-09-27" and meta["kind"] == "规定" and meta["year"] == 2024


def test_docx_paragraphs_and_tables(tmp_path: Path) -> None:
    import docx

    d = docx.Document()
    d.core_properties.title = "协同发展工作要点"
    d.add_paragraph("一、总体要求")
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "任务"
    table.cell(0, 1).text = "牵头单位"
    table.cell(1, 0).text = "交通一体化"
    table.cell(1, 1).text = "市交通委"
    d.add_paragraph("二、重点任务。推进轨道上的京津冀建设。")
    path = tmp_path / "要点.docx"
    d.save(str(path))
    doc = load_document(path)
    assert doc.title == "协同发展工作要点"
    assert doc.text.index("一、总体要求") < doc.text.index("交通一体化 | 市交通委") < doc.text.index("二、重点任务")


def test_docx_with_only_tables(tmp_path: Path) -> None:
    import docx

    d = docx.Document()
    t = d.add_table(rows=1, cols=2)
    t.cell(0, 0).text = "雄安新区"
    t.cell(0, 1).text = "承接疏解"
    path = tmp_path / "表格.docx"
    d.save(str(path))
    assert "雄安新区 | 承接疏解" in load_document(path).text


def _make_pdf(path: Path, pages: list[str], password: str | None = None) -> None:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(path), pagesize=A4, encrypt=password)
    for text in pages:
        c.setFont("STSong-Light", 14)
        c.drawString(72, 760, text)
        c.showPage()
    c.save()


def test_pdf_keeps_page_numbers(tmp_path: Path) -> None:
    path = tmp_path / "报告.pdf"
    _make_pdf(path, ["Page one: Beijing Tianjin Hebei", "Page two: Xiongan New Area 2025"])
    doc = load_document(path)
    assert [p.page for p in doc.pages] == [1, 2]
    second = doc.text.index("Xiongan")
    assert doc.page_at(second) == 2 and doc.page_at(0) == 1
    for span in doc.pages:
        assert doc.text[span.start : span.end].strip()


def test_truncated_and_encrypted_pdf_are_refused(tmp_path: Path) -> None:
    good = tmp_path / "good.pdf"
    _make_pdf(good, ["some text on a page"])
    truncated = tmp_path / "truncated.pdf"
    truncated.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 3])
    with pytest.raises(DocumentLoadError) as err:
        load_document(truncated)
    assert "PDF" in err.value.user_message or "没有可读取" in err.value.user_message
    locked = tmp_path / "locked.pdf"
    _make_pdf(locked, ["secret"], password="s3cret")
    with pytest.raises(DocumentLoadError) as err2:
        load_document(locked)
    assert "密码" in err2.value.user_message


def test_html_drops_script_and_keeps_text(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text("<html><head><title>通知</title><script>alert(1)</script></head>"
                    "<body><h1>一、总体要求</h1><p>推进京津冀协同发展。</p></body></html>", encoding="utf-8")
    doc = load_document(path)
    assert doc.title == "通知"
    assert "alert" not in doc.text and "推进京津冀协同发展。" in doc.text


def test_bad_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(DocumentLoadError, match="empty"):
        load_document(empty)
    binary = tmp_path / "binary.txt"
    binary.write_bytes(bytes(range(256)) * 20)
    with pytest.raises(DocumentLoadError) as err:
        load_document(binary)
    assert "二进制" in err.value.user_message
    odd = tmp_path / "x.exe"
    odd.write_bytes(b"MZ")
    with pytest.raises(UnsupportedFileError):
        load_document(odd)
    big = tmp_path / "big.txt"
    big.write_text("京津冀" * 1000, encoding="utf-8")
    with pytest.raises(FileTooLargeError):
        load_document(big, max_bytes=1000)
