"""One parser of filters, one summary of an indexing run (what every surface shows)."""

from __future__ import annotations

import pytest

from assistant.errors import InvalidFiltersError
from assistant.models import Filters
from index.models import IndexReport


@pytest.mark.parametrize(("args", "expected"), [
    ((None, None, None, None), Filters()),
    (("北京,天津", "2024", "", ""), Filters(region=["北京", "天津"], year=[2024])),
    (("北京，天津 ", " 2023 ,x", "条例", "a, b"), Filters(region=["北京", "天津"], year=[2023], kind=["条例"],
                                                      doc_id=["a", "b"])),
    ((["北京"], [2024, "2023"], ["规定"], ["seed"]), Filters(region=["北京"], year=[2024, 2023], kind=["规定"],
                                                           doc_id=["seed"])),
    ((["北京", "北京"], None, None, None), Filters(region=["北京"])),
])
def test_filters_parse(args: tuple[object, object, object, object], expected: Filters) -> None:
    assert Filters.parse(*args) == expected


def test_filters_parse_validates() -> None:
    with pytest.raises(InvalidFiltersError):
        Filters.parse(year="1800")
    with pytest.raises(InvalidFiltersError):
        Filters.parse(region=[{"x": 1}])


REPORT = IndexReport(documents=5, chunks=40, added=2, updated=1, deleted=1, unchanged=2, seconds=3.25,
                     embedded_chunks=12)


def test_summary_per_action() -> None:
    assert REPORT.summary_zh() == ("索引完成：共 5 个文件、40 个段落；本次新增 2、更新 1、删除 1、未变 2，"
                                   "嵌入 12 段，用时 3.2 秒。")
    assert REPORT.summary_zh("sync") == "索引就绪：共 5 个文件、40 个段落（新增 2、更新 1、删除 1）。"
    assert REPORT.summary_zh("add") == ("已收录 5 个文件（新增 2、更新 1、未变 2），嵌入 12 个段落，用时 3.2 秒。"
                                        "现在可以就这些文件提问。")
    assert REPORT.summary_zh("rebuild", documents_before=4) == (
        "索引已重建：共 5 个文件（重建前 4 个）、40 个段落，用时 3.2 秒。移除 1 个源文件已不存在的文件。")


def test_summary_says_how_long_it_waited_for_another_writer() -> None:
    waited = IndexReport(documents=1, chunks=2, waited=12.4)
    for action in ("index", "sync", "add", "rebuild"):
        assert "曾等待另一个索引任务 12 秒" in waited.summary_zh(action)  # type: ignore[arg-type]
    assert "等待" not in IndexReport(waited=0.5).summary_zh()
