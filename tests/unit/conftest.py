"""The unit tier: each stage alone, on the fakes of ``tests/fakes.py`` (no model, no Chroma, no server)."""

from __future__ import annotations

import pytest

from assistant.text import TermWeights
from index.keyword import KeywordIndex
from index.models import Chunk
from tests.fakes import HashingEmbedder, MemoryStore, chunk

# A small collection: three documents, one of them with two passages.
PASSAGES = [
    chunk("shebao", "持卡人可以凭社会保障卡在京津冀三地就医购药、直接结算。", 0, title="京津冀社会保障卡一卡通规定",
          region="国家", year=2023, kind="规定"),
    chunk("shebao", "社会保障卡还可以用于乘坐公共交通和进入公园。", 1, title="京津冀社会保障卡一卡通规定",
          region="国家", year=2023, kind="规定"),
    chunk("yanglao", "支持北京老年人到河北养老，养老补贴随老人流动。", 0, title="京津冀养老服务协同发展实施方案",
          region="北京", year=2022, kind="方案"),
    chunk("tianjin", "天津市地区生产总值增长4.3%，一般公共预算收入增长11.8%。", 0, title="天津市政府工作报告",
          region="天津", year=2024, kind="工作报告"),
]


@pytest.fixture
def passages() -> list[Chunk]:
    return list(PASSAGES)


@pytest.fixture
def keyword(passages: list[Chunk]) -> KeywordIndex:
    return KeywordIndex.build(passages)


@pytest.fixture
def weights(keyword: KeywordIndex) -> TermWeights:
    return TermWeights(keyword)


@pytest.fixture
def store(passages: list[Chunk]) -> MemoryStore:
    embedder = HashingEmbedder()
    memory = MemoryStore()
    memory.upsert(passages, embedder.embed_passages([c.embed_text() for c in passages]))
    return memory
