"""The knowledge base as the bot uses it: articles, search, related articles and article pages.

Plain Python: it knows nothing of Telegram. Embeddings are optional; until they are attached,
search is lexical with its own threshold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from knowledge.articles import DEFAULT_DIR, Article, load_articles
from knowledge.off_topic import DEFAULT_PATH as OFF_TOPIC_PATH
from knowledge.off_topic import OffTopic, load_off_topics
from knowledge.retrieval import (
    DenseScores,
    Embedder,
    Hit,
    Retriever,
    SearchResult,
    group_paragraphs,
    is_aside,
    paragraphs,
)
from knowledge.smalltalk import classify_smalltalk
from knowledge.vague import DEFAULT_PATH as VAGUE_PATH
from knowledge.vague import VagueWords, load_vague_words, subject_words, without_role_opener

PAGE_CHARS = 1400
MAX_ANSWER_CHARS = 900
# A sentence ends at . ! or ? before a capital letter ("stk. 1" and "fx. en" do not end one).
SENTENCE_END = re.compile(r"[.!?](?=\s+[A-ZÆØÅ»\"*])")


@dataclass
class Answer:
    """What the bot should say to a question."""

    question: str
    smalltalk: str | None = None
    result: SearchResult | None = None
    followup: list[Article] | None = None  # the question is too vague: ask what it is about, offering these

    @property
    def abstained(self) -> bool:
        return self.smalltalk is None and self.followup is None and (self.result is None or self.result.abstain)

    @property
    def best(self) -> Hit | None:
        if self.result is None or self.abstained or self.followup is not None:
            return None
        return self.result.best


class KnowledgeBase:
    def __init__(self, articles: list[Article], off_topics: list[OffTopic] | None = None,
                 vague_path: Path | None = VAGUE_PATH) -> None:
        self.articles = {a.id: a for a in articles}
        self.retriever = Retriever(articles, off_topics=off_topics or ())
        self.vague, self.problems = VagueWords(frozenset(), ()), []
        if vague_path is not None:
            self.vague, self.problems = load_vague_words(self.retriever.analyzer, vague_path)
            self.problems += [f"{vague_path}: starter topic {t!r} is not an article"
                              for t in self.vague.starter_topics if t not in self.articles]

    @classmethod
    def load(cls, directory: Path = DEFAULT_DIR) -> tuple[KnowledgeBase, list[str]]:
        """The articles below `directory`, and the off-topic catalog and the vague words beside it."""
        articles, problems = load_articles(directory)
        off_topics, off_topic_problems = load_off_topics(directory.parent / OFF_TOPIC_PATH.name)
        knowledge = cls(articles, off_topics, directory.parent / VAGUE_PATH.name)
        return knowledge, problems + off_topic_problems + knowledge.problems

    # -- embeddings (the caller does the storage I/O, so this can run in a worker thread) -----

    def unit_hashes(self) -> list[str]:
        return self.retriever.unit_hashes()

    def attach_embeddings(self, embedder: Embedder, known: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Encode what is not in `known` and switch on dense search; returns the new vectors."""
        return self.retriever.attach_embeddings(embedder, known)

    def missing_embeddings(self, known: dict[str, np.ndarray]) -> list[tuple[str, str, str]]:
        """(hash, text, kind) of what `attach_embeddings` would encode: to encode it in slices first."""
        return self.retriever.missing_embeddings(known)

    def encode_missing(self, embedder: Embedder, missing: list[tuple[str, str, str]]) -> dict[str, np.ndarray]:
        """Slow (a model call): the vectors of a slice of `missing_embeddings`, by hash."""
        return self.retriever.encode_missing(embedder, missing)

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
        subject = subject_words(self.retriever.analyzer, self.vague, question)
        if not subject:
            starters = [self.articles[t] for t in self.vague.starter_topics if t in self.articles]
            return Answer(question, followup=starters)
        mode = "hybrid" if query_vector is not None and self.dense_ready else "lexical"
        result = self.retriever.search(self.search_text(question), query_vector, mode=mode)
        answer = Answer(question, result=result)
        # When the model will be asked (with_model), the follow-up is decided on its answer.
        return answer if self.needs_model(answer) else self._followup_if_vague(answer)

    def _followup_if_vague(self, answer: Answer) -> Answer:
        """A bare keyword that the search does not settle ("frist", "klage", "samtykke") matches many
        articles: ask which one is meant rather than pick one. A question with words around its
        subject ("hvornår skal man partshøre?") says what it asks, and is answered."""
        result = answer.result
        if result is None or result.off_topic is not None or result.words_decide or len(result.hits) < 2:
            return answer
        if len(self.retriever.analyzer.words(answer.question)) > 1:
            return answer
        if result.hits[0].score - result.hits[1].score >= self.retriever.tuning.vague_margin:
            return answer
        return Answer(answer.question, result=result, followup=[hit.article for hit in result.hits[:3]])

    def search_text(self, question: str) -> str:
        """What is searched for: the question without an opening that only says who asks."""
        return without_role_opener(question, self.vague)

    def needs_model(self, answer: Answer) -> bool:
        """Whether the model's view of the question could change this words-only answer. Not for
        small talk, nor when the words alone decide (Retriever.words_decide): the bot then skips
        encoding the question."""
        return (self.dense_ready and answer.result is not None and answer.followup is None
                and answer.result.signals.dense is None and not answer.result.words_decide)

    def model_views(self, questions: list[str]) -> list[DenseScores]:
        """The model's view of each question, for `with_model`. Slow (a model call): run it off the
        event loop, and only when `dense_ready`."""
        texts = [self.search_text(question) for question in questions]
        return self.retriever.dense_scores(self.retriever.embedder.encode(texts, kind="query"))

    def answer_in_full(self, question: str) -> Answer:
        """The answer as the bot gives it, in this thread: from the words, then with the model's view
        when the words do not decide (the bot's KnowledgeService does the model part off the event loop)."""
        answer = self.answer(question)
        if self.needs_model(answer):
            answer = self.with_model(answer, self.model_views([question])[0])
        return answer

    def with_model(self, answer: Answer, model_view: DenseScores) -> Answer:
        """The hybrid answer to a question first answered from its words (`answer` without a vector)."""
        signals = self.retriever.with_dense(answer.result.signals, model_view)
        result = self.retriever.rank(signals, answer.question, mode="hybrid")
        return self._followup_if_vague(Answer(answer.question, result=result))

    def passage(self, hit: Hit) -> str:
        """What the reply shows of the article: the article's answer paragraph (the lead), then the
        passage that answers this question when it is another one (a paragraph, or an FAQ entry with
        its question). A lead that answers best is followed by the paragraph after it. When the lead
        and the answering passage do not fit on a phone screen together, the lead is cut to its first
        sentences; when not even its first sentence fits, the answering passage stands alone."""
        lead = self._passage_text(hit.article, 0)
        if hit.passage == 0:
            body_count = self.retriever.body_passages[hit.article.id]
            following = self.retriever.passages[hit.article.id][1] if body_count > 1 else ""
            if following and not is_aside(following) and len(lead) + len(following) + 2 <= MAX_ANSWER_CHARS:
                return f"{lead}\n\n{following}"
            return shorten(lead, MAX_ANSWER_CHARS)
        best = self._passage_text(hit.article, hit.passage)
        room = MAX_ANSWER_CHARS - len(best) - 2
        if len(lead) <= room:
            return f"{lead}\n\n{best}"
        opening = first_sentences(lead, room)
        if opening:
            return f"{opening}\n\n{best}"
        return shorten(best, MAX_ANSWER_CHARS)

    def _passage_text(self, article: Article, index: int) -> str:
        body_count = self.retriever.body_passages[article.id]
        if index >= body_count:
            faq = article.faq[index - body_count]
            return f"**{faq.question}**\n{faq.answer}"
        return self.retriever.passages[article.id][index]

    def related(self, article_id: str) -> list[Article]:
        article = self.articles.get(article_id)
        if article is None:
            return []
        return [self.articles[r] for r in article.related if r in self.articles]

    def alternatives(self, answer: Answer, shown: str | None, count: int = 2) -> list[Article]:
        """The next articles for a question whose answer did not help (👎): the search's order
        without the article that was shown."""
        if answer.result is None:
            return []
        return [hit.article for hit in answer.result.hits if hit.article.id != shown][:count]

    def nearest_topics(self, answer: Answer, count: int = 3) -> list[Article]:
        if answer.result is None:
            return []
        return [hit.article for hit in answer.result.hits[:count]]

    def pages(self, article_id: str) -> list[str]:
        """The article body cut into pages of whole paragraphs."""
        return group_paragraphs(paragraphs(self.articles[article_id].body), PAGE_CHARS) or [""]


def first_sentences(text: str, limit: int) -> str:
    """The longest run of whole sentences from the start of `text` within `limit` characters ("" if
    not even the first one fits)."""
    ends = [m.end() for m in SENTENCE_END.finditer(text)] + [len(text)]
    fitting = [end for end in ends if end <= limit]
    return text[: fitting[-1]].rstrip() if fitting else ""


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
