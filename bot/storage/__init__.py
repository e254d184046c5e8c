"""The bot's data: one SQLite file (database.py) and one small repository per aggregate.

    storage.learners     learners.py     learners (and their quiz settings)
    storage.questions    questions.py    question_log
    storage.quizzes      quizzes.py      memory_states, quiz_rounds, deliveries, answers
    storage.pushes       pushes.py       pushes (the daily push and its reminder)
    storage.cohorts      cohorts.py      cohorts, enrolments, announcements
    storage.campaigns    campaigns.py    campaigns, retention_snapshots (and the results' reads)
    storage.consultants  consultants.py  consultants, sessions, login_failures
    storage.inbox        inbox.py        inbox
    storage.outbox       outbox.py       outbox
    storage.embeddings   embeddings.py   embeddings
    storage.drafts       drafts.py       draft_check_counts (anonymous counts from 'Tjek mit udkast')

Each table is written only by its repository. `Storage` opens the file and builds the
repositories; the few operations that span aggregates (a learner's export and erasure, the
retention rules) are its own. Services are given the repositories they need, not the Storage.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from bot.storage.campaigns import CampaignStore
from bot.storage.cohorts import CohortStore
from bot.storage.consultants import ConsultantStore
from bot.storage.database import SCHEMA_VERSION, Database, DatabaseRefused, to_text, utc_now
from bot.storage.drafts import DraftCountStore
from bot.storage.embeddings import EmbeddingCache
from bot.storage.inbox import InboxRow, InboxStore
from bot.storage.learners import LearnerStore
from bot.storage.outbox import OutboxStore
from bot.storage.pushes import PushStore
from bot.storage.questions import QuestionLogStore
from bot.storage.quizzes import QuizStore

__all__ = [
    "SCHEMA_VERSION", "CampaignStore", "CohortStore", "ConsultantStore", "Database", "DatabaseRefused",
    "EmbeddingCache", "InboxRow", "InboxStore", "LearnerStore", "OutboxStore", "PushStore", "QuestionLogStore",
    "QuizStore", "Storage", "to_text", "utc_now",
]


class Storage(Database):
    """The database with its repositories."""

    def __init__(self, path: Path | str, *, migrate_to: int = SCHEMA_VERSION) -> None:
        super().__init__(path, migrate_to=migrate_to)
        self.learners = LearnerStore(self)
        self.questions = QuestionLogStore(self)
        self.outbox = OutboxStore(self, self.learners)
        self.pushes = PushStore(self, self.outbox)
        self.quizzes = QuizStore(self, self.pushes)
        self.cohorts = CohortStore(self, self.outbox)
        self.campaigns = CampaignStore(self)
        self.consultants = ConsultantStore(self)
        self.inbox = InboxStore(self)
        self.embeddings = EmbeddingCache(self)
        self.drafts = DraftCountStore(self)

    def export_learner(self, user_id: int) -> dict | None:
        """Everything stored about one learner, for the right of access."""
        learner = self.learners.learner(user_id)
        if learner is None:
            return None
        return {
            "learner": learner,
            "questions": self.questions.questions_of(user_id),
            **self.quizzes.quiz_data_of(user_id),
            "daily_pushes": self.pushes.pushes_of(user_id),
            "cohorts": self.cohorts.enrolments_of(user_id),
            "messages_sent": self.outbox.messages_of(user_id),
        }

    def delete_learner(self, user_id: int, now: datetime | None = None) -> bool:
        """Erase a learner and everything tied to them; anonymous aggregates stay. The user is then
        not signed up again by their next message, only by /start."""
        with self.transaction():
            self.questions.forget_asker(user_id)
            self.learners.mark_erased(user_id, now or utc_now())
            # Quiz answers stay as anonymous statistics per question (user_id becomes NULL).
            return self.learners.remove(user_id)

    def purge_old_data(self, now: datetime) -> dict[str, int]:
        """The retention rules of the README: what is not needed any longer goes."""
        removed = {"inbox": self.inbox.purge_inbox(now)}
        with self.transaction():
            removed["question_texts"] = self.questions.purge_old_texts(now)
            removed["outbox"] = self.outbox.purge_outbox(now)
            removed["sessions"], removed["login_failures"] = self.consultants.purge_sessions(now)
        return removed

    def __getattr__(self, name: str) -> Any:
        """The one-class API of earlier versions, for scripts written against it (bench/):
        `storage.touch_learner` is `storage.learners.touch_learner`. The bot's own code names the
        repository."""
        repository = _REPOSITORY_OF.get(name)
        if repository is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return getattr(getattr(self, repository), name)


def _repository_of_each_method() -> dict[str, str]:
    repositories = {
        "learners": LearnerStore, "questions": QuestionLogStore, "quizzes": QuizStore, "pushes": PushStore,
        "cohorts": CohortStore, "campaigns": CampaignStore, "consultants": ConsultantStore, "inbox": InboxStore,
        "outbox": OutboxStore, "embeddings": EmbeddingCache,
    }
    found: dict[str, list[str]] = {}
    for attribute, cls in repositories.items():
        for name in vars(cls):
            if not name.startswith("_") and callable(getattr(cls, name)):
                found.setdefault(name, []).append(attribute)
    return {name: owners[0] for name, owners in found.items() if len(owners) == 1}


_REPOSITORY_OF = _repository_of_each_method()
