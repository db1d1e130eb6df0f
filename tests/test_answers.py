"""The Python API contract: answers with verified citations, refusal, filters, multi-turn, fallback."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant import Answer, Assistant, Citation, InvalidQuestionError
from assistant.rewrite import rewrite_followup
from assistant.settings import REPO_ROOT
from assistant.verify import find_support, verify
from index.loaders import load_document
from index.zh import sentence_spans

from .conftest import free_port


def _assert_citations_slice_source(answer: Answer) -> None:
    assert answer.citations, answer.text
    for c in answer.citations:
        assert isinstance(c, Citation)
        assert f"[{c.n}]" in answer.text
        doc_text = load_document(Path(c.source), c.doc_id).text
        assert doc_text[c.start : c.end] == c.text
        assert doc_text[c.quote_start : c.quote_end] == c.quote
        assert c.quote and c.quote in c.text


def test_api_contract_and_json(seed_assistant: Assistant) -> None:
    answer = seed_assistant.ask("“六链五群”中的“五群”是指哪些产业集群？")
    assert isinstance(answer, Answer) and not answer.refused
    assert "集成电路" in answer.text
    _assert_citations_slice_source(answer)
    data = json.loads(answer.to_json())
    assert set(data) >= {"text", "citations", "refused", "suggestions", "rewritten_question", "unsupported"}
    assert set(data["citations"][0]) >= {"n", "doc_id", "title", "source", "section", "page", "text", "quote",
                                         "start", "end", "score"}
    assert Answer.from_dict(data).citations[0].quote == answer.citations[0].quote


def test_every_sentence_has_a_verified_marker(seed_assistant: Assistant) -> None:
    answer = seed_assistant.ask("河北在疏解北京非首都功能方面怎么做？")
    assert not answer.refused and not answer.unsupported
    for line in answer.text.splitlines():
        for sentence in [s for s in line.split("。") if s.strip()]:
            assert "[" in sentence, sentence


def test_refusal_outside_the_corpus(seed_assistant: Assistant) -> None:
    for question in ("火星探测计划的预算是多少？", "2030年奥运会在哪里举办？", "如何申请美国签证？"):
        answer = seed_assistant.ask(question)
        assert answer.refused, (question, answer.text, answer.evidence_score)
        assert "未在已收录文件中找到依据" in answer.text
        assert answer.citations == [] and answer.status == "not_found"
        # 可能相关 documents only when something related was found (none for an unrelated question)
        assert all(s.title for s in answer.suggestions)
        assert bool(answer.suggestions) == bool(answer.related)


def test_stream_yields_deltas_then_final(seed_assistant: Assistant) -> None:
    events = list(seed_assistant.stream("京津冀联合办副主任是谁？他表示下一步要做什么？"))
    assert events[-1].type == "final" and events[-1].answer is not None
    assert any(e.type == "delta" for e in events[:-1])
    assert "周浩" in events[-1].answer.text


def test_invalid_questions_raise_typed_errors(seed_assistant: Assistant) -> None:
    for bad in ("", "   \n\t", "？？！！。。", "😀😀😀", "京" * 20000):
        with pytest.raises(InvalidQuestionError) as err:
            seed_assistant.ask(bad)
        assert err.value.user_message
    answer = seed_assistant.ask("六链五群\x00是什么\x07？")  # control characters are dropped
    assert not answer.refused


def test_rewrite_rules() -> None:
    history = [("2025年北京市政府工作报告对京津冀协同发展有哪些安排？", "……")]
    assert rewrite_followup("那天津呢？", history) == "2025年天津市政府工作报告对京津冀协同发展有哪些安排？"
    assert rewrite_followup("2026年呢？", history).startswith("2026年北京市政府工作报告")
    points = [("河北省有哪些举措？", "根据《报告》：加快建设雄安新区[1]。推进交通一体化[2]。")]
    assert rewrite_followup("第二点具体怎么说？", points) == "河北省有哪些举措？ 推进交通一体化。"
    assert rewrite_followup("这项工作由哪个部门牵头？", history).startswith(history[0][0])
    assert rewrite_followup("雄安新区的定位是什么？", history) == "雄安新区的定位是什么？"


def test_verification_drops_bad_markers_and_flags_unsupported(seed_assistant: Assistant) -> None:
    hits = seed_assistant.retrieve("六链五群是什么")
    passage = hits[0].chunk.text
    sentence = next(passage[s:e] for s, e in sentence_spans(passage) if passage[s:e].endswith("。"))
    draft = f"{sentence[:-1]}[1]。火星上有大量液态水[1]。这句指向不存在的资料[9]。"
    checked = verify(draft, hits)
    assert [c.n for c in checked.citations] == [1]
    assert checked.citations[0].quote == sentence[:-1]
    assert any("火星上有大量液态水" in s for s in checked.unsupported)
    assert "[9]" not in checked.text and "液态水[1]" not in checked.text
    assert find_support("完全无关的句子内容", passage) is None


@pytest.mark.slow
def test_answers_and_refusals_on_the_policy_corpus(jjj_assistant: Assistant) -> None:
    answerable = {
        "京津冀社会保障卡持卡人可以在三地办理哪些事项？": "就业创业",
        "2025年北京市政府工作报告提出的地区生产总值增长目标是多少？": "5%左右",
        "北京城市副中心建设有哪些安排？": "副中心",
    }
    for question, expected in answerable.items():
        answer = jjj_assistant.ask(question)
        assert not answer.refused, (question, answer.evidence_score)
        assert expected in answer.text or any(expected in c.text for c in answer.citations), answer.text
        _assert_citations_slice_source(answer)
    for question in ("北京市对新能源汽车的购车补贴标准是每辆多少元？", "京津冀三地的平均房价是多少？"):
        assert jjj_assistant.ask(question).refused, question


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="known near miss of the answer model (docs/evaluation.md): the documents "
                   "name 北京冬奥会 often, the question model answers with such a sentence although no 吉祥物 is named")
def test_a_near_miss_on_a_named_event_is_refused(jjj_assistant: Assistant) -> None:
    assert jjj_assistant.ask("北京冬奥会的吉祥物叫什么名字？").refused


@pytest.mark.slow
def test_filters_narrow_retrieval(jjj_assistant: Assistant) -> None:
    question = "推进京津冀协同发展"
    for region in ("天津", "河北"):
        hits = jjj_assistant.retrieve(question, k=6, filters={"region": region})
        assert hits and all(h.chunk.metadata.get("region") == region for h in hits)
    hits = jjj_assistant.retrieve(question, k=6, filters={"year": 2026, "kind": "工作报告"})
    assert hits and all(h.chunk.metadata.get("year") == 2026 for h in hits)
    doc = "北京市推进京津冀社会保障卡一卡通规定(2024-09-27)"
    answer = jjj_assistant.ask("京津冀协同发展", filters={"doc_id": [doc]})
    assert all(c.doc_id == doc for c in answer.citations)


@pytest.mark.slow
def test_multi_turn_follow_up(jjj_assistant: Assistant) -> None:
    first_q = "2025年天津市政府工作报告提出的地区生产总值增长目标是多少？"
    first = jjj_assistant.ask(first_q)
    follow = jjj_assistant.ask("那河北呢？", history=[(first_q, first.text)])
    assert follow.rewritten_question == "2025年河北省政府工作报告提出的地区生产总值增长目标是多少？"
    assert not follow.refused
    assert any(c.doc_id == "2025年河北省政府工作报告" for c in follow.citations)


def test_llm_fallback_when_server_is_down(seed_assistant: Assistant) -> None:
    port = free_port()  # nothing listens here
    bot = Assistant(seed_assistant.settings.model_copy(update={
        "llm_base_url": f"http://127.0.0.1:{port}/v1", "llm_timeout": 5.0}), writer="llm")
    started = time.monotonic()
    answer = bot.ask("什么是“六链五群”？")
    assert time.monotonic() - started < 60
    assert not answer.refused and answer.writer == "extractive"
    assert answer.notice and "摘录" in answer.notice
    _assert_citations_slice_source(answer)


def test_cli_ask_json(seed_assistant: Assistant) -> None:
    import os

    env = {**os.environ, "ASSISTANT_DATA_DIR": str(seed_assistant.settings.data_dir),
           "ASSISTANT_EMBEDDING_MODEL": str(seed_assistant.settings.embedding_model), "PYTHONPATH": str(REPO_ROOT)}
    out = subprocess.run([sys.executable, "-m", "assistant", "ask", "“六链”包括哪些产业链？", "--json"],
                         env=env, capture_output=True, text=True, timeout=300, check=True)
    data = json.loads(out.stdout)
    assert data["refused"] is False and data["citations"]
    bad = subprocess.run([sys.executable, "-m", "assistant", "ask", "   "], env=env, capture_output=True, text=True,
                         timeout=300)
    assert bad.returncode == 2 and "请输入问题" in bad.stderr and "Traceback" not in bad.stderr


def test_cross_encoder_reranker_code_path(seed_assistant: Assistant, tmp_path: Path, model_path: Path) -> None:
    """No reranker is bundled: build a small CrossEncoder offline from the bundled encoder (its
    classification head is untrained, so this checks the code path, not ranking quality)."""
    from sentence_transformers import CrossEncoder

    target = tmp_path / "cross-encoder"
    CrossEncoder(str(model_path), num_labels=1, device="cpu", local_files_only=True).save(str(target))
    bot = Assistant(seed_assistant.settings.model_copy(update={"reranker_model": target}))
    hits = bot.retrieve("“六链五群”指什么？", k=5)
    assert len(hits) == 5 and all(h.rerank_score is not None for h in hits)
    scores = [h.rerank_score for h in hits if h.rerank_score is not None]
    assert scores == sorted(scores, reverse=True)
    answer = bot.ask("“六链五群”指什么？")
    assert answer.text


def test_the_answer_carries_each_stage_time(seed_assistant: Assistant) -> None:
    """The pipeline's stages, timed by ``run.stage`` in the order they ran, land in ``Answer.timings``."""
    answer = seed_assistant.ask("“六链五群”指什么？")
    assert not answer.refused
    stages = [s for s in answer.timings if s != "first_token"]
    assert stages == ["rewrite", "analyse", "shape", "retrieve", "decide", "write", "verify", "total"]
    refused = seed_assistant.ask("雄安新区的常住人口是多少？")
    assert refused.refused and list(refused.timings)[-1] == "total" and "write" not in refused.timings
