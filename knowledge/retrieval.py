"""Hybrid retrieval over the articles: BM25 on Danish stems fused with sentence embeddings.

Lexical evidence comes in three views: BM25 over whole articles (title, tags, example questions and
body), over each passage, and over each example question. Dense evidence is the cosine of the
question to an article's best passage plus its best example question. The views are normalised per
query and mixed (or fused by reciprocal rank). `bench/retrieval.py --tune` chose the constants in
`Tuning`.

Confidence (whether to answer at all) uses absolute signals, since the fused scores are relative
to the best article: the best cosine, the raw article BM25, how much of the question's weight
(IDF) the best article covers, and the share of the question's words the index does not know at
all. The last two catch questions that share a few everyday words with an article ("frist",
"borger") while their subject ("arbejdsskade", "barsel") appears nowhere. A question closer to a
topic of the off-topic catalog than to any article is not answered either (knowledge/off_topic.py).

When one article matches the question's words strongly and clearly ahead of the rest, the hybrid
answers from the words alone and the model is not asked (`Retriever.words_decide`): that saves the
CPU of encoding the question, which is most of what a question costs.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import bm25s
import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from knowledge.articles import Article
from knowledge.off_topic import OffTopic
from knowledge.text import Analyzer

MODES = ("lexical", "dense", "hybrid")
DOMAIN_TERM_MAX_SHARE = 0.1  # a title or tag word of more articles than this names no subject of its own
HEADING = re.compile(r"\*\*[^*\n]+\*\*")  # a paragraph that is only a bold heading
ASIDE = re.compile(r"\W*(eksempel|eksempler|husk|tip|fx)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Tuning:
    """Fusion, abstention and passage constants, chosen on the development sets only: the retrieval
    set (bench/retrieval.py --tune) for fusion and confidence, the answer set (bench/answers.py
    --tune) for the passage shown, the threshold and the follow-up margin. Held-out sets check them."""

    fusion: str = "mix"  # "mix" (normalised score mix) or "rrf" (reciprocal rank fusion)
    lexical_share: float = 0.2  # mix: weight of the lexical views against the dense one
    rrf_k: float = 5.0
    dense_weight: float = 0.5  # rrf: weight of the dense ranking
    bm25_weight: float = 0.01  # confidence: per point of raw article BM25 (capped at 20)
    coverage_weight: float = 0.0  # confidence: IDF-weighted share of the question the article covers
    unknown_weight: float = 0.2  # confidence: minus this times the share of unknown words
    abstain_hybrid: float = 0.92
    abstain_lexical: float = 0.018
    abstain_dense: float = 0.883
    off_topic_margin: float = -0.01  # off-topic when its example is this much closer (cosine) than any article's
    off_topic_word_margin: float = 9.0  # ... or a topic's examples cover this much more of the question's words
    # Hybrid: the words alone decide (the model is not asked) when the best article's lexical
    # confidence (with its own weights) and its lead over the second (in lexical score, 0..2) reach these.
    words_decide_confidence: float = 1.0
    words_decide_margin: float = 0.2
    words_bm25_weight: float = 0.08
    words_coverage_weight: float = 0.4
    words_unknown_weight: float = 0.4
    # The passage shown: the lexical share of a passage's score (the rest is the model's), the
    # model's cosines below the article's best times this (0: spread to 0..1), how much an example
    # or reminder paragraph is held back and how much the answer paragraph is preferred.
    passage_lexical_share: float = 0.7
    passage_dense_scale: float = 3.0
    aside_penalty: float = 0.3
    lead_bonus: float = 0.2
    # A one-word question is followed up unless its best article leads the next by this much (fused score).
    vague_margin: float = 0.05

    def threshold(self, mode: str) -> float:
        return {"hybrid": self.abstain_hybrid, "lexical": self.abstain_lexical, "dense": self.abstain_dense}[mode]


DEFAULT_TUNING = Tuning()


class Embedder(Protocol):
    name: str

    def encode(self, texts: Sequence[str], kind: str = "query") -> np.ndarray:
        """Unit-length float32 vectors, one row per text; kind: "query" (a question) or "passage"."""


def paragraphs(body: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]


def group_paragraphs(parts: list[str], limit: int) -> list[str]:
    """Whole paragraphs joined into chunks of at most `limit` characters (a longer paragraph stays whole)."""
    chunks: list[str] = []
    current = ""
    for paragraph in parts:
        if current and len(current) + 2 + len(paragraph) > limit:
            chunks.append(current)
            current = paragraph
        else:
            current = f"{current}\n\n{paragraph}" if current else paragraph
    if current:
        chunks.append(current)
    return chunks


def split_passages(body: str) -> list[str]:
    """The article's passages: one per paragraph (the first one is the answer), except that a
    paragraph ending in a colon ("**Klagevejledningen skal indeholde:**") stays with the list after
    it, and a heading alone ("**Hvad siger reglerne?**") with the paragraph it heads. The reply is
    chosen among these, so each should be able to stand alone."""
    passages: list[str] = []
    for paragraph in paragraphs(body):
        if passages and (passages[-1].rstrip("* ").endswith(":") or HEADING.fullmatch(passages[-1])):
            passages[-1] = f"{passages[-1]}\n\n{paragraph}"
        else:
            passages.append(paragraph)
    return passages


def is_aside(passage: str) -> bool:
    """An example or a reminder ("**Eksempel:** ...", "Husk: ..."): it illustrates the answer
    rather than states it, so a reply does not open with it unless nothing else answers."""
    return ASIDE.match(passage) is not None


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Unit:
    """One searchable piece: a passage or an example question of an article."""

    article_id: str
    passage: int  # the passage to show when this unit matches
    kind: str  # "passage", "question" (an example question) or "faq" (an FAQ's question)
    text: str


@dataclass
class Signals:
    """Everything measured for one question, before fusion (cheap to re-fuse when tuning)."""

    query_tokens: list[str]  # the question's tokens, spelling corrected; long unknown ones that cannot be are dropped
    unknown_tokens: int  # tokens neither known nor correctable (digits aside)
    unit_lexical: np.ndarray
    unit_dense: np.ndarray | None
    article_bm25: np.ndarray  # raw BM25 of whole articles
    lexical: np.ndarray  # normalised lexical views, summed (0..3)
    dense: np.ndarray | None  # best passage cosine + best question cosine (-2..2)
    off_topic: np.ndarray | None = None  # per off-topic topic: its best example's cosine
    off_topic_words: np.ndarray | None = None  # per off-topic topic: the question's weight its examples cover


@dataclass(frozen=True)
class DenseScores:
    """The model's view of one question (Signals' dense fields)."""

    units: np.ndarray  # cosine to every unit
    articles: np.ndarray  # per article: best passage cosine + best question cosine
    off_topic: np.ndarray | None  # per off-topic topic: its best example's cosine


@dataclass
class Hit:
    article: Article
    passage: int
    score: float


@dataclass
class SearchResult:
    query: str
    mode: str
    hits: list[Hit] = field(default_factory=list)
    confidence: float = 0.0
    threshold: float = 0.0
    off_topic: OffTopic | None = None  # the question is about this topic, which no article covers
    signals: Signals | None = None
    words_decide: bool = False  # the model's view could not change this result (Retriever.words_decide)

    @property
    def abstain(self) -> bool:
        return not self.hits or self.confidence < self.threshold or self.off_topic is not None

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits else None


def _normalised(scores: np.ndarray) -> np.ndarray:
    top = float(scores.max()) if len(scores) else 0.0
    return scores / top if top > 0 else np.zeros_like(scores)


class Retriever:
    """Index of the articles; `search` ranks them for a question."""

    def __init__(
        self, articles: Iterable[Article], analyzer: Analyzer | None = None, tuning: Tuning = DEFAULT_TUNING,
        off_topics: Sequence[OffTopic] = (),
    ) -> None:
        self.tuning = tuning
        self.off_topics = list(off_topics)
        # Off-topic examples stay out of the lexical index, whose vocabulary tells known words from
        # unknown ones; they are matched by the model and by the words they share with the question.
        self._off_topic_examples = [example for topic in self.off_topics for example in topic.examples]
        self._topic_of_example = np.array([i for i, topic in enumerate(self.off_topics) for _ in topic.examples],
                                          dtype=np.int64)
        self._off_topic_vectors: np.ndarray | None = None
        self.articles: dict[str, Article] = {a.id: a for a in articles}
        # An article's passages: its paragraphs, then its FAQ answers (shown when their question matches).
        self.body_passages: dict[str, int] = {}
        self.passages: dict[str, list[str]] = {}
        self.units: list[Unit] = []
        for article in self.articles.values():
            body = split_passages(article.body)
            self.body_passages[article.id] = len(body)
            self.passages[article.id] = body + [faq.answer for faq in article.faq]
            for index, passage in enumerate(self.passages[article.id]):
                self.units.append(Unit(article.id, index, "passage", f"{article.title}\n{passage}"))
            for question in article.questions:
                self.units.append(Unit(article.id, 0, "question", question))
            for index, faq in enumerate(article.faq, start=len(body)):
                self.units.append(Unit(article.id, index, "faq", faq.question))
        self.analyzer = analyzer or Analyzer()
        for unit in self.units:
            self.analyzer.add_vocabulary(self.analyzer.words(unit.text))
        self._off_topic_words = [{t for example in topic.examples for t in self.analyzer.tokens(example)}
                                 for topic in self.off_topics]
        self._everyday_words: set[str] = set().union(*self._off_topic_words) if self._off_topic_words else set()
        self._article_ids = list(self.articles)
        position = {article_id: i for i, article_id in enumerate(self._article_ids)}
        self._article_of_unit = np.array([position[u.article_id] for u in self.units], dtype=np.int64)
        self._units_of_article = [np.flatnonzero(self._article_of_unit == i) for i in range(len(self._article_ids))]
        self._is_question = np.array([u.kind in ("question", "faq") for u in self.units])
        self._passage_of_unit = np.array([u.passage for u in self.units], dtype=np.int64)
        self._is_aside_unit = np.array([u.kind == "passage" and is_aside(self.passages[u.article_id][u.passage])
                                        for u in self.units])

        self._unit_bm25 = bm25s.BM25(k1=1.2, b=0.75)
        self._unit_bm25.index([self.analyzer.tokens(u.text) or ["_"] for u in self.units], show_progress=False)
        article_tokens = [self.analyzer.tokens(self._article_text(a)) or ["_"] for a in self.articles.values()]
        self._article_bm25 = bm25s.BM25(k1=1.5, b=0.75)
        self._article_bm25.index(article_tokens, show_progress=False)
        self._article_token_sets = [set(tokens) for tokens in article_tokens]
        self._idf = self._inverse_document_frequencies(self._article_token_sets)
        self._domain_terms = self._title_and_tag_terms()
        self._unknown_idf = float(np.log((len(self._article_token_sets) + 1) / 0.5))  # as if in no article
        self._vocabulary = set(self._unit_bm25.vocab_dict) | set(self._article_bm25.vocab_dict)
        self._terms = sorted(term for term in self._vocabulary if len(term) >= 4)
        self.embedder: Embedder | None = None
        self._unit_vectors: np.ndarray | None = None

    def _title_and_tag_terms(self) -> set[str]:
        per_article = [set(self.analyzer.tokens(" ".join(a.tags))) for a in self.articles.values()]
        counts: dict[str, int] = {}
        for terms in per_article:
            for term in terms:
                counts[term] = counts.get(term, 0) + 1
        common = max(3, int(DOMAIN_TERM_MAX_SHARE * len(self.articles)))
        return {t for t, n in counts.items()
                if len(t) >= 5 and not t.isdigit() and n <= common and t not in self._everyday_words}

    @staticmethod
    def _inverse_document_frequencies(token_sets: list[set[str]]) -> dict[str, float]:
        counts: dict[str, int] = {}
        for tokens in token_sets:
            for token in tokens:
                counts[token] = counts.get(token, 0) + 1
        total = len(token_sets)
        return {token: float(np.log((total + 1) / (count + 0.5))) for token, count in counts.items()}

    @staticmethod
    def _article_text(article: Article) -> str:
        # The title counts twice: it names the topic in the fewest words.
        return "\n".join([article.title, article.title, " ".join(article.tags), *article.questions, article.body])

    @property
    def article_ids(self) -> list[str]:
        return self._article_ids

    # -- dense side -----------------------------------------------------------------------------

    def _texts_to_encode(self) -> list[tuple[str, str]]:
        """(text, kind) for every unit and off-topic example: a passage is encoded as a "passage",
        questions (the articles' example questions and the catalog's examples) as a "query"."""
        units = [(u.text, "passage" if u.kind == "passage" else "query") for u in self.units]
        return units + [(example, "query") for example in self._off_topic_examples]

    def unit_hashes(self) -> list[str]:
        """Content hashes of the units and off-topic examples, with the kind they are encoded as:
        the embedding cache's keys (with the model's name)."""
        return [content_hash(f"{kind}\n{text}") for text, kind in self._texts_to_encode()]

    def missing_embeddings(self, known: dict[str, np.ndarray]) -> list[tuple[str, str, str]]:
        """(hash, text, kind) of every unit and off-topic example whose vector `known` lacks."""
        pairs = zip(self.unit_hashes(), self._texts_to_encode(), strict=True)
        return [(key, text, kind) for key, (text, kind) in pairs if key not in known]

    @staticmethod
    def encode_missing(embedder: Embedder, missing: Sequence[tuple[str, str, str]]) -> dict[str, np.ndarray]:
        """The vectors of `missing_embeddings` (or a slice of them), by hash."""
        fresh: dict[str, np.ndarray] = {}
        for kind in ("passage", "query"):
            of_kind = [(key, text) for key, text, k in missing if k == kind]
            if of_kind:
                vectors = embedder.encode([text for _, text in of_kind], kind=kind)
                fresh.update({key: vectors[row] for row, (key, _) in enumerate(of_kind)})
        return fresh

    def attach_embeddings(
        self, embedder: Embedder, known: dict[str, np.ndarray] | None = None
    ) -> dict[str, np.ndarray]:
        """Switch on dense search. Encodes only the units missing from `known` (the cache) and
        returns those new vectors, for the caller to store."""
        known = known or {}
        fresh = self.encode_missing(embedder, self.missing_embeddings(known))
        vectors_by_hash = {**known, **fresh}
        matrix = np.vstack([vectors_by_hash[h] for h in self.unit_hashes()]).astype(np.float32)
        self._unit_vectors, self._off_topic_vectors = matrix[:len(self.units)], matrix[len(self.units):]
        self.embedder = embedder
        self._point_questions_at_passages()
        return fresh

    def _point_questions_at_passages(self) -> None:
        """Each example question points to the passage of its article that the model finds closest
        to it: a user's question that matches an example is shown the passage that answers it. (An
        FAQ's question points to its own answer.)"""
        for article_units in self._units_of_article:
            passages = [u for u in article_units if not self._is_question[u]]
            for unit_index in article_units:
                if self.units[unit_index].kind == "question" and passages:
                    cosines = self._unit_vectors[passages] @ self._unit_vectors[unit_index]
                    target = self.units[passages[int(np.argmax(cosines))]].passage
                    self.units[unit_index] = dataclasses.replace(self.units[unit_index], passage=target)
        self._passage_of_unit = np.array([u.passage for u in self.units], dtype=np.int64)

    @property
    def has_dense(self) -> bool:
        return self._unit_vectors is not None

    def encode_query(self, query: str) -> np.ndarray | None:
        if self.embedder is None:
            return None
        return self.embedder.encode([query], kind="query")[0]

    # -- signals ---------------------------------------------------------------------------------

    def correct_spelling(self, tokens: list[str]) -> list[str]:
        """Replace a token the index does not know by its nearest known token (one or two typos). A
        word of the off-topic catalog's examples is left as it is ("opskrift" is not a misspelt "skrift")."""
        corrected = []
        for token in tokens:
            if (token in self._vocabulary or token in self._everyday_words or len(token) < 5
                    or token.startswith("§") or token.isdigit()):
                corrected.append(token)
                continue
            allowed = 1 if len(token) < 8 else 2
            match = process.extractOne(token, self._terms, scorer=Levenshtein.distance, score_cutoff=allowed)
            if match is not None:
                corrected.append(match[0])
        return corrected

    def _per_article_max(self, unit_scores: np.ndarray, mask: np.ndarray) -> np.ndarray:
        best = np.zeros(len(self._article_ids), dtype=np.float32)
        np.maximum.at(best, self._article_of_unit[mask], unit_scores[mask].astype(np.float32))
        return best

    def _per_article_dense(self, unit_scores: np.ndarray) -> np.ndarray:
        total = np.zeros(len(self._article_ids), dtype=np.float32)
        for mask in (self._is_question, ~self._is_question):
            best = np.full(len(self._article_ids), -1.0, dtype=np.float32)
            np.maximum.at(best, self._article_of_unit[mask], unit_scores[mask].astype(np.float32))
            total += best
        return total

    def signals(self, query: str, query_vector: np.ndarray | None = None) -> Signals:
        return self.add_dense(self.lexical_signals(query), query_vector)

    def lexical_signals(self, query: str) -> Signals:
        """The signals from the question's words alone (no model call)."""
        raw_tokens = self.analyzer.tokens(query)
        query_tokens = self.correct_spelling(raw_tokens)
        unknown = len(self.analyzer.tokens_for_coverage(raw_tokens)) - len(
            self.analyzer.tokens_for_coverage(query_tokens))
        tokens = [t for t in query_tokens if t in self._vocabulary]
        article_count = len(self._article_ids)
        if tokens:
            unit_lexical = self._bm25_scores(self._unit_bm25, tokens)
            article_bm25 = self._bm25_scores(self._article_bm25, tokens)
        else:
            unit_lexical = np.zeros(len(self.units), dtype=np.float32)
            article_bm25 = np.zeros(article_count, dtype=np.float32)
        lexical = (
            _normalised(article_bm25)
            + _normalised(self._per_article_max(unit_lexical, ~self._is_question)
                          + self._per_article_max(unit_lexical, self._is_question))
        )
        off_topic_words = self._off_topic_coverage(raw_tokens) if self.off_topics else None
        return Signals(query_tokens, max(0, unknown), unit_lexical, None, article_bm25, lexical, None,
                       None, off_topic_words)

    def add_dense(self, signals: Signals, query_vector: np.ndarray | None) -> Signals:
        """`signals` with the model's view of the question added (unchanged without a vector or embeddings)."""
        if query_vector is None or self._unit_vectors is None:
            return signals
        return self.with_dense(signals, self.dense_scores(query_vector[np.newaxis, :])[0])

    @staticmethod
    def with_dense(signals: Signals, scores: DenseScores) -> Signals:
        return dataclasses.replace(signals, unit_dense=scores.units, dense=scores.articles,
                                   off_topic=scores.off_topic)

    def dense_scores(self, query_vectors: np.ndarray) -> list[DenseScores]:
        """The model's view of several questions, one row of vectors each: one matrix product for
        all of them, which the bot runs in its encoder threads, off the event loop (a product per
        question on the loop cost it 0.5 ms or more under load, the unit vectors being out of cache)."""
        vectors = query_vectors.astype(np.float32)
        unit_dense = vectors @ self._unit_vectors.T
        off_topic_dense = vectors @ self._off_topic_vectors.T if self.off_topics else None
        scores = []
        for row, units in enumerate(unit_dense):
            off_topic = None
            if off_topic_dense is not None:
                off_topic = np.full(len(self.off_topics), -1.0, dtype=np.float32)
                np.maximum.at(off_topic, self._topic_of_example, off_topic_dense[row])
            scores.append(DenseScores(units, self._per_article_dense(units), off_topic))
        return scores

    def _off_topic_coverage(self, raw_tokens: list[str]) -> np.ndarray:
        """Per off-topic topic, the share of the question's weight that its examples contain.
        Uncorrected tokens: a word only the catalog knows must not be 'corrected' into an
        article's word first."""
        words, weights = self._weighted_words(raw_tokens)
        total = sum(weights)
        return np.array([self._weighted_share(words, weights, topic, total) for topic in self._off_topic_words],
                        dtype=np.float32)

    def _weighted_words(self, tokens: list[str]) -> tuple[list[str], list[float]]:
        """The words that count for coverage and their weights: IDF in the articles, and a word
        no article has weighs as the rarest."""
        words = self.analyzer.tokens_for_coverage(tokens)
        return words, [self._idf.get(t, self._unknown_idf) for t in words]

    @staticmethod
    def _weighted_share(words: list[str], weights: list[float], vocabulary: set[str], total: float) -> float:
        covered = sum(w for t, w in zip(words, weights, strict=True) if t in vocabulary)
        return covered / total if total else 0.0

    @staticmethod
    def _bm25_scores(index: bm25s.BM25, tokens: list[str]) -> np.ndarray:
        known = [t for t in tokens if t in index.vocab_dict]
        if not known:
            return np.zeros(index.scores["num_docs"], dtype=np.float32)
        return index.get_scores(known).astype(np.float32)

    # -- fusion and confidence ---------------------------------------------------------------------

    def fuse(self, signals: Signals, mode: str, tuning: Tuning) -> np.ndarray:
        if mode == "lexical" or signals.dense is None:
            return signals.lexical.copy()
        if mode == "dense":
            return signals.dense.copy()
        if tuning.fusion == "rrf":
            return self._rrf(signals.lexical, signals.dense, tuning)
        # Both views on one scale: lexical 0..1 of its best, dense as distance below its best.
        dense = signals.dense - signals.dense.max()
        return tuning.lexical_share * signals.lexical / 2 + (1 - tuning.lexical_share) * dense

    @staticmethod
    def _rrf(lexical: np.ndarray, dense: np.ndarray, tuning: Tuning) -> np.ndarray:
        lexical_rank = np.empty_like(lexical)
        lexical_rank[np.argsort(-lexical)] = np.arange(1, len(lexical) + 1)
        dense_rank = np.empty_like(dense)
        dense_rank[np.argsort(-dense)] = np.arange(1, len(dense) + 1)
        fused = tuning.dense_weight / (tuning.rrf_k + dense_rank)
        # Articles with no lexical match get no lexical share.
        return fused + np.where(lexical > 0, 1.0 / (tuning.rrf_k + lexical_rank), 0.0)

    def confidence(self, signals: Signals, top_article: int, mode: str, tuning: Tuning) -> float:
        """How sure we are that the best article answers the question (compared with a threshold)."""
        lexical_part = (tuning.bm25_weight * min(float(signals.article_bm25.max()), 20.0)
                        + tuning.coverage_weight * self.coverage(signals, top_article)
                        - tuning.unknown_weight * self.unknown_share(signals))
        if mode == "lexical" or signals.dense is None:
            return lexical_part
        dense_part = float(signals.dense.max()) / 2
        return dense_part if mode == "dense" else dense_part + lexical_part

    def coverage(self, signals: Signals, article: int) -> float:
        """The share of the question's weight (IDF) that the article contains; a word the index
        does not know weighs as much as the rarest and is never covered."""
        words, weights = self._weighted_words(signals.query_tokens)
        total = sum(weights) + self._unknown_idf * signals.unknown_tokens
        return self._weighted_share(words, weights, self._article_token_sets[article], total)

    def unknown_share(self, signals: Signals) -> float:
        words = len(self.analyzer.tokens_for_coverage(signals.query_tokens)) + signals.unknown_tokens
        return signals.unknown_tokens / words if words else 0.0

    # -- search ------------------------------------------------------------------------------------

    def search(
        self, query: str, query_vector: np.ndarray | None = None, *, mode: str = "hybrid", limit: int = 10,
        tuning: Tuning | None = None,
    ) -> SearchResult:
        """Ranked articles for `query`. mode: "hybrid", "lexical" or "dense"."""
        return self.rank(self.signals(query, query_vector), query, mode=mode, limit=limit, tuning=tuning)

    def rank(
        self, signals: Signals, query: str = "", *, mode: str = "hybrid", limit: int = 10,
        tuning: Tuning | None = None,
    ) -> SearchResult:
        tuning = tuning or self.tuning
        words_decide = mode != "dense" and self.words_decide(signals, tuning)
        if signals.dense is None or (mode == "hybrid" and words_decide):
            if mode == "dense":
                raise ValueError("dense search needs embeddings and a query vector")
            mode = "lexical"
        fused = self.fuse(signals, mode, tuning)
        order = np.argsort(-fused)[:limit]
        if mode == "lexical":
            order = [i for i in order if signals.lexical[i] > 0]
        hits = [Hit(self.articles[self._article_ids[i]], self._best_passage(i, signals, tuning), float(fused[i]))
                for i in order]
        confidence = self.confidence(signals, int(order[0]), mode, tuning) if hits else 0.0
        off_topic = self.off_topic(signals, int(order[0]) if hits else None, mode, tuning)
        return SearchResult(query, mode, hits, confidence, tuning.threshold(mode), off_topic, signals, words_decide)

    def words_decide(self, signals: Signals, tuning: Tuning) -> bool:
        """Whether the question's words alone settle the hybrid's answer: one article matches them
        strongly (lexical confidence) and clearly better than any other (its lead in lexical score).
        Then the model is not asked, which saves most of a question's CPU. The two constants were
        chosen where, on the labelled, held-out and two blind question sets (618 questions), no
        abstention changed and one top article did, for the better (see the closing note of
        session 5)."""
        if not signals.lexical.any():
            return False
        top = int(np.argmax(signals.lexical))
        runner_up = float(np.partition(signals.lexical, -2)[-2]) if len(signals.lexical) > 1 else 0.0
        lead = float(signals.lexical[top]) - runner_up
        words = dataclasses.replace(tuning, bm25_weight=tuning.words_bm25_weight,
                                    coverage_weight=tuning.words_coverage_weight,
                                    unknown_weight=tuning.words_unknown_weight)
        return (lead >= tuning.words_decide_margin
                and self.confidence(signals, top, "lexical", words) >= tuning.words_decide_confidence)

    def off_topic_gap(self, signals: Signals) -> tuple[int, float] | None:
        """The off-topic topic closest to the question, and how much closer (cosine) its best
        example is than the closest unit of any article."""
        if signals.off_topic is None or signals.unit_dense is None or not len(signals.off_topic):
            return None
        best = int(np.argmax(signals.off_topic))
        return best, float(signals.off_topic[best]) - float(signals.unit_dense.max())

    def off_topic_word_gap(self, signals: Signals, top_article: int | None) -> tuple[int, float] | None:
        """The off-topic topic whose examples share most of the question's words, and how much more
        of its weight they cover than the best article does."""
        if signals.off_topic_words is None or not len(signals.off_topic_words):
            return None
        best = int(np.argmax(signals.off_topic_words))
        covered = self.coverage(signals, top_article) if top_article is not None else 0.0
        return best, float(signals.off_topic_words[best]) - covered

    def off_topic(self, signals: Signals, top_article: int | None, mode: str, tuning: Tuning) -> OffTopic | None:
        """The topic the question is about when it is one no article covers: by the model (not in
        lexical mode) or by the words the question shares with the topic's examples. Not when the
        question names a subject of the articles that the topic's examples do not (`domain_terms`):
        "aktindsigt i min kalender" is no IT problem, "klage til ombudsmanden" no benefit question."""
        topic = None
        gap = self.off_topic_gap(signals) if mode != "lexical" else None
        if gap is not None and gap[1] > tuning.off_topic_margin:
            topic = gap[0]
        else:
            word_gap = self.off_topic_word_gap(signals, top_article)
            if word_gap is not None and word_gap[1] > tuning.off_topic_word_margin:
                topic = word_gap[0]
        if topic is None or self.domain_terms(signals.query_tokens) - self._off_topic_words[topic]:
            return None
        return self.off_topics[topic]

    def domain_terms(self, tokens: Iterable[str]) -> set[str]:
        """The tokens that name a subject of the knowledge base: words of the articles' tags that few
        articles share (so "aktindsigt" and "ombudsmand", not "borger" or "sag")."""
        return set(tokens) & self._domain_terms

    def _best_passage(self, article_index: int, signals: Signals, tuning: Tuning) -> int:
        """The passage of the article that answers the question best: each passage scores by its own
        match and by the example questions that point to it (words, normalised within the article,
        mixed with the model's cosines, spread within the article). An example or a reminder
        (`is_aside`) is chosen only when it is clearly the best match."""
        units = self._units_of_article[article_index]
        lexical = signals.unit_lexical[units]
        spread = float(lexical.max() - lexical.min())
        # Every passage unit carries the title, so the words' scores within an article sit close together:
        # spread them to 0..1. Without the model's view, the words alone decide.
        lexical = (lexical - lexical.min()) / spread if spread > 0 else np.zeros_like(lexical)
        share = tuning.passage_lexical_share if signals.unit_dense is not None else 1.0
        score = share * lexical
        if signals.unit_dense is not None:
            dense = signals.unit_dense[units]
            if tuning.passage_dense_scale > 0:
                scaled = tuning.passage_dense_scale * (dense - dense.max())
            else:
                spread = float(dense.max() - dense.min())
                scaled = (dense - dense.min()) / spread if spread > 0 else np.zeros_like(dense)
            score = score + (1 - tuning.passage_lexical_share) * scaled
        score = score - tuning.aside_penalty * self._is_aside_unit[units]
        best = np.full(len(self.passages[self._article_ids[article_index]]), -np.inf)
        np.maximum.at(best, self._passage_of_unit[units], score)
        best[0] += tuning.lead_bonus
        return int(np.argmax(best))
