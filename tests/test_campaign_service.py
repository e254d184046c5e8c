"""The campaign service over a real database with a clock the test sets: today's campaign round
and push time per learner, a paused cohort, pseudonyms that stay, active counts of current
members, and the intro queued once per learner."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.services.campaigns import Campaigns
from bot.services.learning import Learning
from bot.storage import Storage
from knowledge.articles import load_articles
from quizzes.bank import load_bank

CPH = ZoneInfo("Europe/Copenhagen")
SUNDAY = datetime(2027, 3, 7, 9, 0, tzinfo=UTC)  # 10:00 in Copenhagen


@pytest.fixture(scope="module")
def bank() -> list:
    articles, _ = load_articles()
    questions, _ = load_bank(article_ids=[a.id for a in articles])
    return questions


@pytest.fixture
def world(tmp_path: Path, bank: list) -> tuple[Storage, Campaigns, Learning, int, int]:
    storage = Storage(tmp_path / "bot.sqlite3")
    campaigns = Campaigns(storage.cohorts, storage.campaigns, storage.quizzes, bank, CPH)
    learning = Learning(storage.learners, storage.quizzes, storage.pushes, bank, CPH)
    learning.campaign_pool = campaigns.campaign_pool_of
    learning.campaign_round = campaigns.campaign_round
    consultant = storage.consultants.add_consultant("k", "x", SUNDAY)
    cohort = storage.cohorts.create_cohort(consultant, "Hold", "kode", SUNDAY)
    campaign = storage.campaigns.create_campaign(
        cohort, SUNDAY, name="K", areas="forvaltning-og-jura,politikerbetjening", question_ids="",
        start_date="2027-03-01", end_date="2027-03-31", weekdays="6", push_time="09:30", per_push=2, intro="")
    for user_id in (1, 2, 3):
        storage.learners.touch_learner(user_id, user_id, SUNDAY)
        storage.cohorts.enrol(cohort, user_id, SUNDAY + timedelta(seconds=user_id))
    yield storage, campaigns, learning, cohort, campaign
    storage.close()


def test_a_campaign_sunday_round_per_learner(world, bank) -> None:
    _, campaigns, learning, _, campaign = world
    area_of = {q.id: q.area for q in bank}
    assert campaigns.todays_campaign_times(SUNDAY) == {1: [time(9, 30)], 2: [time(9, 30)], 3: [time(9, 30)]}
    first = learning.daily_round(1, SUNDAY)
    second = learning.daily_round(2, SUNDAY)
    assert first[0] == second[0] == campaign
    assert first[1] != second[1]
    assert all({area_of[q] for q in ids} == {"forvaltning-og-jura", "politikerbetjening"}
               for ids in (first[1], second[1]))
    assert learning.daily_round(1, SUNDAY) == first  # the push counts the round the learner opens
    # The learners' own days are Monday to Friday: only the campaign brings a push on Sunday.
    due = {row["user_id"] for row, _ in learning.due_pushes(SUNDAY, campaigns.todays_campaign_times(SUNDAY))}
    assert due == {1, 2, 3}
    assert learning.due_pushes(SUNDAY - timedelta(hours=1), campaigns.todays_campaign_times(SUNDAY)) == []


def test_a_paused_cohort_and_a_paused_learner_get_no_campaign_push(world) -> None:
    storage, campaigns, learning, cohort, _ = world
    storage.cohorts.set_cohort_paused(1, cohort, True)
    learning.pause(2, SUNDAY, 3)
    assert set(campaigns.todays_campaign_times(SUNDAY)) == {2, 3}
    due = {row["user_id"] for row, _ in learning.due_pushes(SUNDAY, campaigns.todays_campaign_times(SUNDAY))}
    assert due == {3}
    assert learning.daily_round(1, SUNDAY)[0] is None  # their own practice, not the cohort's


def test_pseudonyms_stay_and_active_counts_current_members(world) -> None:
    storage, campaigns, _, cohort, campaign = world
    assert campaigns.pseudonyms(cohort) == {1: "Deltager 1", 2: "Deltager 2", 3: "Deltager 3"}
    storage.cohorts.leave_cohorts(2, SUNDAY, cohort)
    assert campaigns.pseudonyms(cohort) == {1: "Deltager 1", 3: "Deltager 3"}
    storage.cohorts.enrol(cohort, 2, SUNDAY + timedelta(hours=1))
    assert campaigns.pseudonyms(cohort)[2] == "Deltager 2"
    storage.cohorts.leave_cohorts(2, SUNDAY, cohort)
    storage.conn.execute("INSERT INTO answers (user_id, question_id, area, chosen_option, correct, answered_at,"
                         " campaign_id) VALUES (2, 'x', 'digital', 0, 1, ?, ?)", (SUNDAY.isoformat(), campaign))
    results = campaigns.results(storage.campaigns.campaign(campaign), SUNDAY + timedelta(hours=2))
    assert results.active_7_days == 0 and results.enrolled == 2
    assert results.not_started == ["Deltager 1", "Deltager 3"]
    assert results.retention_now == {}  # one answer: too early to say


def test_the_intro_is_queued_once_per_learner(world) -> None:
    storage, campaigns, _, cohort, campaign = world
    storage.cohorts.set_campaign_intro(cohort, campaign, "Velkommen!", SUNDAY - timedelta(minutes=1), SUNDAY)
    assert campaigns.queue_announcements(SUNDAY, lambda a: {"text": a["text"]}) == 3
    storage.learners.touch_learner(4, 4, SUNDAY)
    storage.cohorts.enrol(cohort, 4, SUNDAY)
    payload = lambda a: {"text": a["text"]}  # noqa: E731
    assert campaigns.queue_intros(cohort, 4, 4, SUNDAY, payload) == 1
    assert campaigns.queue_intros(cohort, 4, 4, SUNDAY, payload) == 0
    assert campaigns.queue_intros(cohort, 1, 1, SUNDAY, payload) == 0  # had it with the others


def test_announcements_wait_out_quiet_hours(world) -> None:
    storage, campaigns, _, cohort, _ = world
    night = datetime(2027, 3, 7, 2, 15, tzinfo=UTC)  # 03:15 in Copenhagen
    storage.cohorts.create_announcement(cohort, "Nat", night - timedelta(minutes=5), night)
    assert campaigns.queue_announcements(night, lambda a: {"text": a["text"]}) == 0
    assert campaigns.queue_announcements(night.replace(hour=6), lambda a: {"text": a["text"]}) == 3
