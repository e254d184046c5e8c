"""Campaigns through the emulator: enrolment by deep link, a campaign push at its time, answers and
results, a learner who blocked the bot, and Telegram's 429."""

import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.services.campaigns import Campaigns
from bot.storage import Storage
from knowledge.articles import load_articles
from quizzes.bank import load_bank
from tests.conftest import start_bot
from tests.support import BotProcess, ChatUser, EmulatorThread, buttons, learner_with_days
from tests.test_e2e_quiz import answer_poll, midday_zone, wait_for_poll

ZONE = midday_zone()


@pytest.fixture(scope="module")
def campaign_bot(own_emulator: EmulatorThread, tmp_path_factory: pytest.TempPathFactory,
                 embedded_database) -> Iterator[BotProcess]:
    process = start_bot(own_emulator, tmp_path_factory.mktemp("campaigns"), embedded_database,
                        BOT_TIMEZONE=ZONE, BOT_TICK_SECONDS="1")
    yield process
    process.stop()


@pytest.fixture(scope="module")
def setup(campaign_bot: BotProcess) -> dict:
    """A consultant with a cohort and a campaign on digital questions, every day, due a minute ago."""
    storage = Storage(campaign_bot.db_path)
    now = datetime.now(UTC)
    local = now.astimezone(ZoneInfo(ZONE))
    consultant = storage.add_consultant("Konsulent", "x", now)
    cohort = storage.create_cohort(consultant, "Kolding – Byggesag", "kolding-byg-2027", now)
    campaign = storage.create_campaign(
        cohort, now, name="Digital sikkerhed", areas="digital", question_ids="",
        start_date=(local.date() - timedelta(days=1)).isoformat(),
        end_date=(local.date() + timedelta(days=30)).isoformat(), weekdays="0,1,2,3,4,5,6",
        push_time=(local - timedelta(minutes=1)).strftime("%H:%M"), per_push=2, intro="Velkommen til forløbet!")
    # As the dashboard does: the welcome message is an announcement at the campaign's start.
    storage.create_announcement(cohort, "Velkommen til forløbet!", now - timedelta(days=1), now, campaign)
    storage.close()
    return {"cohort": cohort, "campaign": campaign}


def enrolled(emulator: EmulatorThread, user_id: int) -> ChatUser:
    """A learner who followed the cohort's invitation link."""
    user = ChatUser(emulator.url, user_id)
    user.send("/start kolding-byg-2027")
    user.wait_for_text("Du er nu med i")
    return user


def learner_row(bot: BotProcess, user_id: int) -> tuple:
    with sqlite3.connect(bot.db_path) as connection:
        return connection.execute("SELECT weekdays, blocked_at FROM learners WHERE user_id = ?", (user_id,)).fetchone()


def test_enrol_by_deep_link_and_unknown_code(campaign_bot: BotProcess, own_emulator: EmulatorThread,
                                             setup: dict) -> None:
    user = enrolled(own_emulator, 5001)
    user.wait_for_text("Velkommen til forløbet!")
    stranger = ChatUser(own_emulator.url, 5002)
    stranger.send("/start findes-ikke-123")
    stranger.wait_for_text("Den invitation kender jeg ikke")
    # Not ask(): the campaign's push goes out a second after the welcome message and may arrive
    # before the reply.
    user.send("/forlad")
    user.wait_for_text("Du er ikke længere med i")
    user.send("/start kolding-byg-2027")
    user.wait_for_text("Du er nu med i")


def test_campaign_questions_come_first_and_count_in_results(
    campaign_bot: BotProcess, own_emulator: EmulatorThread, setup: dict
) -> None:
    user = enrolled(own_emulator, 5003)
    user.send("/quiz")
    for position in range(2):  # the campaign's round: its two questions a push
        poll = wait_for_poll(user)
        assert poll["poll"]["question"].startswith(f"({position + 1}/2)")
        feedback = answer_poll(user, poll, correct=position != 1)
        if position < 1:
            user.press(feedback, "▶ Næste")
    with sqlite3.connect(campaign_bot.db_path) as connection:
        rows = connection.execute("SELECT question_id, campaign_id FROM answers WHERE user_id = ? ORDER BY id",
                                  (5003,)).fetchall()
    articles, _ = load_articles()
    bank, _ = load_bank(article_ids=[a.id for a in articles])
    area_of = {question.id: question.area for question in bank}
    assert [area_of[r[0]] for r in rows[:2]] == ["digital", "digital"]
    assert [r[1] for r in rows[:2]] == [setup["campaign"]] * 2

    storage = Storage(campaign_bot.db_path)
    service = Campaigns(storage.cohorts, storage.campaigns, storage.quizzes, bank, ZoneInfo(ZONE))
    results = service.results(storage.campaign(setup["campaign"]), datetime.now(UTC))
    storage.close()
    assert results.answers >= 2 and results.enrolled >= 1 and results.active_7_days >= 1
    assert results.questions[0].accuracy <= results.questions[-1].accuracy  # hardest first
    assert all(learner["name"].startswith("Deltager") for learner in results.learners)


def test_campaign_push_at_its_time_for_a_learner_without_own_days(
    campaign_bot: BotProcess, own_emulator: EmulatorThread, setup: dict
) -> None:
    # No days of their own from the start: a new learner's own push (weekdays at 09:00) would be
    # the day's one push, and the campaign's would never come.
    learner_with_days(campaign_bot.db_path, 5004, "")
    user = ChatUser(own_emulator.url, 5004)
    start = user.mark()
    user.send("/start kolding-byg-2027")
    # The campaign's time has passed: its push goes out at once, before or after the reply.
    user.wait_for_text("Du er nu med i", since=start)
    push = user.wait_for(lambda m: (m.get("text") or "").startswith("☀️ 2 spørgsmål klar"), timeout=30, since=start)
    assert buttons(push) == ["▶ Start"]


def test_a_blocked_learner_is_marked_and_not_sent_to(
    campaign_bot: BotProcess, own_emulator: EmulatorThread, setup: dict
) -> None:
    user = enrolled(own_emulator, 5005)
    user.http.post("/emulator/block", json={"user_id": 5005, "blocked": True}).raise_for_status()
    # A message queued after the block, so the bot meets the block even if the welcome message and
    # the campaign's push both went out before it (a slow test). (Deleting the day's push does not
    # bring another: the outbox queues a day's push once, by its dedupe key.)
    storage = Storage(campaign_bot.db_path)
    now = datetime.now(UTC)
    cohort = storage.create_cohort(storage.consultants.consultant_by_name("Konsulent")["id"], "Blokeret hold",
                                   "blokeret-5005", now)
    storage.cohorts.enrol(cohort, 5005, now)
    storage.create_announcement(cohort, "Kun til den blokerede.", now, now)
    storage.close()
    deadline = time.monotonic() + 30
    while learner_row(campaign_bot, 5005)[1] is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert learner_row(campaign_bot, 5005)[1] is not None
    with sqlite3.connect(campaign_bot.db_path) as connection:
        statuses = [s[0] for s in connection.execute("SELECT status FROM outbox WHERE user_id = 5005")]
    # (The campaign's welcome message may have gone out before the block.)
    assert "blocked" in statuses and "pending" not in statuses
    assert not any("Kun til den blokerede." in (m.get("text") or "") for m in user.bot_messages())
    assert "blocked" in campaign_bot.log()


def test_a_429_from_telegram_is_waited_out(
    campaign_bot: BotProcess, own_emulator: EmulatorThread, setup: dict
) -> None:
    user = enrolled(own_emulator, 5006)
    storage = Storage(campaign_bot.db_path)
    # Only this learner's copy of the announcement meets the 429: a welcome, a push or another
    # learner's copy in flight at the same moment must not take it (that made the test flaky).
    own_emulator.add_fault("sendMessage", 429, count=1, retry_after=2, chat_id=5006, text="Husk mødet")
    storage.create_announcement(setup["cohort"], "Husk mødet på torsdag.", datetime.now(UTC), datetime.now(UTC))
    storage.close()
    started = time.monotonic()
    user.wait_for_text("Husk mødet på torsdag.", timeout=30)
    assert time.monotonic() - started >= 1.5
    assert "asks us to wait" in campaign_bot.log()


def test_a_learner_is_enrolled_before_the_welcome_reply_is_sent(
    campaign_bot: BotProcess, own_emulator: EmulatorThread, setup: dict
) -> None:
    """While the welcome reply is on its way, the daily push job may run; the learner must already
    be in the cohort then, or their own push of the day could take the campaign's place."""
    own_emulator.add_fault("sendMessage", 500, count=1, delay=3.0, chat_id=5009, text="Jeg hjælper dig")
    user = ChatUser(own_emulator.url, 5009)
    user.send("/start kolding-byg-2027")
    time.sleep(1.5)  # the welcome reply is held by the fault (3 s, then retried)
    with sqlite3.connect(campaign_bot.db_path) as connection:
        members = connection.execute("SELECT COUNT(*) FROM enrolments WHERE user_id = ? AND cohort_id = ?",
                                     (5009, setup["cohort"])).fetchone()[0]
    assert members == 1
    user.wait_for_text("Du er nu med i")
