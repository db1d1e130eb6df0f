"""Text clean-up before chunking (index/clean.py): broken lines joined, zero-width characters and
web residue dropped; never a character of content lost, never two headings joined."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from index.clean import RESIDUE_RE, clean_text
from index.zh import WORD_CHAR_RE, ZERO_WIDTH, heading_kind


def _content(text: str) -> str:
    return "".join(WORD_CHAR_RE.findall(text))


def test_broken_lines_are_joined() -> None:
    raw = "标题在此\n细颗粒物（PM\n2.5\n）和可吸入颗粒物（PM\n10\n）浓度下降，\n空气质量改善。\n"
    assert clean_text(raw).text == "标题在此\n细颗粒物（PM2.5）和可吸入颗粒物（PM10）浓度下降，\n空气质量改善。\n"


def test_headings_title_and_dates_stay_lines() -> None:
    raw = ("北京市未成年人保护条例\n1988年10月20日 北京市人大常委会通过\n第一章 总则\n第一条 为了保护未成年人\n"
           "的合法权益，制定本条例。\n一、总体要求\n（一）指导思想\n坚持稳中求进工作总基调，推动高质量发展取得新成效新进展。")
    out = clean_text(raw).text
    assert out.splitlines() == [
        "北京市未成年人保护条例", "1988年10月20日 北京市人大常委会通过", "第一章 总则",
        "第一条 为了保护未成年人的合法权益，制定本条例。", "一、总体要求", "（一）指导思想",
        "坚持稳中求进工作总基调，推动高质量发展取得新成效新进展。",
    ]


def test_zero_width_bom_and_residue_removed() -> None:
    raw = "中国共产党文件。根据第680号\n[\nCPC 1\n]\n，中央组织\n[\nCPC 2\n]\n）制定的\u200b公文\ufeff。"
    assert clean_text(raw).text == "中国共产党文件。根据第680号，中央组织）制定的公文。"
    assert clean_text("见注释[1]。").text == "见注释[1]。"


def test_latin_words_keep_a_space() -> None:
    assert clean_text("标题一行\nPublic domain text\nis here。").text == "标题一行\nPublic domain text is here。"


def test_offsets_map_into_the_cleaned_text() -> None:
    raw = "第一页\u200b内容不完\n整的句子。\n第二页"
    cleaned = clean_text(raw)
    for raw_pos, char in ((raw.index("整"), "整"), (raw.index("第二"), "第")):
        assert cleaned.text[cleaned.map_offset(raw_pos)] == char
    assert cleaned.map_offset(len(raw)) == len(cleaned.text)


_LINES = st.one_of(
    st.text(alphabet="京津冀协同发展产业政策推进AbPM2.5，。；：、（）” \u200b\ufeff[]", min_size=1, max_size=30),
    st.sampled_from(["第一章 总则", "第三条 本条例适用于本市", "一、总体要求", "（二）重点任务", "1. 加快建设",
                     "京津冀协同发展", "2025年3月5日 通过", "[", "]", "CPC 1", ""]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_LINES, min_size=1, max_size=12))
def test_clean_never_loses_content_or_joins_headings(lines: list[str]) -> None:
    raw = "\n".join(lines)
    out = clean_text(raw).text
    expected = RESIDUE_RE.sub("", re.sub(f"[{ZERO_WIDTH}]", "", raw))
    assert _content(out) == _content(expected)  # every CJK character, letter and digit, in order
    assert not any(ch in out for ch in ZERO_WIDTH)
    raw_lines = [ln.strip() for ln in expected.split("\n") if ln.strip()]
    out_lines = [ln.strip() for ln in out.split("\n") if ln.strip()]
    heading_count = sum(1 for ln in raw_lines if heading_kind(ln))
    # a numbered heading still starts a line of its own, and no output line holds two of them
    assert sum(1 for ln in out_lines if heading_kind(ln)) == heading_count
    for ln in out_lines:
        starts = [h for h in ("第一章 总则", "第三条", "一、总体要求", "（二）重点任务") if h in ln]
        assert len(starts) <= 1 or ln.count("第") > 2
