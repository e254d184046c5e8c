"""The durable inbox's table: every incoming update, stored before Telegram is told it arrived.

The `inbox` table's SQL. `update_effects` is the transaction in which a handler writes an update's
effects, so that an update replayed after a crash changes nothing twice (see bot/delivery/inbox.py).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.storage.database import Repository, to_text


@dataclass(frozen=True)
class InboxRow:
    update_id: int
    body: str
    applied: bool


class InboxStore(Repository):
    def store_updates(self, updates: list[tuple[int, dict]], now: datetime) -> list[int]:
        """Store fetched updates in one transaction; returns the ids that were new."""
        fresh: list[int] = []
        with self.transaction():
            for update_id, body in updates:
                cursor = self.conn.execute(
                    "INSERT OR IGNORE INTO inbox (update_id, received_at, body) VALUES (?, ?, ?)",
                    (update_id, to_text(now), json.dumps(body, ensure_ascii=False)),
                )
                if cursor.rowcount:
                    fresh.append(update_id)
        return fresh

    def pending_updates(self, limit: int = 1000) -> list[InboxRow]:
        rows = self.conn.execute(
            "SELECT update_id, body, applied FROM inbox WHERE status = 'pending'"
            " ORDER BY update_id LIMIT ?",
            (limit,),
        ).fetchall()
        return [InboxRow(update_id, body, bool(applied)) for update_id, body, applied in rows]

    def note_attempt(self, update_id: int) -> tuple[int, bool]:
        """Count a handling attempt: (how many there have been, whether it was answered already).

        This and the other per-update inbox writes are single statements, each its own transaction
        (autocommit): one call into SQLite instead of three or four, on the event loop's busiest path."""
        rows = self.conn.execute(
            "UPDATE inbox SET attempts = attempts + 1 WHERE update_id = ? RETURNING attempts, replied", (update_id,)
        ).fetchall()  # fetched to the end, so the statement completes and commits
        return (rows[0][0], bool(rows[0][1])) if rows else (0, False)

    def mark_replied(self, update_id: int) -> None:
        self.conn.execute("UPDATE inbox SET replied = 1 WHERE update_id = ? AND replied = 0", (update_id,))

    @contextmanager
    def update_effects(self, update_id: int | None) -> Iterator[bool]:
        """A transaction for the database effects of one update, applied at most once.

        Yields True when the effects should be applied now, False when an earlier attempt
        (before a crash) already committed them. The inbox row is marked in the same
        transaction as the effects, so a replayed update is recognised.
        """
        with self.transaction():
            if update_id is None:
                yield True
                return
            row = self.conn.execute(
                "SELECT applied FROM inbox WHERE update_id = ?", (update_id,)
            ).fetchone()
            if row is not None and row[0]:
                yield False
                return
            yield True
            self.conn.execute("UPDATE inbox SET applied = 1 WHERE update_id = ?", (update_id,))

    def finish_update(self, update_id: int, now: datetime, status: str = "done") -> None:
        """Mark an update handled and drop its body: the message text is no longer needed."""
        self.conn.execute(
            "UPDATE inbox SET status = ?, finished_at = ?, body = NULL WHERE update_id = ?",
            (status, to_text(now), update_id),
        )

    def set_aside(self, update_id: int, now: datetime) -> None:
        """Mark an update that keeps failing: kept (body too) for a look, then purged with the rest."""
        self.conn.execute("UPDATE inbox SET status = 'failed', finished_at = ? WHERE update_id = ?",
                          (to_text(now), update_id))

    def last_update_id(self) -> int | None:
        return self.conn.execute("SELECT MAX(update_id) FROM inbox").fetchone()[0]

    def purge_inbox(self, now: datetime, keep: timedelta = timedelta(days=7)) -> int:
        with self.transaction():
            cursor = self.conn.execute(
                "DELETE FROM inbox WHERE status != 'pending' AND finished_at < ?",
                (to_text(now - keep),),
            )
        return cursor.rowcount

    def inbox_counts(self) -> dict[str, int]:
        return dict(self.conn.execute("SELECT status, COUNT(*) FROM inbox GROUP BY status"))
