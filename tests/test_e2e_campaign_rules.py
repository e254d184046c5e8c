"""The campaign rules through the emulator (issue 19): a campaign on a day outside the learner's
own days, pause during a campaign, erasure then /fremskridt, two learners' first rounds, the
intro once, the push count equal to the round, an announcement in quiet hours."""

import json
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.storage import Storage
from knowledge.articles import load_articles
from quizzes.bank import load_bank
from tests.conftest import start_bot
from tests.support import BotProcess, ChatUser, EmulatorThread, buttons, learner_with_days, midday_zone
from tests.test_e2e_quiz import count, wait_for_poll

ZONE = midday_zone()


@pytest.fixture(scope="module")
def rules_bot(own_emulator: EmulatorThread, tmp_path_factory: pytest.TempPathFactory,
              embedded_database) -> Iterator[BotProcess]:
    process = start_bot(own_emulator, tmp_path_factory.mktemp("rules"), embedded_database,
                        BOT_TIMEZONE=ZONE, BOT_TICK_SECONDS="1")
    yield process
    process.stop()


def local_now() -> datetime:
    return datetime.now(UTC).astimezone(ZoneInfo(ZONE))


def make_campaign(bot: BotProcess, code: str, *, areas: str, push_time: str, per_push: int = 2,
                  intro: str = "", intro_at: datetime | None = None) -> int:
    """A cohort with invitation `code` and a campaign running every day."""
    storage = Storage(bot.db_path)
    now = datetime.now(UTC)
    consultant = (storage.consultants.consultant_by_name("Konsulent") or {}).get("id") or \
        storage.add_consultant("Konsulent", "x", now)
    cohort = storage.create_cohort(consultant, f"Hold {code}", code, now)
    today = local_now().date()
    campaign = storage.create_campaign(
        cohort, now, name=f"Kampagne {code}", areas=areas, question_ids="",
        start_date=today.isoformat(), end_date=(today + timedelta(days=28)).isoformat(),
        weekdays="0,1,2,3,4,5,6", push_time=push_time, per_push=per_push, intro=intro)
    if intro:
        storage.create_announcement(cohort, intro, intro_at or now, now, campaign)
    storage.close()
    return campaign


def join(emulator: EmulatorThread, user_id: int, code: str) -> ChatUser:
    user = ChatUser(emulator.url, user_id)
    user.send(f"/start {code}")
    user.wait_for_text("Du er nu med i")
    return user


def db(bot: BotProcess, sql: str, *args: object) -> None:
    with sqlite3.connect(bot.db_path) as connection:
        connection.execute(sql, args)


def test_a_campaign_on_a_day_outside_the_learners_own_days(rules_bot: BotProcess,
                                                           own_emulator: EmulatorThread) -> None:
    make_campaign(rules_bot, "uden-egne-dage", areas="digital",
                  push_time=(local_now() - timedelta(minutes=1)).strftime("%H:%M"))
    today = local_now().weekday()
    other_days = ",".join(str(d) for d in range(7) if d != today)
    learner_with_days(rules_bot.db_path, 7001, other_days)
    user = ChatUser(own_emulator.url, 7001)
    user.send("/start uden-egne-dage")
    # One push at the campaign's time, naming the round it opens: 2 questions, "1 minut".
    push = user.wait_for(lambda m: "spørgsmål klar" in (m.get("text") or ""), timeout=30)
    assert push["text"] == "☀️ 2 spørgsmål klar – 1 minut" and buttons(push) == ["▶ Start"]
    user.press(push, "▶ Start")
    first = wait_for_poll(user)
    assert first["poll"]["question"].startswith("(1/2)")
    time.sleep(2)
    assert count(rules_bot, "SELECT COUNT(*) FROM outbox WHERE user_id = 7001 AND kind = 'push'") == 1


def test_pause_during_a_campaign_stops_its_pushes(rules_bot: BotProcess, own_emulator: EmulatorThread) -> None:
    # The campaign's time is moved to the past only once the learner has paused.
    make_campaign(rules_bot, "pause-hold", areas="digital",
                  push_time=(local_now() + timedelta(hours=2)).strftime("%H:%M"))
    learner_with_days(rules_bot.db_path, 7002, "")
    user = join(own_emulator, 7002, "pause-hold")
    assert "Pause i 3 dage" in user.ask("/pause 3")["text"]
    db(rules_bot, "UPDATE campaigns SET push_time = ? WHERE name = 'Kampagne pause-hold'",
       (local_now() - timedelta(minutes=1)).strftime("%H:%M"))
    time.sleep(4)  # several ticks past the campaign's time
    assert count(rules_bot, "SELECT COUNT(*) FROM outbox WHERE user_id = 7002 AND kind = 'push'") == 0
    # The push is due as soon as the pause ends: it may arrive before the reply.
    resumed = user.mark()
    user.send("/genoptag")
    user.wait_for_text("Du får igen dine daglige spørgsmål", since=resumed)
    user.wait_for(lambda m: "spørgsmål klar" in (m.get("text") or ""), timeout=30, since=resumed)


def test_erasure_then_progress_stores_nothing(rules_bot: BotProcess, own_emulator: EmulatorThread) -> None:
    learner_with_days(rules_bot.db_path, 7003, "")  # no push of their own to cross the replies
    user = ChatUser(own_emulator.url, 7003)
    user.ask("/start")
    confirm = user.ask("/slet_mine_data")
    user.press(confirm, "Ja, slet alt")
    user.wait_for_text("Dine data er slettet")
    reply = user.ask("/fremskridt")
    assert "Skriv /start" in reply["text"] and "photo" not in reply
    user.ask("Hvad er partshøring?")
    assert count(rules_bot, "SELECT COUNT(*) FROM learners WHERE user_id = 7003") == 0
    assert count(rules_bot, "SELECT COUNT(*) FROM question_log WHERE question = 'Hvad er partshøring?'") == 0
    # A new learner again, with the default days: on a weekday their own push follows the welcome.
    user.send("/start")
    user.wait_for_text("Hej")
    assert count(rules_bot, "SELECT COUNT(*) FROM learners WHERE user_id = 7003") == 1


def test_two_learners_first_rounds_differ_and_cover_both_areas(rules_bot: BotProcess,
                                                               own_emulator: EmulatorThread) -> None:
    campaign = make_campaign(rules_bot, "to-omraader", areas="forvaltning-og-jura,politikerbetjening",
                             push_time=(local_now() + timedelta(hours=2)).strftime("%H:%M"))
    articles, _ = load_articles()
    bank, _ = load_bank(article_ids=[a.id for a in articles])
    area_of = {q.id: q.area for q in bank}
    rounds = []
    for user_id in (7004, 7005):
        user = join(own_emulator, user_id, "to-omraader")
        user.send("/quiz")
        wait_for_poll(user)
        with sqlite3.connect(rules_bot.db_path) as connection:
            row = connection.execute("SELECT question_ids, campaign_id FROM quiz_rounds WHERE user_id = ?"
                                     " ORDER BY id DESC", (user_id,)).fetchone()
        assert row[1] == campaign
        rounds.append(json.loads(row[0]))
    assert rounds[0] != rounds[1]
    for question_ids in rounds:
        assert {area_of[q] for q in question_ids} == {"forvaltning-og-jura", "politikerbetjening"}


def test_the_intro_reaches_a_learner_once(rules_bot: BotProcess, own_emulator: EmulatorThread) -> None:
    # The learner joins on the start day before the campaign's time; then the intro goes out.
    make_campaign(rules_bot, "intro-hold", areas="digital",
                  push_time=(local_now() + timedelta(hours=2)).strftime("%H:%M"),
                  intro="Velkommen til intro-holdet!", intro_at=datetime.now(UTC) + timedelta(seconds=4))
    user = join(own_emulator, 7006, "intro-hold")
    user.wait_for_text("Velkommen til intro-holdet!", timeout=30)
    user.ask("/forlad")
    user.send("/start intro-hold")
    user.wait_for_text("Du er nu med i")
    time.sleep(3)
    intros = [m for m in user.bot_messages() if "Velkommen til intro-holdet!" in (m.get("text") or "")]
    assert len(intros) == 1


@pytest.fixture(scope="module")
def night_bot(emulator: EmulatorThread, tmp_path_factory: pytest.TempPathFactory,
              embedded_database) -> Iterator[BotProcess]:
    """A bot in a zone where it is night now (the default of the tests' bots)."""
    process = start_bot(emulator, tmp_path_factory.mktemp("night"), embedded_database, BOT_TICK_SECONDS="1")
    yield process
    process.stop()


def test_an_announcement_in_quiet_hours_waits(night_bot: BotProcess, emulator: EmulatorThread) -> None:
    bot = night_bot
    user = ChatUser(emulator.url, 7100)
    user.ask("/start")
    storage = Storage(bot.db_path)
    now = datetime.now(UTC)
    consultant = storage.add_consultant(f"Nat {user.user_id}", "x", now)
    cohort = storage.create_cohort(consultant, "Nathold", f"nat-{user.user_id}", now)
    storage.cohorts.enrol(cohort, user.user_id, now)
    storage.create_announcement(cohort, "Sendt om natten?", now - timedelta(minutes=1), now)
    storage.close()
    time.sleep(3)
    assert not any("Sendt om natten?" in (m.get("text") or "") for m in user.bot_messages())
    assert count(bot, "SELECT COUNT(*) FROM announcements WHERE text = 'Sendt om natten?' AND queued_at IS NULL") == 1
