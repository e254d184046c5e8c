"""Hardening after the adversarial test of issue 20, in process: what consultants may read, personal
data masked in the question log, poison updates set aside, the emulator's Host, Origin and token
checks, and the small input checks (400, not 500)."""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.services import campaigns as campaign_rules
from bot.services.campaigns import Campaigns, hash_password
from bot.storage import Storage
from bot.web.dashboard import GLOBAL_FAILURES, Dashboard

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
