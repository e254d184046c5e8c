"""The local chat page in headless Chromium: a person sends /start, reads the reply, presses a button."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import ARTIFACTS, BotProcess, free_port

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def local_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`python run_bot.py` with no token: local mode with the chat page."""
    directory = tmp_path_factory.mktemp("local")
    port = free_port()
    env = {"TELEGRAM_BOT_TOKEN": "", "BOT_DB": str(directory / "bot.sqlite3"), "HTTP_PORT": str(port),
           "HF_HUB_OFFLINE": "1"}
    process = BotProcess(env, directory / "bot.log")
    url = f"http://127.0.0.1:{port}"

    process.start(ready=lambda: "LOCAL MODE" in process.log())
    assert httpx.get(f"{url}/emulator/commands").json()["commands"]
    yield url
    process.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: ./dev.sh test installs Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def test_chat_page_start_reply_and_button(local_bot: str, browser) -> None:
    page = browser.new_page(viewport={"width": 400, "height": 780})
    page.goto(f"{local_bot}/?user=777001&name=Mette")
    page.fill("#input", "/start")
    page.click("#send")
    page.wait_for_selector(".row.bot .bubble:has-text('Jeg er Forvaltningsassistenten')", timeout=15000)
    assert page.locator(".row.bot b", has_text="god forvaltning").count() == 1  # HTML rendered

    page.click("#menu-button")
    page.click(".menu button:has-text('/slet_mine_data')")
    page.wait_for_selector(".keyboard button:has-text('Nej, behold')", timeout=15000)
    page.click(".keyboard button:has-text('Nej, behold')")
    page.wait_for_selector(".row.bot .bubble:has-text('Fint, intet er slettet.')", timeout=15000)

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat_start.png"))
    page.close()


def test_two_tabs_are_two_users(local_bot: str, browser) -> None:
    first = browser.new_page()
    second = browser.new_page()
    first.goto(f"{local_bot}/?user=777101")
    second.goto(f"{local_bot}/?user=777102")
    first.fill("#input", "/help")
    first.click("#send")
    first.wait_for_selector(".row.bot .bubble:has-text('Sådan bruger du mig')", timeout=15000)
    second.wait_for_timeout(500)
    assert second.locator(".row").count() == 0
    first.close()
    second.close()


def test_quiz_poll_in_the_chat_page(local_bot: str, browser) -> None:
    page = browser.new_page(viewport={"width": 400, "height": 780})
    page.goto(f"{local_bot}/?user=777201&name=Jonas")
    page.fill("#input", "/quiz")
    page.click("#send")
    page.wait_for_selector(".poll button.opt", timeout=15000)
    page.locator(".poll button.opt").first.click()
    page.wait_for_selector(".row.bot .bubble:has-text('Rigtigt'), .row.bot .bubble:has-text('Ikke helt')",
                           timeout=15000)
    assert page.locator(".poll button.opt.right").count() == 1  # the poll shows the right answer
    page.click(".keyboard button:has-text('▶ Næste')")
    page.wait_for_function("document.querySelectorAll('.poll').length >= 2", timeout=15000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat_quiz.png"))
    page.close()
