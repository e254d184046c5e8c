"""Crash safety and faults: kill -9 during a burst, during quiz answers and during a push; Telegram
answering 429, 500 or timing out; a busy database; a corrupt or foreign database file."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.delivery.inbox import REPLIES_IN_FLIGHT
from bot.storage import Storage
from tests.conftest import start_bot
from tests.support import ROOT, ChatUser, EmulatorThread, free_port, midday_zone
from tests.test_e2e_quiz import wait_for_poll

IN_FLIGHT = REPLIES_IN_FLIGHT  # replies that can be on their way at a kill (was 32: 10-13 doubled)
OUTBOX_IN_FLIGHT = 16  # the outbox sender's concurrency


@pytest.fixture
def fresh_emulator() -> Iterator[EmulatorThread]:
    server = EmulatorThread().start()
    yield server
    server.stop()


def bot_replies(emulator: EmulatorThread, user_id: int) -> list[dict]:
    """The bot's messages in a chat, less the daily push (new learners may get today's at once)."""
    return [e.message for e in emulator.emulator.state.chats.get(user_id, [])
            if e.sender == "bot" and not (e.message.get("text") or "").startswith(("☀️", "⏰"))]


def wait_until(condition, timeout: float = 60.0, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def integrity(db_path: Path) -> str:
    with sqlite3.connect(db_path) as connection:
        return connection.execute("PRAGMA integrity_check").fetchone()[0]


def test_kill_during_a_burst_loses_no_message_and_answers_each_once(
    fresh_emulator: EmulatorThread, tmp_path: Path, embedded_database: Path
) -> None:
    bot = start_bot(fresh_emulator, tmp_path, embedded_database)
    users = list(range(20_001, 20_201))
    questions = ["hvad er partshøring?", "frist for aktindsigt", "/help", "hvad er tavshedspligt?"]

    async def burst() -> None:
        for index, user_id in enumerate(users):
            await fresh_emulator.emulator.user_sends(user_id, questions[index % len(questions)])

    fresh_emulator.call(burst())
    assert wait_until(lambda: sum(bool(bot_replies(fresh_emulator, u)) for u in users) >= 30, 60)
    bot.kill()
    answered_before = sum(bool(bot_replies(fresh_emulator, u)) for u in users)
    assert answered_before < len(users), "the burst was handled before the kill; nothing was tested"

    restarted = start_bot(fresh_emulator, tmp_path, None)
    try:
        assert wait_until(lambda: all(bot_replies(fresh_emulator, u) for u in users), 120)
        time.sleep(1)
        counts = Counter(len(bot_replies(fresh_emulator, u)) for u in users)
        # Every message is answered. Telegram has no idempotency key, so a reply that was in flight
        # at the instant of the kill (sent, but its confirmation not yet stored) can go out twice:
        # at most one per handler running at that moment. The database effects happen once (below).
        doubled = sum(n - 1 for n in counts.elements() if n > 1)
        print(f"burst: {answered_before} answered before the kill, {doubled} answered twice")
        assert min(counts) == 1 and max(counts) <= 2 and doubled <= IN_FLIGHT, counts
        with sqlite3.connect(restarted.db_path) as connection:
            logged = connection.execute("SELECT COUNT(*), COUNT(DISTINCT update_id) FROM question_log").fetchone()
        assert logged[0] == logged[1] == sum(1 for i in range(len(users)) if questions[i % 4] != "/help")
    finally:
        restarted.stop()
    assert integrity(restarted.db_path) == "ok"


def test_kill_during_quiz_answers_records_each_once(
    fresh_emulator: EmulatorThread, tmp_path: Path, embedded_database: Path
) -> None:
    bot = start_bot(fresh_emulator, tmp_path, embedded_database)
    users = [ChatUser(fresh_emulator.url, user_id) for user_id in range(21_001, 21_061)]
    polls = {}
    for user in users:
        user.send("/quiz")
    for user in users:
        polls[user.user_id] = wait_for_poll(user)["poll"]

    async def vote_all() -> None:
        for user in users:
            await fresh_emulator.emulator.user_votes(user.user_id, polls[user.user_id]["id"], [0])

    fresh_emulator.call(vote_all())
    wait_until(lambda: sum(len(bot_replies(fresh_emulator, u.user_id)) >= 2 for u in users) >= 10, 60)
    bot.kill()
    restarted = start_bot(fresh_emulator, tmp_path, None)
    try:
        assert wait_until(lambda: all(len(bot_replies(fresh_emulator, u.user_id)) >= 2 for u in users), 120)
        time.sleep(1)
        with sqlite3.connect(restarted.db_path) as connection:
            answers = dict(connection.execute("SELECT user_id, COUNT(*) FROM answers GROUP BY user_id").fetchall())
        assert answers == {u.user_id: 1 for u in users}
        feedback = [sum(("Rigtigt" in (m.get("text") or "") or "Ikke helt" in (m.get("text") or ""))
                        for m in bot_replies(fresh_emulator, u.user_id)) for u in users]
        assert min(feedback) == 1 and sum(f - 1 for f in feedback) <= IN_FLIGHT, feedback
    finally:
        restarted.stop()
    assert integrity(restarted.db_path) == "ok"


def test_kill_during_a_push_delivers_each_message_exactly_once(
    fresh_emulator: EmulatorThread, tmp_path: Path, embedded_database: Path
) -> None:
    import shutil

    db_path = tmp_path / "bot.sqlite3"
    shutil.copy(embedded_database, db_path)
    storage = Storage(db_path)
    now = datetime.now(UTC)
    consultant = storage.add_consultant("K", "x", now)
    cohort = storage.create_cohort(consultant, "Alle", "alle-2027", now)
    users = list(range(22_001, 22_201))
    for user_id in users:
        fresh_emulator.emulator.user(user_id)
        storage.touch_learner(user_id, user_id, now)
        storage.update_learner_settings(user_id, weekdays="")  # no daily push: only the announcement
        storage.enrol(cohort, user_id, now)
    storage.create_announcement(cohort, "Velkommen til alle!", now, now)
    storage.close()

    def delivered() -> list[int]:
        return [u for u in users if any("Velkommen til alle!" in (m.get("text") or "")
                                        for m in bot_replies(fresh_emulator, u))]

    # Daytime in the bot's zone: announcements never go out in quiet hours.
    bot = start_bot(fresh_emulator, tmp_path, None, BOT_TICK_SECONDS="1", BOT_TIMEZONE=midday_zone())
    assert wait_until(lambda: len(delivered()) >= 40, 60)
    bot.kill()
    before = len(delivered())
    assert before < len(users), "the push finished before the kill; nothing was tested"
    restarted = start_bot(fresh_emulator, tmp_path, None, BOT_TICK_SECONDS="1", BOT_TIMEZONE=midday_zone())
    try:
        assert wait_until(lambda: len(delivered()) == len(users), 120)
        time.sleep(2)
        copies = Counter(sum("Velkommen til alle!" in (m.get("text") or "") for m in bot_replies(fresh_emulator, u))
                         for u in users)
        doubled = sum(n - 1 for n in copies.elements() if n > 1)
        print(f"push: {before} delivered before the kill, {doubled} delivered twice")
        assert min(copies) == 1 and doubled <= OUTBOX_IN_FLIGHT, copies
    finally:
        restarted.stop()
    assert integrity(restarted.db_path) == "ok"


def test_telegram_500_and_timeouts_are_retried_and_others_served(
    fresh_emulator: EmulatorThread, tmp_path: Path, embedded_database: Path
) -> None:
    bot = start_bot(fresh_emulator, tmp_path, embedded_database)
    try:
        first, second = ChatUser(fresh_emulator.url, 23_001), ChatUser(fresh_emulator.url, 23_002)
        first.ask("/start")
        second.ask("/start")
        fresh_emulator.add_fault("sendMessage", 500, count=2, chat_id=23_001)
        reply = first.ask("hvad er partshøring?", timeout=30)
        assert "Partshøring" in reply["text"]
        assert bot.log().count("Telegram call sendMessage failed") >= 2

        # A reply that times out (the emulator holds it past the read timeout) is retried too,
        # while another user is served in the meantime.
        fresh_emulator.add_fault("sendMessage", 502, count=1, delay=6.0, chat_id=23_001)
        first.send("/help")
        time.sleep(0.5)
        started = time.monotonic()
        assert "Sådan bruger du mig" in second.ask("/help", timeout=30)["text"]
        assert time.monotonic() - started < 5
        assert "Sådan bruger du mig" in first.wait_for_text("Sådan bruger du mig", timeout=40)["text"]

        fresh_emulator.add_fault("sendMessage", 429, count=1, retry_after=1, chat_id=23_001)
        assert "Partshøring" in first.ask("hvornår skal jeg partshøre?", timeout=30)["text"]
    finally:
        bot.stop()


def test_a_lone_surrogate_does_not_stop_polling(
    fresh_emulator: EmulatorThread, tmp_path: Path, embedded_database: Path
) -> None:
    bot = start_bot(fresh_emulator, tmp_path, embedded_database)
    try:
        user = ChatUser(fresh_emulator.url, 21_001)
        # Valid JSON ("\ud800" escaped) that no UTF-8 database can store as it is.
        fresh_emulator.call(fresh_emulator.emulator.user_sends(21_001, "hvad er \ud800 partshøring?"))
        user.send("/help")
        user.wait_for_text("Sådan bruger du mig", timeout=30)
        assert bot.process.poll() is None
    finally:
        bot.stop()


def test_locked_database_is_logged_and_the_message_answered_later(
    fresh_emulator: EmulatorThread, tmp_path: Path, embedded_database: Path
) -> None:
    bot = start_bot(fresh_emulator, tmp_path, embedded_database)
    try:
        user = ChatUser(fresh_emulator.url, 24_001)
        user.ask("/start")
        blocker = sqlite3.connect(bot.db_path, timeout=1, isolation_level=None)
        # The reply to /start arrives before the bot marks the update done: take the lock only
        # after that, so that it is /help that meets the locked database.
        deadline = time.monotonic() + 20
        while blocker.execute("SELECT COUNT(*) FROM inbox WHERE status = 'pending'").fetchone()[0]:
            assert time.monotonic() < deadline, "the bot never finished /start"
            time.sleep(0.05)
        blocker.execute("BEGIN EXCLUSIVE")
        user.send("/help")
        time.sleep(8)  # longer than the bot's busy timeout
        blocker.execute("ROLLBACK")
        blocker.close()
        assert "Sådan bruger du mig" in user.wait_for_text("Sådan bruger du mig", timeout=60)["text"]
        assert "could not store" in bot.log() or "database error" in bot.log()
        assert bot.process.poll() is None  # still running, no crash loop
    finally:
        bot.stop()


def test_database_error_in_a_handler_gets_a_polite_reply() -> None:
    from types import SimpleNamespace

    from telegram import Update

    from bot.telegram import handlers, texts

    sent = []

    class FakeBot:
        async def send_message(self, chat_id: int, text: str) -> None:
            sent.append((chat_id, text))

    update = Update.de_json({"update_id": 1, "message": {
        "message_id": 1, "date": 0, "chat": {"id": 5, "type": "private"}, "text": "hej"}}, None)
    for error in (sqlite3.OperationalError("database is locked"), sqlite3.OperationalError("database or disk is full")):
        asyncio.run(handlers.on_error(update, SimpleNamespace(error=error, bot=FakeBot())))
    assert sent == [(5, texts.BUSY_REPLY)] * 2


@pytest.mark.parametrize("content", [b"this is not a database at all" * 50, None])
def test_a_corrupt_or_foreign_database_is_refused_and_untouched(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "bot.sqlite3"
    if content is None:
        with sqlite3.connect(path) as connection:
            connection.execute("CREATE TABLE payroll (name TEXT, salary INTEGER)")
    else:
        path.write_bytes(content)
    before = path.read_bytes()
    env = {**os.environ, "BOT_DB": str(path), "HTTP_PORT": str(free_port()), "TELEGRAM_BOT_TOKEN": ""}
    result = subprocess.run([sys.executable, str(ROOT / "run_bot.py")], cwd=tmp_path, capture_output=True,
                            text=True, timeout=120, env=env)
    assert result.returncode == 3
    assert "Database refused" in result.stderr and "left untouched" in result.stderr
    assert path.read_bytes() == before
