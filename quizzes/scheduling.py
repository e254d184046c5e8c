"""Spaced repetition with FSRS: one memory state per learner and question.

Pass/fail grading (correct -> Good, wrong -> Again), default FSRS parameters, no intra-day learning
steps (a micro-quiz comes back on another day, not in ten minutes). Every function takes the time
as an argument (UTC), so tests set the clock instead of sleeping.
"""

from __future__ import annotations

import json
import random
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from fsrs import Card, Rating, Scheduler

from quizzes.bank import Question

SCHEDULER = Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=True)
MISTAKE_WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class MemoryState:
    """What the database keeps per learner and question."""

    question_id: str
    card_json: str
    due: datetime
    last_review: datetime | None
    reviews: int
    lapses: int

    @property
    def card(self) -> Card:
        return Card.from_json(self.card_json)

    def retrievability(self, now: datetime) -> float:
        """FSRS's predicted probability that the learner still remembers the answer now."""
        return float(SCHEDULER.get_card_retrievability(self.card, now))

    def interval(self) -> timedelta | None:
        return self.due - self.last_review if self.last_review else None


def review(
    state: MemoryState | None, question_id: str, correct: bool, now: datetime, scheduler: Scheduler = SCHEDULER
) -> MemoryState:
    """The memory state after one answer."""
    card = state.card if state else Card(card_id=zlib.crc32(question_id.encode()))
    card, _ = scheduler.review_card(card, Rating.Good if correct else Rating.Again, now)
    return MemoryState(
        question_id=question_id,
        card_json=card.to_json(),
        due=card.due,
        last_review=now,
        reviews=(state.reviews if state else 0) + 1,
        lapses=(state.lapses if state else 0) + (0 if correct else 1),
    )


@dataclass(frozen=True)
class RecentAnswer:
    question_id: str
    correct: bool
    answered_at: datetime


def choose_questions(
    bank: Sequence[Question],
    states: dict[str, MemoryState],
    now: datetime,
    *,
    count: int,
    areas: Iterable[str] | None = None,
    new_allowed: int = 3,
    exclude: Iterable[str] = (),
    rng: random.Random | None = None,
) -> list[str]:
    """The next questions for a round: due ones first (most overdue first), then new ones at a
    steady rate (`new_allowed`), interleaved across areas and difficulties."""
    rng = rng or random.Random()
    wanted_areas = set(areas) if areas else None
    skip = set(exclude)
    pool = [q for q in bank if (wanted_areas is None or q.area in wanted_areas) and q.id not in skip]
    due = [q for q in pool if q.id in states and states[q.id].due <= now]
    due.sort(key=lambda q: states[q.id].retrievability(now))
    chosen = _interleave(due, count)
    if len(chosen) < count and new_allowed > 0:
        fresh = [q for q in pool if q.id not in states]
        rng.shuffle(fresh)
        fresh.sort(key=lambda q: q.difficulty)  # easier first among new questions
        chosen += _interleave(fresh, min(count - len(chosen), new_allowed), after=chosen, bank=bank)
    return chosen


def _interleave(
    candidates: list[Question], count: int, after: list[str] | None = None, bank: Sequence[Question] = ()
) -> list[str]:
    """Pick `count` from `candidates` in order, but never the same area twice in a row when
    another area is available (interleaving helps learning)."""
    area_of = {q.id: q.area for q in bank}
    last_area = area_of.get(after[-1]) if after else None
    remaining = list(candidates)
    picked: list[str] = []
    while remaining and len(picked) < count:
        index = next((i for i, q in enumerate(remaining) if q.area != last_area), 0)
        question = remaining.pop(index)
        picked.append(question.id)
        last_area = question.area
    return picked


def mistakes(
    answers: Sequence[RecentAnswer], now: datetime, *, count: int, window: timedelta = MISTAKE_WINDOW
) -> list[str]:
    """"Øv mine fejl": questions answered wrong recently and not answered right since."""
    latest: dict[str, RecentAnswer] = {}
    for answer in sorted(answers, key=lambda a: a.answered_at):
        latest[answer.question_id] = answer
    wrong = [a for a in latest.values() if not a.correct and now - a.answered_at <= window]
    wrong.sort(key=lambda a: a.answered_at, reverse=True)
    return [a.question_id for a in wrong[:count]]


def most_forgotten(states: dict[str, MemoryState], now: datetime, *, count: int) -> list[str]:
    """"Hurtig repetition": the seen questions the learner is most likely to have forgotten."""
    ranked = sorted(states.values(), key=lambda s: s.retrievability(now))
    return [s.question_id for s in ranked[:count]]


def state_from_row(row: dict) -> MemoryState:
    return MemoryState(
        question_id=row["question_id"],
        card_json=row["card"],
        due=datetime.fromisoformat(row["due_at"]),
        last_review=datetime.fromisoformat(row["last_review_at"]) if row["last_review_at"] else None,
        reviews=row["reviews"],
        lapses=row["lapses"],
    )


def shuffled_order(question: Question, seed: str) -> list[int]:
    """The order of the options for one learner (true/false keeps its order)."""
    order = list(range(len(question.options)))
    if question.kind != "truefalse":
        random.Random(seed).shuffle(order)
    return order


def dumps_order(order: list[int]) -> str:
    return json.dumps(order)
