"""The knowledge base as the bot uses it: articles, search, related articles and article pages.

Plain Python: it knows nothing of Telegram. Embeddings are optional; until they are attached,
search is lexical with its own threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from knowledge.articles import DEFAULT_DIR, Article, load_articles
from knowledge.off_topic import DEFAULT_PATH as OFF_TOPIC_PATH
from knowledge.off_topic import OffTopic, load_off_topics
from knowledge.retrieval import DenseScores, Embedder, Hit, Retriever, SearchResult, group_paragraphs, paragraphs
from knowledge.smalltalk import classify_smalltalk

PAGE_CHARS = 1400
MAX_ANSWER_CHARS = 700


@dataclass
class Answer:
    """What the bot should say to a question."""

    question: str
    smalltalk: str | None = None
    result: SearchResult | None = None

    @property
    def abstained(self) -> bool:
        return self.smalltalk is None and (self.result is None or self.result.abstain)

    @property
    def best(self) -> Hit | None:
        return None if self.result is None or self.abstained else self.result.best


class KnowledgeBase:
    def __init__(self, articles: list[Article], off_topics: list[OffTopic] | None = None) -> None:
        self.articles = {a.id: a for a in articles}
        self.retriever = Retriever(articles, off_topics=off_topics or ())

    @classmethod
    def load(cls, directory: Path = DEFAULT_DIR) -> tuple[KnowledgeBase, list[str]]:
        """The articles below `directory` and the off-topic catalog beside it."""
        articles, problems = load_articles(directory)
        off_topics, off_topic_problems = load_off_topics(directory.parent / OFF_TOPIC_PATH.name)
        return cls(articles, off_topics), problems + off_topic_problems

    # -- embeddings (the caller does the storage I/O, so this can run in a worker thread) -----

    def unit_hashes(self) -> list[str]:
        return self.retriever.unit_hashes()

    def attach_embeddings(self, embedder: Embedder, known: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Encode what is not in `known` and switch on dense search; returns the new vectors."""
        return self.retriever.attach_embeddings(embedder, known)

    @property
    def dense_ready(self) -> bool:
        return self.retriever.has_dense

    def encode_query(self, question: str) -> np.ndarray | None:
        """Slow (a model call): run it off the event loop."""
        return self.retriever.encode_query(question) if self.dense_ready else None

    # -- answering ------------------------------------------------------------------------------

    def answer(self, question: str, query_vector: np.ndarray | None = None) -> Answer:
        """The answer from the question's words, and from the model's view when a vector is given."""
        kind = classify_smalltalk(question)
        if kind is not None:
            return Answer(question, smalltalk=kind)
        mode = "hybrid" if query_vector is not None and self.dense_ready else "lexical"
        return Answer(question, result=self.retriever.search(question, query_vector, mode=mode))

    def needs_model(self, answer: Answer) -> bool:
        """Whether the model's view of the question could change this words-only answer. Not for
        small talk, nor when the words alone decide (Retriever.words_decide): the bot then skips
        encoding the question."""
        return self.dense_ready and answer.result is not None and not answer.result.words_decide

    def model_views(self, questions: list[str]) -> list[DenseScores]:
        """The model's view of each question, for `with_model`. Slow (a model call): run it off the
        event loop, and only when `dense_ready`."""
        return self.retriever.dense_scores(self.retriever.embedder.encode(questions))

    def with_model(self, answer: Answer, model_view: DenseScores) -> Answer:
        """The hybrid answer to a question first answered from its words (`answer` without a vector)."""
        signals = self.retriever.with_dense(answer.result.signals, model_view)
        return Answer(answer.question, result=self.retriever.rank(signals, answer.question, mode="hybrid"))

    def passage(self, hit: Hit) -> str:
        """The passage to show; the short answer paragraph gets the next one too when it fits."""
        passages = self.retriever.passages[hit.article.id]
        text = passages[hit.passage]
        if hit.passage == 0 and len(passages) > 1 and len(text) + len(passages[1]) + 2 <= MAX_ANSWER_CHARS:
            text = f"{text}\n\n{passages[1]}"
        return shorten(text, MAX_ANSWER_CHARS)

    def related(self, article_id: str) -> list[Article]:
        article = self.articles.get(article_id)
        if article is None:
            return []
        return [self.articles[r] for r in article.related if r in self.articles]

    def nearest_topics(self, answer: Answer, count: int = 3) -> list[Article]:
        if answer.result is None:
            return []
        return [hit.article for hit in answer.result.hits[:count]]

    def pages(self, article_id: str) -> list[str]:
        """The article body cut into pages of whole paragraphs."""
        return group_paragraphs(paragraphs(self.articles[article_id].body), PAGE_CHARS) or [""]


def shorten(text: str, limit: int) -> str:
    """Cut at a sentence (or word) boundary, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    for mark in (". ", ".\n", "\n"):
        position = cut.rfind(mark)
        if position > limit * 0.5:
            return cut[: position + 1].rstrip() + " …"
    return cut[: cut.rfind(" ")].rstrip() + " …"
