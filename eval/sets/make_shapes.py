#!/usr/bin/env python3
"""Write the timeline / side-by-side sets ``shapes_dev.jsonl`` (tuning) and ``shapes.jsonl`` (held out).

Each question lists the rows it expects, in order: a year (timeline) or a region (comparison), the
document of that row, and the verbatim key phrases of that document that answer it — every clause
of the document holding one of the question's topic terms — or ``"none"`` when the document holds
none of them (checked here against the text, so a "none" row is really silent on the topic).
Plain questions that merely contain a shape word (三地, 比较优势, 这五年 within one report) expect
``layout: plain`` and no rows.

Usage: python3 eval/sets/make_shapes.py [--corpus /work/shared/corpus/jjj]   (standard library only)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # index.zh (standard library only) of this checkout
from index.zh import ANY_CLAUSE_BREAK, CANONICAL_REGIONS, FULL_NAMES, JJJ_REGIONS

HERE = Path(__file__).resolve().parent
SC = "{y}年中华人民共和国国务院政府工作报告"
SC_YEARS = (2014, 2015, 2016, 2017, 2018, 2019, 2021, 2022, 2023, 2024, 2025)
REGION_REPORT = {**{r: f"{{y}}年{FULL_NAMES[r]}政府工作报告" for r in JJJ_REGIONS}, "国家": SC}
CONGRESS = {"十九大": "决胜全面建成小康社会_夺取新时代中国特色社会主义伟大胜利_(十九大)",
            "二十大": "高举中国特色社会主义伟大旗帜_为全面建设社会主义现代化国家而团结奋斗_(二十大)"}
MAX_KEYS = 8


def sc(years: tuple[int, ...] | range = SC_YEARS) -> list[tuple[str, str]]:
    return [(f"{y}年", SC.format(y=y)) for y in years if y in SC_YEARS]


def reports(regions: str, year: int) -> list[tuple[str, str]]:
    return [(r, REGION_REPORT[r].format(y=year)) for r in regions.split(",")]


def series(region: str, years: tuple[int, ...]) -> list[tuple[str, str]]:
    return [(f"{y}年", REGION_REPORT[region].format(y=y)) for y in years]


# (id, question, kind, layout, topic terms, [(row, doc_id)], split)
QUESTIONS: list[tuple[str, str, str, str, list[str], list[tuple[str, str]], str]] = [
    # -- evolution over time: development set
    ("shape-d01", "国务院政府工作报告历年怎么提京津冀协同发展？", "evolution", "timeline", ["京津冀"], sc(), "dev"),
    ("shape-d02", "这几年国务院政府工作报告对雄安新区的表述有什么变化？", "evolution", "timeline", ["雄安"], sc(), "dev"),
    ("shape-d03", "2017年到2025年的国务院政府工作报告怎么提粤港澳大湾区？", "evolution", "timeline", ["粤港澳大湾区"],
     sc(range(2017, 2026)), "dev"),
    ("shape-d04", "历年政府工作报告对北京冬奥会的部署有什么变化？", "evolution", "timeline", ["冬奥"], sc(), "dev"),
    ("shape-d05", "2014年和2015年的国务院政府工作报告对大气污染防治怎么说的？有什么变化？", "evolution", "timeline",
     ["大气污染"], sc((2014, 2015)), "dev"),
    ("shape-d06", "近三年国务院政府工作报告怎么提数字经济？", "evolution", "timeline", ["数字经济"],
     sc((2023, 2024, 2025)), "dev"),
    ("shape-d07", "北京市政府工作报告这两年对城市副中心的部署有什么变化？", "evolution", "timeline", ["城市副中心"],
     series("北京", (2025, 2026)), "dev"),
    ("shape-d08", "十九大和二十大报告对京津冀协同发展的提法有何不同？", "evolution", "timeline", ["京津冀"],
     [("十九大报告", CONGRESS["十九大"]), ("二十大报告", CONGRESS["二十大"])], "dev"),
    ("shape-d09", "河北省2025年和2026年政府工作报告对雄安新区的表述有什么变化？", "evolution", "timeline", ["雄安"],
     series("河北", (2025, 2026)), "dev"),
    ("shape-d10", "2019—2023年国务院政府工作报告怎么提黄河流域生态保护？", "evolution", "timeline", ["黄河流域"],
     sc(range(2019, 2024)), "dev"),
    ("shape-d11", "《北京市优化营商环境条例》2020年版和2024年版对涉企政策公开征求意见是怎么规定的？有什么变化？",
     "evolution", "timeline", ["征求意见"],
     [("2020年", "北京市优化营商环境条例(2020-03-27)"), ("2024年", "北京市优化营商环境条例(2024-11-29)")], "dev"),
    # -- side by side: development set
    ("shape-d21", "三地2025年政府工作报告分别怎么提雄安新区？", "side_by_side", "comparison", ["雄安"],
     reports("北京,天津,河北", 2025), "dev"),
    ("shape-d22", "京津冀三地2026年政府工作报告对京津冀协同发展分别有什么部署？", "side_by_side", "comparison",
     ["京津冀协同发展"], reports("北京,天津,河北", 2026), "dev"),
    ("shape-d23", "北京和天津2025年政府工作报告在智能网联新能源汽车方面分别有什么安排？", "side_by_side", "comparison",
     ["智能网联新能源汽车"], reports("北京,天津", 2025), "dev"),
    ("shape-d24", "比较北京、天津、河北2026年政府工作报告中关于国际科技创新中心的表述。", "side_by_side",
     "comparison", ["国际科技创新中心"], reports("北京,天津,河北", 2026), "dev"),
    ("shape-d25", "三地2025年政府工作报告分别怎么提社保卡一卡通？", "side_by_side", "comparison", ["一卡通"],
     reports("北京,天津,河北", 2025), "dev"),
    ("shape-d26", "国务院和北京市2025年政府工作报告对京津冀协同发展的提法有什么不同？", "side_by_side", "comparison",
     ["京津冀"], reports("国家,北京", 2025), "dev"),
    ("shape-d27", "天津和河北2026年政府工作报告分别怎么提港口？", "side_by_side", "comparison", ["港口"],
     reports("天津,河北", 2026), "dev"),
    ("shape-d28", "三地2025年政府工作报告在低空经济方面各自有什么部署？", "side_by_side", "comparison", ["低空"],
     reports("北京,天津,河北", 2025), "dev"),
    # -- plain questions with a shape word: development set
    ("shape-d41", "天津发挥比较优势，在推进京津冀协同发展中有什么举措？", "plain", "plain", [], [], "dev"),
    ("shape-d42", "京津冀三地持社会保障卡可以办理哪些事项？", "plain", "plain", [], [], "dev"),
    ("shape-d43", "河北省2026年政府工作报告里，这五年雄安新区有哪些变化？", "plain", "plain", [], [], "dev"),

    # -- evolution over time: held out
    ("shape-h01", "历年国务院政府工作报告对长江经济带的提法有什么变化？", "evolution", "timeline", ["长江经济带"], sc(),
     "heldout"),
    ("shape-h02", "从2015年到2019年，国务院政府工作报告对冬奥会筹办工作是怎么部署的？", "evolution", "timeline",
     ["冬奥"], sc(range(2015, 2020)), "heldout"),
    ("shape-h03", "逐年来看，国务院政府工作报告怎么提区域协调发展？", "evolution", "timeline", ["区域协调发展"], sc(),
     "heldout"),
    ("shape-h04", "这些年国务院政府工作报告对乡村振兴的部署有何变化？", "evolution", "timeline", ["乡村振兴"], sc(),
     "heldout"),
    ("shape-h05", "2021年到2025年国务院政府工作报告怎么提长三角？", "evolution", "timeline", ["长三角"],
     sc(range(2021, 2026)), "heldout"),
    ("shape-h06", "天津市政府工作报告这两年怎么提京津冀协同发展？", "evolution", "timeline", ["京津冀协同发展"],
     series("天津", (2025, 2026)), "heldout"),
    ("shape-h07", "北京市2025年和2026年政府工作报告对国际科技创新中心的表述有什么变化？", "evolution", "timeline",
     ["国际科技创新中心"], series("北京", (2025, 2026)), "heldout"),
    ("shape-h08", "十九大报告和二十大报告分别怎么提雄安新区？", "evolution", "timeline", ["雄安"],
     [("十九大报告", CONGRESS["十九大"]), ("二十大报告", CONGRESS["二十大"])], "heldout"),
    ("shape-h09", "近五年国务院政府工作报告对一带一路的提法有什么变化？", "evolution", "timeline", ["一带一路"],
     sc(range(2021, 2026)), "heldout"),
    ("shape-h10", "2016年至2019年国务院政府工作报告怎么提疏解北京非首都功能？", "evolution", "timeline",
     ["非首都功能"], sc(range(2016, 2020)), "heldout"),
    ("shape-h11", "国务院政府工作报告每年怎么提新型城镇化？", "evolution", "timeline", ["新型城镇化"], sc(), "heldout"),
    ("shape-h12", "《北京市机动车停车条例》2021年版和2024年版对充电设施有什么规定？有何不同？", "evolution",
     "timeline", ["充电"],
     [("2021年", "北京市机动车停车条例(2021-09-24)"), ("2024年", "北京市机动车停车条例(2024-03-29)")], "heldout"),
    # -- side by side: held out
    ("shape-h21", "三地2026年政府工作报告分别怎么提雄安新区？", "side_by_side", "comparison", ["雄安"],
     reports("北京,天津,河北", 2026), "heldout"),
    ("shape-h22", "京津冀三地2025年政府工作报告对京津冀协同发展分别怎么部署？", "side_by_side", "comparison",
     ["京津冀协同发展"], reports("北京,天津,河北", 2025), "heldout"),
    ("shape-h23", "北京、天津和河北2026年政府工作报告分别怎么提人工智能？", "side_by_side", "comparison", ["人工智能"],
     reports("北京,天津,河北", 2026), "heldout"),
    ("shape-h24", "对比三地2025年政府工作报告中关于京津冀国家技术创新中心的表述。", "side_by_side", "comparison",
     ["国家技术创新中心"], reports("北京,天津,河北", 2025), "heldout"),
    ("shape-h25", "三地2026年政府工作报告在通州区与北三县一体化方面分别怎么说？", "side_by_side", "comparison",
     ["北三县"], reports("北京,天津,河北", 2026), "heldout"),
    ("shape-h26", "北京和河北2025年政府工作报告分别怎么提城市副中心？", "side_by_side", "comparison", ["城市副中心"],
     reports("北京,河北", 2025), "heldout"),
    ("shape-h27", "三地2025年政府工作报告对营商环境分别有什么部署？", "side_by_side", "comparison", ["营商环境"],
     reports("北京,天津,河北", 2025), "heldout"),
    ("shape-h28", "国务院和河北省2025年政府工作报告分别怎么提雄安新区？", "side_by_side", "comparison", ["雄安"],
     reports("国家,河北", 2025), "heldout"),
    # -- plain questions with a shape word: held out
    ("shape-h41", "2025年到2035年京津冀协同发展的目标是什么？", "plain", "plain", [], [], "heldout"),
    ("shape-h42", "按照一卡通规定，京津冀三地社会保障卡在交通出行方面可以怎么用？", "plain", "plain", [], [], "heldout"),
    ("shape-h43", "2025年北京市政府工作报告中，地区生产总值比上年增长多少？", "plain", "plain", [], [], "heldout"),
]


def clauses_with(text: str, terms: list[str]) -> list[str]:
    """Every clause (between ，；。：！？ and line breaks) of ``text`` holding one of ``terms``, in order."""
    out: list[str] = []
    for clause in re.split(rf"[{ANY_CLAUSE_BREAK}\n]", text):
        clause = clause.strip()
        if clause and any(t in clause for t in terms) and clause not in out:
            out.append(clause)
    return out


def row_fields(row: str, doc: str) -> dict[str, object]:
    year = re.match(r"(\d{4})年$", row)
    if year:
        return {"row": row, "year": int(year.group(1)), "region": None}
    if row in CANONICAL_REGIONS:
        return {"row": row, "year": None, "region": row}
    return {"row": row, "year": None, "region": None}


def build(corpus: Path) -> dict[str, list[dict[str, object]]]:
    sets: dict[str, list[dict[str, object]]] = {"dev": [], "heldout": []}
    for qid, question, kind, layout, terms, rows, split in QUESTIONS:
        expected = []
        for row, doc in rows:
            text = (corpus / f"{doc}.txt").read_text(encoding="utf-8")
            keys = clauses_with(text, terms)
            expected.append({**row_fields(row, doc), "doc": doc,
                             "key": keys[0] if keys else "none", "alt_keys": keys[1:MAX_KEYS]})
        sets[split].append({"id": qid, "question": question, "kind": kind, "layout": layout, "terms": terms,
                            "rows": expected})
    return sets


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=HERE.parents[2] / "shared" / "corpus" / "jjj")
    args = parser.parse_args()
    sets = build(args.corpus)
    for split, name in (("dev", "shapes_dev.jsonl"), ("heldout", "shapes.jsonl")):
        with open(HERE / name, "w", encoding="utf-8") as fh:
            for row in sets[split]:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(f"{name}: {len(sets[split])} questions")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
