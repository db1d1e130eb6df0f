"""Fast tests of the web page's pieces without a model or a browser: rendering of the three answer
states, tooltips, grouping, markers, the follow-up banner, markup stripping, feedback de-duplication,
the Word and Markdown exports, the CLI's help texts, the serve port check and eval's progress lines."""

from __future__ import annotations

import argparse
import io
import json
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from assistant.app.export import conversation_docx, conversation_markdown, index_version, write_export
from assistant.app.feedback import record_feedback
from assistant.app.render import answer_state, marker_title, render_turn
from assistant.app.server import port_problem
from assistant.app.session import make_turn
from assistant.markup import strip_markup
from assistant.models import Answer, Citation, Filters, Suggestion
from assistant.settings import Settings
from cli.main import build_parser
from index.manifest import DocEntry

REPO = Path(__file__).resolve().parent.parent


def cite(n: int, doc: str = "A", quote: str = "引用的句子。", section: str = "一、总则", page: int | None = None,
         title: str | None = None) -> Citation:
    text = f"前文。{quote}后文。"
    return Citation(n=n, doc_id=doc, title=title or f"文件{doc}", source=f"/srv/data/{doc}.txt", section=section,
                    page=page, text=text, quote=quote, start=0, end=len(text), score=1.0, quote_start=3,
                    quote_end=3 + len(quote), metadata={"issuer": "某机关", "year": 2024})


def titles_of(html: str) -> list[str]:
    return re.findall(r'class="cite-marker"[^>]*title="([^"]*)"', html)


# -- tooltip, markers, grouping --------------------------------------------------------------------
def test_tooltip_is_plain_text_without_markup_or_doubled_quotes() -> None:
    answer = Answer(question="q", text="第一段“六链五群”[1]。\n第二段[2]。", citations=[
        cite(1, quote="“六链五群”是指六条产业链。"), cite(2, quote="普通的句子。")])
    html = render_turn("t1", "q", answer)
    titles = titles_of(html)
    assert len(titles) == 2
    for t in titles:
        assert "<" not in t and "&lt;" not in t and "</p>" not in t and "&lt;/p&gt;" not in t
        assert "““" not in t and "””" not in t
        assert "&#10;" in t  # quote on its own line (a character reference: never split as a paragraph)
    assert "“六链五群”是指六条产业链。" in titles[0] and "“普通的句子。”" in titles[1]
    body = html[html.index('class="answer-text"'):html.index('class="sources"')]
    assert body.count("<p>") == 2  # the tooltip's line break did not create paragraphs
    assert marker_title(cite(3, quote="“甲”")).endswith("\n“甲”")


def test_marker_and_following_punctuation_stay_together() -> None:
    answer = Answer(question="q", text="甲乙丙[1][2]。丁[3]，戊。", citations=[cite(1), cite(2), cite(3, "B")])
    html = render_turn("t1", "q", answer)
    runs = re.findall(r'<span class="cite-nobr">(.*?)</span>(?=[^<]|<)', html)
    assert len(runs) == 2
    assert runs[0].count("cite-marker") == 2 and runs[0].endswith("。")
    assert runs[1].count("cite-marker") == 1 and runs[1].endswith("，")


def test_citations_grouped_per_document_under_one_title_line() -> None:
    answer = Answer(question="q", text="一[1]二[2]三[3]四[4]。",
                    citations=[cite(1, "A"), cite(2, "B"), cite(3, "A", section="二、任务"), cite(4, "A", page=3)])
    html = render_turn("t1", "q", answer)
    heads = re.findall(r'<div class="source-doc-head"><span class="cite-title">《(.*?)》', html)
    assert heads == ["文件A", "文件B"]  # one title line per document, in order of first citation
    group_a = html[html.index('data-doc="A"'):html.index('<div class="source-doc" data-doc="B"')]
    assert group_a.count('class="cite"') == 3 and "3 处" in group_a
    assert all(f'id="cite-t1-{n}"' in html for n in (1, 2, 3, 4))  # each citation still openable
    assert "第 3 页" in group_a and "二、任务" in group_a


# -- the three answer states ------------------------------------------------------------------------
def test_answered_state() -> None:
    answer = Answer(question="q", text="回答[1]。", citations=[cite(1)])
    html = render_turn("t1", "q", answer)
    assert answer_state(answer) == "answered"
    assert 'data-state="answered"' in html and "state-answered" in html
    assert "notice-partial" not in html and "notice-not-found" not in html and 'class="related"' not in html


def test_partial_state_lists_what_is_missing() -> None:
    answer = Answer(question="q", text="北京的做法是……[1]。", citations=[cite(1)], status="partial",
                    missing=["未找到天津的相关规定。", "未找到2014年的数据。"])
    html = render_turn("t1", "q", answer)
    assert 'data-state="partial"' in html and "state-partial" in html
    note = html[html.index('class="notice notice-partial"'):]
    assert "未找到天津的相关规定。" in note and "未找到2014年的数据。" in note and note.count("<li>") >= 2
    assert "cite-marker" in html and 'class="sources"' in html  # the answer itself is shown as usual


def test_not_found_state_shows_message_and_related_apart() -> None:
    related = [cite(1, "A", quote="相关的原文句子。"), cite(2, "B", quote="另一句相关原文。")]
    answer = Answer(question="q", text="未在已收录文件中找到依据。已收录的文件没有提到该项目的预算。", refused=True,
                    status="not_found", related=related)
    html = render_turn("t1", "q", answer)
    assert 'data-state="not_found"' in html and "state-not_found" in html
    assert "notice-not-found" in html and "未在已收录文件中找到依据" in html and "没有提到该项目的预算" in html
    assert "cite-marker" not in html and 'class="sources"' not in html  # never shown as the answer
    rel = html[html.index('class="related"'):]
    assert "相关内容" in rel and "《文件A》" in rel and "《文件B》" in rel and "相关的原文句子。" in rel
    assert 'id="rel-t1-1"' in rel and 'href="#rel-t1-1"' in rel and "<mark>相关的原文句子。</mark>" in rel
    assert "一、总则" in rel


def test_refused_answer_is_not_found_even_with_the_old_default_status() -> None:
    answer = Answer(question="q", text="未在已收录文件中找到依据。", refused=True)  # status left "answered"
    assert answer_state(answer) == "not_found"
    assert 'data-state="not_found"' in render_turn("t1", "q", answer)


def test_no_related_list_when_nothing_is_related() -> None:
    answer = Answer(question="hello world", text="未在已收录文件中找到依据。", refused=True, status="not_found")
    html = render_turn("t1", "q", answer)
    assert "可能相关" not in html and "suggestions" not in html and "相关内容" not in html
    with_s = Answer(question="q", text="未在已收录文件中找到依据。", refused=True, status="not_found",
                    suggestions=[Suggestion("d", "某文件", "x.txt", 0.1)])
    assert "可能相关的文件" in render_turn("t1", "q", with_s)


def test_follow_up_banner_is_short_and_collapsible() -> None:
    short = Answer(question="q", text="回答。", rewritten_question="天津的重点任务有哪些？")
    html = render_turn("t1", "q", short)
    assert "已按上下文理解为：" in html and "天津的重点任务有哪些？" in html and "<details" not in html
    long_q = "第二点具体怎么说？" + "推动京津冀产业链协同发展，" * 12
    html = render_turn("t1", "q", Answer(question="q", text="回答。", rewritten_question=long_q))
    summary = re.search(r"<summary>(.*?)</summary>", html)
    assert summary and "…" in summary.group(1) and len(re.sub(r"<[^>]+>", "", summary.group(1))) < 60
    assert '<details class="rewritten">' in html and "rewritten-full" in html


# -- markup in questions --------------------------------------------------------------------------
@pytest.mark.parametrize(("raw", "clean"), [
    ("<b>雄安新区</b>有哪些举措？", "雄安新区有哪些举措？"),
    ('<span style="color:red">京津冀</span>协同发展', "京津冀协同发展"),
    ("<script>alert(1)</script>什么是“六链五群”？", "什么是“六链五群”？"),
    ("雄安&nbsp;新区&amp;天津", "雄安 新区&天津"),
    ("GDP<5%的城市有哪些？", "GDP<5%的城市有哪些？"),
    ("《规划纲要》的目标", "《规划纲要》的目标"),
    ("<!-- x -->问题", "问题"),
    ("", ""),
])
def test_strip_markup(raw: str, clean: str) -> None:
    assert strip_markup(raw) == clean


# -- feedback ---------------------------------------------------------------------------------------
def test_feedback_is_deduplicated_per_user_and_answer(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    turn = make_turn("tdedupe1", "问题", Answer(question="问题", text="回答[1]。", citations=[cite(1)]), Filters(),
                     None)
    assert record_feedback(settings, turn, "up", "", "li") is not None
    assert record_feedback(settings, turn, "up", "", "li") is None  # the second identical click
    assert record_feedback(settings, turn, "up", "  ", "li") is None  # same after trimming
    changed = record_feedback(settings, turn, "down", "引文不全", "li")
    assert changed is not None and changed["revision"] == 1
    assert record_feedback(settings, turn, "up", "", "wang") is not None  # another user
    lines = [json.loads(x) for x in settings.feedback_path.read_text(encoding="utf-8").splitlines()]
    assert [(r["username"], r["rating"]) for r in lines] == [("li", "up"), ("li", "down"), ("wang", "up")]


# -- exports ----------------------------------------------------------------------------------------
def _turns() -> list[Any]:
    answered = Answer(question="q1", text="第一句[1]。\n第二句[2]。", citations=[
        cite(1, "A", quote="“六链五群”是指六条产业链。", page=2), cite(2, "B", quote="第二条引文。")])
    partial = Answer(question="q2", text="北京的做法[1]。", citations=[cite(1, "A")], status="partial",
                     missing=["未找到天津的相关规定。"])
    not_found = Answer(question="q3", text="未在已收录文件中找到依据。", refused=True, status="not_found",
                       related=[cite(1, "C", quote="相关原文。")])
    return [make_turn(f"tx{i}", q, a, Filters(region=["河北"] if i == 0 else []), None, "abc123（3 个文件）")
            for i, (q, a) in enumerate([("什么是“六链五群”？", answered), ("京津两地呢？", partial),
                                        ("火星预算？", not_found)])]


def test_word_export_opens_with_python_docx_and_holds_the_citations(tmp_path: Path) -> None:
    import docx

    data = conversation_docx(_turns(), "li")
    path = tmp_path / "out.docx"
    path.write_bytes(data)
    document = docx.Document(str(path))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "京津冀协同发展政策助手 · 对话记录" in text and "导出时间：" in text and "索引版本：abc123" in text
    assert "问题 1：什么是“六链五群”？" in text and "检索范围：region=河北" in text
    assert "[1] 《文件A》" in text and "页码：第 2 页" in text and "章节：一、总则" in text
    assert "引文：“六链五群”是指六条产业链。" in text and "引文：“第二条引文。”" in text  # no doubled quotes
    assert "以下内容未在已收录文件中找到依据" in text and "未找到天津的相关规定。" in text
    assert "相关内容" in text and "原文：“相关原文。”" in text
    supers = [r.text for p in document.paragraphs for r in p.runs if r.font.superscript]
    assert "[1]" in supers and "[2]" in supers  # markers as superscript
    assert "/srv/data" not in text  # file names only
    single = docx.Document(io.BytesIO(conversation_docx(_turns()[:1], None, single=True)))
    assert "问答记录" in single.paragraphs[0].text


def test_word_export_is_dated_now_not_by_the_template() -> None:
    """python-docx's template says 2013-12-23; the exported file's created/modified dates are the export's."""
    from datetime import UTC, datetime, timedelta

    import docx

    before = datetime.now(UTC).replace(microsecond=0, tzinfo=None) - timedelta(seconds=1)
    props = docx.Document(io.BytesIO(conversation_docx(_turns(), "li"))).core_properties
    after = datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=1)
    assert props.created is not None and before <= props.created.replace(tzinfo=None) <= after
    assert props.modified is not None and before <= props.modified.replace(tzinfo=None) <= after
    assert props.author == "li" and props.last_modified_by == "li"


def test_document_labels_and_the_stop_button() -> None:
    from assistant.app.ui import document_label, stop_visible

    assert document_label("北京市城乡规划条例(2021-09-24)", "北京市城乡规划条例(2021-09-24)") == "北京市城乡规划条例(2021-09-24)"
    assert document_label("协同发展看京津冀——河北", "协同发展看京津冀") == "协同发展看京津冀——河北（协同发展看京津冀）"
    assert stop_visible("llm") and not stop_visible("extractive") and not stop_visible(None)


def test_gradio_page_is_rewritten_to_chinese() -> None:
    from assistant.app.zh_page import rewrite_page

    page = b'<!doctype html>\n<html\n\tlang="en"\n>\n<head>\n<meta charset="utf-8" />\n<script>x</script></head>'
    out = rewrite_page(page, "京津冀协同发展政策助手").decode()
    assert 'lang="zh-CN"' in out and 'lang="en"' not in out
    _charset, rest = out.split('<meta charset="utf-8" />', 1)
    assert rest.startswith("<title>京津冀协同发展政策助手</title><script>")  # before Gradio's own scripts
    assert '"zh-CN"' in rest and "用户名或密码错误" in rest


def test_markdown_export_keeps_states_and_version() -> None:
    md = conversation_markdown(_turns(), "li")
    assert "- 索引版本：abc123" in md and "**以下内容未在已收录文件中找到依据：**" in md and "**相关内容**" in md
    assert "> 引文：“六链五群”是指六条产业链。" in md
    path = write_export(_turns(), "li", "docx")
    assert path is not None and path.suffix == ".docx" and path.stat().st_size > 5000


def test_index_version_is_stable_and_changes_with_content() -> None:
    docs = [DocEntry("a", "a.txt", "A", "h1", ["c1", "c2"], 10, indexed_at="2026-01-02T03:04:05+00:00"),
            DocEntry("b", "b.txt", "B", "h2", ["c3"], 5)]
    v = index_version(docs)
    assert v == index_version(list(reversed(docs))) and "2 个文件、3 个段落" in v
    docs[1].content_hash = "h3"
    assert index_version(docs).split("（")[0] != v.split("（")[0]


# -- developer items ----------------------------------------------------------------------------------
def _all_parsers() -> list[tuple[str, argparse.ArgumentParser]]:
    from bench.run import build_parser as bench_parser
    from eval.run import build_parser as eval_parser

    top = build_parser()
    found = [("assistant", top)]
    for action in top._actions:
        if isinstance(action, argparse._SubParsersAction):
            found += [(f"assistant {name}", p) for name, p in action.choices.items()]
    return [*found, ("assistant eval", eval_parser()), ("assistant bench", bench_parser())]


def test_every_option_of_every_subcommand_has_a_description() -> None:
    missing = [f"{name} {a.option_strings or a.dest}" for name, parser in _all_parsers() for a in parser._actions
               if not isinstance(a, (argparse._HelpAction, argparse._SubParsersAction)) and not a.help]
    assert not missing, missing
    out = io.StringIO()
    serve = next(p for n, p in _all_parsers() if n == "assistant serve")
    serve.print_help(out)
    assert "--host" in out.getvalue() and "监听地址" in out.getvalue() and "监听端口" in out.getvalue()
    assert build_parser().prog == "assistant"


def test_port_problem_names_a_port_in_use() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        problem = port_problem("127.0.0.1", port)
        assert problem and "已被占用" in problem and "already in use" in problem and str(port) in problem
    assert port_problem("127.0.0.1", port) is None


def test_serve_fails_at_once_when_the_port_is_taken(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        env = {"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "ASSISTANT_DATA_DIR": str(tmp_path / "data"),
               "ASSISTANT_CORPUS_DIR": str(tmp_path)}
        started = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "assistant", "serve", "--port", str(port)], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=120)
        took = time.monotonic() - started
    assert proc.returncode == 2 and "已被占用" in proc.stderr and "already in use" in proc.stderr
    assert "Traceback" not in proc.stderr and "正在同步" not in proc.stderr
    assert not (tmp_path / "data").exists()  # no model, no index touched
    assert took < 15, took


def test_eval_progress_lines_when_not_a_terminal() -> None:
    from eval.run import LineProgress

    out = io.StringIO()
    bar = LineProgress(20, "hybrid", stream=out, every=1000)
    for _ in range(20):
        bar.update(1)
    bar.close()
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("[hybrid] 开始，共 20 题")
    assert any("10/20 题（50%）" in line for line in lines) and lines[-1].startswith("[hybrid] 完成 20/20 题")
    assert 4 <= len(lines) <= 13  # every 10 %, not every question
