"""Quiz campaigns for consultants: accounts, cohorts and enrolment, campaign questions, pushes,
announcements and results. Plain Python over the repositories; knows nothing of Telegram or HTTP."""

from __future__ import annotations

import io
import secrets
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import segno
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from bot.services.drafts import TrainingNeed, training_needs
from bot.storage import CampaignStore, CohortStore, QuizStore, to_text
from bot.storage.drafts import DraftCountStore
from quizzes import campaigns as planning
from quizzes import scheduling
from quizzes.bank import AREAS, Question
from quizzes.pushes import is_quiet
from quizzes.scheduling import MemoryState

PASSWORDS = PasswordHasher()  # argon2id with the library's (OWASP-level) defaults
STATUSES = ("active", "paused", "ended")


def weekdays_of(campaign: dict) -> set[int]:
    return {int(d) for d in campaign["weekdays"].split(",") if d}


def hash_password(password: str) -> str:
    return PASSWORDS.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return PASSWORDS.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


LINK_CODE_LIFETIME = timedelta(hours=1)


def new_link_code(now: datetime) -> str:
    """A consultant's one-time code for linking Telegram, carrying its expiry (Unix seconds) in front:
    a deep link holds nothing but the code."""
    return f"{int((now + LINK_CODE_LIFETIME).timestamp())}-{secrets.token_urlsafe(16)}"


def new_code() -> str:
    """An invitation code: URL-safe (Telegram's deep-link alphabet), unguessable, and never starting
    with "k_", which /start reads as a consultant's link code (bot/telegram/handlers.py)."""
    while (code := secrets.token_urlsafe(12)).startswith("k_"):
        pass
    return code


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
    retention_learners: dict[str, int] = field(default_factory=dict)
    areas: list[str] = field(default_factory=list)  # the campaign's areas, the rows of its tables
    not_started: list[str] = field(default_factory=list)  # members with no answer in the campaign yet
    drafts_checked: dict[str, int] = field(default_factory=dict)  # 'Tjek mit udkast': drafts per kind
    draft_needs: list[TrainingNeed] = field(default_factory=list)  # and the items they lacked (anonymous)


class Campaigns:
    drafts: DraftCountStore | None = None  # set by the runner: anonymous counts from 'Tjek mit udkast'

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

    def queue_intros(self, cohort_id: int, user_id: int, chat_id: int, now: datetime,
                     payload_for: Callable[[dict], dict]) -> int:
        """A late joiner gets the welcome messages of running campaigns that already went out;
        before that, the announcement itself reaches them. Once per learner and campaign."""
        return self.cohorts.queue_intros_for(cohort_id, user_id, chat_id, now, self.local_day(now), payload_for)

    def local_day(self, now: datetime) -> str:
        return now.astimezone(self.timezone).date().isoformat()

    # -- campaign questions ----------------------------------------------------------------------------

    def pool(self, campaign: dict) -> list[str]:
        """The campaign's questions: hand-picked ones, else every question of its areas."""
        picked = [q for q in campaign["question_ids"].split(",") if q in self.questions]
        if picked:
            return picked
        return [q.id for q in self.bank if q.area in self.areas_of(campaign)]

    def areas_of(self, campaign: dict) -> list[str]:
        """The campaign's areas (of its hand-picked questions, if any), in the bank's order."""
        picked = [self.questions[q].area for q in campaign["question_ids"].split(",") if q in self.questions]
        chosen = set(picked) or {a for a in campaign["areas"].split(",") if a in AREAS} or set(AREAS)
        return [a for a in AREAS if a in chosen]

    def is_campaign_day(self, campaign: dict, now: datetime) -> bool:
        local = now.astimezone(self.timezone)
        return local.weekday() in weekdays_of(campaign)

    def new_question_order(self, campaign: dict, user_id: int) -> list[str]:
        picked = [q for q in campaign["question_ids"].split(",") if q]
        return planning.new_question_order(self.bank, self.areas_of(campaign), picked,
                                           seed=f"{campaign['id']}:{user_id}")

    def campaign_round(self, user_id: int, now: datetime, states: dict[str, MemoryState]
                       ) -> tuple[int, list[str]] | None:
        """Today's round of the learner's first campaign running on this day (its size is the
        campaign's): due reviews first (the campaign's own before the rest, most forgotten first),
        then new campaign questions in the learner's order. None without such a campaign."""
        for campaign in self.campaigns.learner_campaigns(user_id, self.local_day(now)):
            if not self.is_campaign_day(campaign, now):
                continue
            pool = set(self.pool(campaign))
            due = sorted((q for q, s in states.items() if s.due <= now),
                         key=lambda q: (q not in pool, states[q].retrievability(now)))
            fresh = [q for q in self.new_question_order(campaign, user_id) if q not in states]
            return campaign["id"], planning.round_questions(due, fresh, campaign["per_push"])
        return None

    def campaign_pool_of(self, campaign_id: int) -> set[str]:
        campaign = self.campaigns.campaign(campaign_id)
        return set(self.pool(campaign)) if campaign else set()

    def todays_campaign_times(self, now: datetime) -> dict[int, list[time]]:
        """Per learner, the times of their campaigns that deliver today (cohorts they paused left out)."""
        weekday = now.astimezone(self.timezone).weekday()
        times: defaultdict[int, list[time]] = defaultdict(list)
        for row in self.campaigns.todays_campaign_members(self.local_day(now)):
            if weekday in weekdays_of(row):
                times[row["user_id"]].append(time.fromisoformat(row["push_time"]))
        return dict(times)

    # -- announcements ---------------------------------------------------------------------------------

    def queue_announcements(self, now: datetime, payload_for: Callable[[dict], dict]) -> int:
        """Due announcements go out, but never in quiet hours: then they wait until the morning."""
        if is_quiet(now.astimezone(self.timezone)):
            return 0
        return self.cohorts.queue_due_announcements(now, payload_for)

    # -- results ---------------------------------------------------------------------------------------

    def pseudonyms(self, cohort_id: int) -> dict[int, str]:
        """Members appear as "Deltager N" unless they agreed to be named; N is given at their first
        enrolment and does not change when others leave."""
        names = {}
        for position, member in enumerate(self.cohorts.cohort_members(cohort_id), start=1):
            number = member.get("number") or position
            names[member["user_id"]] = (member["display_name"] if member["show_name"] and member["display_name"]
                                        else f"Deltager {number}")
        return names

    def retention_by_area(self, campaign: dict, now: datetime,
                          answers: list[dict] | None = None) -> tuple[dict[str, float], dict[str, int]]:
        """Predicted retention per area over the current members' memory of the campaign's
        questions; only areas with enough of the campaign's answers (else "for tidligt at sige")."""
        pool = set(self.pool(campaign))
        answers = self.campaigns.campaign_answers(campaign["id"]) if answers is None else answers
        times: defaultdict[str, list[datetime]] = defaultdict(list)
        for answer in answers:
            times[answer["area"]].append(datetime.fromisoformat(answer["answered_at"]))
        ready = {a for a, t in times.items() if planning.enough_for_retention(t, now)}
        by_area: defaultdict[str, list[float]] = defaultdict(list)
        learners: defaultdict[str, set[int]] = defaultdict(set)
        for row in self.campaigns.members_memory_states(campaign["cohort_id"]):
            question = self.questions.get(row["question_id"])
            if question is None or question.id not in pool or question.area not in ready:
                continue
            by_area[question.area].append(scheduling.state_from_row(row).retrievability(now))
            learners[question.area].add(row["user_id"])
        return ({a: sum(v) / len(v) for a, v in by_area.items()}, {a: len(v) for a, v in learners.items()})

    def snapshot_retention(self, now: datetime) -> None:
        """Once a day (idempotent): each active campaign's predicted retention per area."""
        day = self.local_day(now)
        for campaign in self.campaigns.active_campaigns(day):
            retention, learners = self.retention_by_area(campaign, now)
            self.campaigns.store_retention(campaign["id"], day,
                                           [(a, r, learners[a]) for a, r in sorted(retention.items())])

    def results(self, campaign: dict, now: datetime) -> CampaignResults:
        answers = self.campaigns.campaign_answers(campaign["id"])
        members = self.cohorts.cohort_members(campaign["cohort_id"])
        current = {m["user_id"] for m in members}
        names = self.pseudonyms(campaign["cohort_id"])
        week_ago = to_text(now - timedelta(days=7))
        active = {a["user_id"] for a in answers if a["answered_at"] >= week_ago and a["user_id"] in current}

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
            "last_active": last.get(m["user_id"]),
            "blocked": m["blocked_at"] is not None,
        } for m in members]

        retention_now, retention_learners = self.retention_by_area(campaign, now, answers)
        drafts_checked, draft_needs = training_needs(self.drafts.cohort_counts(
            campaign["cohort_id"], campaign["start_date"], campaign["end_date"])) if self.drafts else ({}, [])
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
            retention_learners=retention_learners,
            areas=self.areas_of(campaign),
            not_started=[names.get(m["user_id"], "Deltager") for m in members if not per_learner[m["user_id"]]],
            drafts_checked=drafts_checked, draft_needs=draft_needs,
        )

