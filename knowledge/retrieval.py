"""Hybrid retrieval over the articles: BM25 on Danish stems fused with sentence embeddings.

The unit of search is small: every passage of an article (with its title) and every example
question. An article's score is the best score of its units. The two rankings are fused with
reciprocal rank fusion; a separate confidence score decides when to abstain. The constants are
chosen with bench/retrieval.py on the labelled set in bench/data/ (see its output).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import bm25s
import numpy as np

from knowledge.articles import Article
from knowledge.text import Analyzer

MAX_PASSAGE_CHARS = 700


@dataclass(frozen=True)
class Tuning:
    """Fusion and abstention constants. The defaults were chosen with `bench/retrieval.py --tune`
    on the labelled set in bench/data/ (its output shows the figures behind them)."""

    rrf_k: float = 20.0
    lexical_weight: float = 1.0
    dense_weight: float = 0.6
    lexical_scale: float = 8.0  # bm25 score at which lexical evidence counts half
    dense_floor: float = 0.25  # cosine below which dense evidence counts nothing
    abstain_hybrid: float = 0.42
    abstain_lexical: float = 0.35
    abstain_dense: float = 0.45

    def threshold(self, mode: str) -> float:
        return {"hybrid": self.abstain_hybrid, "lexical": self.abstain_lexical, "dense": self.abstain_dense}[mode]


DEFAULT_TUNING = Tuning()


class Embedder(Protocol):
    name: str

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""


def split_passages(body: str) -> list[str]:
    """Paragraphs grouped into passages of at most MAX_PASSAGE_CHARS; the first is the answer."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]
    if not paragraphs:
        return []
    passages = [paragraphs[0]]
    current = ""
    for paragraph in paragraphs[1:]:
        if current and len(current) + 2 + len(paragraph) > MAX_PASSAGE_CHARS:
            passages.append(current)
            current = paragraph
        else:
            current = f"{current}\n\n{paragraph}" if current else paragraph
    if current:
        passages.append(current)
    return passages


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Unit:
    """One searchable piece: a passage or an example question of an article."""

    article_id: str
    passage: int  # the passage to show when this unit matches
    kind: str  # "passage" or "question"
    text: str


@dataclass
class Hit:
    article: Article
    passage: int
    score: float  # fused score (for ranking)
    lexical: float
    dense: float


@dataclass
class SearchResult:
    query: str
    mode: str
    hits: list[Hit] = field(default_factory=list)
    confidence: float = 0.0
    threshold: float = 0.0

    @property
    def abstain(self) -> bool:
        return not self.hits or self.confidence < self.threshold

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits else None


class Retriever:
    """Index of the articles; `search` ranks them for a question."""

    def __init__(
        self, articles: Iterable[Article], analyzer: Analyzer | None = None, tuning: Tuning = DEFAULT_TUNING
    ) -> None:
        self.tuning = tuning
        self.articles: dict[str, Article] = {a.id: a for a in articles}
        self.passages: dict[str, list[str]] = {a.id: split_passages(a.body) for a in self.articles.values()}
        self.units: list[Unit] = []
        for article in self.articles.values():
            for index, passage in enumerate(self.passages[article.id]):
                self.units.append(Unit(article.id, index, "passage", f"{article.title}\n{passage}"))
            for question in article.questions:
                self.units.append(Unit(article.id, 0, "question", question))
        self.analyzer = analyzer or Analyzer()
        for unit in self.units:
            self.analyzer.add_vocabulary(self.analyzer.words(unit.text))
        self._article_ids = list(self.articles)
        position = {article_id: i for i, article_id in enumerate(self._article_ids)}
        self._article_of_unit = np.array([position[u.article_id] for u in self.units], dtype=np.int64)
        self._bm25 = bm25s.BM25(k1=1.2, b=0.75)
        corpus = [self.analyzer.tokens(u.text) or ["_"] for u in self.units]
        self._bm25.index(corpus, show_progress=False)
        self._vocabulary = self._bm25.vocab_dict
        self.embedder: Embedder | None = None
        self._unit_vectors: np.ndarray | None = None

    # -- dense side -----------------------------------------------------------------------------

    def unit_hashes(self) -> list[str]:
        """Content hashes of the units: the embedding cache's keys (with the model's name)."""
        return [content_hash(u.text) for u in self.units]

    def attach_embeddings(
        self, embedder: Embedder, known: dict[str, np.ndarray] | None = None
    ) -> dict[str, np.ndarray]:
        """Switch on dense search. Encodes only the units missing from `known` (the cache) and
        returns those new vectors, for the caller to store."""
        known = known or {}
        hashes = self.unit_hashes()
        missing = [i for i, h in enumerate(hashes) if h not in known]
        fresh: dict[str, np.ndarray] = {}
        if missing:
            vectors = embedder.encode([self.units[i].text for i in missing])
            fresh = {hashes[i]: vectors[row] for row, i in enumerate(missing)}
        vectors_by_hash = {**known, **fresh}
        self._unit_vectors = np.vstack([vectors_by_hash[h] for h in hashes]).astype(np.float32)
        self.embedder = embedder
        return fresh

    @property
    def has_dense(self) -> bool:
        return self._unit_vectors is not None

    def encode_query(self, query: str) -> np.ndarray | None:
        if self.embedder is None:
            return None
        return self.embedder.encode([query])[0]

    # -- scoring ---------------------------------------------------------------------------------

    def lexical_unit_scores(self, query: str) -> np.ndarray:
        tokens = [t for t in self.analyzer.tokens(query) if t in self._vocabulary]
        if not tokens:
            return np.zeros(len(self.units), dtype=np.float32)
        return self._bm25.get_scores(tokens)

    def dense_unit_scores(self, query_vector: np.ndarray | None) -> np.ndarray | None:
        if query_vector is None or self._unit_vectors is None:
            return None
        return self._unit_vectors @ query_vector.astype(np.float32)

    def _per_article_max(self, unit_scores: np.ndarray) -> np.ndarray:
        best = np.full(len(self._article_ids), -np.inf, dtype=np.float32)
        np.maximum.at(best, self._article_of_unit, unit_scores)
        return best

    def search(
        self, query: str, query_vector: np.ndarray | None = None, *, mode: str = "hybrid", limit: int = 10,
        tuning: Tuning | None = None,
    ) -> SearchResult:
        """Ranked articles for `query`. mode: "hybrid", "lexical" or "dense"."""
        tuning = tuning or self.tuning
        lexical_units = self.lexical_unit_scores(query)
        dense_units = self.dense_unit_scores(query_vector)
        lexical, dense = self.article_scores(lexical_units, dense_units)
        if mode == "dense" and dense is None:
            raise ValueError("dense search needs embeddings and a query vector")
        if dense is None:
            mode = "lexical"
        fused = self.fuse(lexical, dense, mode, tuning)
        order = np.argsort(-fused)[:limit]
        hits = []
        for index in order:
            if mode == "lexical" and lexical[index] <= 0:
                continue
            article = self.articles[self._article_ids[index]]
            hits.append(Hit(article, self._best_passage(index, lexical_units, dense_units), float(fused[index]),
                            float(lexical[index]), float(dense[index]) if dense is not None else 0.0))
        confidence = self.confidence(lexical, dense, mode, tuning) if hits else 0.0
        return SearchResult(query, mode, hits, confidence, tuning.threshold(mode))

    def article_scores(
        self, lexical_units: np.ndarray, dense_units: np.ndarray | None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Each article's best unit score, lexical and dense (in the order of `article_ids`)."""
        lexical = self._per_article_max(lexical_units)
        return lexical, (self._per_article_max(dense_units) if dense_units is not None else None)

    @property
    def article_ids(self) -> list[str]:
        return self._article_ids

    def fuse(self, lexical: np.ndarray, dense: np.ndarray | None, mode: str, tuning: Tuning) -> np.ndarray:
        if mode == "lexical" or dense is None:
            return lexical.copy()
        if mode == "dense":
            return dense.copy()
        return self._rrf(lexical, dense, tuning)

    @staticmethod
    def _rrf(lexical: np.ndarray, dense: np.ndarray, tuning: Tuning) -> np.ndarray:
        lexical_rank = np.empty_like(lexical)
        lexical_rank[np.argsort(-lexical)] = np.arange(1, len(lexical) + 1)
        dense_rank = np.empty_like(dense)
        dense_rank[np.argsort(-dense)] = np.arange(1, len(dense) + 1)
        fused = tuning.dense_weight / (tuning.rrf_k + dense_rank)
        # Articles with no lexical match get no lexical share.
        return fused + np.where(lexical > 0, tuning.lexical_weight / (tuning.rrf_k + lexical_rank), 0.0)

    @staticmethod
    def confidence(lexical: np.ndarray, dense: np.ndarray | None, mode: str, tuning: Tuning) -> float:
        """How sure the best hit answers the question: 0 (not at all) to 1."""
        top_lexical = float(lexical.max()) if len(lexical) else 0.0
        lexical_part = top_lexical / (top_lexical + tuning.lexical_scale)
        if dense is None or mode == "lexical":
            return lexical_part
        top_dense = float(dense.max())
        dense_part = max(0.0, (top_dense - tuning.dense_floor) / (1 - tuning.dense_floor))
        if mode == "dense":
            return dense_part
        return 0.5 * lexical_part + 0.5 * dense_part

    def _best_passage(self, article_index: int, lexical_units: np.ndarray, dense_units: np.ndarray | None) -> int:
        """The passage of the article that matches best; an example question points to the answer."""
        units = np.flatnonzero(self._article_of_unit == article_index)
        lexical = lexical_units[units]
        scale = float(lexical.max()) or 1.0
        combined = lexical / scale
        if dense_units is not None:
            combined = combined + dense_units[units]
        return self.units[int(units[int(np.argmax(combined))])].passage

    def passage_text(self, hit: Hit) -> str:
        return self.passages[hit.article.id][hit.passage]
