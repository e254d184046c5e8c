"""Retrieval benchmark: quality of lexical, dense and hybrid search on the labelled set, abstention,
latency, and how latency grows with the corpus.

    .venv/bin/python bench/retrieval.py            # the figures
    .venv/bin/python bench/retrieval.py --tune     # also search the fusion/abstention constants
    .venv/bin/python bench/retrieval.py --growth   # also the 1k/10k/100k growth table

Embeddings are cached in data/bench-embeddings.sqlite3, so only the first run encodes.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import logging
import random
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

from bot.config import default_embedding_model  # noqa: E402
from bot.storage import Storage  # noqa: E402
from knowledge.answering import KnowledgeBase  # noqa: E402
from knowledge.embeddings import SentenceEmbedder  # noqa: E402
from knowledge.retrieval import DEFAULT_TUNING, Retriever, Tuning  # noqa: E402

DATA = ROOT / "bench" / "data" / "retrieval_eval.yaml"
MODES = ("lexical", "dense", "hybrid")


@dataclass
class Case:
    question: str
    expected: list[str]  # empty: the bot should abstain
    lexical: np.ndarray
    dense: np.ndarray


def load_cases(knowledge: KnowledgeBase, path: Path) -> list[Case]:
    retriever = knowledge.retriever
    items = yaml.safe_load(path.read_text(encoding="utf-8"))
    questions = [item["q"] for item in items]
    vectors = knowledge.retriever.embedder.encode(questions)
    cases = []
    for item, vector in zip(items, vectors, strict=True):
        lexical, dense = retriever.article_scores(retriever.lexical_unit_scores(item["q"]),
                                                  retriever.dense_unit_scores(vector))
        unknown = [a for a in item["articles"] if a not in knowledge.articles]
        if unknown:
            raise SystemExit(f"unknown article ids in the evaluation set: {unknown}")
        cases.append(Case(item["q"], list(item["articles"]), lexical, dense))
    return cases


def evaluate(retriever: Retriever, cases: list[Case], mode: str, tuning: Tuning) -> dict[str, float]:
    ids = retriever.article_ids
    answerable = [c for c in cases if c.expected]
    negatives = [c for c in cases if not c.expected]
    hits1 = hits3 = 0
    reciprocal = 0.0
    wrongly_abstained = 0
    abstained_negatives = 0
    for case in cases:
        fused = retriever.fuse(case.lexical, case.dense, mode, tuning)
        order = [ids[i] for i in np.argsort(-fused)[:10]]
        confidence = retriever.confidence(case.lexical, case.dense, mode, tuning)
        abstain = confidence < tuning.threshold(mode)
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
    """Grid search: fusion first (by MRR, then recall@1), then the confidence and threshold."""
    best_fusion, best_key = DEFAULT_TUNING, (-1.0, -1.0)
    for rrf_k, dense_weight in itertools.product((5, 10, 20, 40, 60), (0.2, 0.35, 0.5, 0.7, 1.0, 1.5)):
        candidate = dataclasses.replace(DEFAULT_TUNING, rrf_k=rrf_k, dense_weight=dense_weight)
        scores = evaluate(retriever, cases, "hybrid", candidate)
        key = (scores["recall@1"], scores["mrr@10"])
        if key > best_key:
            best_fusion, best_key = candidate, key
    print(f"fusion: rrf_k={best_fusion.rrf_k} dense_weight={best_fusion.dense_weight} "
          f"-> recall@1 {best_key[0]:.3f}, mrr {best_key[1]:.3f}")
    best, best_score = best_fusion, -1.0
    for scale, floor in itertools.product((2, 4, 6, 8, 12, 16, 24), (0.1, 0.2, 0.3, 0.4, 0.5)):
        for threshold in np.arange(0.05, 0.9, 0.01):
            candidate = dataclasses.replace(best_fusion, lexical_scale=scale, dense_floor=floor,
                                            abstain_hybrid=round(float(threshold), 2))
            scores = evaluate(retriever, cases, "hybrid", candidate)
            # Wrong abstentions cost more than missed ones: at most 5% allowed.
            if scores["wrongly_abstained"] > 0.05:
                continue
            score = scores["abstain_recall"] - 2 * scores["wrongly_abstained"]
            if score > best_score:
                best, best_score = candidate, score
    for mode, field in (("lexical", "abstain_lexical"), ("dense", "abstain_dense")):
        best_mode_score = -1.0
        for threshold in np.arange(0.05, 0.95, 0.01):
            candidate = dataclasses.replace(best, **{field: round(float(threshold), 2)})
            scores = evaluate(retriever, cases, mode, candidate)
            if scores["wrongly_abstained"] > 0.05:
                continue
            score = scores["abstain_recall"] - 2 * scores["wrongly_abstained"]
            if score > best_mode_score:
                best, best_mode_score = candidate, score
    print(f"tuned: {best}")
    return best


def latency(knowledge: KnowledgeBase, questions: list[str], mode: str) -> tuple[float, float]:
    retriever = knowledge.retriever
    for question in questions[:10]:  # warm-up
        retriever.search(question, knowledge.encode_query(question), mode=mode)
    timings = []
    for question in questions:
        started = time.perf_counter()
        vector = knowledge.encode_query(question) if mode != "lexical" else None
        retriever.search(question, vector, mode=mode)
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
    query_vectors = knowledge.retriever.embedder.encode(questions[:50])
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
                retriever.search(question, vector, mode=mode)
                timings.append((time.perf_counter() - t0) * 1000)
            timings.sort()
            results[mode] = (statistics.median(timings), timings[int(len(timings) * 0.95) - 1])
        print(f"{len(retriever.units):>9} {built:>8.1f} {results['lexical'][0]:>12.2f} {results['lexical'][1]:>7.2f}"
              f" {results['hybrid'][0]:>11.2f} {results['hybrid'][1]:>7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tune", action="store_true", help="grid-search the fusion and abstention constants")
    parser.add_argument("--growth", action="store_true", help="latency against 1k/10k/100k passages")
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    logging.getLogger("bm25s").setLevel(logging.WARNING)

    knowledge, _ = KnowledgeBase.load()
    cache = Storage(ROOT / "data" / "bench-embeddings.sqlite3")
    embedder = SentenceEmbedder(default_embedding_model())
    embedder.load()
    fresh = knowledge.attach_embeddings(embedder, cache.cached_embeddings(embedder.name, knowledge.unit_hashes()))
    cache.store_embeddings(embedder.name, fresh)
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
    if args.growth:
        growth(knowledge, questions)
    print(f"\npeak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
