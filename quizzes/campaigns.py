"""Campaign planning, per learner: the order in which a campaign's new questions come, what one
push round holds, and when there is enough data to predict retention.

Plain Python with the clock and the seed passed in, so tests decide both.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta

from quizzes.bank import Question

MIN_REVIEWS_FOR_RETENTION = 5  # answers in an area before a predicted retention is shown ...
MIN_AGE_FOR_RETENTION = timedelta(days=1)  # ... and the first of them at least this old


def new_question_order(bank: Sequence[Question], areas: Sequence[str], picked: Sequence[str], seed: str) -> list[str]:
    """The order in which one learner meets a campaign's new questions.

    Hand-picked questions come in the consultant's order. Otherwise the campaign's areas take
    turns (round-robin, in the order given), and within an area the order is random but fixed for
    the learner (`seed`), so that learners do not all start on the same question and every area
    is reached in the first few questions."""
    known = {q.id for q in bank}
    if picked:
        return [q for q in dict.fromkeys(picked) if q in known]
    rng = random.Random(seed)
    queues = []
    for area in areas:
        questions = [q.id for q in bank if q.area == area]
        rng.shuffle(questions)
        queues.append(questions)
    order: list[str] = []
    while any(queues):
        for queue in queues:
            if queue:
                order.append(queue.pop(0))
    return order


def round_questions(due: Sequence[str], fresh: Sequence[str], size: int) -> list[str]:
    """One campaign push's questions: due reviews first, then new questions in campaign order.
    While new questions remain, reviews take at most `size - 1` places, so every push moves the
    campaign on by at least one new question."""
    reviews = list(due[: size - 1 if fresh else size])
    return reviews + list(fresh[: size - len(reviews)])


def enough_for_retention(answer_times: Sequence[datetime], now: datetime) -> bool:
    """A predicted retention means something only after a few answers, the first a day old."""
    return len(answer_times) >= MIN_REVIEWS_FOR_RETENTION and min(answer_times) <= now - MIN_AGE_FOR_RETENTION
