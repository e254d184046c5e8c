"""The learning features as the bot runs them: settings, quiz rounds, answers, progress and the
daily pushes. It joins the repositories it needs (SQL) and the domain (quizzes/), and knows
nothing of Telegram."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.storage import LearnerStore, PushStore, QuizStore, to_text
from quizzes import scheduling
from quizzes.bank import AREAS, Question
from quizzes.progress import Progress, progress
from quizzes.pushes import PushSettings, is_paused, push_due, reminder_due
from quizzes.scheduling import MemoryState, RecentAnswer

FOREVER = "forever"
NEW_PER_DAY = 6  # new questions a learner meets a day at most: a steady rate, not a flood
ROUND_KINDS = ("daily", "mistakes", "review", "topic", "campaign")


@dataclass(frozen=True)
class LearnerSettings:
    push_time: time
    weekdays: tuple[int, ...]
    areas: tuple[str, ...]  # empty: all areas
    per_push: int
    paused_until: datetime | None
    paused_indefinitely: bool
    show_name: bool

    @property
    def push(self) -> PushSettings:
        return PushSettings(self.push_time, self.weekdays, self.paused_until, self.paused_indefinitely)


def parse_settings(row: dict) -> LearnerSettings:
    paused = row.get("paused_until")
    return LearnerSettings(
        push_time=time.fromisoformat(row["push_time"]),
        weekdays=tuple(int(d) for d in row["weekdays"].split(",") if d != ""),
        areas=tuple(a for a in row["areas"].split(",") if a in AREAS),
        per_push=int(row["per_push"]),
        paused_until=datetime.fromisoformat(paused) if paused and paused != FOREVER else None,
        paused_indefinitely=paused == FOREVER,
        show_name=bool(row.get("show_name")),
    )


@dataclass(frozen=True)
class Delivery:
    delivery_id: int
    question: Question
    option_order: list[int]  # shown position -> index in question.options
    position: int  # 1-based number in the round
    round_size: int

    @property
    def shown_options(self) -> list[str]:
        return [self.question.options[i] for i in self.option_order]

    @property
    def shown_correct(self) -> int:
        return self.option_order.index(self.question.correct)


@dataclass(frozen=True)
class AnswerOutcome:
    recorded: bool  # False: already answered before (nothing changed)
    correct: bool
    question: Question
    round_id: int | None
    round_done: bool
    round_correct: int
    round_size: int


class Learning:
    def __init__(self, learners: LearnerStore, quizzes: QuizStore, pushes: PushStore, bank: list[Question],
                 timezone: ZoneInfo, new_per_day: int = NEW_PER_DAY) -> None:
        self.new_per_day = new_per_day
        self.learners = learners
        self.quizzes = quizzes
        self.pushes = pushes
        self.bank = bank
        self.questions = {q.id: q for q in bank}
        self.timezone = timezone
        self.articles_with_questions = frozenset(a for q in bank for a in q.articles)
        # Which questions belong to a campaign (set by the campaign service): an answer counts in
        # the campaign's results only for those.
        self.campaign_pool: Callable[[int], set[str]] = lambda campaign_id: set()
        # Today's campaign round for a learner, if a campaign of theirs runs today (set by the
        # campaign service): (campaign id, question ids).
        self.campaign_round: Callable[[int, datetime, dict[str, MemoryState]], tuple[int, list[str]] | None] = \
            lambda user_id, now, states: None

    # -- settings ----------------------------------------------------------------------------------

    def settings(self, user_id: int) -> LearnerSettings | None:
        row = self.learners.learner(user_id)
        return parse_settings(row) if row else None

    def local_day(self, now: datetime) -> str:
        return now.astimezone(self.timezone).date().isoformat()

    def pause(self, user_id: int, now: datetime, days: int | None) -> datetime | None:
        until = now + timedelta(days=days) if days else None
        self.learners.update_learner_settings(user_id, paused_until=to_text(until) if until else FOREVER)
        return until

    def resume(self, user_id: int) -> None:
        self.learners.update_learner_settings(user_id, paused_until=None)

    # -- rounds --------------------------------------------------------------------------------------

    def _states(self, user_id: int) -> dict[str, MemoryState]:
        return {row["question_id"]: scheduling.state_from_row(row) for row in self.quizzes.memory_states(user_id)
                if row["question_id"] in self.questions}

    def _answers(self, user_id: int, since: datetime | None = None) -> list[RecentAnswer]:
        return [RecentAnswer(r["question_id"], bool(r["correct"]), datetime.fromisoformat(r["answered_at"]))
                for r in self.quizzes.recent_answers(user_id, since) if r["question_id"] in self.questions]

    def choose(self, user_id: int, kind: str, now: datetime, *, count: int | None = None,
               article_id: str | None = None, areas: tuple[str, ...] | None = None,
               exclude: tuple[str, ...] = ()) -> list[str]:
        settings = self.settings(user_id)
        count = count or (settings.per_push if settings else 3)
        if kind == "mistakes":
            return scheduling.mistakes(self._answers(user_id, now - scheduling.MISTAKE_WINDOW), now, count=count)
        if kind == "review":
            return scheduling.most_forgotten(self._states(user_id), now, count=count)
        if kind == "topic":
            linked = [q.id for q in self.bank if article_id in q.articles]
            random.shuffle(linked)
            return linked[:count]
        wanted = areas if areas is not None else (settings.areas if settings else ())
        day_start = datetime.combine(now.astimezone(self.timezone).date(), time(0), tzinfo=self.timezone)
        new_today = self.quizzes.new_questions_since(user_id, day_start)
        # Seeded per learner and day: the push counts the same round the learner then opens.
        rng = random.Random(f"{user_id}:{self.local_day(now)}")
        return scheduling.choose_questions(self.bank, self._states(user_id), now, count=count,
                                           areas=wanted or None, new_allowed=max(0, self.new_per_day - new_today),
                                           exclude=exclude, rng=rng)

    def daily_round(self, user_id: int, now: datetime) -> tuple[int | None, list[str]]:
        """The questions of today's push (and of /quiz): on a day with a running campaign, the
        campaign's round (due reviews merged in); otherwise the learner's own practice.
        (campaign id or None, question ids)."""
        planned = self.campaign_round(user_id, now, self._states(user_id))
        if planned is not None and planned[1]:
            return planned
        return None, self.choose(user_id, "daily", now)

    def open_round(self, user_id: int, now: datetime) -> int | None:
        """The learner's unfinished round of today, if any (/quiz continues it)."""
        day_start = datetime.combine(now.astimezone(self.timezone).date(), time(0), tzinfo=self.timezone)
        row = self.quizzes.open_round(user_id, day_start)
        return row["id"] if row else None

    def start_round(self, user_id: int, kind: str, now: datetime, question_ids: list[str],
                    campaign_id: int | None = None) -> int | None:
        if not question_ids:
            return None
        self.pushes.mark_push_reacted(user_id, self.local_day(now), now)
        return self.quizzes.create_round(user_id, kind, question_ids, now, campaign_id)

    def next_delivery(self, round_id: int, now: datetime) -> Delivery | None:
        """The round's next question (registered as a delivery), or None when the round is done.
        Asking again before an answer returns the same delivery, so a double tap sends nothing new."""
        quiz_round = self.quizzes.quiz_round(round_id)
        if quiz_round is None or quiz_round["finished_at"]:
            return None
        ids = quiz_round["question_ids"]
        position = quiz_round["position"]
        while position < len(ids) and ids[position] not in self.questions:
            position += 1  # a question removed from the bank since the round started
        if position >= len(ids):
            self.quizzes.finish_round(round_id, now)
            return None
        question = self.questions[ids[position]]
        existing = self.quizzes.round_delivery(round_id, question.id)
        if existing is not None and existing["answered_at"] is None:
            return Delivery(existing["id"], question, existing["option_order"], position + 1, len(ids))
        order = scheduling.shuffled_order(question, f"{quiz_round['user_id']}:{round_id}:{question.id}")
        delivery_id = self.quizzes.add_delivery(quiz_round["user_id"], round_id, question.id, order, now)
        return Delivery(delivery_id, question, order, position + 1, len(ids))

    def answer(self, delivery: dict, shown_index: int, now: datetime) -> AnswerOutcome | None:
        """Record the learner's choice (the shown option's position). None for a forged index."""
        question = self.questions.get(delivery["question_id"])
        order = delivery["option_order"]
        if question is None or not 0 <= shown_index < len(order):
            return None
        chosen = order[shown_index]
        correct = chosen == question.correct
        previous = self.quizzes.memory_state(delivery["user_id"], question.id)
        state = scheduling.review(scheduling.state_from_row(previous) if previous else None, question.id,
                                  correct, now)
        quiz_round = self.quizzes.quiz_round(delivery["round_id"]) if delivery["round_id"] else None
        recorded = self.quizzes.record_answer(
            delivery=delivery, area=question.area, chosen_option=chosen, correct=correct,
            state={"card": state.card_json, "due_at": to_text(state.due),
                   "last_review_at": to_text(now), "reviews": state.reviews, "lapses": state.lapses},
            now=now, local_day=self.local_day(now), campaign_id=self._campaign_of(quiz_round, question.id),
        )
        if delivery["round_id"]:
            quiz_round = self.quizzes.quiz_round(delivery["round_id"])
        size = len(quiz_round["question_ids"]) if quiz_round else 1
        done = quiz_round is None or quiz_round["position"] >= size
        if quiz_round and done:
            self.quizzes.finish_round(quiz_round["id"], now)
        return AnswerOutcome(recorded, correct, question, delivery["round_id"], done,
                             quiz_round["correct"] if quiz_round else int(correct), size)

    def _campaign_of(self, quiz_round: dict | None, question_id: str) -> int | None:
        campaign_id = quiz_round["campaign_id"] if quiz_round else None
        return campaign_id if campaign_id is not None and question_id in self.campaign_pool(campaign_id) else None

    # -- progress ------------------------------------------------------------------------------------

    def progress(self, user_id: int, now: datetime) -> Progress:
        return progress(self.bank, self._states(user_id), self._answers(user_id), now, self.timezone)

    # -- daily pushes --------------------------------------------------------------------------------

    def due_pushes(self, now: datetime, campaign_times: dict[int, list[time]] | None = None
                   ) -> list[tuple[dict, str]]:
        """(learner row, local day) for every learner whose one push of the day should go out now.
        `campaign_times`: per learner, the times of their campaigns running today (those decide
        the day's push time; see quizzes/pushes.py push_time_today)."""
        campaign_times = campaign_times or {}
        due = []
        local = now.astimezone(self.timezone)
        day_text = local.date().isoformat()
        rows = {r["user_id"]: r for r in self.pushes.push_candidates(day_text, local.strftime("%H:%M"),
                                                                     local.weekday())}
        members = [u for u, times in campaign_times.items() if times and min(times) <= local.time()]
        rows.update({r["user_id"]: r for r in self.pushes.unpushed_learners(members, day_text)})
        for user_id, row in rows.items():
            settings = parse_settings({**row, "areas": "", "show_name": 0})
            last = datetime.fromisoformat(row["last_push_day"]).date() if row["last_push_day"] else None
            day = push_due(settings.push, now, self.timezone, last, campaign_times.get(user_id, ()))
            if day is not None:
                due.append((row, day.isoformat()))
        return due

    def due_reminders(self, now: datetime) -> list[dict]:
        return [row for row in self.pushes.pushes_awaiting_reaction(self.local_day(now))
                if reminder_due(datetime.fromisoformat(row["pushed_at"]), now, self.timezone, False, False,
                                paused=is_paused(parse_settings({"push_time": "09:00", "weekdays": "",
                                                                 "areas": "", "per_push": 3, **row}).push, now))]
