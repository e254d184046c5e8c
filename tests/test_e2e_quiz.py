"""Quizzes, pushes, progress and the learner's own data through the emulator."""

import json
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest

from knowledge.articles import load_articles
from quizzes.bank import load_bank
from tests.conftest import start_bot
from tests.support import BotProcess, ChatUser, EmulatorThread, buttons, midday_zone


def answer_poll(user: ChatUser, poll_message: dict, correct: bool) -> dict:
    poll = poll_message["poll"]
    right = poll["correct_option_ids"][0]
    choice = right if correct else (right + 1) % len(poll["options"])
    user.vote(poll["id"], choice)
    return user.wait_for(lambda m: "Rigtigt" in (m.get("text") or "") or "Ikke helt" in (m.get("text") or ""))


def wait_for_poll(user: ChatUser) -> dict:
    return user.wait_for(lambda m: "poll" in m)


def count(bot: BotProcess, sql: str, *args) -> int:
    with sqlite3.connect(bot.db_path) as connection:
        return connection.execute(sql, args).fetchone()[0]


def test_a_whole_quiz_round(bot: BotProcess, user: ChatUser) -> None:
    user.send("/quiz")
    first = wait_for_poll(user)
    assert first["poll"]["type"] == "quiz" and first["poll"]["is_anonymous"] is False
    assert first["poll"]["question"].startswith("(1/3)")
    feedback = answer_poll(user, first, correct=True)
    assert "✅" in feedback["text"]
    assert "📖 Læs mere" in buttons(feedback) and "▶ Næste" in buttons(feedback)

    user.press(feedback, "▶ Næste")
    second = wait_for_poll(user)
    feedback = answer_poll(user, second, correct=False)
    assert "Det rigtige svar" in feedback["text"]
    user.press(feedback, "▶ Næste")
    feedback = answer_poll(user, wait_for_poll(user), correct=True)
    assert "Runden er færdig" in feedback["text"] and "2 af 3 rigtige" in feedback["text"]
    assert "🔁 Øv mine fejl" in buttons(feedback)

    assert count(bot, "SELECT COUNT(*) FROM answers WHERE user_id = ?", user.user_id) == 3
    assert count(bot, "SELECT COUNT(*) FROM memory_states WHERE user_id = ?", user.user_id) == 3

    user.press(feedback, "🔁 Øv mine fejl")
    mistake = wait_for_poll(user)
    assert mistake["poll"]["question"].split(") ", 1)[1] == second["poll"]["question"].split(") ", 1)[1]


def test_answering_twice_records_one_answer(bot: BotProcess, user: ChatUser) -> None:
    user.send("/quiz")
    poll = wait_for_poll(user)
    answer_poll(user, poll, correct=True)
    user.vote(poll["poll"]["id"], 0)  # a second tap on the same poll
    user.ask("/help")  # handled after the vote: updates of one chat are handled in order
    assert count(bot, "SELECT COUNT(*) FROM answers WHERE user_id = ?", user.user_id) == 1


def test_someone_elses_round_buttons_do_nothing(bot: BotProcess, user: ChatUser, emulator: EmulatorThread) -> None:
    owner = ChatUser(user.base_url, user.user_id + 70_000)
    owner.send("/quiz")
    feedback = answer_poll(owner, wait_for_poll(owner), correct=True)
    next_data = next(b["callback_data"] for row in feedback["reply_markup"]["inline_keyboard"] for b in row
                     if b["callback_data"].startswith("quiz:next:"))
    user.ask("/start")
    user.press_data(user.bot_messages()[-1]["message_id"], next_data)
    user.ask("/help")
    assert not any("poll" in m for m in user.bot_messages())


def test_quiz_on_the_topic_of_an_answer(bot: BotProcess, user: ChatUser) -> None:
    reply = user.ask("hvornår skal jeg partshøre?")
    user.press(reply, "🧠 Quiz om emnet")
    wait_for_poll(user)
    with sqlite3.connect(bot.db_path) as connection:
        # The delivery row is written before the poll is sent (its poll id just after).
        question_id = connection.execute(
            "SELECT question_id FROM deliveries WHERE user_id = ? ORDER BY id DESC", (user.user_id,)).fetchone()[0]
    article_id = next(button["callback_data"].split(":")[1] for row in reply["reply_markup"]["inline_keyboard"]
                      for button in row if button["callback_data"].startswith("art:"))
    articles, _ = load_articles()
    bank, _ = load_bank(article_ids=[a.id for a in articles])
    assert article_id in next(q.articles for q in bank if q.id == question_id)


def test_progress_text_and_chart(bot: BotProcess, user: ChatUser) -> None:
    empty = user.ask("/fremskridt")
    assert "ikke svaret" in empty["text"]
    user.send("/quiz")
    answer_poll(user, wait_for_poll(user), correct=True)
    photo = user.ask("/fremskridt")  # one message: the chart, with the figures as its caption
    assert "photo" in photo and photo["parse_mode"] == "HTML"
    assert "Dit fremskridt" in photo["caption"] and "rigtige" in photo["caption"]
    image = httpx.get(f"{user.base_url}/emulator/files/{photo['photo'][0]['file_id']}").content
    assert image[:8] == b"\x89PNG\r\n\x1a\n" and len(image) > 5000


def test_settings_change_time_and_days(bot: BotProcess, user: ChatUser) -> None:
    view = user.ask("/indstillinger")
    assert "man–fre kl. 9.00" in view["text"]
    user.press(view, "⏰ Tidspunkt")
    menu = user.wait_for(lambda m: m["message_id"] == view["message_id"] and "Hvornår" in m["text"])
    user.press(menu, "08:00")
    updated = user.wait_for(lambda m: m["message_id"] == view["message_id"] and "kl. 8.00" in m["text"])
    user.press(updated, "📅 Dage")
    days = user.wait_for(lambda m: m["message_id"] == view["message_id"] and "Hvilke dage" in m["text"])
    user.press(days, "▫️ lør")
    user.wait_for(lambda m: m["message_id"] == view["message_id"] and "✅ lør" in buttons(m))
    with sqlite3.connect(bot.db_path) as connection:
        row = connection.execute("SELECT push_time, weekdays FROM learners WHERE user_id = ?",
                                 (user.user_id,)).fetchone()
    assert row == ("08:00", "0,1,2,3,4,5")


def test_pause_and_resume(bot: BotProcess, user: ChatUser) -> None:
    assert "Pause i 3 dage" in user.ask("/pause 3")["text"]
    assert "pause" in user.ask("/pause")["text"]
    assert "tal" in user.ask("/pause mange")["text"]
    assert "Velkommen tilbage" in user.ask("/genoptag")["text"]
    assert count(bot, "SELECT COUNT(*) FROM learners WHERE user_id = ? AND paused_until IS NULL",
                 user.user_id) == 1


def test_export_and_erasure_include_quiz_data(bot: BotProcess, user: ChatUser) -> None:
    user.send("/quiz")
    answer_poll(user, wait_for_poll(user), correct=True)
    summary = user.ask("/mine_data")  # a short readable summary, then the file
    assert "1 quizsvar i 1 runder" in summary["text"]
    document = user.wait_for(lambda m: "document" in m)
    exported = json.loads(httpx.get(f"{user.base_url}/emulator/files/{document['document']['file_id']}").content)
    assert len(exported["quiz_answers"]) == 1 and len(exported["memory_states"]) == 1
    assert len(exported["quiz_rounds"]) == 1 and len(exported["deliveries"]) == 1 and "messages_sent" in exported
    confirm = user.ask("/slet_mine_data")
    user.press(confirm, "Ja, slet alt")
    user.wait_for_text("Dine data er slettet")
    assert count(bot, "SELECT COUNT(*) FROM memory_states WHERE user_id = ?", user.user_id) == 0
    assert count(bot, "SELECT COUNT(*) FROM answers WHERE user_id = ?", user.user_id) == 0
    assert count(bot, "SELECT COUNT(*) FROM answers WHERE user_id IS NULL") >= 1  # anonymous statistics stay


# -- the daily push, fired by the job queue --------------------------------------------------------------

@pytest.fixture(scope="module")
def push_bot(own_emulator: EmulatorThread, tmp_path_factory: pytest.TempPathFactory,
             embedded_database) -> Iterator[BotProcess]:
    directory = tmp_path_factory.mktemp("pushbot")
    process = start_bot(own_emulator, directory, embedded_database, BOT_TIMEZONE=midday_zone(),
                        BOT_TICK_SECONDS="1")
    process.directory = directory
    yield process
    process.stop()


def test_daily_push_reminder_and_restart(push_bot: BotProcess, own_emulator: EmulatorThread) -> None:
    user = ChatUser(own_emulator.url, 4242)
    user.ask("/start")
    zone = ZoneInfo(midday_zone())
    local = datetime.now(UTC).astimezone(zone)
    push_time = (local - timedelta(minutes=1)).strftime("%H:%M")
    with sqlite3.connect(push_bot.db_path) as connection:
        connection.execute("UPDATE learners SET push_time = ?, weekdays = '0,1,2,3,4,5,6' WHERE user_id = ?",
                           (push_time, user.user_id))
    push = user.wait_for_text("spørgsmål klar", timeout=30)
    assert push["text"] == "☀️ 3 spørgsmål klar – 2 minutter"
    assert buttons(push) == ["▶ Start"]

    # No reaction: one reminder, later the same day (the push is moved 4 hours back to get there).
    with sqlite3.connect(push_bot.db_path) as connection:
        connection.execute("UPDATE pushes SET pushed_at = ? WHERE user_id = ?",
                           ((datetime.now(UTC) - timedelta(hours=4)).isoformat(timespec="seconds"), user.user_id))
    user.wait_for_text("venter stadig", timeout=30)

    user.press(push, "▶ Start")
    assert "poll" in wait_for_poll(user)

    # A restart keeps the schedule and does not push the same day twice.
    push_bot.stop()
    calls_before = own_emulator.emulator.state.calls["getUpdates"]
    restarted = start_bot(own_emulator, push_bot.directory, None, BOT_TIMEZONE=midday_zone(),
                          BOT_TICK_SECONDS="1")
    try:
        deadline = time.monotonic() + 60
        while own_emulator.emulator.state.calls["getUpdates"] == calls_before and time.monotonic() < deadline:
            time.sleep(0.1)
        user.ask("/help")
        time.sleep(3)  # several ticks
        texts = [m.get("text") or "" for m in user.bot_messages()]
        assert sum("spørgsmål klar" in t for t in texts) == 1
        assert sum("venter stadig" in t for t in texts) == 1
        with sqlite3.connect(push_bot.db_path) as connection:
            assert connection.execute("SELECT push_time FROM learners WHERE user_id = ?",
                                      (user.user_id,)).fetchone()[0] == push_time
    finally:
        restarted.stop()
