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

    def update_cohort(self, cohort_id: int, name: str, expires_at: datetime | None, code: str | None = None) -> None:
        """Rename, change the expiry, and (with `code`) replace the invitation link."""
        with self.transaction():
            self.conn.execute("UPDATE cohorts SET name = ?, expires_at = ?, code = COALESCE(?, code) WHERE id = ?",
                              (name, to_text(expires_at) if expires_at else None, code, cohort_id))

    def cohort_by_code(self, code: str) -> dict | None:
        return self._one("SELECT * FROM cohorts WHERE code = ?", code)

    def enrol(self, cohort_id: int, user_id: int, now: datetime) -> bool:
        """Enrol (or re-enrol) a learner; False if they were already in the cohort. A member's
        number (their "Deltager N") is given once and kept when they leave and come back."""
        with self.transaction():
            existing = self._one("SELECT left_at FROM enrolments WHERE cohort_id = ? AND user_id = ?",
                                 cohort_id, user_id)
            if existing is not None and existing["left_at"] is None:
                return False
            if existing is not None:
                self.conn.execute("UPDATE enrolments SET enrolled_at = ?, left_at = NULL, paused = 0"
                                  " WHERE cohort_id = ? AND user_id = ?", (to_text(now), cohort_id, user_id))
                return True
            self.conn.execute(
                "INSERT INTO enrolments (cohort_id, user_id, enrolled_at, left_at, number) VALUES (?, ?, ?, NULL,"
                " (SELECT COALESCE(MAX(number), 0) + 1 FROM enrolments WHERE cohort_id = ?))",
                (cohort_id, user_id, to_text(now), cohort_id))
        return True

    def leave_cohorts(self, user_id: int, now: datetime, cohort_id: int | None = None) -> list[str]:
        """Leave every cohort (or the one given); the names of those left."""
        only = "" if cohort_id is None else " AND e.cohort_id = ?"
        extra = [] if cohort_id is None else [cohort_id]
        with self.transaction():
            names = [r["name"] for r in self.db.query(
                "SELECT c.name FROM enrolments e JOIN cohorts c ON c.id = e.cohort_id"
                f" WHERE e.user_id = ? AND e.left_at IS NULL{only}", [user_id, *extra])]
            self.conn.execute(f"UPDATE enrolments SET left_at = ? WHERE user_id = ? AND left_at IS NULL"
                              f"{only.replace('e.', '')}", (to_text(now), user_id, *extra))
        return names

    def set_cohort_paused(self, user_id: int, cohort_id: int, paused: bool) -> bool:
        """Pause or resume one cohort's questions for a member; False if not a member."""
        with self.transaction():
            cursor = self.conn.execute(
                "UPDATE enrolments SET paused = ? WHERE user_id = ? AND cohort_id = ? AND left_at IS NULL",
                (int(paused), user_id, cohort_id))
        return bool(cursor.rowcount)

    def current_cohorts_of(self, user_id: int) -> list[dict]:
        """The cohorts a learner is in now, with whether they paused its questions."""
        return list(self.db.query(
            "SELECT c.id, c.name, e.paused FROM enrolments e JOIN cohorts c ON c.id = e.cohort_id"
            " WHERE e.user_id = ? AND e.left_at IS NULL ORDER BY e.enrolled_at", [user_id]))

    def cohort_members(self, cohort_id: int) -> list[dict]:
        """Current members, in enrolment order."""
        return list(self.db.query(
            "SELECT l.user_id, l.chat_id, l.show_name, l.display_name, l.weekdays, l.blocked_at, l.paused_until,"
            " e.enrolled_at, e.paused, e.number FROM enrolments e JOIN learners l USING (user_id)"
            " WHERE e.cohort_id = ? AND e.left_at IS NULL ORDER BY e.enrolled_at, l.user_id", [cohort_id]))

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
        """The cohort's announcements, newest first, with how many of their messages were sent,
        are waiting, or failed (a learner who blocked the bot counts as failed)."""
        rows = list(self.db.query("SELECT * FROM announcements WHERE cohort_id = ? ORDER BY send_at DESC",
                                  [cohort_id]))
        for row in rows:
            counts = dict(self.conn.execute(
                "SELECT status, COUNT(*) FROM outbox WHERE kind = 'announcement' AND dedupe_key LIKE ?"
                " GROUP BY status", (f"announcement:{row['id']}:%",)).fetchall())
            row["sent"] = counts.get("sent", 0)
            row["waiting"] = counts.get("pending", 0)
            row["failed"] = counts.get("failed", 0) + counts.get("blocked", 0)
        return rows

    def campaign_intro(self, campaign_id: int) -> dict | None:
        return self._one("SELECT * FROM announcements WHERE campaign_id = ? ORDER BY id LIMIT 1", campaign_id)

    def set_campaign_intro(self, cohort_id: int, campaign_id: int, text: str, send_at: datetime,
                           now: datetime) -> None:
        """The campaign's welcome message: created, changed or removed while it has not gone out."""
        with self.transaction():
            intro = self.campaign_intro(campaign_id)
            if intro is not None and intro["queued_at"]:
                return
            if intro is None and text:
                self.create_announcement(cohort_id, text, send_at, now, campaign_id)
            elif intro is not None and text:
                self.conn.execute("UPDATE announcements SET text = ?, send_at = ? WHERE id = ?",
                                  (text, to_text(send_at), intro["id"]))
            elif intro is not None:
                self.conn.execute("DELETE FROM announcements WHERE id = ?", (intro["id"],))

    def queue_intros_for(self, cohort_id: int, user_id: int, chat_id: int, now: datetime, local_day: str,
                         payload_for: Callable[[dict], dict]) -> int:
        """A new member gets the welcome messages of the cohort's running campaigns that already
        went out to the others; the outbox's dedupe key (the same as the announcement's own)
        makes it once per learner and campaign, also after leaving and joining again."""
        queued = 0
        with self.transaction():
            for intro in self.db.query(
                    "SELECT a.* FROM announcements a JOIN campaigns k ON k.id = a.campaign_id"
                    " WHERE a.cohort_id = ? AND a.queued_at IS NOT NULL AND k.status = 'active' AND k.end_date >= ?",
                    [cohort_id, local_day]):
                queued += self.outbox.enqueue(user_id, chat_id, "announcement", payload_for(intro), now,
                                              f"announcement:{intro['id']}:{user_id}")
        return queued

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
