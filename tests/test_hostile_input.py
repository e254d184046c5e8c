"""Hostile and odd input, property-based (hypothesis), through the real bot and the dashboard.

Each input gets a clear reply, nothing is stored wrongly, nothing renders unescaped: the emulator
refuses HTML that Telegram would refuse (so a reply at all means it was escaped), and dashboard
pages are checked for raw markup.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import start_bot
from tests.support import ROOT, BotProcess, ChatUser, EmulatorThread

ERROR_TEXTS = ("der gik noget galt", "Beklager")
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)

odd_text = st.one_of(
    st.text(min_size=1, max_size=300),
    st.text(alphabet=st.characters(categories=["Cc", "Cf", "So", "Sk"]), min_size=1, max_size=50),
    st.sampled_from([
        "x" * 4096, "🙂" * 1000, "مرحبا كيف حالك؟ aktindsigt", "שלום partshøring", "\u202eaktindsigt\u202c",
        "'; DROP TABLE learners; --", "<script>alert(1)</script>", "<b>fed</b> <i>", "**fed** _kursiv_ `kode`",
        "[link](javascript:alert(1))", "&amp; &lt; &", "\x00\x01\x02 nul", "   ", "/", "/start" + "A" * 70,
        "/start ../../etc/passwd", "/start kolding%20byg", "/pause -1", "/pause 99999999999999999999",
    ]),
)


@pytest.fixture(scope="module")
def fuzz_bot(own_emulator: EmulatorThread, tmp_path_factory: pytest.TempPathFactory,
             embedded_database: Path) -> Iterator[BotProcess]:
    process = start_bot(own_emulator, tmp_path_factory.mktemp("fuzz"), embedded_database)
    yield process
    process.stop()


@pytest.fixture(scope="module")
def fuzz_user(own_emulator: EmulatorThread, fuzz_bot: BotProcess) -> ChatUser:
    import sqlite3

    user = ChatUser(own_emulator.url, 31_001)
    user.ask("/start")
    with sqlite3.connect(fuzz_bot.db_path) as connection:  # no daily push to mix into the replies
        connection.execute("UPDATE learners SET weekdays = '' WHERE user_id = ?", (user.user_id,))
        connection.execute("DELETE FROM outbox")
    user.ask("/help")
    return user


@FUZZ
@given(text=odd_text)
def test_any_message_gets_a_clear_reply(fuzz_bot: BotProcess, fuzz_user: ChatUser, text: str) -> None:
    if not text.strip():
        return  # Telegram does not deliver empty messages
    reply = fuzz_user.ask(text[:4096], timeout=30)
    body = reply.get("text") or reply.get("caption") or ""
    assert body and not any(error in body for error in ERROR_TEXTS), body[:200]


@FUZZ
@given(data=st.one_of(
    st.text(min_size=1, max_size=64),
    st.from_regex(r"(art|page|rel|fb|quiz|set|delete):[a-z0-9:-]{0,40}", fullmatch=True),
    st.sampled_from(["fb:1:1", "quiz:next:1", "quiz:stop:999999", "art:findes-ikke:0", "page:fvl-partshoering:999",
                     "set:time:9999", "set:area:3", "set:count:9", "quiz:topic:findes-ikke", "x" * 300]),
))
def test_forged_button_data_is_answered_and_changes_nothing(
    fuzz_bot: BotProcess, fuzz_user: ChatUser, own_emulator: EmulatorThread, data: str
) -> None:
    # A second learner forges data on their own message: ids in it belong to fuzz_user, if anyone.
    forger = ChatUser(own_emulator.url, 31_002)
    message = forger.ask("/privatliv")
    before = _fingerprint(fuzz_bot.db_path, fuzz_user.user_id)
    forger.press_data(message["message_id"], data)
    forger.ask("/help")  # handled after the press: one chat's updates are handled in order
    answers = own_emulator.emulator.state.callback_answers
    assert answers, "the button press was not answered"
    answers.clear()
    recent = [m.get("text") or "" for m in forger.bot_messages()[-3:]]
    assert not any(error in text for text in recent for error in ERROR_TEXTS), recent
    if data.startswith(("fb:", "quiz:next", "quiz:stop")):
        assert _fingerprint(fuzz_bot.db_path, fuzz_user.user_id) == before


def _fingerprint(db_path: Path, user_id: int) -> tuple:
    import sqlite3

    with sqlite3.connect(db_path) as connection:
        return (
            connection.execute("SELECT COUNT(*) FROM answers").fetchone()[0],
            connection.execute("SELECT COUNT(*), COUNT(feedback) FROM question_log").fetchone(),
            connection.execute("SELECT COUNT(*) FROM learners").fetchone()[0],
        )


@FUZZ
@given(payload=st.text(min_size=1, max_size=80))
def test_garbage_deep_link_payloads(fuzz_bot: BotProcess, fuzz_user: ChatUser, payload: str) -> None:
    payload = payload.replace("\n", " ").strip()
    if not payload:
        return
    fuzz_user.send(f"/start {payload}")
    reply = fuzz_user.wait_for(lambda m: "invitation" in (m.get("text") or ""), timeout=30)
    assert "kender jeg ikke" in reply["text"]


# -- the dashboard --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory, embedded_database: Path) -> Iterator[httpx.Client]:
    from tests.support import free_port

    directory = tmp_path_factory.mktemp("fuzz-dashboard")
    db_path = directory / "bot.sqlite3"
    shutil.copy(embedded_database, db_path)
    port = free_port()
    env = {"TELEGRAM_BOT_TOKEN": "", "BOT_DB": str(db_path), "HTTP_PORT": str(port)}
    subprocess.run([sys.executable, str(ROOT / "run_bot.py"), "consultant", "add", "fuzz", "--password-stdin"],
                   input="et-langt-kodeord-1\n", text=True, env={**os.environ, **env}, check=True, timeout=60)
    process = BotProcess(env, directory / "bot.log")
    process.start(ready=lambda: "LOCAL MODE" in process.log())
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    page = client.get("/dashboard/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    assert client.post("/dashboard/login", data={"csrf": csrf, "name": "fuzz", "password": "et-langt-kodeord-1"}
                       ).status_code == 303
    client.csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/dashboard/").text).group(1)
    cohort = client.post("/dashboard/cohorts", data={"csrf": client.csrf, "name": "Hold"})
    client.cohort_path = cohort.headers["location"]
    yield client
    process.stop()


def assert_no_raw_markup(html: str, text: str) -> None:
    if "<" in text or ">" in text:
        assert text.strip() not in html or "<" not in text.strip(), "user text rendered unescaped"


@FUZZ
@given(name=odd_text)
def test_cohort_names_are_stored_and_shown_escaped(dashboard: httpx.Client, name: str) -> None:
    response = dashboard.post("/dashboard/cohorts", data={"csrf": dashboard.csrf, "name": name})
    assert response.status_code in (303, 400)
    if response.status_code == 303:
        page = dashboard.get(response.headers["location"])
        assert page.status_code == 200
        assert "<script>alert(1)</script>" not in page.text


@FUZZ
@given(fields=st.dictionaries(
    st.sampled_from(["name", "start_date", "end_date", "push_time", "per_push", "question_ids", "intro", "areas",
                     "weekdays"]), odd_text, max_size=9))
def test_campaign_form_never_fails_on_the_server(dashboard: httpx.Client, fields: dict) -> None:
    response = dashboard.post(f"{dashboard.cohort_path}/campaigns", data={"csrf": dashboard.csrf, **fields})
    assert response.status_code in (303, 400), response.text[:200]
    if response.status_code == 303:
        page = dashboard.get(response.headers["location"])
        assert page.status_code == 200 and "<script>alert(1)</script>" not in page.text


@FUZZ
@given(text=odd_text, send_at=st.one_of(st.just(""), st.text(max_size=30)))
def test_announcement_form_never_fails_on_the_server(dashboard: httpx.Client, text: str, send_at: str) -> None:
    response = dashboard.post(f"{dashboard.cohort_path}/announcements",
                              data={"csrf": dashboard.csrf, "text": text, "send_at": send_at})
    assert response.status_code in (303, 400)
    assert "<script>alert(1)</script>" not in dashboard.get(dashboard.cohort_path).text


def test_oversized_form_is_refused(dashboard: httpx.Client) -> None:
    response = dashboard.post("/dashboard/cohorts", data={"csrf": dashboard.csrf, "name": "x" * 200_000})
    assert response.status_code == 413


def test_forged_login_without_token_is_refused(dashboard: httpx.Client) -> None:
    fresh = httpx.Client(base_url=str(dashboard.base_url))
    assert fresh.post("/dashboard/login", data={"name": "fuzz", "password": "et-langt-kodeord-1"}).status_code == 403
