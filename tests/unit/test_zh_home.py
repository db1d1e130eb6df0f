"""``index.zh`` is the one home of the Chinese text rules: a scan of the source keeps it so, and unit tests
of the home's main functions.

The scan reads every module of the project's top-level packages (those of ``pyproject.toml``) except the
home and fails where one of these tables is written outside it:

- a sentence-end table: a regex character class, or a run of punctuation, holding two or more of 。！？；
  (``"[。！？]"``, ``"。！？；"``, ``"？?。 "``), not a message that merely ends in "。";
- a CJK range: ``\\u4e00-``/``\\u3400-`` (escaped or as the characters themselves);
- a region table: a list, tuple, set or dict literal holding two or more of 北京/天津/河北 (short or full
  name), or a regex alternation of them (``北京|天津``).
"""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest

from index.zh import (
    CANONICAL_REGIONS,
    CJK_CHAR_RE,
    CJK_RE,
    CJK_UNIFIED_RE,
    ENUMERATED_LINE_RE,
    FILE_NAME_REGIONS,
    HEADING_NUMBER_RE,
    HEADING_PATTERNS_BY_KIND,
    ISSUER_NAME_ALT,
    JJJ_NAME_ALT,
    JJJ_REGIONS,
    QUANTITY_RE,
    REGION_ALIASES,
    YMD_DATE_RE,
    ends_sentence,
    has_cjk,
    heading_kind,
    last_sentence_end,
    provinces_in,
    regions_in,
    sentence_spans,
    variants,
)

ROOT = Path(__file__).resolve().parents[2]
HOME = ROOT / "index" / "zh"

_ENDS = set("。！？；")
_PUNCT = set("。！？；!?;，、：,:.…）)」』”’】]〕》 \u3000\n")
_REGION_FORMS = {"北京": "北京", "北京市": "北京", "天津": "天津", "天津市": "天津", "河北": "河北", "河北省": "河北"}
_CJK_RANGE = re.compile(r"(?:\\u4e00|\\u3400|[\u4e00\u3400])-")
_REGION_ALT = re.compile(r"(?:北京|天津|河北)[市省]?\??\)?\|\(?(?:北京|天津|河北)")
_CLASS = re.compile(r"\[\^?((?:\\.|[^\]\\])+)\]")


def _sources() -> list[Path]:
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"]
    tops = sorted({p.split(".")[0] for p in packages})
    files = [f for top in tops for f in (ROOT / top).rglob("*.py")]
    return [f for f in files if HOME not in f.parents and f != HOME.with_suffix(".py")]


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = getattr(node, "body", [])
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def sentence_end_table(text: str) -> bool:
    """Two or more of 。！？； in one regex class, or in one run of punctuation."""
    if any(len(_ENDS & set(m.group(1))) >= 2 for m in _CLASS.finditer(text)):
        return True
    run: set[str] = set()
    for ch in text + "x":
        if ch in _PUNCT or ch == "\\":
            run.add(ch)
            continue
        if len(_ENDS & run) >= 2:
            return True
        run = set()
    return False


def cjk_range(text: str) -> bool:
    return _CJK_RANGE.search(text) is not None


def region_alternation(text: str) -> bool:
    return _REGION_ALT.search(text) is not None


def region_table(node: ast.AST) -> bool:
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        items = node.elts
    elif isinstance(node, ast.Dict):
        items = [k for k in node.keys if k is not None] + node.values
    else:
        return False
    named = {_REGION_FORMS[i.value] for i in items
             if isinstance(i, ast.Constant) and isinstance(i.value, str) and i.value in _REGION_FORMS}
    return len(named) >= 2


def findings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            for what, check in (("sentence-end table", sentence_end_table), ("CJK range", cjk_range),
                                ("region alternation", region_alternation)):
                if check(node.value):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {what}: {node.value[:60]!r}")
        elif region_table(node):
            found.append(f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}: region table")
    return found


def test_no_chinese_text_table_outside_the_home() -> None:
    problems = [f for path in _sources() for f in findings(path)]
    assert not problems, "Chinese text rules belong in index/zh/ (use its public names):\n" + "\n".join(problems)


@pytest.mark.parametrize("text", ['"[。！？]"', "r'[^。！？!?\\n]{0,4}'", '"？?。 "', '"。！？；"', "r'([。！？；!?;]+)'"])
def test_the_scan_finds_tables(text: str) -> None:
    assert sentence_end_table(ast.literal_eval(text))


@pytest.mark.parametrize("text", ["已收录文件中没有能回答这个问题的内容。", "你好。请问？", "第一章。", "[1]。",
                                  "rstrip('。.，, ')"])
def test_the_scan_leaves_messages_alone(text: str) -> None:
    assert not sentence_end_table(text)


def test_the_scan_finds_ranges_and_region_tables() -> None:
    assert cjk_range(r"[\u4e00-\u9fff]") and cjk_range("[\u3400-\u9fff]") and not cjk_range("第一章")
    assert region_alternation(r"(?:北京市?|天津市?|河北省?)") and not region_alternation("北京/天津/河北/国家")
    assert region_table(ast.parse('("北京", "天津")').body[0].value)  # type: ignore[attr-defined]
    assert region_table(ast.parse('{"北京市": 1, "河北省": 2}').body[0].value)  # type: ignore[attr-defined]
    assert not region_table(ast.parse('["北京和天津", "其他"]').body[0].value)  # type: ignore[attr-defined]


# -- the home's main functions -------------------------------------------------------------------------


def test_sentence_spans_and_ends() -> None:
    text = "第一句。第二句！ 第三句？”\n最后一行"
    assert [text[s:e] for s, e in sentence_spans(text)] == ["第一句。", "第二句！", "第三句？”", "最后一行"]
    assert ends_sentence("完成了。”") and ends_sentence("规定；") and not ends_sentence("如下：")
    assert last_sentence_end("一句。二句！三") == 5 and last_sentence_end("没有句末") == -1


def test_cjk_ranges_are_kept_apart() -> None:
    assert CJK_RE.match("㐀") and not CJK_UNIFIED_RE.match("㐀") and CJK_UNIFIED_RE.match("中")
    assert CJK_CHAR_RE.match("，") and CJK_CHAR_RE.match("㐀") and not CJK_RE.match("，")
    assert has_cjk("abc 中") and not has_cjk("abc")


def test_regions() -> None:
    assert regions_in("天津市和北京市的合作") == ["天津", "北京"]
    assert provinces_in("山东和河北") == ["河北", "山东"]
    assert REGION_ALIASES["冀"] == "河北" and CANONICAL_REGIONS[:3] == JJJ_REGIONS
    assert FILE_NAME_REGIONS["雄安"] == "河北" and "冀" not in FILE_NAME_REGIONS
    assert JJJ_NAME_ALT == "北京市?|天津市?|河北省?" and ISSUER_NAME_ALT == "北京|天津|河北|国务院"


def test_numbers_dates_and_headings() -> None:
    assert QUANTITY_RE.search("面积1770平方公里").group() == "1770平方公里"  # type: ignore[union-attr]
    assert YMD_DATE_RE.search("2024年9月27日通过").groups() == ("2024", "9", "27")  # type: ignore[union-attr]
    assert heading_kind("第十条 为了") == "article" and heading_kind("（二）措施") == "paren_cn"
    assert heading_kind("一、总体要求") == "cn" and heading_kind("普通的一句话。") is None
    assert HEADING_PATTERNS_BY_KIND["chapter"].match("第三章 法律责任")
    assert ENUMERATED_LINE_RE.match("  （二）措施") and not ENUMERATED_LINE_RE.match("第十条 为了")
    assert HEADING_NUMBER_RE.sub("", "第十条 为了规范") == "为了规范"
    assert "国内生产总值" in variants("GDP")
