"""Quiz memory: each learner's FSRS state per question, quiz rounds, the questions sent (deliveries)
and the answers given.

The SQL of `memory_states`, `quiz_rounds`, `deliveries` and `answers`. An answer and all its
effects are recorded in one transaction, once (`record_answer`).
"""

from __future__ import annotations

import json
from datetime import datetime

from bot.storage.database import Database, Repository, to_text
from bot.storage.pushes import PushStore


class QuizStore(Repository):
    def __init__(self, database: Database, pushes: PushStore) -> None:
        super().__init__(database)
        self.pushes = pushes

    def memory_states(self, user_id: int) -> list[dict]:
        return list(self.db.query("SELECT * FROM memory_states WHERE user_id = ?", [user_id]))

    def memory_state(self, user_id: int, question_id: str) -> dict | None:
        return self._one("SELECT * FROM memory_states WHERE user_id = ? AND question_id = ?", user_id, question_id)

    def recent_answers(self, user_id: int, since: datetime | None = None) -> list[dict]:
        return list(self.db.query(
            "SELECT question_id, correct, answered_at FROM answers WHERE user_id = ? AND answered_at >= ?"
            " ORDER BY id", [user_id, to_text(since) if since else ""]))

    def new_questions_since(self, user_id: int, since: datetime) -> int:
        """How many questions the learner met for the first time since `since`."""
        row = self.conn.execute(
            "SELECT COUNT(*) FROM (SELECT MIN(answered_at) AS first FROM answers WHERE user_id = ?"
            " GROUP BY question_id) WHERE first >= ?", (user_id, to_text(since)),
        ).fetchone()
        return row[0]

    def create_round(self, user_id: int, kind: str, question_ids: list[str], now: datetime,
                     campaign_id: int | None = None) -> int:
        with self.transaction():
            cursor = self.conn.execute(
                "INSERT INTO quiz_rounds (user_id, kind, question_ids, created_at, campaign_id) VALUES (?, ?, ?, ?, ?)",
                (user_id, kind, json.dumps(question_ids), to_text(now), campaign_id),
            )
        return cursor.lastrowid

    def quiz_round(self, round_id: int) -> dict | None:
        row = self._one("SELECT * FROM quiz_rounds WHERE id = ?", round_id)
        if row is not None:
            row["question_ids"] = json.loads(row["question_ids"])
        return row

    def open_round(self, user_id: int, since: datetime) -> dict | None:
        """The learner's latest unfinished round started since `since`."""
        return self._one("SELECT id FROM quiz_rounds WHERE user_id = ? AND finished_at IS NULL AND created_at >= ?"
                         " ORDER BY id DESC LIMIT 1", user_id, to_text(since))

    def finish_round(self, round_id: int, now: datetime) -> None:
        with self.transaction():
            self.conn.execute("UPDATE quiz_rounds SET finished_at = COALESCE(finished_at, ?) WHERE id = ?",
                              (to_text(now), round_id))

    def add_delivery(self, user_id: int, round_id: int | None, question_id: str, option_order: list[int],
                     now: datetime) -> int:
        with self.transaction():
            cursor = self.conn.execute(
                "INSERT INTO deliveries (user_id, round_id, question_id, option_order, sent_at) VALUES (?, ?, ?, ?, ?)",
                (user_id, round_id, question_id, json.dumps(option_order), to_text(now)),
            )
        return cursor.lastrowid

    def set_delivery_message(self, delivery_id: int, poll_id: str | None, message_id: int) -> None:
        with self.transaction():
            self.conn.execute("UPDATE deliveries SET poll_id = ?, message_id = ? WHERE id = ?",
                              (poll_id, message_id, delivery_id))

    def delivery(self, *, delivery_id: int | None = None, poll_id: str | None = None) -> dict | None:
        column, value = ("id", delivery_id) if delivery_id is not None else ("poll_id", poll_id)
        row = self._one(f"SELECT * FROM deliveries WHERE {column} = ?", value)
        if row is not None:
            row["option_order"] = json.loads(row["option_order"])
        return row

    def round_delivery(self, round_id: int, question_id: str) -> dict | None:
        row = self._one("SELECT id FROM deliveries WHERE round_id = ? AND question_id = ?", round_id, question_id)
        return self.delivery(delivery_id=row["id"]) if row else None

    def record_answer(
        self, *, delivery: dict, area: str, chosen_option: int, correct: bool, state: dict, now: datetime,
        local_day: str, campaign_id: int | None = None,
    ) -> bool:
        """Record one answer and its effects in one transaction. False if the delivery was already
        answered (a double tap, a stale button or a replayed update): nothing changes then."""
        with self.transaction():
            cursor = self.conn.execute(
                "INSERT OR IGNORE INTO answers (delivery_id, user_id, question_id, area, chosen_option, correct,"
                " answered_at, campaign_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (delivery["id"], delivery["user_id"], delivery["question_id"], area, chosen_option, int(correct),
                 to_text(now), campaign_id),
            )
            if not cursor.rowcount:
                return False
            self.conn.execute(
                "INSERT OR REPLACE INTO memory_states (user_id, question_id, card, due_at, last_review_at, reviews,"
                " lapses) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (delivery["user_id"], delivery["question_id"], state["card"], state["due_at"],
                 state["last_review_at"], state["reviews"], state["lapses"]),
            )
            self.conn.execute("UPDATE deliveries SET answered_at = ? WHERE id = ?", (to_text(now), delivery["id"]))
            if delivery["round_id"] is not None:
                self.conn.execute(
                    "UPDATE quiz_rounds SET position = position + 1, correct = correct + ? WHERE id = ?",
                    (int(correct), delivery["round_id"]),
                )
            self.pushes.mark_push_reacted(delivery["user_id"], local_day, now)
        return True

    def quiz_data_of(self, user_id: int) -> dict[str, list[dict]]:
        """The learner's answers and memory states, for the right of access."""
        return {
            "quiz_answers": list(self.db.query(
                "SELECT answered_at, question_id, area, chosen_option, correct FROM answers"
                " WHERE user_id = ? ORDER BY id", [user_id])),
            "memory_states": list(self.db.query(
                "SELECT question_id, due_at, last_review_at, reviews, lapses, card"
                " FROM memory_states WHERE user_id = ? ORDER BY question_id", [user_id])),
            "quiz_rounds": list(self.db.query(
                "SELECT kind, question_ids, position, correct, created_at, finished_at"
                " FROM quiz_rounds WHERE user_id = ? ORDER BY id", [user_id])),
            "deliveries": list(self.db.query(
                "SELECT question_id, sent_at, answered_at FROM deliveries WHERE user_id = ? ORDER BY id", [user_id])),
        }
