"""'Tjek mit udkast' in the running bot: the checker (with the knowledge base's embedding model
once it is loaded), drafts waiting for an answer kept in memory only (never in the database),
and the anonymous counts per cohort.

A draft waits here while the bot asks "Skal jeg tjekke det som et udkast?" or which kind it is,
at most PENDING_TTL, and is dropped when checked; a restart forgets it (the user sends it again)."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache

from bot.services.knowledge import KnowledgeService
from bot.storage.drafts import DraftCountStore
from knowledge.drafts.checker import DraftChecker, Report, guess_kind, looks_like_draft
from knowledge.drafts.checklists import Checks, load_checks

PENDING_TTL = 30 * 60  # seconds
MAX_PENDING = 500  # users with a draft waiting; the oldest is dropped beyond this


@dataclass
class Pending:
    """What the bot waits for from one user: `text` set means a draft waits for a yes or a kind;
    no text means the next message is a draft (after /tjek or "Tjek igen")."""

    text: str | None
    kind: str | None
    since: float


class DraftService:
    def __init__(self, checks: Checks, knowledge: KnowledgeService | None, counts: DraftCountStore) -> None:
        self.checks = checks
        self.knowledge = knowledge
        self.counts = counts
        embedder = knowledge.embedder if knowledge is not None else None
        self.checker = DraftChecker(checks, embedder)
        self._pending: OrderedDict[int, Pending] = OrderedDict()

    @classmethod
    def load(cls, knowledge: KnowledgeService, counts: DraftCountStore) -> DraftService:
        checks, _ = load_checks(article_ids=set(knowledge.knowledge.articles))
        return cls(checks, knowledge, counts)

    # -- what waits ------------------------------------------------------------------------

    def wait_for_draft(self, user_id: int, kind: str | None = None) -> None:
        self._put(user_id, Pending(None, kind, time.monotonic()))

    def hold(self, user_id: int, text: str, kind: str | None = None) -> None:
        self._put(user_id, Pending(text, kind, time.monotonic()))

    def pending(self, user_id: int) -> Pending | None:
        entry = self._pending.get(user_id)
        if entry is not None and time.monotonic() - entry.since > PENDING_TTL:
            del self._pending[user_id]
            return None
        return entry

    def take(self, user_id: int) -> Pending | None:
        entry = self.pending(user_id)
        self._pending.pop(user_id, None)
        return entry

    def forget(self, user_id: int) -> None:
        self._pending.pop(user_id, None)

    def _put(self, user_id: int, entry: Pending) -> None:
        self._pending.pop(user_id, None)
        self._pending[user_id] = entry
        while len(self._pending) > MAX_PENDING:
            self._pending.popitem(last=False)

    # -- checking ----------------------------------------------------------------------------

    @staticmethod
    def looks_like_draft(text: str) -> bool:
        return looks_like_draft(text)

    @staticmethod
    def guess_kind(text: str) -> str | None:
        return guess_kind(text)

    async def check(self, text: str, kind: str) -> Report:
        """The check, off the event loop (the model may be asked). The model is used only when the
        knowledge base's dense search is ready, so a check never waits for the model to load."""
        use_model = bool(self.knowledge and self.knowledge.knowledge.dense_ready and not self.knowledge.dense_failed)
        return await asyncio.to_thread(self.checker.check, text, kind, use_model)

    def record(self, user_id: int, report: Report, day: str) -> None:
        """Anonymous counts for the learner's current cohorts (`day` is the learners' local day);
        nothing about the learner or the text."""
        cohort_ids = self.counts.current_cohort_ids(user_id)
        if cohort_ids:
            self.counts.record(cohort_ids, day, report.kind, report.counts)


KIND_PLURALS = {"afgoerelse": "afgørelser", "sagsfremstilling": "sagsfremstillinger"}


@dataclass(frozen=True)
class TrainingNeed:
    """One checklist item for the consultant: "Klagevejledning: mangler i 4 af 10 tjekkede afgørelser"."""

    kind: str
    item: str
    title: str
    missing: int
    checked: int

    @property
    def drafts(self) -> str:
        return KIND_PLURALS.get(self.kind, "udkast")


@lru_cache(maxsize=1)
def _item_titles() -> dict[tuple[str, str], str]:
    checks, _ = load_checks()
    return {(kind, item.id): item.title for kind, checklist in checks.checklists.items() for item in checklist.items}


def training_needs(rows: list[dict]) -> tuple[dict[str, int], list[TrainingNeed]]:
    """From DraftCountStore.cohort_counts: the drafts checked per kind, and the items that were
    missing, the most often missing first."""
    checked = {row["kind"]: row["checked"] for row in rows if row["item"] == ""}
    titles = _item_titles()
    needs = [TrainingNeed(row["kind"], row["item"], titles.get((row["kind"], row["item"]), row["item"]),
                          row["missing"], row["checked"])
             for row in rows if row["item"] and row["missing"]]
    needs.sort(key=lambda n: (-n.missing / n.checked, -n.missing, n.title))
    return checked, needs
