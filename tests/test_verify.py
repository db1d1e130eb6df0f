"""Citation verification as pure logic (no model): properties that must hold for any input."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.models import Hit
from assistant.verify import find_support, question_grams, split_claims, verify
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


PASSAGE = "今年经济社会发展的主要预期目标是：地区生产总值增长5%以上，城镇新增就业80万人以上。"
QUESTION = "2026年河北省政府工作报告提出的经济增长目标是多少？"


def test_restating_the_question_needs_no_support_but_its_facts_do() -> None:
    restated = "2026年河北省政府工作报告提出的经济增长目标是地区生产总值增长5%以上"
    assert find_support(restated, PASSAGE) is None  # the question's framing outweighs the fact
    support = find_support(restated, PASSAGE, given=question_grams(QUESTION), known=frozenset({"2026"}))
    assert support is not None and "5%以上" in support.quote
    # Without the document's own year the restated "2026年" is a number the passage does not hold.
    assert find_support(restated, PASSAGE, given=question_grams(QUESTION)) is None
    hit = _hit(PASSAGE)
    hit.chunk.title = "2026年河北省政府工作报告"
    checked = verify(restated + "[1]。", [hit], question=QUESTION)
    assert checked.citations and not checked.unsupported


def test_a_number_the_passage_does_not_hold_is_never_supported() -> None:
    for wrong in ("地区生产总值增长6%以上[1]。", "城镇新增就业90万人以上[1]。"):
        checked = verify(wrong, [_hit(PASSAGE)], question=QUESTION)
        assert not checked.citations and checked.unsupported, wrong
    # A figure taken from the question (a false premise) is not supported by restating it.
    premise = verify("2026年河北省经济增长目标是7%[1]。", [_hit(PASSAGE)], question="河北省2026年经济增长目标是7%吗？")
    assert premise.unsupported


def test_a_sentence_that_only_restates_the_question_is_unsupported() -> None:
    checked = verify("河北省政府工作报告提出的经济增长目标[1]。", [_hit(PASSAGE)], question=QUESTION)
    assert checked.unsupported and not checked.citations
