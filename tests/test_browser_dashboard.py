"""The consultants' dashboard in headless Chromium (local mode): log in, create a cohort and a
campaign, see results, export CSV; a wrong password; a form without its CSRF token."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import ARTIFACTS, ROOT, BotProcess, ChatUser, free_port, midday_zone
from tests.test_browser_chat import browser  # noqa: F401 - the shared Chromium fixture

pytestmark = pytest.mark.browser
PASSWORD = "et-langt-kodeord-til-test"


@pytest.fixture(scope="module")
def dashboard_bot(tmp_path_factory: pytest.TempPathFactory, embedded_database) -> Iterator[str]:
    import shutil

    directory = tmp_path_factory.mktemp("dashboard")
    db_path = directory / "bot.sqlite3"
    shutil.copy(embedded_database, db_path)
    port = free_port()
    # Midday in the bot's zone, so the campaign's 09:00 welcome message is due now, not tonight.
    env = {"TELEGRAM_BOT_TOKEN": "", "BOT_DB": str(db_path), "HTTP_PORT": str(port), "HF_HUB_OFFLINE": "1",
           "BOT_TIMEZONE": midday_zone(), "BOT_TICK_SECONDS": "1"}
    created = subprocess.run([sys.executable, str(ROOT / "run_bot.py"), "consultant", "add", "Mette",
                              "--password-stdin"], input=PASSWORD + "\n", text=True, capture_output=True,
                             env={**__import__("os").environ, **env}, timeout=60)
    assert created.returncode == 0, created.stderr
    process = BotProcess(env, directory / "bot.log")
    process.start(ready=lambda: "LOCAL MODE" in process.log() and "dense search ready" in process.log())
    yield f"http://127.0.0.1:{port}"
    process.stop()


def login(page, url: str, password: str) -> None:
    page.goto(f"{url}/dashboard/login")
    page.fill("#name", "Mette")
    page.fill("#password", password)
    page.click("button[type=submit]")


def test_wrong_password_is_refused(dashboard_bot: str, browser) -> None:  # noqa: F811
    page = browser.new_page()
    login(page, dashboard_bot, "forkert-kodeord")
    assert page.locator(".error").inner_text() == "Forkert navn eller adgangskode."
    page.screenshot(path=str(ARTIFACTS / "dashboard_wrong_password.png"))
    page.close()


def test_a_whole_campaign_from_the_dashboard(dashboard_bot: str, browser) -> None:  # noqa: F811
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1100, "height": 900}, accept_downloads=True)
    login(page, dashboard_bot, PASSWORD)
    page.wait_for_selector("text=Dine hold og kampagner")
    cookie = next(c for c in page.context.cookies() if c["name"] == "fa_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"

    page.fill("#cohort-name", "Kolding – Byggesag, forår 2027")
    page.click("text=Opret hold")
    page.wait_for_selector("h1:has-text('Kolding – Byggesag, forår 2027')")
    link = page.locator("#invitation-link").inner_text()
    assert link.startswith("https://t.me/forvaltning_assistent_bot?start=")
    page.wait_for_function("document.querySelector(\"img[alt='QR-kode til invitationen']\").naturalWidth > 0")

    page.fill("#campaign-name", "Aktindsigt <script>alert(1)</script>")
    page.check("input[name=areas][value=forvaltning-og-jura]")
    for day in range(7):
        page.check(f"input[name=weekdays][value='{day}']")
    page.fill("#intro", "Velkommen til forløbet om aktindsigt!")
    page.click("text=Opret kampagne")
    page.wait_for_selector("text=tilmeldte")
    assert page.locator("h1").inner_text() == "Aktindsigt <script>alert(1)</script>"  # escaped, shown as text
    campaign_url = page.url

    # A learner follows the invitation link and answers the day's questions.
    user = ChatUser(dashboard_bot, 880001)
    user.send(f"/start {link.split('start=')[1]}")
    user.wait_for_text("Du er nu med i")
    user.wait_for_text("Velkommen til forløbet om aktindsigt!")
    user.send("/quiz")
    from tests.test_e2e_quiz import answer_poll, wait_for_poll

    feedback = answer_poll(user, wait_for_poll(user), correct=False)
    user.press(feedback, "▶ Næste")
    answer_poll(user, wait_for_poll(user), correct=True)

    page.goto(campaign_url)
    assert page.locator(".figure").nth(0).inner_text() == "1"  # enrolled
    assert page.locator(".figure").nth(2).inner_text() == "2"  # answers
    assert page.locator("td", has_text="Deltager 1").count() == 1
    page.screenshot(path=str(ARTIFACTS / "dashboard_campaign.png"), full_page=True)

    with page.expect_download() as download:
        page.click("text=questions.csv")
    content = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert content.splitlines()[0].startswith("spørgsmål-id;område;spørgsmål")
    assert len(content.splitlines()) == 3

    page.click("button:has-text('Sæt på pause')")
    page.wait_for_selector("text=På pause")
    page.close()


def test_form_without_csrf_token_is_rejected(dashboard_bot: str, browser) -> None:  # noqa: F811
    page = browser.new_page()
    login(page, dashboard_bot, PASSWORD)
    page.wait_for_selector("text=Dine hold og kampagner")
    # The browser's own session posting a form with the token removed, as a forged page would.
    status = page.evaluate("""async () => {
        const body = new URLSearchParams({name: "Forfalsket hold"});
        const response = await fetch("/dashboard/cohorts", {method: "POST", body});
        return response.status;
    }""")
    assert status == 403
    page.goto(f"{dashboard_bot}/dashboard/")
    assert page.locator("text=Forfalsket hold").count() == 0
    page.close()


def test_pages_need_a_login(dashboard_bot: str) -> None:
    for path in ("/dashboard/", "/dashboard/cohorts/1", "/dashboard/campaigns/1/export/questions.csv"):
        response = httpx.get(f"{dashboard_bot}{path}", follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/dashboard/login"
