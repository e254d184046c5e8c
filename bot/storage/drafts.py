"""Anonymous counts from 'Tjek mit udkast': per cohort, day, kind of draft and checklist item, how
many checked drafts the item applied to and how many lacked it (deleted with the cohort). The
`draft_check_counts` table's SQL. No learner id and no text: a draft is never stored."""

from __future__ import annotations

from collections.abc import Iterable

from bot.storage.database import Repository

DRAFT = ""  # the item name of the row that counts the drafts themselves


class DraftCountStore(Repository):
    def record(self, cohort_ids: Iterable[int], day: str, kind: str, missing_by_item: dict[str, bool]) -> None:
        """Count one checked draft for each of the learner's cohorts (nothing for a learner in none)."""
        rows = [(DRAFT, False), *missing_by_item.items()]
        with self.transaction():
            for cohort_id in cohort_ids:
                for item, missing in rows:
                    self.conn.execute(
                        "INSERT INTO draft_check_counts (cohort_id, day, kind, item, checked, missing)"
                        " VALUES (?, ?, ?, ?, 1, ?) ON CONFLICT (cohort_id, day, kind, item)"
                        " DO UPDATE SET checked = checked + 1, missing = missing + excluded.missing",
                        (cohort_id, day, kind, item, int(missing)),
                    )

    def current_cohort_ids(self, user_id: int) -> list[int]:
        """The cohorts the learner is in now (a read of the enrolments, which CohortStore writes)."""
        return [row[0] for row in self.conn.execute(
            "SELECT cohort_id FROM enrolments WHERE user_id = ? AND left_at IS NULL", (user_id,))]

    def cohort_counts(self, cohort_id: int, start_day: str, end_day: str) -> list[dict]:
        """Per kind and item (the item "" is the drafts themselves): checked and missing, between
        two days (inclusive)."""
        return list(self.db.query(
            "SELECT kind, item, SUM(checked) AS checked, SUM(missing) AS missing FROM draft_check_counts"
            " WHERE cohort_id = ? AND day BETWEEN ? AND ? GROUP BY kind, item ORDER BY kind, item",
            [cohort_id, start_day, end_day]))
