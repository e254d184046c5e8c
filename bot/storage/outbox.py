"""The outbox: pushes, reminders and announcements waiting to be sent, and what became of them.

The `outbox` table's SQL. Rows are added in the transaction that decides on them (a daily push,
an announcement), with a dedupe key, so each goes out once; bot/delivery/outbox.py drains them.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from bot.storage.database import Database, Repository, to_text
from bot.storage.learners import LearnerStore

SENT_KEPT = timedelta(days=30)  # then sent, failed and blocked rows are removed


class OutboxStore(Repository):
    def __init__(self, database: Database, learners: LearnerStore) -> None:
        super().__init__(database)
        self.learners = learners

    def enqueue(self, user_id: int | None, chat_id: int, kind: str, payload: dict, now: datetime,
                dedupe_key: str | None = None, not_before: datetime | None = None) -> bool:
        """Add one message (in its own transaction, or in the caller's); False if its dedupe key
        was queued before."""
        with self.transaction():
            cursor = self.conn.execute(
                "INSERT OR IGNORE INTO outbox (user_id, chat_id, kind, payload, dedupe_key, created_at, not_before)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (user_id, chat_id, kind, json.dumps(payload, ensure_ascii=False), dedupe_key, to_text(now),
                 to_text(not_before or now)),
            )
        return bool(cursor.rowcount)

    def due_outbox(self, now: datetime, limit: int = 200) -> list[dict]:
        rows = list(self.db.query(
            "SELECT * FROM outbox WHERE status = 'pending' AND not_before <= ? ORDER BY id LIMIT ?",
            [to_text(now), limit],
        ))
        for row in rows:
            row["payload"] = json.loads(row["payload"])
        return rows

    def messages_of(self, user_id: int) -> list[dict]:
        """The pushes, reminders and announcements queued for a learner (kept 30 days), for the
        right of access."""
        return list(self.db.query("SELECT kind, payload, created_at, status, sent_at FROM outbox WHERE user_id = ?"
                                  " ORDER BY id", [user_id]))

    def outbox_counts(self) -> dict[str, int]:
        return dict(self.conn.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status"))

    def mark_outbox_sent(self, outbox_id: int, now: datetime) -> None:
        with self.transaction():
            self.conn.execute("UPDATE outbox SET status = 'sent', sent_at = ? WHERE id = ?",
                              (to_text(now), outbox_id))

    def mark_outbox_retry(self, outbox_id: int, error: str, retry_at: datetime, give_up: bool) -> None:
        with self.transaction():
            self.conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?, not_before = ?, status = ? WHERE id = ?",
                (error[:300], to_text(retry_at), "failed" if give_up else "pending", outbox_id),
            )

    def mark_blocked(self, user_id: int, now: datetime) -> None:
        """The learner blocked the bot: stop sending (pending messages to them are dropped)."""
        with self.transaction():
            self.learners.set_blocked(user_id, now)
            self.conn.execute("UPDATE outbox SET status = 'blocked' WHERE user_id = ? AND status = 'pending'",
                              (user_id,))

    def purge_outbox(self, now: datetime) -> int:
        with self.transaction():
            return self.conn.execute(
                "DELETE FROM outbox WHERE status != 'pending' AND created_at < ?",
                (to_text(now - SENT_KEPT),)).rowcount
