"""Quiz campaigns for consultants: accounts, cohorts and enrolment, campaign questions, pushes,
announcements and results. Plain Python over the repositories; knows nothing of Telegram or HTTP."""

from __future__ import annotations

import io
import secrets
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import segno
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bot.storage import CampaignStore, CohortStore, QuizStore, to_text
from quizzes import scheduling
from quizzes.bank import AREAS, Question
from quizzes.pushes import is_quiet

PASSWORDS = PasswordHasher()  # argon2id with the library's (OWASP-level) defaults
STATUSES = ("active", "paused", "ended")


def hash_password(password: str) -> str:
    return PASSWORDS.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return PASSWORDS.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_code() -> str:
    """An invitation code: URL-safe (Telegram's deep-link alphabet), unguessable."""
    return secrets.token_urlsafe(12)


def invitation_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username}?start={code}"


def qr_svg(link: str) -> str:
    """A standalone SVG document of the link's QR code."""
    buffer = io.BytesIO()
    segno.make(link, error="m").save(buffer, kind="svg", scale=5, border=2)
    return buffer.getvalue().decode("utf-8")


@dataclass(frozen=True)
class QuestionResult:
    question: Question
    answers: int
    correct: int
    common_wrong: str | None
    common_wrong_count: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.answers if self.answers else 0.0


@dataclass
class CampaignResults:
    campaign: dict
    enrolled: int
    active_7_days: int
    answers: int
    accuracy_by_area: dict[str, tuple[int, float]]  # area -> (answers, accuracy)
    questions: list[QuestionResult]  # hardest first
    retention_now: dict[str, float]
    retention_series: list[dict]
    unanswered: list[dict]
    learners: list[dict] = field(default_factory=list)


class Campaigns:
    def __init__(self, cohorts: CohortStore, campaigns: CampaignStore, quizzes: QuizStore, bank: list[Question],
                 timezone: ZoneInfo) -> None:
        self.bank = bank
        self.questions = {q.id: q for q in bank}
        self.timezone = timezone
        self.cohorts = cohorts
        self.campaigns = campaigns
        self.quizzes = quizzes

    # -- enrolment -----------------------------------------------------------------------------------

    def enrol_by_code(self, user_id: int, code: str, now: datetime) -> tuple[str, dict | None]:
        """("enrolled" | "already" | "expired" | "unknown", cohort)."""
        cohort = self.cohorts.cohort_by_code(code)
        if cohort is None:
            return "unknown", None
        if cohort["expires_at"] and datetime.fromisoformat(cohort["expires_at"]) < now:
            return "expired", cohort
        return ("enrolled" if self.cohorts.enrol(cohort["id"], user_id, now) else "already"), cohort

    def intros(self, cohort_id: int, now: datetime) -> list[str]:
        """Welcome messages of the cohort's running campaigns whose start has passed."""
        day = now.astimezone(self.timezone).date().isoformat()
        return [c["intro"] for c in self.campaigns.campaigns_of_cohort(cohort_id)
                if c["intro"] and c["status"] == "active" and c["start_date"] <= day <= c["end_date"]]

    # -- campaign questions ----------------------------------------------------------------------------

    def pool(self, campaign: dict) -> list[str]:
        """The campaign's questions: hand-picked ones, else every question of its areas."""
        picked = [q for q in campaign["question_ids"].split(",") if q in self.questions]
        if picked:
            return picked
        areas = [a for a in campaign["areas"].split(",") if a in AREAS] or list(AREAS)
        return [q.id for q in self.bank if q.area in areas]

    def is_campaign_day(self, campaign: dict, now: datetime) -> bool:
        local = now.astimezone(self.timezone)
        weekdays = {int(d) for d in campaign["weekdays"].split(",") if d}
        return local.weekday() in weekdays

    def questions_for_round(self, user_id: int, now: datetime, count: int) -> tuple[int | None, list[str]]:
        """Campaign questions to put first in the learner's daily round: not yet answered in the
        campaign, or due again by FSRS. (campaign id, question ids); (None, []) without a campaign."""
        local_day = now.astimezone(self.timezone).date().isoformat()
        states = {row["question_id"]: scheduling.state_from_row(row)
                  for row in self.quizzes.memory_states(user_id)}
        for campaign in self.campaigns.learner_campaigns(user_id, local_day):
            if not self.is_campaign_day(campaign, now):
                continue
            answered = self.campaigns.campaign_answered(campaign["id"], user_id)
            wanted = min(count, campaign["per_push"])
            pool = self.pool(campaign)
            fresh = [q for q in pool if q not in answered]
            due = [q for q in pool if q in answered and q in states and states[q].due <= now]
            chosen = (due + fresh)[:wanted]
            if chosen:
                return campaign["id"], chosen
        return None, []

    def campaign_pool_of(self, campaign_id: int) -> set[str]:
        campaign = self.campaigns.campaign(campaign_id)
        return set(self.pool(campaign)) if campaign else set()

    # -- pushes for learners without a daily push of their own, and announcements -----------------------

    def due_campaign_pushes(self, now: datetime) -> list[tuple[dict, dict, str]]:
        """(member, campaign, local day) for members who chose no push days of their own: they get
        the campaign's questions at the campaign's time instead."""
        local = now.astimezone(self.timezone)
        local_day = local.date().isoformat()
        due = []
        if is_quiet(local):
            return due
        for campaign in self.campaigns.active_campaigns(local_day):
            if not self.is_campaign_day(campaign, now) or local.time() < time.fromisoformat(campaign["push_time"]):
                continue
            for member in self.cohorts.cohort_members(campaign["cohort_id"]):
                if member["weekdays"] == "" and member["blocked_at"] is None:
                    due.append((member, campaign, local_day))
        return due

    # -- results ---------------------------------------------------------------------------------------

    def pseudonyms(self, cohort_id: int) -> dict[int, str]:
        """Members appear as "Deltager N" (enrolment order) unless they agreed to be named."""
        names = {}
        for number, member in enumerate(self.cohorts.cohort_members(cohort_id), start=1):
            names[member["user_id"]] = (member["display_name"] if member["show_name"] and member["display_name"]
                                        else f"Deltager {number}")
        return names

    def retention_by_area(self, cohort_id: int, now: datetime) -> tuple[dict[str, float], dict[str, int]]:
        by_area: defaultdict[str, list[float]] = defaultdict(list)
        learners: defaultdict[str, set[int]] = defaultdict(set)
        for row in self.campaigns.members_memory_states(cohort_id):
            question = self.questions.get(row["question_id"])
            if question is None:
                continue
            by_area[question.area].append(scheduling.state_from_row(row).retrievability(now))
            learners[question.area].add(row["user_id"])
        return ({a: sum(v) / len(v) for a, v in by_area.items()}, {a: len(v) for a, v in learners.items()})

    def snapshot_retention(self, now: datetime) -> None:
        """Once a day (idempotent): each active campaign's predicted retention per area."""
        day = now.astimezone(self.timezone).date().isoformat()
        for campaign in self.campaigns.active_campaigns(day):
            retention, learners = self.retention_by_area(campaign["cohort_id"], now)
            self.campaigns.store_retention(campaign["id"], day,
                                         [(a, r, learners[a]) for a, r in sorted(retention.items())])

    def results(self, campaign: dict, now: datetime) -> CampaignResults:
        answers = self.campaigns.campaign_answers(campaign["id"])
        members = self.cohorts.cohort_members(campaign["cohort_id"])
        names = self.pseudonyms(campaign["cohort_id"])
        week_ago = to_text(now - timedelta(days=7))
        active = {a["user_id"] for a in answers if a["answered_at"] >= week_ago and a["user_id"] is not None}

        by_area: defaultdict[str, list[int]] = defaultdict(list)
        by_question: defaultdict[str, list[dict]] = defaultdict(list)
        for answer in answers:
            by_area[answer["area"]].append(answer["correct"])
            by_question[answer["question_id"]].append(answer)
        questions = []
        for question_id, rows in by_question.items():
            question = self.questions.get(question_id)
            if question is None:
                continue
            wrong = Counter(r["chosen_option"] for r in rows if not r["correct"])
            common, common_count = wrong.most_common(1)[0] if wrong else (None, 0)
            questions.append(QuestionResult(question, len(rows), sum(r["correct"] for r in rows),
                                            question.options[common] if common is not None else None,
                                            common_count))
        questions.sort(key=lambda q: (q.accuracy, -q.answers))

        per_learner: defaultdict[int, list[int]] = defaultdict(list)
        for answer in answers:
            if answer["user_id"] is not None:
                per_learner[answer["user_id"]].append(answer["correct"])
        last = self.campaigns.last_activity([m["user_id"] for m in members])
        learners = [{
            "name": names.get(m["user_id"], "Deltager"),
            "answers": len(per_learner[m["user_id"]]),
            "accuracy": (sum(per_learner[m["user_id"]]) / len(per_learner[m["user_id"]]))
            if per_learner[m["user_id"]] else None,
            "last_active": last.get(m["user_id"], "")[:10],
            "blocked": m["blocked_at"] is not None,
        } for m in members]

        retention_now, _ = self.retention_by_area(campaign["cohort_id"], now)
        return CampaignResults(
            campaign=campaign,
            enrolled=len(members),
            active_7_days=len(active),
            answers=len(answers),
            accuracy_by_area={a: (len(v), sum(v) / len(v)) for a, v in sorted(by_area.items())},
            questions=questions,
            retention_now=retention_now,
            retention_series=self.campaigns.retention_series(campaign["id"]),
            unanswered=self.campaigns.unanswered_questions(campaign["cohort_id"], campaign["start_date"],
                                                           campaign["end_date"]),
            learners=learners,
        )

