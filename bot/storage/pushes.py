"""Daily pushes: one row per learner and local day, noting when the push and its reminder went
out and whether the learner reacted.

The `pushes` table's SQL. A push or reminder and its outbox message are written in one
transaction, each once (by the table's unique key and the outbox's dedupe key).
"""

from __future__ import annotations

from datetime import datetime

from bot.storage.database import Database, Repository, to_text
from bot.storage.outbox import OutboxStore


class PushStore(Repository):
    def __init__(self, database: Database, outbox: OutboxStore) -> None:
        super().__init__(database)
        self.outbox = outbox

    def push_candidates(self, local_day: str, local_time: str, weekday: int) -> list[dict]:
        """Reachable learners who may be due a push now: today is one of their days, their time
        ("HH:MM") has come, and they have had no push today. (The rules are applied again in
        quizzes/pushes.py; this only keeps an idle tick cheap.)"""
        return list(self.db.query(
            "SELECT l.user_id, l.chat_id, l.push_time, l.weekdays, l.paused_until, l.per_push,"
            " NULL AS last_push_day FROM learners l"
            " WHERE l.blocked_at IS NULL AND l.push_time <= ? AND instr(l.weekdays, ?) > 0"
            " AND NOT EXISTS (SELECT 1 FROM pushes p WHERE p.user_id = l.user_id AND p.local_day = ?)",
            [local_time, str(weekday), local_day]))

    def unpushed_learners(self, user_ids: list[int], local_day: str) -> list[dict]:
        """The given learners, if reachable and without a push today (campaign members: their push
        time is the campaign's)."""
        if not user_ids:
            return []
        marks = ",".join("?" * len(user_ids))
        return list(self.db.query(
            "SELECT l.user_id, l.chat_id, l.push_time, l.weekdays, l.paused_until, l.per_push,"
            f" NULL AS last_push_day FROM learners l WHERE l.user_id IN ({marks}) AND l.blocked_at IS NULL"
            " AND NOT EXISTS (SELECT 1 FROM pushes p WHERE p.user_id = l.user_id AND p.local_day = ?)",
            [*user_ids, local_day]))

    def create_push(self, user_id: int, chat_id: int, local_day: str, now: datetime, payload: dict) -> bool:
        """The day's push and its message, once: False if this day's push exists already."""
        return self.create_pushes([(user_id, chat_id, local_day, payload)], now) == 1

    def create_pushes(self, pushes: list[tuple[int, int, str, dict]], now: datetime) -> int:
        """Many (user, chat, day, payload) pushes in one transaction; returns how many were new."""
        created = 0
        with self.transaction():
            for user_id, chat_id, local_day, payload in pushes:
                cursor = self.conn.execute(
                    "INSERT OR IGNORE INTO pushes (user_id, local_day, pushed_at) VALUES (?, ?, ?)",
                    (user_id, local_day, to_text(now)),
                )
                if cursor.rowcount:
                    created += self.outbox.enqueue(user_id, chat_id, "push", payload, now,
                                                   f"push:{user_id}:{local_day}")
        return created

    def pushes_awaiting_reaction(self, local_day: str) -> list[dict]:
        return list(self.db.query(
            "SELECT p.user_id, p.local_day, p.pushed_at, l.chat_id, l.paused_until FROM pushes p"
            " JOIN learners l USING (user_id)"
            " WHERE p.local_day = ? AND p.reacted_at IS NULL AND p.reminded_at IS NULL AND l.blocked_at IS NULL",
            [local_day],
        ))

    def create_reminder(self, user_id: int, chat_id: int, local_day: str, now: datetime, payload: dict) -> bool:
        with self.transaction():
            cursor = self.conn.execute(
                "UPDATE pushes SET reminded_at = ? WHERE user_id = ? AND local_day = ? AND reminded_at IS NULL",
                (to_text(now), user_id, local_day),
            )
            if not cursor.rowcount:
                return False
            self.outbox.enqueue(user_id, chat_id, "reminder", payload, now, f"reminder:{user_id}:{local_day}")
        return True

    def mark_push_reacted(self, user_id: int, local_day: str, now: datetime) -> None:
        with self.transaction():
            self.conn.execute(
                "UPDATE pushes SET reacted_at = COALESCE(reacted_at, ?) WHERE user_id = ? AND local_day = ?",
                (to_text(now), user_id, local_day),
            )

    def pushes_of(self, user_id: int) -> list[dict]:
        """The learner's daily pushes, for the right of access."""
        return list(self.db.query("SELECT local_day, pushed_at, reminded_at, reacted_at FROM pushes"
                                  " WHERE user_id = ? ORDER BY local_day", [user_id]))
