"""Hardening after the adversarial test of issue 20, in process: what consultants may read, personal
data masked in the question log, poison updates set aside, the emulator's Host, Origin and token
checks, and the small input checks (400, not 500)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.delivery import inbox as inbox_module
from bot.delivery.inbox import REPLIES_IN_FLIGHT, Dispatcher, ReplyTrackingBot, chat_key
from bot.delivery.transport import AiohttpRequest
from bot.localmode.emulator import BotApiEmulator
from bot.services import campaigns as campaign_rules
from bot.services.campaigns import Campaigns, hash_password
from bot.storage import Storage
from bot.web.dashboard import GLOBAL_FAILURES, Dashboard
from tests.support import ROOT, TEST_TOKEN, EmulatorThread

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


# -- findings 2 and 3: logins slow down instead of locking out; forwarded addresses from proxies only ----


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@contextlib.asynccontextmanager
async def dashboard_client(storage: Storage, trusted_proxies: frozenset[str] = frozenset()
                           ) -> AsyncIterator[tuple[TestClient, Clock]]:
    """The dashboard in process, with two consultants and a clock the test sets."""
    clock = Clock()
    storage.consultants.add_consultant("bo", hash_password("bo-et-langt-kodeord"), NOW)
    storage.consultants.add_consultant("anna", hash_password("anna-et-langt-kodeord"), NOW)
    app = web.Application()
    service = Campaigns(storage.cohorts, storage.campaigns, storage.quizzes, [], ZoneInfo("Europe/Copenhagen"))
    Dashboard(storage.consultants, storage.cohorts, storage.campaigns, service, clock, lambda: "bot",
              trusted_proxies).add_routes(app)
    async with TestClient(TestServer(app)) as client:
        yield client, clock


@pytest.fixture
async def dashboard(storage: Storage) -> AsyncIterator[tuple[TestClient, Clock]]:
    async with dashboard_client(storage) as client_and_clock:
        yield client_and_clock


async def try_login(client: TestClient, name: str, password: str, forwarded_for: str | None = None) -> int:
    page = await client.get("/dashboard/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', await page.text()).group(1)
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    response = await client.post("/dashboard/login", data={"csrf": csrf, "name": name, "password": password},
                                 headers=headers, allow_redirects=False)
    return response.status


async def test_failed_logins_slow_down_but_never_lock_out(dashboard: tuple[TestClient, Clock]) -> None:
    client, clock = dashboard
    statuses = [await try_login(client, "bo", "gæt") for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    clock.now += timedelta(seconds=2)  # the delay after five failures has passed
    assert await try_login(client, "bo", "bo-et-langt-kodeord") == 303
    # The delay grows with each further failure, up to a minute, and then the right password works.
    for _ in range(12):
        clock.now += timedelta(seconds=61)
        assert await try_login(client, "anna", "gæt") == 401
    assert await try_login(client, "anna", "anna-et-langt-kodeord") == 429
    clock.now += timedelta(seconds=61)
    assert await try_login(client, "anna", "anna-et-langt-kodeord") == 303


async def test_forwarded_address_is_ignored_without_a_trusted_proxy(dashboard: tuple[TestClient, Clock]) -> None:
    client, _ = dashboard
    # Twenty failures under twenty made-up forwarded addresses still count for the one real address.
    for number in range(20):
        assert await try_login(client, f"navn{number}", "gæt", forwarded_for=f"203.0.113.{number}") == 401
    assert await try_login(client, "bo", "bo-et-langt-kodeord", forwarded_for="198.51.100.7") == 429


async def test_forwarded_address_is_used_behind_a_trusted_proxy(storage: Storage) -> None:
    async with dashboard_client(storage, frozenset({"127.0.0.1"})) as (client, _):
        # Behind the proxy every request comes from 127.0.0.1: one attacker's failures must not slow
        # down everyone else.
        for number in range(25):
            assert await try_login(client, f"navn{number}", "gæt", forwarded_for="203.0.113.9") in (401, 429)
        assert await try_login(client, "bo", "bo-et-langt-kodeord", forwarded_for="198.51.100.7") == 303
        # A spoofed first entry does not help: the proxy's own (last) entry is the address.
        assert await try_login(client, "anna", "x", forwarded_for="198.51.100.8, 203.0.113.9") == 429


async def test_a_login_flood_is_limited_over_all_names_and_addresses(dashboard: tuple[TestClient, Clock]) -> None:
    client, clock = dashboard
    for number in range(GLOBAL_FAILURES):
        clock.now += timedelta(milliseconds=500)
        if number % 20 == 0:
            clock.now += timedelta(minutes=15)  # keeps the per-address count below its limit
        assert await try_login(client, f"navn{number}", "gæt") == 401
    assert await try_login(client, "bo", "bo-et-langt-kodeord") == 429
    clock.now += timedelta(minutes=1)
    assert await try_login(client, "bo", "bo-et-langt-kodeord") == 303


async def test_password_checks_run_off_the_event_loop(dashboard: tuple[TestClient, Clock]) -> None:
    client, _ = dashboard
    loop_thread = threading.get_ident()
    threads = []
    original = campaign_rules.verify_password

    def spy(password_hash: str, password: str) -> bool:
        threads.append(threading.get_ident())
        return original(password_hash, password)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(campaign_rules, "verify_password", spy)
        assert await try_login(client, "bo", "gæt") == 401
        assert await try_login(client, "bo", "x" * 201) == 401  # too long to be a password: not hashed
    assert len(threads) == 1 and threads[0] != loop_thread


# -- finding 4: CPR numbers, phone numbers and e-mail addresses are masked when a question is stored -----


@pytest.mark.parametrize(("asked", "stored"), [
    ("mit cpr-nummer er 010203-1234, må I gemme det?", "mit cpr-nummer er [CPR-nummer], må I gemme det?"),
    ("borgeren 0102031234 klager", "borgeren [CPR-nummer] klager"),
    ("ring til 12 34 56 78 eller +45 87654321", "ring til [telefonnummer] eller [telefonnummer]"),
    ("kan jeg svare mette.hansen@kolding.dk på mail?", "kan jeg svare [e-mail] på mail?"),
    # Law references, years, dates and case numbers are not personal data and stay.
    ("fvl. § 19 stk. 2, regnskab 2019-2023, mødet 12.03.2024, j.nr. 2024-12345",
     "fvl. § 19 stk. 2, regnskab 2019-2023, mødet 12.03.2024, j.nr. 2024-12345"),
])
def test_personal_data_is_masked_when_a_question_is_stored(storage: Storage, asked: str, stored: str) -> None:
    log_id = storage.questions.log_question(update_id=None, user_id=None, now=NOW, question=asked,
                                            article_id=None, score=0.0, abstained=True)
    assert storage.conn.execute("SELECT question FROM question_log WHERE id = ?", (log_id,)).fetchone()[0] == stored


def test_privacy_text_says_personal_data_is_masked() -> None:
    from bot.telegram.texts import privacy_text

    assert "CPR-numre, telefonnumre og e-mailadresser" in privacy_text()


# -- finding 6: a poison update is set aside (kept, marked, logged once) and the bot goes on ------------


class StubApplication:
    """Stands in for python-telegram-bot's Application: records updates, fails on some."""

    bot = None

    def __init__(self, failing: set[int]) -> None:
        self.failing = failing
        self.handled: list[int] = []

    async def process_update(self, update: object) -> None:
        if update.update_id in self.failing:
            raise RuntimeError("handler crashed")
        self.handled.append(update.update_id)


def message(update_id: int, chat: int, text: str) -> dict:
    return {"update_id": update_id, "message": {"message_id": update_id, "date": 0, "text": text,
                                                "chat": {"id": chat, "type": "private"}}}


@pytest.mark.parametrize("body", [
    {"update_id": 1, "message": {"chat": 5}},
    {"update_id": 1, "message": "x"},
    {"update_id": 1, "callback_query": {"id": "1"}},
    {"update_id": 1, "callback_query": {"from": {"id": 2**70}}},
    {"update_id": 1, "poll_answer": {"user": None}},
])
def test_chat_key_of_a_malformed_update_is_zero(body: dict) -> None:
    assert chat_key(body) == 0


async def test_a_poison_update_is_set_aside_and_the_chat_goes_on(
    storage: Storage, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(inbox_module, "ATTEMPT_PAUSE", 0.01)
    application = StubApplication(failing={11})
    dispatcher = Dispatcher(application, storage.inbox)
    unparsable = {"update_id": 10, "message": {"chat": {"id": 5}}}  # no date, no message id
    dispatcher.store_and_submit([unparsable, message(11, 5, "crashes"), message(12, 5, "fint")])
    await dispatcher.drain()
    assert application.handled == [12]
    rows = {r[0]: r[1:] for r in storage.conn.execute("SELECT update_id, status, attempts, body FROM inbox")}
    assert rows[10][:2] == ("failed", 3) and rows[11][:2] == ("failed", 3) and rows[10][2] and rows[11][2]
    assert rows[12][:2] == ("done", 1)
    set_aside = [r for r in caplog.records if "set aside" in r.getMessage()]
    assert len(set_aside) == 2  # once per update
    # A restart does not try them again.
    assert Dispatcher(application, storage.inbox).submit_pending() == 0


async def test_an_update_that_stopped_the_bot_three_times_is_set_aside_at_start(storage: Storage) -> None:
    storage.inbox.store_updates([(20, message(20, 6, "hej"))], NOW)
    for _ in range(3):  # three starts that each died while handling it
        storage.inbox.note_attempt(20)
    application = StubApplication(failing=set())
    dispatcher = Dispatcher(application, storage.inbox)
    assert dispatcher.submit_pending() == 1
    await dispatcher.drain()
    assert application.handled == []
    assert storage.conn.execute("SELECT status FROM inbox WHERE update_id = 20").fetchone()[0] == "failed"


async def test_a_lone_surrogate_is_stored_and_handled(storage: Storage) -> None:
    application = StubApplication(failing=set())
    dispatcher = Dispatcher(application, storage.inbox)
    assert dispatcher.store_and_submit([message(30, 7, "hej \ud800 med dig"), {"update_id": 2**63}, ["x"]]) == 1
    await dispatcher.drain()
    assert application.handled == [30]
    assert storage.conn.execute("SELECT status FROM inbox WHERE update_id = 30").fetchone()[0] == "done"


# -- finding 7: the emulator answers only this machine's own pages, and the bot's token ---------------


@pytest.fixture
def emulator_server() -> Iterator[EmulatorThread]:
    server = EmulatorThread().start()
    yield server
    server.stop()


def test_emulator_refuses_other_hosts_other_origins_and_other_tokens(emulator_server: EmulatorThread) -> None:
    url = emulator_server.url
    send = {"user_id": 801, "text": "hej"}
    assert httpx.post(f"{url}/emulator/send", json=send).status_code == 200
    # DNS rebinding: a foreign name that resolves to 127.0.0.1.
    assert httpx.post(f"{url}/emulator/send", json=send, headers={"Host": "evil.example:80"}).status_code == 421
    assert httpx.get(f"{url}/bot{TEST_TOKEN}/getMe", headers={"Host": "evil.example"}).status_code == 421
    # A page of another origin, with a "simple" request a browser sends without asking first.
    assert httpx.post(f"{url}/emulator/send", content=b'{"user_id": 801, "text": "hej"}',
                      headers={"Origin": "https://evil.example", "Content-Type": "text/plain"}).status_code == 403
    assert httpx.post(f"{url}/emulator/send", content=b'{"user_id": 801, "text": "hej"}',
                      headers={"Content-Type": "text/plain"}).status_code == 415
    assert httpx.post(f"{url}/emulator/send", json=send, headers={"Origin": url}).status_code == 200
    assert httpx.post(f"{url}/emulator/send", json=send, headers={"Origin": "null"}).status_code == 403
    # The Bot API side wants the bot's own token.
    assert httpx.post(f"{url}/bot123:wrong-token/sendMessage", data={"chat_id": 801, "text": "x"}).status_code == 401
    assert httpx.post(f"{url}/bot{TEST_TOKEN}/sendMessage", data={"chat_id": 801, "text": "x"}).status_code == 200


async def test_local_chats_are_kept_across_a_restart(tmp_path: Path) -> None:
    store = tmp_path / "bot.sqlite3.local-chats.json"
    first = BotApiEmulator(TEST_TOKEN, store=store)
    await first.user_sends(901, "hej", "Mette")
    sent = await first.api_sendmessage({"chat_id": 901, "text": "Velkommen"})
    first.save()
    again = BotApiEmulator(TEST_TOKEN, store=store)
    assert [e["message"]["text"] for e in again.chat_log(901)] == ["hej", "Velkommen"]
    # An announcement to a learner who has not written since the restart reaches them.
    later = await again.api_sendmessage({"chat_id": 901, "text": "Husk mødet"})
    assert later["message_id"] > sent["message_id"] and again.user(901)["first_name"] == "Mette"


# -- replies in flight at a kill -9 are bounded --------------------------------------------------------


async def test_replies_in_flight_are_bounded(emulator_server: EmulatorThread) -> None:
    emulator_server.emulator.user(902)
    # Every reply takes 0.2 s, so a burst piles up as many as the bot lets through at once.
    bot = ReplyTrackingBot(TEST_TOKEN, base_url=emulator_server.api_url,
                           request=AiohttpRequest(connection_pool_size=64))
    original = emulator_server.emulator.api_sendmessage

    async def slow_send(params: dict) -> dict:
        await asyncio.sleep(0.2)
        return await original(params)

    emulator_server.emulator.api_sendmessage = slow_send
    async with bot:
        await asyncio.gather(*(bot.send_message(902, f"svar {n}") for n in range(40)))
    assert emulator_server.emulator.state.max_in_flight == REPLIES_IN_FLIGHT


# -- finding 5: ONNX Runtime's telemetry is off before its first session; no call home ----------------


def test_onnx_runtime_telemetry_is_off_before_the_first_session(monkeypatch: pytest.MonkeyPatch) -> None:
    import onnxruntime

    from bot.config import minilm_model
    from knowledge.embeddings import OnnxEncoder, exported_model

    calls: list[str] = []
    session = onnxruntime.InferenceSession
    monkeypatch.setattr(onnxruntime, "disable_telemetry_events", lambda: calls.append("telemetry off"))
    monkeypatch.setattr(onnxruntime, "InferenceSession",
                        lambda *args, **kwargs: calls.append("session") or session(*args, **kwargs))
    OnnxEncoder(exported_model(minilm_model()))
    assert calls == ["telemetry off", "session"]


# -- found as a new user: `consultant add` without a terminal, and the dashboard's address ------------


def run_cli(tmp_path: Path, *args: str, stdin: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "BOT_DB": str(tmp_path / "bot.sqlite3"), "HTTP_PORT": "9123"}
    return subprocess.run([sys.executable, str(ROOT / "run_bot.py"), *args], input=stdin, text=True, env=env,
                          cwd=tmp_path, capture_output=True, timeout=120)


def test_consultant_add_with_a_piped_password_says_what_to_do(tmp_path: Path) -> None:
    piped = run_cli(tmp_path, "consultant", "add", "mette", stdin="et-langt-kodeord\n")
    assert piped.returncode == 2 and "--password-stdin" in piped.stderr and "Traceback" not in piped.stderr
    too_long = run_cli(tmp_path, "consultant", "add", "mette", "--password-stdin", stdin="x" * 201 + "\n")
    assert too_long.returncode == 2 and "200" in too_long.stderr  # it could never log in
    created = run_cli(tmp_path, "consultant", "add", "mette", "--password-stdin", stdin="et-langt-kodeord\n")
    assert created.returncode == 0 and "http://127.0.0.1:9123/dashboard/" in created.stdout


def test_settings_come_from_the_project_folders_env_file_wherever_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from bot import cli

    project_env = tmp_path / "project" / ".env"
    project_env.parent.mkdir()
    project_env.write_text(f"HTTP_PORT=9444\nBOT_DB={tmp_path / 'bot.sqlite3'}\n")
    monkeypatch.setattr(cli, "PROJECT_ENV", project_env)
    monkeypatch.delenv("HTTP_PORT", raising=False)
    monkeypatch.delenv("BOT_DB", raising=False)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setattr(sys, "stdin", io.StringIO("et-langt-kodeord\n"))
    assert cli.main(["consultant", "add", "mette", "--password-stdin"]) == 0
    assert "http://127.0.0.1:9444/dashboard/" in capsys.readouterr().out


# -- finding 8: small checks ---------------------------------------------------------------------------


async def test_dashboard_headers_form_limit_and_huge_ids(dashboard: tuple[TestClient, Clock]) -> None:
    client, _ = dashboard
    page = await client.get("/dashboard/login")
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]  # nothing from other origins
    assert page.headers["X-Content-Type-Options"] == "nosniff" and page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "same-origin"

    async def chunked() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield b"name=" + b"x" * 1000 + b"&"

    # A chunked body has no Content-Length, and is measured all the same.
    assert (await client.post("/dashboard/login", data=chunked())).status == 413
    assert (await client.get("/dashboard/campaigns/99999999999999999999")).status == 404


@pytest.mark.parametrize("cell", ["=1+1", " =1+1", "＝1+1", "＋A1", "@SUM(A1)", "-2"])
def test_csv_cells_cannot_start_a_formula(cell: str) -> None:
    from bot.web.exports import csv_safe as _csv_safe

    assert _csv_safe(cell) == "'" + cell


async def test_forwarded_https_is_believed_only_from_a_trusted_proxy(tmp_path: Path) -> None:
    for trusted, secure in ((frozenset(), False), (frozenset({"127.0.0.1"}), True)):
        storage = Storage(tmp_path / f"{secure}.sqlite3")
        async with dashboard_client(storage, trusted) as (client, _):
            page = await client.get("/dashboard/login", headers={"X-Forwarded-Proto": "https"})
            assert ("Secure" in page.headers["Set-Cookie"]) is secure
            assert ("Strict-Transport-Security" in page.headers) is secure
