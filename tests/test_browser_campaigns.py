"""The campaign pages in headless Chromium (issue 19): hand-pick questions from the question
browser, edit the campaign, confirm before ending it, a styled error page, and local dates and
times (BOT_TIMEZONE, dd.mm.åååå)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from tests.support import ARTIFACTS, ROOT, BotProcess, free_port, midday_zone
from tests.test_browser_chat import browser  # noqa: F401 - the shared Chromium fixture

pytestmark = pytest.mark.browser
PASSWORD = "et-langt-kodeord-til-test"
ZONE = midday_zone()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, embedded_database) -> Iterator[tuple[str, object]]:
    directory = tmp_path_factory.mktemp("campaign-pages")
    db_path = directory / "bot.sqlite3"
    shutil.copy(embedded_database, db_path)
    port = free_port()
    env = {"TELEGRAM_BOT_TOKEN": "", "BOT_DB": str(db_path), "HTTP_PORT": str(port), "HF_HUB_OFFLINE": "1",
           "BOT_TIMEZONE": ZONE}
    created = subprocess.run([sys.executable, str(ROOT / "run_bot.py"), "consultant", "add", "Mette",
                              "--password-stdin"], input=PASSWORD + "\n", text=True, capture_output=True,
                             env={**os.environ, **env}, timeout=60)
    assert created.returncode == 0, created.stderr
    process = BotProcess(env, directory / "bot.log")
    process.start(ready=lambda: "LOCAL MODE" in process.log() and "dense search ready" in process.log())
    yield f"http://127.0.0.1:{port}", db_path
    process.stop()


def test_a_campaign_from_the_question_browser_edited_and_ended(site, browser) -> None:  # noqa: F811
    url, db_path = site
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    page.goto(f"{url}/dashboard/campaigns/1")  # asked for before logging in
    page.fill("#name", "Mette")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("h1")
    # Campaign 1 does not exist yet: a styled error page with a way back.
    assert page.locator("h1").inner_text() == "Siden findes ikke"
    assert page.locator("text=Den kampagne findes ikke.").count() == 1
    page.screenshot(path=str(ARTIFACTS / "dashboard_error_page.png"))
    page.click("text=Til oversigten")

    page.fill("#cohort-name", "Vejle – Jobcenter")
    page.click("text=Opret hold")
    page.wait_for_selector("h1:has-text('Vejle – Jobcenter')")
    cohort_url = page.url

    # Hand-pick two questions from the browser, by searching, in the order wanted.
    page.fill("#campaign-name", "Håndplukket aktindsigt")
    page.click("#question-browser summary")
    page.fill("#question-search", "aktindsigt")
    visible = page.locator(".question-row:visible")
    assert 0 < visible.count() < page.locator(".question-row").count() / 4
    second_id = visible.nth(1).locator("input").get_attribute("value")
    first_id = visible.nth(0).locator("input").get_attribute("value")
    visible.nth(1).locator("input").check()
    visible.nth(0).locator("input").check()
    assert page.locator("#picked-count").inner_text() == "2"
    page.fill("#push-time", "20:00")
    page.fill("#intro", "Velkommen til Vejle-forløbet!")
    page.screenshot(path=str(ARTIFACTS / "dashboard_question_browser.png"), full_page=True)
    page.click("text=Opret kampagne")
    page.wait_for_selector("#campaign-header")
    campaign_url = page.url
    today = datetime.now(UTC).astimezone(ZoneInfo(ZONE)).date()
    header = page.locator("#campaign-header").inner_text()
    assert f"{today:%d.%m.%Y} – " in header and "mandag–fredag kl. 20.00" in header
    with sqlite3.connect(db_path) as connection:
        picked = connection.execute("SELECT question_ids FROM campaigns ORDER BY id DESC").fetchone()[0]
    assert picked == f"{second_id},{first_id}"  # the consultant's order, no ids typed

    # Edit: name, days and time.
    page.click("text=Ret kampagnen")
    page.fill("#campaign-name", "Aktindsigt i Vejle")
    page.uncheck("input[name=weekdays][value='1']")
    page.uncheck("input[name=weekdays][value='3']")
    page.fill("#push-time", "08:30")
    page.click("text=Gem ændringer")
    page.wait_for_selector("h1:has-text('Aktindsigt i Vejle')")
    assert "mandag, onsdag, fredag kl. 08.30" in page.locator("#campaign-header").inner_text()
    page.screenshot(path=str(ARTIFACTS / "dashboard_campaign_edited.png"), full_page=True)

    # Local times: the welcome message is listed at the campaign's start in BOT_TIMEZONE.
    page.goto(cohort_url)
    row = page.locator("table.announcements tr", has_text="Velkommen til Vejle-forløbet!").inner_text()
    assert f"{today:%d.%m.%Y} kl. " in row

    # "Afslut" asks first; "Nej" leaves the campaign running.
    page.goto(campaign_url)
    page.click("a:has-text('Afslut')")
    page.wait_for_selector("h1:has-text('Afslut kampagnen?')")
    page.screenshot(path=str(ARTIFACTS / "dashboard_confirm_end.png"))
    page.click("text=Nej, tilbage")
    page.wait_for_selector("#campaign-header:has-text('Kører')")
    page.click("a:has-text('Afslut')")
    page.click("text=Ja, afslut kampagnen")
    page.wait_for_selector("#campaign-header:has-text('Afsluttet')")
    page.close()
