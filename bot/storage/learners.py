"""Learners: who wrote to the bot, from which chat, their quiz settings and whether they blocked it.

The `learners` table's SQL. Erasing a learner (with what is tied to them) is composed in
`Storage.delete_learner`; the quiz settings are columns of this table.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from bot.storage.database import Repository, to_text

LAST_SEEN_STEP = timedelta(minutes=1)  # last_seen_at is kept to about the minute (see touch_learner)
SETTINGS = frozenset({"push_time", "weekdays", "areas", "per_push", "paused_until", "show_name", "display_name"})


class LearnerStore(Repository):
    def touch_learner(
        self, user_id: int, chat_id: int, now: datetime, start_payload: str | None = None
    ) -> bool:
        """Create the learner on first contact, else note the visit. True if new.

        A learner seen in the last LAST_SEEN_STEP from the same chat, not blocked, is not written
        again: most updates come from someone who just wrote, and a write costs the event loop more
        than this read."""
        if start_payload is None and self.conn.execute(
            "SELECT 1 FROM learners WHERE user_id = ? AND chat_id = ? AND blocked_at IS NULL AND last_seen_at > ?",
            (user_id, chat_id, to_text(now - LAST_SEEN_STEP)),
        ).fetchone():
            return False
        with self.transaction():
            existing = self.conn.execute(
                "SELECT 1 FROM learners WHERE user_id = ?", (user_id,)
            ).fetchone()
            if existing:
                # Writing to the bot again means the learner has unblocked it.
                self.conn.execute(
                    "UPDATE learners SET chat_id = ?, last_seen_at = ?, blocked_at = NULL,"
                    " start_payload = COALESCE(?, start_payload) WHERE user_id = ?",
                    (chat_id, to_text(now), start_payload, user_id),
                )
                return False
            self.conn.execute(
                "INSERT INTO learners (user_id, chat_id, created_at, last_seen_at, start_payload)"
                " VALUES (?, ?, ?, ?, ?)",
                (user_id, chat_id, to_text(now), to_text(now), start_payload),
            )
            return True

    def learner(self, user_id: int) -> dict | None:
        row = self.conn.execute("SELECT * FROM learners WHERE user_id = ?", (user_id,)).fetchone()
        if row is None:
            return None
        columns = [c[0] for c in self.conn.execute("SELECT * FROM learners LIMIT 0").description]
        return dict(zip(columns, row, strict=True))

    def update_learner_settings(self, user_id: int, **fields: object) -> None:
        unknown = set(fields) - SETTINGS
        if unknown:
            raise ValueError(f"unknown settings: {unknown}")
        assignments = ", ".join(f"{name} = ?" for name in fields)
        with self.transaction():
            self.conn.execute(f"UPDATE learners SET {assignments} WHERE user_id = ?", [*fields.values(), user_id])

    def set_blocked(self, user_id: int, now: datetime) -> None:
        """Note that the learner blocked the bot (writing to it again clears this: touch_learner)."""
        with self.transaction():
            self.conn.execute("UPDATE learners SET blocked_at = ? WHERE user_id = ?", (to_text(now), user_id))

    # -- erasure --------------------------------------------------------------------------------------
    # After /slet_mine_data the user is not a learner until they send /start again. To know that,
    # only a hash of the Telegram id is kept (no name, no messages); /start removes it.

    def mark_erased(self, user_id: int, now: datetime) -> None:
        with self.transaction():
            self.conn.execute("INSERT OR REPLACE INTO erased_users (user_hash, erased_at) VALUES (?, ?)",
                              (_user_hash(user_id), to_text(now)))

    def is_erased(self, user_id: int) -> bool:
        return self.conn.execute("SELECT 1 FROM erased_users WHERE user_hash = ?",
                                 (_user_hash(user_id),)).fetchone() is not None

    def clear_erased(self, user_id: int) -> None:
        with self.transaction():
            self.conn.execute("DELETE FROM erased_users WHERE user_hash = ?", (_user_hash(user_id),))

    def remove(self, user_id: int) -> bool:
        """Delete the learner's row; the tables that refer to it cascade or keep anonymous rows."""
        with self.transaction():
            cursor = self.conn.execute("DELETE FROM learners WHERE user_id = ?", (user_id,))
        return bool(cursor.rowcount)


def _user_hash(user_id: int) -> str:
    return hashlib.sha256(f"erased-user:{user_id}".encode()).hexdigest()
