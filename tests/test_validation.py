"""Typed errors for every argument of ask(): filters, history, the question; a fuzz test; the docx bomb."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant import Answer, Assistant, AssistantError, InvalidQuestionError
from assistant.errors import FileTooLargeError, InvalidFiltersError, InvalidHistoryError
from assistant.filters import validate_filters
from assistant.models import Filters
from assistant.settings import REPO_ROOT
from assistant.validation import validate_history
from index.loaders import load_document
from index.pipeline import Indexer

from .conftest import make_settings

SEED_Q = "“六链五群”指什么？"


# -- filters ------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [
    {"year": "abc"}, {"year": [None]}, {"year": [2024.5]}, {"year": True}, {"year": 99999},
    ["北京"], "北京", 5, {"region": ["\ud800"]}, {"region": [None]}, {"region": {"a": 1}}, {"region": "北京\x00"},
    {"regoin": ["北京"]}, {("region",): 1}, {"kind": ["x" * 500]},
])
def test_bad_filters_raise_a_typed_error(bad: Any) -> None:
    with pytest.raises(InvalidFiltersError) as err:
        validate_filters(bad)
    assert isinstance(err.value, InvalidQuestionError) and err.value.user_message.startswith("检索范围无效")


def test_good_filters_are_normalised() -> None:
    assert validate_filters(None) == Filters()
    assert validate_filters({"region": "北京", "year": "2024年", "kind": None, "document": "a"}) == Filters(
        region=["北京"], year=[2024], doc_id=["a"])
    assert validate_filters({"region": ["北京", " 北京 ", ""], "year": (2023, "2024")}) == Filters(
        region=["北京"], year=[2023, 2024])
    given_filters = Filters(region=["天津"])
    assert validate_filters(given_filters) == given_filters
    with pytest.raises(InvalidFiltersError):
        validate_filters(Filters(year=["abc"]))  # type: ignore[list-item]


# -- history ------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [
    "abc", ["…"], [("q", "a", "x")], 5, [{"q": "a"}], {"q": "a"}, [("q", None)], [(1, "a")], [("q\ud800", "a")],
    [("q", "a"), "b"],
])
def test_bad_history_raises_a_typed_error(bad: Any) -> None:
    with pytest.raises(InvalidHistoryError) as err:
        validate_history(bad, 6, 1000)
    assert err.value.user_message.startswith("对话历史无效")


def test_history_accepts_answers_and_is_capped() -> None:
    answer = Answer(question="北京呢？", text="北京推进六链五群建设[1]。")
    assert validate_history([("北京呢？", answer)], 6, 1000) == [("北京呢？", "北京推进六链五群建设[1]。")]
    long = [(f"问题{i}", "答" * 5000) for i in range(50)]
    capped = validate_history(long, 6, 1000)
    assert [q for q, _ in capped] == [f"问题{i}" for i in range(44, 50)]
    assert all(len(a) == 1000 for _, a in capped)
    assert validate_history([], 6, 1000) == [] and validate_history(None, 6, 1000) == []
    assert validate_history(long, 0, 1000) == []


# -- through ask() ------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [
    {"filters": {"year": "abc"}}, {"filters": {"year": [None]}}, {"filters": ["北京"]}, {"filters": "北京"},
    {"filters": {"region": ["\ud800"]}}, {"history": "abc"}, {"history": ["…"]}, {"history": [("a", "b", "c")]},
    {"history": 5}, {"history": [{"question": "a", "answer": "b"}]},
])
def test_ask_raises_only_typed_errors(seed_assistant: Assistant, kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidQuestionError) as err:
        seed_assistant.ask(SEED_Q, **kwargs)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in err.value.user_message)


def test_lone_surrogate_question_is_an_invalid_question(seed_assistant: Assistant) -> None:
    with pytest.raises(InvalidQuestionError) as err:
        seed_assistant.ask("六链五群\ud800是什么？")
    assert "无法识别的字符" in err.value.user_message
    with pytest.raises(InvalidQuestionError):
        list(seed_assistant.stream("\udfff"))


def test_answer_objects_in_history_and_huge_history(seed_assistant: Assistant) -> None:
    first = seed_assistant.ask(SEED_Q)
    follow = seed_assistant.ask("第一点具体怎么说？", history=[(SEED_Q, first)])
    assert "Answer(" not in (follow.rewritten_question or "") and "citations=" not in (follow.rewritten_question or "")
    started = time.monotonic()
    huge = [("京津冀" * 1000, "协同发展" * 25000)] * 2 + [(SEED_Q, first.text)]  # 200,000+ characters
    answer = seed_assistant.ask("那天津呢？", history=huge)
    assert time.monotonic() - started < 20  # was 102 s in jieba
    assert isinstance(answer, Answer)
    assert len(answer.rewritten_question or "") <= 2 * seed_assistant.settings.history_max_chars_per_turn + 20


_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                     st.text(st.characters(codec=None, exclude_categories=()), max_size=30))
_values = st.one_of(_scalars, st.lists(_scalars, max_size=4), st.dictionaries(st.text(max_size=5), _scalars, max_size=2))
_filters = st.one_of(
    st.none(), _scalars, st.lists(_scalars, max_size=3),
    st.dictionaries(st.sampled_from(["region", "year", "kind", "doc_id", "document", "doc", "bogus"]), _values,
                    max_size=4),
    st.builds(Filters, region=st.lists(st.sampled_from(["北京", "天津", "河北"]), max_size=2),
              year=st.lists(st.integers(2015, 2026), max_size=2)),
)
_turn_part = st.one_of(st.text(st.characters(codec=None, exclude_categories=()), max_size=60), st.none(), st.integers(),
                       st.builds(Answer, question=st.just("问"), text=st.text(max_size=60)))
_history = st.one_of(
    st.none(), _scalars,
    st.lists(st.one_of(st.tuples(_turn_part, _turn_part), st.tuples(_turn_part), st.tuples(_turn_part, _turn_part,
                                                                                            _turn_part),
                       st.lists(_turn_part, max_size=3), st.dictionaries(st.text(max_size=3), _turn_part, max_size=2),
                       _scalars), max_size=4),
)
_questions = st.one_of(
    st.sampled_from([SEED_Q, "那天津呢？", "第二点具体怎么说？", "雄安新区有哪些支持政策？", "2024年呢？"]),
    st.text(st.characters(codec=None, exclude_categories=()), max_size=80),
    st.text(alphabet="京津冀协同发展六链五群雄安新区天北河的是什么？，。、“”0123456789年", min_size=1, max_size=40),
    st.none(), st.integers(), st.binary(max_size=10),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
@given(question=_questions, filters=_filters, history=_history)
def test_fuzz_ask_returns_an_answer_or_a_typed_error(seed_assistant: Assistant, question: Any, filters: Any,
                                                     history: Any) -> None:
    try:
        answer = seed_assistant.ask(question, history=history, filters=filters)
    except AssistantError as exc:
        assert exc.user_message and any("\u4e00" <= ch <= "\u9fff" for ch in exc.user_message)
        return
    assert isinstance(answer, Answer) and answer.text
    json.dumps(answer.to_dict(), ensure_ascii=False)  # always serialisable for the HTTP endpoint


# -- the docx bomb ------------------------------------------------------------------------------
def make_docx_bomb(path: Path, expanded: int = 1 << 30) -> Path:
    """A valid .docx whose document.xml expands to ``expanded`` bytes (a few MB compressed)."""
    import docx

    doc = docx.Document()
    doc.add_paragraph("京津冀协同发展")
    buf = io.BytesIO()
    doc.save(buf)
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, \
            zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as out:
        for item in src.infolist():
            if item.filename != "word/document.xml":
                out.writestr(item, src.read(item.filename))
                continue
            xml = src.read(item.filename)
            info = zipfile.ZipInfo("word/document.xml")
            info.compress_type = zipfile.ZIP_DEFLATED
            info._compresslevel = 1  # type: ignore[attr-defined]  # fast to build
            with out.open(info, "w", force_zip64=True) as fh:
                fh.write(xml[: xml.index(b"<w:body>") + 8])
                block = b"<w:p><w:r><w:t>AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA</w:t></w:r></w:p>" * 16384
                for _ in range(expanded // len(block)):
                    fh.write(block)
                fh.write(b"</w:body></w:document>")
    return path


_MEASURE = """
import sys, time
from pathlib import Path
from assistant.errors import FileTooLargeError
from index.loaders import load_document
started = time.monotonic()
try:
    load_document(Path(sys.argv[1]), max_bytes=20 * 1024 * 1024, max_unzipped=100 * 1024 * 1024)
    outcome = "loaded"
except FileTooLargeError as exc:
    outcome = exc.user_message
print(time.monotonic() - started)
# VmHWM: this process's peak resident memory (ru_maxrss would include the parent's, kept across exec)
hwm = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith("VmHWM"))
print(int(hwm.split()[1]) // 1024)
print(outcome)
"""


def test_docx_bomb_is_refused_quickly_with_bounded_memory(tmp_path: Path, model_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    bomb = make_docx_bomb(tmp_path / "炸弹.docx")
    assert bomb.stat().st_size < 20 * 1024 * 1024  # passes the file-size limit
    proc = subprocess.run([sys.executable, "-c", _MEASURE, str(bomb)], cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=120)
    seconds, peak_mib, outcome = proc.stdout.strip().splitlines()
    assert "解压后超过 100 MB" in outcome and "炸弹.docx" in outcome
    assert float(seconds) < 2.0  # was 11 s
    assert int(peak_mib) < 300  # was 2.1 GB
    with pytest.raises(FileTooLargeError):
        load_document(bomb, max_unzipped=100 * 1024 * 1024)

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    bomb.rename(corpus / bomb.name)
    (corpus / "好文件.txt").write_text("京津冀三地共同推进交通一体化。", encoding="utf-8")
    report = Indexer(make_settings(tmp_path / "data", model_path), embedder=embedder).run([corpus])
    assert report.documents == 1 and [Path(s.source).name for s in report.skipped] == ["炸弹.docx"]
    assert "压缩炸弹" in report.skipped[0].reason
