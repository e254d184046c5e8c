"""The campaign results as CSV tables: local dates and times, numbers as numbers, and text that a
spreadsheet cannot take for a formula."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo

from bot.services import campaigns as campaign_rules
from bot.web.pages import danish_date, danish_time, retention_points
from knowledge.articles import AREAS as AREA_NAMES
from knowledge.drafts.checklists import Checks, load_checks


def csv_safe(value: object) -> object:
    """Stop spreadsheet formulas in exported text (CSV injection), also after leading spaces and in
    their full-width forms (＝, ＋, －, ＠), which spreadsheets read as formulas too."""
    if isinstance(value, str) and value.lstrip()[:1] in ("=", "+", "-", "@", "＝", "＋", "－", "＠", "\t", "\r"):
        return "'" + value
    return value


def csv_rows(table: str, results: campaign_rules.CampaignResults, timezone: ZoneInfo, today: str
              ) -> tuple[list[str], list[list[object]]]:
    """A results table for CSV: local dates and times, numbers as numbers (write_csv adds the commas)."""
    if table == "areas":
        return (["område", "svar", "andel rigtige"],
                [[AREA_NAMES[a], n, round(acc, 3)] for a, (n, acc) in results.accuracy_by_area.items()])
    if table == "questions":
        return (["spørgsmål-id", "område", "spørgsmål", "svar", "andel rigtige", "hyppigste forkerte svar", "antal"],
                [[q.question.id, AREA_NAMES[q.question.area], q.question.text, q.answers, round(q.accuracy, 3),
                  q.common_wrong or "", q.common_wrong_count] for q in results.questions])
    if table == "learners":
        return (["deltager", "svar", "andel rigtige", "senest aktiv", "har blokeret botten"],
                [[r["name"], r["answers"], round(r["accuracy"], 3) if r["accuracy"] is not None else "",
                  danish_time(r["last_active"], timezone) if r["last_active"] else "",
                  "ja" if r["blocked"] else "nej"] for r in results.learners])
    if table == "unanswered":
        return (["tidspunkt", "spørgsmål", "udfald", "artikel vist"],
                [[danish_time(r["asked_at"], timezone), r["question"],
                  "ikke besvaret" if r["abstained"] else "svaret hjalp ikke", r["article_id"] or ""]
                 for r in results.unanswered])
    # The same points as the chart: the daily snapshots and today's figure.
    return (["dag", "område", "forventet husket", "deltagere"],
            [[danish_date(r["day"], timezone), AREA_NAMES.get(r["area"], r["area"]), round(r["retention"], 3),
              r.get("learners", "")] for r in retention_points(results, today)])



@lru_cache(maxsize=1)
def _checks() -> Checks:
    return load_checks()[0]


def draft_rows(counts: list[dict]) -> tuple[list[str], list[list[object]]]:
    """'Tjek mit udkast' per checklist item, from DraftCountStore.cohort_counts: how many of the
    cohort's checked drafts each item applied to and how many lacked it. Unlike the page, which
    shows the training need, every item is here, also those never missing; per kind of draft, the
    most often missing first. Anonymous: the counts hold no learner and no text."""
    checks = _checks()
    rows = []
    for row in counts:
        if not row["item"] or not row["checked"]:  # the item "" counts the drafts themselves
            continue
        checklist = checks.checklists.get(row["kind"])
        item = checks.item(row["kind"], row["item"])
        rows.append([checklist.title if checklist else row["kind"], row["item"], item.title if item else row["item"],
                     row["checked"], row["missing"], round(row["missing"] / row["checked"], 3)])
    rows.sort(key=lambda r: (r[0], -r[5], -r[4], r[2]))
    return ["udkast", "punkt-id", "punkt på tjeklisten", "tjekkede udkast", "mangler", "andel mangler"], rows
