"""Security: the webhook secret, learners' and consultants' scopes, secrets kept out of the logs,
password storage, and backups that restore."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from bot.services.campaigns import hash_password, verify_password
from bot.storage import Storage
from tests.conftest import bot_env, polling_started, start_bot
from tests.support import ROOT, TEST_TOKEN, BotProcess, ChatUser, EmulatorThread, free_port

SECRET = "webhook-secret-for-the-test_123"


@pytest.fixture
def fresh_emulator() -> Iterator[EmulatorThread]:
    server = EmulatorThread().start()
    yield server
    server.stop()


def test_webhook_needs_the_secret_and_stores_before_answering(
    fresh_emulator: EmulatorThread, tmp_path: Path, embedded_database: Path
) -> None:
    shutil.copy(embedded_database, tmp_path / "bot.sqlite3")
    port = free_port()
    env = bot_env(fresh_emulator, tmp_path / "bot.sqlite3", HTTP_PORT=str(port),
                  WEBHOOK_URL="https://bot.example.dk/telegram/hook", WEBHOOK_SECRET=SECRET)
    bot = BotProcess(env, tmp_path / "bot.log")
    bot.start(ready=lambda: "webhook mode" in bot.log())
    try:
        assert fresh_emulator.emulator.state.webhook == {"url": "https://bot.example.dk/telegram/hook",
                                                         "secret_token": SECRET}
        fresh_emulator.emulator.user(41_001)
        update = {"update_id": 900, "message": {
            "message_id": 5, "date": 0, "chat": {"id": 41_001, "type": "private"},
            "from": {"id": 41_001, "is_bot": False, "first_name": "Web"}, "text": "/help",
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}]}}
        url = f"http://127.0.0.1:{port}/telegram/hook"
        assert httpx.post(url, json=update).status_code == 403
        assert httpx.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "wrong"}).status_code == 403
        assert httpx.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}).status_code == 200
        with sqlite3.connect(tmp_path / "bot.sqlite3") as connection:
            assert connection.execute("SELECT COUNT(*) FROM inbox WHERE update_id = 900").fetchone()[0] == 1
        user = ChatUser(fresh_emulator.url, 41_001)
        assert "Sådan bruger du mig" in user.wait_for_text("Sådan bruger du mig")["text"]
        # The same update again (Telegram retrying) is recognised and not answered twice.
        assert httpx.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}).status_code == 200
        hook = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        assert httpx.post(url, content=b"{not json", headers=hook).status_code == 400
        assert httpx.post(url, content=b"[" * 100_000, headers=hook).status_code == 400
        assert httpx.post(url, json={**update, "update_id": 2**63}, headers=hook).status_code == 400
        # A malformed update is stored, tried, set aside and kept; the bot goes on with the next one.
        assert httpx.post(url, json={"update_id": 901, "message": {"chat": 41_001}}, headers=hook).status_code == 200
        assert httpx.post(url, json={**update, "update_id": 902}, headers=hook).status_code == 200
        user.wait_for_text("Sådan bruger du mig")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and "set aside" not in bot.log():
            time.sleep(0.2)
        with sqlite3.connect(tmp_path / "bot.sqlite3") as connection:
            assert connection.execute("SELECT status, body IS NOT NULL FROM inbox WHERE update_id = 901"
                                      ).fetchone() == ("failed", 1)
    finally:
        bot.stop()
    assert sum("Sådan bruger du mig" in (m.get("text") or "") for m in user.bot_messages()) == 2
    assert bot.log().count("update 901 failed") == 1


def test_no_token_password_or_message_text_in_the_logs(
    fresh_emulator: EmulatorThread, tmp_path: Path, embedded_database: Path
) -> None:
    bot = start_bot(fresh_emulator, tmp_path, embedded_database)
    try:
        user = ChatUser(fresh_emulator.url, 42_001)
        user.ask("/start")
        user.ask("mit cpr-nummer er 010203-1234, må I gemme det?")
        fresh_emulator.add_fault("sendMessage", 400, description="Bad Request: something", chat_id=42_001)
        user.ask("/help")
    finally:
        bot.stop()
    log = bot.log()
    assert TEST_TOKEN not in log and TEST_TOKEN.split(":")[1] not in log
    assert "010203-1234" not in log
    with sqlite3.connect(bot.db_path) as connection:
        stored = [row[0] for row in connection.execute("SELECT question FROM question_log WHERE user_id = 42001")]
    assert stored == ["mit cpr-nummer er [CPR-nummer], må I gemme det?"]


AUDITED_BOT = """
import json, os, runpy, sys

record = open(os.environ["SOCKET_LOG"], "a")

def hook(event, args):
    if event == "socket.connect":
        record.write(json.dumps(["connect", repr(args[1])]) + "\\n"); record.flush()
    elif event == "socket.getaddrinfo":
        record.write(json.dumps(["resolve", str(args[0])]) + "\\n"); record.flush()

sys.addaudithook(hook)
sys.argv = [os.environ["RUN_BOT"]]
runpy.run_path(os.environ["RUN_BOT"], run_name="__main__")
"""


def test_no_connection_but_to_the_bot_api(fresh_emulator: EmulatorThread, tmp_path: Path) -> None:
    """With the model on ONNX Runtime (its telemetry off), the bot opens no socket but to the Bot API."""
    from bot.config import minilm_model

    launcher = tmp_path / "audited_bot.py"
    launcher.write_text(AUDITED_BOT)
    sockets = tmp_path / "sockets.jsonl"
    env = bot_env(fresh_emulator, tmp_path / "bot.sqlite3", EMBEDDING_MODEL=minilm_model(),
                  SOCKET_LOG=str(sockets), RUN_BOT=str(ROOT / "run_bot.py"))
    bot = BotProcess(env, tmp_path / "bot.log", script=launcher)
    bot.start(ready=lambda: polling_started(fresh_emulator), timeout=180)
    try:
        user = ChatUser(fresh_emulator.url, 44_001)
        user.ask("/start")
        user.ask("hvad er partshøring?")
    finally:
        bot.stop()
    seen = [json.loads(line) for line in sockets.read_text().splitlines()]
    assert seen, "the audit hook saw no socket at all"
    allowed = {("connect", repr(("127.0.0.1", fresh_emulator.port))), ("resolve", "127.0.0.1")}
    assert set(map(tuple, seen)) <= allowed, seen


def two_consultants(db_path: Path) -> dict:
    storage = Storage(db_path)
    now = datetime.now(UTC)
    ids = {}
    for name in ("anna", "bo"):
        consultant = storage.add_consultant(name, hash_password(f"{name}-et-langt-kodeord"), now)
        cohort = storage.create_cohort(consultant, f"Hold for {name}", f"code-{name}-2027", now)
        campaign = storage.create_campaign(cohort, now, name=f"Kampagne {name}", start_date="2026-01-01",
                                           end_date="2027-12-31", weekdays="0,1,2,3,4", push_time="09:00",
                                           per_push=3)
        ids[name] = {"cohort": cohort, "campaign": campaign}
    storage.close()
    return ids


def login(base: str, name: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/dashboard/login").text).group(1)
    response = client.post("/dashboard/login", data={"csrf": csrf, "name": name,
                                                     "password": f"{name}-et-langt-kodeord"})
    assert response.status_code == 303
    return client


@pytest.fixture
def dashboard_with_two(tmp_path: Path, embedded_database: Path) -> Iterator[tuple[str, dict]]:
    shutil.copy(embedded_database, tmp_path / "bot.sqlite3")
    ids = two_consultants(tmp_path / "bot.sqlite3")
    port = free_port()
    # As behind a reverse proxy on the same machine: its X-Forwarded-Proto is believed.
    bot = BotProcess({"TELEGRAM_BOT_TOKEN": "", "BOT_DB": str(tmp_path / "bot.sqlite3"), "HTTP_PORT": str(port),
                      "TRUSTED_PROXIES": "127.0.0.1"}, tmp_path / "bot.log")
    bot.start(ready=lambda: "LOCAL MODE" in bot.log())
    yield f"http://127.0.0.1:{port}", ids
    bot.stop()
    assert "et-langt-kodeord" not in bot.log()


def test_a_consultant_sees_only_their_own_cohorts_and_campaigns(dashboard_with_two: tuple[str, dict]) -> None:
    base, ids = dashboard_with_two
    anna = login(base, "anna")
    home = anna.get("/dashboard/").text
    assert "Hold for anna" in home and "Hold for bo" not in home and "Kampagne bo" not in home
    theirs = ids["bo"]
    for path in (f"/dashboard/cohorts/{theirs['cohort']}", f"/dashboard/cohorts/{theirs['cohort']}/qr.svg",
                 f"/dashboard/campaigns/{theirs['campaign']}",
                 f"/dashboard/campaigns/{theirs['campaign']}/retention.png",
                 f"/dashboard/campaigns/{theirs['campaign']}/export/learners.csv"):
        assert anna.get(path).status_code == 404, path
    csrf = re.search(r'name="csrf" value="([^"]+)"', home).group(1)
    assert anna.post(f"/dashboard/campaigns/{theirs['campaign']}/status",
                     data={"csrf": csrf, "status": "ended"}).status_code == 404
    assert anna.post(f"/dashboard/cohorts/{theirs['cohort']}/announcements",
                     data={"csrf": csrf, "text": "hej"}).status_code == 404
    assert anna.get(f"/dashboard/campaigns/{ids['anna']['campaign']}").status_code == 200


def test_session_cookie_flags_and_secure_behind_https(dashboard_with_two: tuple[str, dict]) -> None:
    base, _ = dashboard_with_two
    client = httpx.Client(base_url=base)
    page = client.get("/dashboard/login", headers={"X-Forwarded-Proto": "https"})
    cookie = page.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" in cookie
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    # (A Secure cookie is not sent back over plain http: the test hands it over itself.)
    response = client.post("/dashboard/login", data={"csrf": csrf, "name": "anna", "password": "anna-et-langt-kodeord"},
                           headers={"X-Forwarded-Proto": "https", "Cookie": f"fa_login_csrf={csrf}"})
    session_cookie = response.headers["set-cookie"]
    assert "fa_session=" in session_cookie and "HttpOnly" in session_cookie and "Secure" in session_cookie


def test_repeated_failed_logins_are_slowed_down(dashboard_with_two: tuple[str, dict]) -> None:
    base, _ = dashboard_with_two
    client = httpx.Client(base_url=base)
    responses = []
    for _ in range(7):
        csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/dashboard/login").text).group(1)
        responses.append(client.post("/dashboard/login", data={"csrf": csrf, "name": "bo", "password": "gæt"}))
    assert [r.status_code for r in responses] == [401] * 5 + [429, 429]
    # A delay, not a lockout: once it has passed, the right password works.
    time.sleep(int(responses[-1].headers["Retry-After"]))
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/dashboard/login").text).group(1)
    assert client.post("/dashboard/login", data={"csrf": csrf, "name": "bo", "password": "bo-et-langt-kodeord"}
                       ).status_code == 303


def test_learners_replies_stay_fast_under_a_login_flood(dashboard_with_two: tuple[str, dict]) -> None:
    base, _ = dashboard_with_two
    user = ChatUser(base, 60_001)
    user.ask("/help")

    def flood(source: int) -> None:
        # 16 source addresses (127.0.0.x), 5 wrong passwords each, each under a name of its own.
        with httpx.Client(base_url=base, timeout=60,
                          transport=httpx.HTTPTransport(local_address=f"127.0.0.{source}")) as client:
            for attempt in range(5):
                page = client.get("/dashboard/login")
                csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
                client.post("/dashboard/login", data={"csrf": csrf, "name": f"x{source}-{attempt}", "password": "gæt"})

    threads = [threading.Thread(target=flood, args=(source,)) for source in range(1, 17)]
    for thread in threads:
        thread.start()
    latencies = []
    while any(thread.is_alive() for thread in threads) or not latencies:
        started = time.monotonic()
        user.ask("/help")
        latencies.append(time.monotonic() - started)
    for thread in threads:
        thread.join()
    # Measured before the password check left the event loop: 5.6 s; a reply takes about 0.3 s.
    assert max(latencies) < 2.0, latencies


def test_passwords_are_stored_as_salted_slow_hashes(tmp_path: Path) -> None:
    first, second = hash_password("samme-kodeord-123"), hash_password("samme-kodeord-123")
    assert first.startswith("$argon2id$") and first != second
    assert verify_password(first, "samme-kodeord-123") and not verify_password(first, "forkert")
    env = {**os.environ, "BOT_DB": str(tmp_path / "db.sqlite3")}
    subprocess.run([sys.executable, str(ROOT / "run_bot.py"), "consultant", "add", "x", "--password-stdin"],
                   input="hemmeligt-kodeord\n", text=True, env=env, check=True, timeout=60)
    with sqlite3.connect(tmp_path / "db.sqlite3") as connection:
        stored = connection.execute("SELECT password_hash FROM consultants").fetchone()[0]
    assert "hemmeligt" not in stored and stored.startswith("$argon2id$")
    short = subprocess.run([sys.executable, str(ROOT / "run_bot.py"), "consultant", "add", "y", "--password-stdin"],
                           input="kort\n", text=True, env=env, capture_output=True, timeout=60)
    assert short.returncode == 2


def test_backup_while_running_and_restore(
    fresh_emulator: EmulatorThread, tmp_path: Path, embedded_database: Path
) -> None:
    bot = start_bot(fresh_emulator, tmp_path, embedded_database)
    user = ChatUser(fresh_emulator.url, 43_001)
    try:
        user.ask("/start")
        user.ask("hvad er notatpligt?")
        backup = tmp_path / "backups" / "copy.sqlite3"
        result = subprocess.run([sys.executable, str(ROOT / "run_bot.py"), "backup", str(backup)],
                                env={**os.environ, **bot_env(fresh_emulator, bot.db_path)}, capture_output=True,
                                text=True, timeout=120)
        assert result.returncode == 0, result.stderr
    finally:
        bot.stop()
    # Restore as the README says: the bot stopped, the copy put in place of BOT_DB (without -wal/-shm).
    restored_dir = tmp_path / "restored"
    restored_dir.mkdir()
    shutil.copy(backup, restored_dir / "bot.sqlite3")
    with sqlite3.connect(restored_dir / "bot.sqlite3") as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert connection.execute("SELECT COUNT(*) FROM question_log WHERE user_id = 43001").fetchone()[0] == 1
    restored: BotProcess = start_bot(fresh_emulator, restored_dir, None)
    try:
        assert "Velkommen tilbage" in user.ask("/start")["text"]  # the learner is known
    finally:
        restored.stop()
