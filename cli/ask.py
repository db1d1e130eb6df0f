"""``assistant ask``: one question, the answer with its citations (``--json``: the whole Answer); the llm
writer's answer is printed as it streams."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from assistant.models import Answer, Filters
from assistant.service import Assistant
from assistant.settings import Settings

from .terminal import aligned_rows


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    bot = Assistant(settings, writer=args.writer) if args.writer else Assistant(settings)
    filters = Filters.parse(args.region, args.year, args.kind, args.doc)
    if bot.settings.writer == "llm" and not args.json:
        try:
            answer = stream_llm_answer(bot, args.question, filters)
        except KeyboardInterrupt:
            print("\n（已取消：大模型停止生成）", flush=True)
            return 130
    else:
        answer = bot.ask(args.question, filters=filters)
        if args.json:
            print(answer.to_json())
            return 0
        print(aligned_rows(answer) if answer.layout != "plain" and answer.sections else answer.text)
    print_sources(answer)
    return 0


def print_sources(answer: Answer) -> None:
    """What follows the answer text: the notice, the citations with their quotes, the missing parts and
    the related passages (or the suggested documents)."""
    if answer.notice:
        print(f"（{answer.notice}）")
    for c in answer.citations:
        where = " › ".join(p for p in (c.section,) if p)
        page = f" 第{c.page}页" if c.page else ""
        print(f"[{c.n}] 《{c.title}》{(' ' + where) if where else ''}{page}（{c.source}:{c.quote_start}-{c.quote_end}）")
        print(f"    “{c.quote}”")
    if answer.layout != "plain" and answer.missing:
        for item in answer.missing:  # the years of the series that are not indexed
            print(f"（{item}）")
    elif answer.status == "partial":
        for item in answer.missing:
            print(f"（未能回答的部分：{item}）")
    if answer.related:
        print("相关内容（并非答案，仅供参考）：")
        for c in answer.related:
            print(f"  《{c.title}》{(' ' + c.section) if c.section else ''}：“{c.quote}”")
    elif answer.suggestions:
        for s in answer.suggestions:
            print(f"  可参考：《{s.title}》")


def stream_llm_answer(bot: Assistant, question: str, filters: Filters) -> Answer:
    """Print the llm writer's deltas as they arrive, then the elapsed times; the verified text again
    when verification renumbered or changed it. Ctrl-C closes the stream (the server stops generating)."""
    t0 = time.perf_counter()
    print("正在检索并生成回答……", file=sys.stderr, flush=True)
    shown: list[str] = []
    first: float | None = None
    answer = None
    events: Any = bot.stream(question, filters=filters)  # a generator: close() ends the stream
    try:
        for event in events:
            if event.type == "delta":
                if first is None:
                    first = time.perf_counter() - t0
                    print(f"（首字 {first:.1f} 秒）", file=sys.stderr, flush=True)
                shown.append(event.text)
                sys.stdout.write(event.text)
                sys.stdout.flush()
            elif event.type == "reset":
                shown.clear()
                print("\n（大模型的回答未采用，改用摘录式回答）", flush=True)
            elif event.answer is not None:
                answer = event.answer
    finally:
        events.close()
    assert answer is not None
    streamed = "".join(shown).strip()
    if streamed:
        print()
    if answer.layout != "plain" and answer.sections:  # a timeline or comparison: the rows again, aligned
        print(("核对引用后的回答：\n" if streamed else "") + aligned_rows(answer))
    elif answer.text.strip() != streamed:
        print(("核对引用后的回答：\n" if streamed else "") + answer.text)
    total = time.perf_counter() - t0
    times = f"首字 {first:.1f} 秒，" if first is not None else ""
    print(f"（{times}共 {total:.1f} 秒）", flush=True)
    return answer
