"""Refusal and partial texts are grammatical Chinese in a few fixed forms, for every question of our sets.

The texts name the named document, year or region, or quote a part of the question whole; they never
glue extracted words together (…开始的具体时间, …是从时候的…, the earlier forms).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from assistant.analysis import DocCatalog, DocEntryView, QuestionPart, analyse
from assistant.decide import decide, missing_text
from assistant.evidence import Gate, SentenceEvidence
from assistant.settings import REPO_ROOT
from assistant.writers.base import REFUSAL_PHRASE
from index.zh import YEAR_RE, regions_in

SETS = sorted((REPO_ROOT / "eval" / "sets").glob("*.jsonl"))
_YEARS = r"\d{4}年(?:、\d{4}年)*"
_REGIONS = r"(?:北京市|天津市|河北省)(?:、(?:北京市|天津市|河北省))*"
FORMS = [
    re.compile(r"^已收录文件中没有能回答这个问题的内容$"),
    re.compile(r"^《[^》]+》中没有能回答这个问题的内容$"),
    re.compile(r"^《[^》]+》中没有关于“(?P<quote>.+)”的内容$"),
    re.compile(rf"^已收录文件中没有(?:{_YEARS})?(?:{_REGIONS})?的相关内容，只有其他(?:年份|地区)的（见相关内容）$"),
    re.compile(rf"^已收录的(?:{_YEARS})?(?:{_REGIONS})?文件中没有能回答这个问题的内容$"),
    re.compile(r"^已收录文件中没有关于“(?P<quote>.+)”的内容$"),
]


def _catalog() -> DocCatalog:
    """The documents by their file names (titles, years and regions as the loaders derive them)."""
    names = {p.stem for p in (REPO_ROOT / "docs_corpus").glob("*.txt")}  # the shipped library
    views = []
    for name in sorted(names):
        year = YEAR_RE.search(name)
        regions = regions_in(name) or (["国家"] if "国务院" in name else [])
        kind = "工作报告" if "工作报告" in name else ("条例" if "条例" in name else None)
        views.append(DocEntryView(name, re.sub(r"\(\d{4}-\d{2}-\d{2}\)$", "", name),
                                  int(year.group(1)) if year else None, regions[0] if regions else None, kind))
    return DocCatalog(views)


def _questions() -> list[str]:
    out = []
    for path in SETS:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append(json.loads(line)["question"])
    return out


def _window(issue: str) -> SentenceEvidence:
    return SentenceEvidence(hit=0, start=0, end=4, text="某句话。", focus=0.9, topic=0.9, type_ok=True, scope_ok=False,
                            scope_issue=issue, score=0.9, prob=0.9, gate=Gate(threshold=0.5))


def _check(text: str, question: str) -> None:
    for form in FORMS:
        m = form.match(text)
        if m:
            quote = m.groupdict().get("quote")
            assert quote is None or quote in question, f"quoted words not the question's own: {text!r} / {question!r}"
            return
    pytest.fail(f"refusal text in no fixed form: {text!r} (question {question!r})")


def test_every_question_of_our_sets_gets_a_fixed_form() -> None:
    questions = _questions()
    assert len(questions) >= 300, "the evaluation sets were not found"
    catalog = _catalog()
    for question in questions:
        analysis = analyse(question, catalog)
        parts = analysis.parts or [QuestionPart(question, analysis.answer_type, analysis.unit, analysis.focus)]
        for part in parts:
            for issue in ("", "year", "region", "document"):
                scoped_out = [_window(issue)] if issue else []
                _check(missing_text(analysis, part, scoped_out), question)
                _check(missing_text(analysis, part, scoped_out, multi=len(parts) > 1), question)
        refusal = decide(analysis, [])
        assert refusal.status == "not_found"
        assert refusal.message.startswith(f"{REFUSAL_PHRASE}。") and refusal.message.endswith("。")
        for piece in refusal.message.removeprefix(f"{REFUSAL_PHRASE}。").rstrip("。").split("；"):
            _check(piece, question)


@pytest.mark.parametrize(("question", "expected"), [
    ("北京的数字经济促进条例哪天开始实施的？", "已收录的北京市文件中没有能回答这个问题的内容"),
    ("京雄快线的设计时速是多少公里？", "已收录文件中没有关于“京雄快线的设计时速”的内容"),
    ("2016年国务院政府工作报告提出的赤字率是多少？", "《2016年国务院政府工作报告》中没有关于“赤字率”的内容"),
])
def test_examples_read_as_whole_sentences(question: str, expected: str) -> None:
    catalog = DocCatalog([DocEntryView("2016年中华人民共和国国务院政府工作报告", "2016年中华人民共和国国务院政府工作报告",
                                       2016, "国家", "工作报告")])
    analysis = analyse(question, catalog)
    assert missing_text(analysis, analysis.parts[0], []) == expected


def test_sets_exist() -> None:
    assert any(Path(p).name == "jjj_dev.jsonl" for p in SETS)
