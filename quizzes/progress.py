"""A learner's progress per competence area, derived from memory states and answers (never kept as
a second truth)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from quizzes.bank import AREAS, Question
from quizzes.campaigns import enough_for_retention
from quizzes.scheduling import MemoryState, RecentAnswer


@dataclass(frozen=True)
class AreaProgress:
    area: str
    questions_in_bank: int
    seen: int
    answers: int
    correct: int
    retention: float | None  # mean FSRS retrievability of the seen questions now; None: too early to say
    due_now: int
    next_due: datetime | None

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.answers if self.answers else None


@dataclass(frozen=True)
class Progress:
    areas: list[AreaProgress]
    streak_days: int
    total_answers: int


def progress(
    bank: Sequence[Question],
    states: dict[str, MemoryState],
    answers: Sequence[RecentAnswer],
    now: datetime,
    timezone: ZoneInfo,
) -> Progress:
    area_of = {q.id: q.area for q in bank}
    rows = []
    for area in AREAS:
        area_states = [s for qid, s in states.items() if area_of.get(qid) == area]
        area_answers = [a for a in answers if area_of.get(a.question_id) == area]
        future = [s.due for s in area_states if s.due > now]
        rows.append(AreaProgress(
            area=area,
            questions_in_bank=sum(1 for q in bank if q.area == area),
            seen=len(area_states),
            answers=len(area_answers),
            correct=sum(a.correct for a in area_answers),
            retention=(sum(s.retrievability(now) for s in area_states) / len(area_states))
            if area_states and enough_for_retention([a.answered_at for a in area_answers], now) else None,
            due_now=sum(1 for s in area_states if s.due <= now),
            next_due=min(future) if future else None,
        ))
    days = {a.answered_at.astimezone(timezone).date() for a in answers}
    return Progress(rows, streak(days, now.astimezone(timezone).date()), len(answers))


def streak(days: set[date], today: date) -> int:
    """Consecutive days with at least one answer, ending today (or yesterday, if today is not
    over yet)."""
    day = today if today in days else today - timedelta(days=1)
    count = 0
    while day in days:
        count += 1
        day -= timedelta(days=1)
    return count
