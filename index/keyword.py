"""The keyword index: jieba-tokenized BM25 (bm25s), built at index time, saved, loaded once.

Beside the BM25 matrix it keeps the chunks themselves (text + metadata, aligned with BM25 row
numbers) and each chunk's tokens, so an incremental run re-tokenizes only new chunks and the
query path never touches Chroma for keyword hits.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .errors import AssistantError
from .models import Chunk
from .zh import CJK_RANGE

log = logging.getLogger(__name__)

USER_DICT = Path(__file__).with_name("resources") / "policy_terms.txt"
_WORD = re.compile(rf"[{CJK_RANGE}]|[A-Za-z0-9]")
STOPWORDS = frozenset(
    [
        # question words and pronouns: they say what is asked, not what the answer contains
        "谁", "他", "她", "它", "他们", "她们", "它们", "我们", "你们", "做", "要", "哪", "哪儿", "怎么样", "为什么",
        "多久", "何时", "几", "是不是", "有没有", "能否", "可以", "能", "会", "应该", "需要", "还", "又", "呀", "么",
        "包括", "包含", "涉及", "指", "是指", "指的是", "意思", "含义", "主要", "有何", "何种", "什么样", "哪方面",
        "的", "了", "和", "与", "及", "是", "在", "有", "为", "对", "将", "把", "被", "等", "或", "并", "也", "就", "都", "而",
        "之", "其", "以", "于", "从", "到", "向", "由", "这", "那", "个", "中", "上", "下", "哪些", "什么", "怎么", "如何", "怎样",
        "多少", "哪个", "哪里", "是否", "吗", "呢", "吧", "啊", "请问", "请", "一下", "关于", "方面", "有关", "相关", "情况", "内容", "提出",
        "提到", "说", "讲", "具体",
    ]
)

_jieba_lock = threading.Lock()
_jieba_ready = False


def _jieba() -> object:
    global _jieba_ready
    import jieba

    with _jieba_lock:
        if not _jieba_ready:
            jieba.setLogLevel(logging.WARNING)
            jieba.load_userdict(str(USER_DICT))
            _jieba_ready = True
    return jieba


def _bm25s() -> Any:
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)  # its import sets DEBUG
    return bm25s


def warm_tokenizer() -> None:
    """Load jieba and the policy-terms dictionary (about a second) before the first chunk needs it."""
    _jieba()


def tokenize(text: str) -> list[str]:
    """Search-mode jieba tokens, lower-cased, without punctuation and stop words."""
    jieba = _jieba()
    tokens = []
    for token in jieba.lcut_for_search(text):  # type: ignore[attr-defined]
        token = token.strip().lower()
        if token and token not in STOPWORDS and _WORD.search(token):
            tokens.append(token)
    return tokens


class KeywordIndexCorrupt(AssistantError):
    user_message = "关键词索引已损坏，正在重建。"


class KeywordIndex:
    """BM25 over chunks. ``search`` returns (chunk, score) pairs, best first."""

    FILES = ("bm25", "chunks.json", "tokens.json", "meta.json")

    def __init__(self, chunks: list[Chunk], tokens: dict[str, list[str]], retriever: object | None) -> None:
        self.chunks = chunks
        self.tokens = tokens
        self.retriever = retriever
        self.ids = [c.chunk_id for c in chunks]
        self._lock = threading.Lock()

    # -- build ----------------------------------------------------------------------------
    @classmethod
    def build(cls, chunks: Sequence[Chunk], token_cache: dict[str, list[str]] | None = None) -> KeywordIndex:
        bm25s = _bm25s()
        token_cache = token_cache or {}
        chunks = sorted(chunks, key=lambda c: (c.doc_id, c.ordinal, c.chunk_id))
        tokens = {c.chunk_id: token_cache.get(c.chunk_id) or tokenize(c.embed_text()) for c in chunks}
        retriever = None
        if chunks:
            retriever = bm25s.BM25()
            # bm25s cannot index an empty token list; a placeholder keeps rows aligned with chunks.
            corpus = [tokens[c.chunk_id] or ["\u2400"] for c in chunks]
            retriever.index(corpus, show_progress=False)
        return cls(list(chunks), tokens, retriever)

    # -- persistence ----------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        """Write to a temp folder, then swap it in, so a crash never leaves a half-written index."""
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = directory.with_name(f"{directory.name}.tmp-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        if self.retriever is not None:
            self.retriever.save(str(tmp / "bm25"))  # type: ignore[attr-defined]
        chunks_blob = json.dumps([c.to_dict() for c in self.chunks], ensure_ascii=False).encode()
        (tmp / "chunks.json").write_bytes(chunks_blob)
        (tmp / "tokens.json").write_text(json.dumps(self.tokens, ensure_ascii=False), encoding="utf-8")
        meta = {"count": len(self.chunks), "sha256": hashlib.sha256(chunks_blob).hexdigest()}
        (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        old = directory.with_name(f"{directory.name}.old-{os.getpid()}")
        if directory.exists():
            directory.rename(old)
        tmp.rename(directory)
        shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, directory: Path) -> KeywordIndex:
        bm25s = _bm25s()
        try:
            meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
            blob = (directory / "chunks.json").read_bytes()
            if hashlib.sha256(blob).hexdigest() != meta["sha256"]:
                raise ValueError("chunks.json checksum mismatch")
            chunks = [Chunk.from_dict(d) for d in json.loads(blob)]
            tokens = json.loads((directory / "tokens.json").read_text(encoding="utf-8"))
            retriever = bm25s.BM25.load(str(directory / "bm25")) if chunks else None
            if len(chunks) != meta["count"]:
                raise ValueError("chunk count mismatch")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise KeywordIndexCorrupt(f"keyword index at {directory} unreadable: {exc}") from exc
        return cls(chunks, tokens, retriever)

    # -- query ----------------------------------------------------------------------------
    def search(self, query: str, k: int, allowed: set[str] | None = None) -> list[tuple[Chunk, float]]:
        if self.retriever is None or not self.chunks:
            return []
        vocab = self.retriever.vocab_dict  # type: ignore[attr-defined]
        q_tokens = [t for t in tokenize(query) if t in vocab]
        if not q_tokens:
            return []
        # Score every row (a sparse matrix product, fast) and filter before taking the top k.
        with self._lock:
            scores = np.asarray(self.retriever.get_scores(q_tokens), dtype=np.float32)  # type: ignore[attr-defined]
        order = np.argsort(-scores)
        out: list[tuple[Chunk, float]] = []
        for row in order:
            score = float(scores[row])
            if score <= 0:
                break
            chunk = self.chunks[int(row)]
            if allowed is not None and chunk.chunk_id not in allowed:
                continue
            out.append((chunk, score))
            if len(out) >= k:
                break
        return out
