"""Cohorts: a consultant's groups of learners, who joined them, and the announcements sent to them.

The SQL of `cohorts`, `enrolments` and `announcements`. A due announcement becomes one outbox
row per member, in one transaction, once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.storage.database import Database, Repository, to_text
from bot.storage.outbox import OutboxStore


class CohortStore(Repository):
    def __init__(self, database: Database, outbox: OutboxStore) -> None:
        super().__init__(database)
        self.outbox = outbox

    def create_cohort(self, consultant_id: int, name: str, code: str, now: datetime,
                      expires_at: datetime | None = None) -> int:
        with self.transaction():
            cursor = self.conn.execute(
                "INSERT INTO cohorts (consultant_id, name, code, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                (consultant_id, name, code, to_text(now), to_text(expires_at) if expires_at else None))
        return cursor.lastrowid

    def cohorts_of(self, consultant_id: int) -> list[dict]:
        return list(self.db.query(
            "SELECT c.*, (SELECT COUNT(*) FROM enrolments e WHERE e.cohort_id = c.id AND e.left_at IS NULL)"
            " AS members FROM cohorts c WHERE c.consultant_id = ? ORDER BY c.id DESC", [consultant_id]))

    def cohort(self, cohort_id: int, consultant_id: int) -> dict | None:
        """A cohort, only if it belongs to this consultant (the scope check is in the query)."""
        return self._one("SELECT * FROM cohorts WHERE id = ? AND consultant_id = ?", cohort_id, consultant_id)

    def cohort_by_code(self, code: str) -> dict | None:
        return self._one("SELECT * FROM cohorts WHERE code = ?", code)

    def enrol(self, cohort_id: int, user_id: int, now: datetime) -> bool:
        """Enrol (or re-enrol) a learner; False if they were already in the cohort."""
        with self.transaction():
            existing = self._one("SELECT left_at FROM enrolments WHERE cohort_id = ? AND user_id = ?",
                                 cohort_id, user_id)
            if existing is not None and existing["left_at"] is None:
                return False
            self.conn.execute(
                "INSERT OR REPLACE INTO enrolments (cohort_id, user_id, enrolled_at, left_at) VALUES (?, ?, ?, NULL)",
                (cohort_id, user_id, to_text(now)))
        return True

    def leave_cohorts(self, user_id: int, now: datetime) -> list[str]:
        with self.transaction():
            names = [r["name"] for r in self.db.query(
                "SELECT c.name FROM enrolments e JOIN cohorts c ON c.id = e.cohort_id"
                " WHERE e.user_id = ? AND e.left_at IS NULL", [user_id])]
            self.conn.execute("UPDATE enrolments SET left_at = ? WHERE user_id = ? AND left_at IS NULL",
                              (to_text(now), user_id))
        return names

    def cohort_members(self, cohort_id: int) -> list[dict]:
        """Active members, in enrolment order (the order gives the pseudonyms)."""
        return list(self.db.query(
            "SELECT l.user_id, l.chat_id, l.show_name, l.display_name, l.weekdays, l.blocked_at, e.enrolled_at"
            " FROM enrolments e JOIN learners l USING (user_id) WHERE e.cohort_id = ? AND e.left_at IS NULL"
            " ORDER BY e.enrolled_at, l.user_id", [cohort_id]))

    def enrolments_of(self, user_id: int) -> list[dict]:
        """The learner's cohorts, for the right of access."""
        if "enrolments" not in self.db.table_names():
            return []
        return list(self.db.query(
            "SELECT c.name AS cohort, e.enrolled_at, e.left_at FROM enrolments e JOIN cohorts c ON c.id = e.cohort_id"
            " WHERE e.user_id = ?", [user_id]))

    # -- announcements ---------------------------------------------------------------------------------

    def create_announcement(self, cohort_id: int, text: str, send_at: datetime, now: datetime,
                            campaign_id: int | None = None) -> int:
        with self.transaction():
            cursor = self.conn.execute(
                "INSERT INTO announcements (cohort_id, campaign_id, text, send_at, created_at) VALUES (?, ?, ?, ?, ?)",
                (cohort_id, campaign_id, text, to_text(send_at), to_text(now)))
        return cursor.lastrowid

    def announcements_of_cohort(self, cohort_id: int) -> list[dict]:
        return list(self.db.query("SELECT * FROM announcements WHERE cohort_id = ? ORDER BY send_at DESC",
                                  [cohort_id]))

    def queue_due_announcements(self, now: datetime, payload_for: Callable[[dict], dict]) -> int:
        """Every announcement whose time has come becomes one outbox row per member, once."""
        queued = 0
        for announcement in self.db.query(
                "SELECT * FROM announcements WHERE queued_at IS NULL AND send_at <= ?", [to_text(now)]):
            with self.transaction():
                members = self.conn.execute(
                    "SELECT l.user_id, l.chat_id FROM enrolments e JOIN learners l USING (user_id)"
                    " WHERE e.cohort_id = ? AND e.left_at IS NULL AND l.blocked_at IS NULL",
                    (announcement["cohort_id"],)).fetchall()
                payload = payload_for(announcement)
                for user_id, chat_id in members:
                    queued += self.outbox.enqueue(user_id, chat_id, "announcement", payload, now,
                                                  f"announcement:{announcement['id']}:{user_id}")
                self.conn.execute("UPDATE announcements SET queued_at = ? WHERE id = ?",
                                  (to_text(now), announcement["id"]))
        return queued
