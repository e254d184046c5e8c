"""Quiz benchmark: choosing the next questions and recording an answer for a learner with 10,000
review logs, and a daily push round over 10,000 learners; with peak memory.

    .venv/bin/python bench/quiz.py
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import random
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.services.learning import Learning  # noqa: E402
from bot.storage import Storage, to_text  # noqa: E402
from bot.telegram import quiz_texts  # noqa: E402
from knowledge.articles import load_articles  # noqa: E402
from quizzes.bank import load_bank  # noqa: E402
from quizzes.scheduling import review  # noqa: E402

CPH = ZoneInfo("Europe/Copenhagen")
NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)  # a Monday, 10:30 in Copenhagen


def percentiles(timings: list[float]) -> str:
    timings = sorted(timings)
    return f"p50 {statistics.median(timings):7.2f} ms   p95 {timings[int(len(timings) * 0.95) - 1]:7.2f} ms"


def heavy_learner(storage: Storage, learning: Learning, user_id: int, logs: int) -> None:
    """A learner with `logs` answers spread over two years, and a memory state per question."""
    rng = random.Random(1)
    storage.touch_learner(user_id, user_id, NOW - timedelta(days=730))
    states = {}
    rows = []
    moment = NOW - timedelta(days=730)
    step = timedelta(days=730) / logs
    for _ in range(logs):
        question = rng.choice(learning.bank)
        correct = rng.random() < 0.75
        states[question.id] = review(states.get(question.id), question.id, correct, moment)
        rows.append((user_id, question.id, question.area, 0, int(correct), to_text(moment)))
        moment += step
    with storage.transaction():
        storage.conn.executemany(
            "INSERT INTO answers (user_id, question_id, area, chosen_option, correct, answered_at)"
            " VALUES (?, ?, ?, ?, ?, ?)", rows)
        storage.conn.executemany(
            "INSERT INTO memory_states (user_id, question_id, card, due_at, last_review_at, reviews, lapses)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(user_id, s.question_id, s.card_json, to_text(s.due), to_text(s.last_review), s.reviews, s.lapses)
             for s in states.values()])


def main() -> None:
    articles, _ = load_articles()
    bank, _ = load_bank(article_ids=[a.id for a in articles])
    directory = Path(tempfile.mkdtemp())
    storage = Storage(directory / "bench.sqlite3")
    learning = Learning(storage, bank, CPH)

    heavy_learner(storage, learning, 1, 10_000)
    print(f"learner with {storage.conn.execute('SELECT COUNT(*) FROM answers').fetchone()[0]} review logs, "
          f"{len(bank)} questions in the bank")
    choose, record = [], []
    for index in range(200):
        now = NOW + timedelta(minutes=index)
        started = time.perf_counter()
        ids = learning.choose(1, "daily", now)
        round_id = learning.start_round(1, "daily", now, ids)
        delivery = learning.next_delivery(round_id, now)
        choose.append((time.perf_counter() - started) * 1000)
        row = storage.delivery(delivery_id=delivery.delivery_id)
        started = time.perf_counter()
        learning.answer(row, 0, now)
        record.append((time.perf_counter() - started) * 1000)
    print(f"choose next questions (and register the delivery): {percentiles(choose)}")
    print(f"record an answer (FSRS review + one transaction):   {percentiles(record)}")

    rows = [(user_id, user_id, to_text(NOW), to_text(NOW)) for user_id in range(100_000, 110_000)]
    with storage.transaction():
        storage.conn.executemany(
            "INSERT INTO learners (user_id, chat_id, created_at, last_seen_at) VALUES (?, ?, ?, ?)", rows)
    rounds = []
    for day in range(5):  # five weekdays: each round finds 10,000 learners due
        now = NOW + timedelta(days=day)
        started = time.perf_counter()
        due = learning.due_pushes(now)
        storage.create_pushes([(learner["user_id"], learner["chat_id"], local_day,
                                quiz_texts.push_message(learner["per_push"])) for learner, local_day in due], now)
        rounds.append((time.perf_counter() - started) * 1000)
        assert len(due) >= 10_000, len(due)
        again = time.perf_counter()
        assert len(learning.due_pushes(now)) == 0  # the same day: nothing twice
        idle = (time.perf_counter() - again) * 1000
    print(f"push round over 10,000 learners (find due + queue 10,000 pushes): {percentiles(rounds)}")
    print(f"idle tick over 10,000 learners (nothing due): {idle:.1f} ms")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
