"""Citation verification as pure logic (no model): properties that must hold for any input."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.models import Hit
from assistant.verify import find_support, split_claims, verify
from index.models import Chunk

ALPHABET = list("京津冀协同发展雄安新区疏解功能交通生态产业。，；！？[]12 \n")


def _hit(text: str, n: int = 0) -> Hit:
    chunk = Chunk(chunk_id=f"c{n}", doc_id=f"d{n}", title="标题", source="s.txt", text=text,
                  start=100, end=100 + len(text))
    return Hit(chunk=chunk, score=1.0)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=300), st.text(alphabet=ALPHABET, max_size=200))
def test_quotes_are_always_inside_their_passage(passage: str, claim: str) -> None:
    support = find_support(claim, passage)
    if support is not None:
        assert passage[support.start : support.end] == support.quote
        assert support.quote in passage


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=ALPHABET, min_size=1, max_size=120), min_size=1, max_size=3),
       st.text(alphabet=ALPHABET, max_size=300))
def test_verified_citations_point_into_given_passages(passages: list[str], draft: str) -> None:
    hits = [_hit(p, i) for i, p in enumerate(passages)]
    checked = verify(draft, hits)
    for c in checked.citations:
        assert c.quote in c.text
        assert c.text in passages
        assert c.quote_start - c.start == c.text.find(c.quote) or c.text[c.quote_start - c.start :].startswith(c.quote)
        assert f"[{c.n}]" in checked.text
    assert [c.n for c in checked.citations] == list(range(1, len(checked.citations) + 1))


def test_exact_and_fuzzy_support() -> None:
    passage = "推进京津冀协同发展。加快建设雄安新区，推动非首都功能疏解。完善交通网络。"
    exact = find_support("根据《报告》：加快建设雄安新区，推动非首都功能疏解。", passage)
    assert exact is not None and exact.quote == "加快建设雄安新区，推动非首都功能疏解" and exact.score == 1.0
    fuzzy = find_support("报告提出要加快雄安新区建设并推动疏解非首都功能", passage)
    assert fuzzy is not None and "雄安新区" in fuzzy.quote
    assert find_support("火星探测取得重大进展", passage) is None


def test_split_claims_keeps_markers_per_sentence() -> None:
    claims = split_claims("第一句[1]。第二句[2][3]。没有标记的一句。")
    assert claims == [("第一句。", [1]), ("第二句。", [2, 3]), ("没有标记的一句。", [])]
