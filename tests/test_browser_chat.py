"""The local chat page in headless Chromium: a person sends /start, reads the reply, presses a button,
answers a quiz, and sends a draft as a file with the paperclip."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.draft_files import docx_bytes, pdf_bytes
from tests.support import ARTIFACTS, BotProcess, free_port
from tests.test_e2e_drafts import AFGOERELSE, SAGSFREMSTILLING

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
    page.locator(".poll").nth(1).wait_for(timeout=15000)  # (the page's CSP forbids wait_for_function's eval)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat_quiz.png"))
    page.close()


def watch_for_errors(page) -> list[str]:
    """Script errors and Content-Security-Policy refusals on the page, as they happen."""
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message.text)
            if "Content Security Policy" in message.text else None)
    return problems


def test_a_draft_sent_with_the_paperclip_is_checked(local_bot: str, browser, tmp_path: Path) -> None:
    """The 📎 button sends a file as a Telegram user sends a document: the bot gets it through
    getUpdates, fetches it with getFile and answers with the checklist; the chat shows name and size."""
    from playwright.sync_api import expect

    csp = httpx.get(f"{local_bot}/").headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp
    docx = tmp_path / "Udkast sagsfremstilling åbningstider.docx"
    docx.write_bytes(docx_bytes(SAGSFREMSTILLING))
    pdf = tmp_path / "afgørelse-trappelift.pdf"
    pdf.write_bytes(pdf_bytes(AFGOERELSE.splitlines()))

    page = browser.new_page(viewport={"width": 390, "height": 844})
    problems = watch_for_errors(page)
    page.goto(f"{local_bot}/?user=777301&name=Sara")
    attach = page.locator("#attach")
    assert attach.get_attribute("aria-label").startswith("Send en fil")
    assert page.locator("#file").get_attribute("accept") == ".docx,.pdf,.txt"
    with page.expect_file_chooser() as chooser:
        attach.click()
    chooser.value.set_files(docx)
    sent = page.locator(".row.user .doc", has_text=docx.name)
    sent.wait_for(timeout=15000)
    assert sent.locator(".file-badge").inner_text() == "DOCX"
    assert re.fullmatch(r"\d+(,\d)? kB", sent.locator(".file-size").inner_text())  # a Danish decimal comma
    report = page.locator(".row.bot .bubble", has_text="Tjek af sagsfremstilling")
    report.wait_for(timeout=30000)
    assert "✓ Økonomi" in report.inner_text()
    assert page.locator(".row.bot .keyboard button", has_text="Tjek igen").count() == 1
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    sent.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "chat_upload_docx.png"))

    # By keyboard: from the text field back to the paperclip, and Enter opens the file dialog.
    page.focus("#input")
    page.keyboard.press("Shift+Tab")
    expect(attach).to_be_focused()
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Enter")
    chooser.value.set_files(pdf)
    page.locator(".row.user .doc", has_text=pdf.name).wait_for(timeout=15000)
    report = page.locator(".row.bot .bubble", has_text="Tjek af afgørelse")
    report.wait_for(timeout=30000)
    assert "✗ Klagevejledning" in report.inner_text()
    page.screenshot(path=str(ARTIFACTS / "chat_upload_pdf.png"))
    assert problems == []
    page.close()


def test_file_sizes_in_the_chat_page(local_bot: str, browser) -> None:
    """A file over the web server's 2 MB form limit still reaches the bot (the emulator reads the
    upload itself); one over Telegram's 20 MB is refused on the page with a Danish message, as is an
    empty one; a type the bot cannot read gets its reply from the bot, as in Telegram."""
    page = browser.new_page(viewport={"width": 390, "height": 844})
    problems = watch_for_errors(page)
    page.goto(f"{local_bot}/?user=777302&name=Sara")
    long_text = (AFGOERELSE + "Vi har set på sagen igen og fundet de samme oplysninger.\n" * 45_000).encode()
    assert len(long_text) > 2 * 1024 * 1024
    page.set_input_files("#file", files=[{"name": "lang.txt", "mimeType": "text/plain", "buffer": long_text}])
    page.locator(".row.user .doc .file-size", has_text="MB").wait_for(timeout=20000)
    page.locator(".row.bot .bubble", has_text="Tjek af afgørelse").wait_for(timeout=60000)

    page.set_input_files("#file", files=[{"name": "stor.pdf", "mimeType": "application/pdf",
                                          "buffer": b"%PDF-1.4\n" + b"0" * (21 * 1024 * 1024)}])
    page.locator(".toast", has_text="»stor.pdf« er for stor (21 MB)").wait_for(timeout=5000)
    assert "højst modtage filer på 20 MB" in page.locator(".toast").inner_text()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat_upload_too_large.png"))
    page.set_input_files("#file", files=[{"name": "tom.txt", "mimeType": "text/plain", "buffer": b""}])
    page.locator(".toast", has_text="»tom.txt« er tom").wait_for(timeout=5000)
    page.set_input_files("#file", files=[{"name": "program.exe", "mimeType": "", "buffer": b"MZ" + bytes(100)}])
    page.locator(".row.bot .bubble", has_text="Den filtype kan jeg ikke læse").wait_for(timeout=20000)
    assert page.locator(".row.user .doc").count() == 2  # lang.txt and program.exe; the others never left
    assert problems == []
    page.close()
