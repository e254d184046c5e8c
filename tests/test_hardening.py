"""Hardening after the adversarial test of issue 20, in process: what consultants may read, personal
data masked in the question log, poison updates set aside, the emulator's Host, Origin and token
checks, and the small input checks (400, not 500)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.services.campaigns import Campaigns
from bot.storage import Storage

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def storage(tmp_path: Path) -> Storage:
    return Storage(tmp_path / "bot.sqlite3")


# -- finding 1: a campaign shows only questions asked while enrolled, inside its dates ------------------


def test_campaign_view_lists_only_questions_asked_while_enrolled_in_its_dates(storage: Storage) -> None:
    def ask(user_id: int, when: datetime, text: str) -> None:
        storage.questions.log_question(update_id=None, user_id=user_id, now=when, question=text,
                                       article_id=None, score=0.1, abstained=True)

    anna = storage.consultants.add_consultant("anna", "x", NOW)
    bo = storage.consultants.add_consultant("bo", "x", NOW)
    theirs = storage.cohorts.create_cohort(bo, "Bos hold", "bo-hold-2026", NOW)
    mine = storage.cohorts.create_cohort(anna, "Annas hold", "anna-hold-2026", NOW)
    # Backdated a year: the consultant chose the start date freely.
    campaign_id = storage.campaigns.create_campaign(
        mine, NOW, name="Kampagne", start_date="2025-11-01", end_date="2026-12-31", weekdays="0,1,2,3,4",
        push_time="09:00", per_push=3)
    learner = 7001
    storage.learners.touch_learner(learner, learner, NOW - timedelta(days=300), "")
    storage.cohorts.enrol(theirs, learner, NOW - timedelta(days=200))
    ask(learner, NOW - timedelta(days=100), "spurgt i Bos hold før Anna")
    storage.cohorts.leave_cohorts(learner, NOW - timedelta(days=20))
    storage.cohorts.enrol(mine, learner, NOW - timedelta(days=10))
    ask(learner, NOW - timedelta(days=5), "spurgt mens jeg var med")
    storage.cohorts.leave_cohorts(learner, NOW - timedelta(days=2))
    ask(learner, NOW - timedelta(days=1), "spurgt efter /forlad")

    service = Campaigns(storage.cohorts, storage.campaigns, storage.quizzes, [], ZoneInfo("Europe/Copenhagen"))
    results = service.results(storage.campaigns.campaign(campaign_id), NOW)
    assert [row["question"] for row in results.unanswered] == ["spurgt mens jeg var med"]
