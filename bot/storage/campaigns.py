"""Campaigns: a cohort's quiz campaigns, and the figures their results are made of.

The SQL of `campaigns` and `retention_snapshots`, and the reads of answers, memory states and
questions that the results show per cohort or campaign (no names: the service makes pseudonyms).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.storage.database import Repository, to_text


class CampaignStore(Repository):
    def create_campaign(self, cohort_id: int, now: datetime, **fields: object) -> int:
        columns = ["cohort_id", "created_at", *fields]
        with self.transaction():
            cursor = self.conn.execute(
                f"INSERT INTO campaigns ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                [cohort_id, to_text(now), *fields.values()])
        return cursor.lastrowid

    def campaigns_of_cohort(self, cohort_id: int) -> list[dict]:
        return list(self.db.query("SELECT * FROM campaigns WHERE cohort_id = ? ORDER BY id DESC", [cohort_id]))

    def campaigns_of_consultant(self, consultant_id: int) -> list[dict]:
        return list(self.db.query(
            "SELECT k.*, c.name AS cohort_name,"
            " (SELECT COUNT(*) FROM enrolments e WHERE e.cohort_id = c.id AND e.left_at IS NULL) AS members,"
            " (SELECT COUNT(*) FROM answers a WHERE a.campaign_id = k.id) AS answers"
            " FROM campaigns k JOIN cohorts c ON c.id = k.cohort_id WHERE c.consultant_id = ? ORDER BY k.id DESC",
            [consultant_id]))

    def campaign(self, campaign_id: int, consultant_id: int | None = None) -> dict | None:
        """A campaign, only if it belongs to this consultant (when one is given)."""
        if consultant_id is None:
            return self._one("SELECT * FROM campaigns WHERE id = ?", campaign_id)
        return self._one(
            "SELECT k.*, c.name AS cohort_name FROM campaigns k JOIN cohorts c ON c.id = k.cohort_id"
            " WHERE k.id = ? AND c.consultant_id = ?", campaign_id, consultant_id)

    def update_campaign(self, campaign_id: int, **fields: object) -> None:
        allowed = {"name", "areas", "question_ids", "start_date", "end_date", "weekdays", "push_time", "per_push",
                   "intro"}
        if not fields or set(fields) - allowed:
            raise ValueError(f"unknown campaign fields: {set(fields) - allowed}")
        with self.transaction():
            self.conn.execute(f"UPDATE campaigns SET {', '.join(f'{k} = ?' for k in fields)} WHERE id = ?",
                              [*fields.values(), campaign_id])

    def set_campaign_status(self, campaign_id: int, status: str) -> None:
        with self.transaction():
            self.conn.execute("UPDATE campaigns SET status = ? WHERE id = ?", (status, campaign_id))

    def active_campaigns(self, local_day: str) -> list[dict]:
        return list(self.db.query(
            "SELECT * FROM campaigns WHERE status = 'active' AND start_date <= ? AND end_date >= ?",
            [local_day, local_day]))

    def learner_campaigns(self, user_id: int, local_day: str) -> list[dict]:
        """The running campaigns of the learner's cohorts, except those whose questions they paused."""
        return list(self.db.query(
            "SELECT k.* FROM campaigns k JOIN enrolments e ON e.cohort_id = k.cohort_id"
            " WHERE e.user_id = ? AND e.left_at IS NULL AND e.paused = 0 AND k.status = 'active'"
            " AND k.start_date <= ? AND k.end_date >= ? ORDER BY k.id", [user_id, local_day, local_day]))

    def cohort_schedules(self, user_id: int, local_day: str) -> list[dict]:
        """For the learner's settings: each current cohort with its running or coming campaigns."""
        return list(self.db.query(
            "SELECT c.id AS cohort_id, c.name AS cohort_name, e.paused, k.id AS campaign_id, k.name, k.weekdays,"
            " k.push_time, k.per_push, k.start_date, k.end_date FROM enrolments e JOIN cohorts c ON c.id = e.cohort_id"
            " LEFT JOIN campaigns k ON k.cohort_id = c.id AND k.status = 'active' AND k.end_date >= ?"
            " WHERE e.user_id = ? AND e.left_at IS NULL ORDER BY e.enrolled_at, k.start_date", [local_day, user_id]))

    def todays_campaign_members(self, local_day: str) -> list[dict]:
        """(user, campaign time and days) for every current member, who has not paused the cohort's
        questions, of a campaign running today."""
        return list(self.db.query(
            "SELECT e.user_id, k.id AS campaign_id, k.push_time, k.weekdays FROM campaigns k"
            " JOIN enrolments e ON e.cohort_id = k.cohort_id"
            " WHERE k.status = 'active' AND k.start_date <= ? AND k.end_date >= ? AND e.left_at IS NULL"
            " AND e.paused = 0", [local_day, local_day]))

    def campaign_answered(self, campaign_id: int, user_id: int) -> set[str]:
        return {r["question_id"] for r in self.db.query(
            "SELECT DISTINCT question_id FROM answers WHERE campaign_id = ? AND user_id = ?", [campaign_id, user_id])}

    # -- results ---------------------------------------------------------------------------------------

    def campaign_answers(self, campaign_id: int) -> list[dict]:
        return list(self.db.query(
            "SELECT user_id, question_id, area, chosen_option, correct, answered_at FROM answers"
            " WHERE campaign_id = ? ORDER BY id", [campaign_id]))

    def members_memory_states(self, cohort_id: int) -> list[dict]:
        """The current members' memory states (the service keeps those of the campaign's questions)."""
        return list(self.db.query(
            "SELECT m.* FROM memory_states m JOIN enrolments e ON e.user_id = m.user_id"
            " WHERE e.cohort_id = ? AND e.left_at IS NULL", [cohort_id]))

    def unanswered_questions(self, cohort_id: int, start_date: str, end_date: str, limit: int = 50) -> list[dict]:
        """What the cohort asked that the bot could not answer, or answered with a 👎 (the text and the
        article shown, no names): only questions asked while the asker was enrolled in this cohort,
        inside the campaign's dates."""
        return list(self.db.query(
            "SELECT q.question, q.asked_at, q.article_id, q.abstained, q.feedback"
            " FROM question_log q JOIN enrolments e ON e.user_id = q.user_id"
            " WHERE e.cohort_id = ? AND (q.abstained = 1 OR q.feedback = -1) AND q.question != ''"
            " AND q.asked_at >= e.enrolled_at AND (e.left_at IS NULL OR q.asked_at < e.left_at)"
            " AND substr(q.asked_at, 1, 10) >= ? AND substr(q.asked_at, 1, 10) <= ?"
            " ORDER BY q.id DESC LIMIT ?",
            [cohort_id, start_date, end_date, limit]))

    def last_activity(self, user_ids: Sequence[int]) -> dict[int, str]:
        if not user_ids:
            return {}
        marks = ",".join("?" * len(user_ids))
        return {r["user_id"]: r["last"] for r in self.db.query(
            f"SELECT user_id, MAX(answered_at) AS last FROM answers WHERE user_id IN ({marks}) GROUP BY user_id",
            list(user_ids))}

    def store_retention(self, campaign_id: int, day: str, rows: list[tuple[str, float, int]]) -> None:
        with self.transaction():
            self.conn.executemany(
                "INSERT OR REPLACE INTO retention_snapshots (campaign_id, day, area, retention, learners)"
                " VALUES (?, ?, ?, ?, ?)", [(campaign_id, day, area, r, n) for area, r, n in rows])

    def retention_series(self, campaign_id: int) -> list[dict]:
        return list(self.db.query(
            "SELECT day, area, retention, learners FROM retention_snapshots WHERE campaign_id = ? ORDER BY day",
            [campaign_id]))
