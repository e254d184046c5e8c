"""Helpers for end-to-end tests: the emulator in a thread, the bot as a subprocess, chat users.

Tests are synchronous and talk to the emulator over real HTTP, as the chat page does.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
from aiohttp import web

from bot.localmode.emulator import BotApiEmulator
from bot.storage import Storage

ROOT = Path(__file__).resolve().parent.parent
TEST_TOKEN = "123456:TEST-token-for-the-emulator-0000000000"
ARTIFACTS = ROOT / "tests" / "artifacts"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class EmulatorThread:
    """The Bot API emulator served on 127.0.0.1 from a background thread."""

    def __init__(self) -> None:
        self.port = free_port()
        self.emulator: BotApiEmulator | None = None
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/bot"

    def start(self) -> EmulatorThread:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("emulator did not start")
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self.emulator = BotApiEmulator(TEST_TOKEN)  # only the bot's own token is accepted
        app = web.Application(client_max_size=20 * 1024 * 1024)
        self.emulator.add_routes(app)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        self._runner = runner
        self._loop.run_until_complete(runner.setup())
        self._loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        self._ready.set()
        self._loop.run_forever()

    def call(self, coroutine) -> object:
        """Run a coroutine on the emulator's loop (for direct state changes)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    async def _shutdown(self) -> None:
        """Cancel open requests (a bot's long poll) before closing, so nothing is left pending."""
        current = asyncio.current_task()
        others = [task for task in asyncio.all_tasks() if task is not current]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)
        await self._runner.cleanup()

    def add_fault(self, method: str, status: int, count: int = 1, **extra: object) -> None:
        httpx.post(f"{self.url}/emulator/faults", json={"method": method, "status": status,
                                                         "count": count, **extra}).raise_for_status()


class BotProcess:
    """`python run_bot.py` in a subprocess, as a user would start it."""

    def __init__(self, env: dict[str, str], log_path: Path, args: tuple[str, ...] = (),
                 script: Path = ROOT / "run_bot.py") -> None:
        self.env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
        self.log_path = log_path
        self.args = args
        self.script = script
        self.process: subprocess.Popen | None = None

    def start(self, ready: Callable[[], bool] | None = None, timeout: float = 90.0) -> BotProcess:
        self._log = self.log_path.open("a")
        self.process = subprocess.Popen(
            [sys.executable, str(self.script), *self.args],
            cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"bot exited with {self.process.returncode}:\n{self.log()}")
                if ready is None or ready():
                    return self
                time.sleep(0.1)
            raise RuntimeError(f"bot did not get ready in {timeout} s:\n{self.log()}")
        except BaseException:
            # No fixture will stop a bot that never got ready: it would go on polling an emulator
            # that is gone, for as long as the machine runs.
            self.stop()
            raise

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> int:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._log.close()
        return self.process.returncode if self.process else 0

    def kill(self) -> None:
        """kill -9: no chance to clean up."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
        self._log.close()


class ChatUser:
    """A person chatting with the bot through the emulator."""

    def __init__(self, base_url: str, user_id: int, first_name: str = "Test") -> None:
        self.base_url = base_url
        self.user_id = user_id
        self.first_name = first_name
        self.seen = 0
        self.http = httpx.Client(base_url=base_url, timeout=40)

    def send(self, text: str) -> dict:
        response = self.http.post("/emulator/send", json={"user_id": self.user_id, "text": text,
                                                           "first_name": self.first_name})
        response.raise_for_status()
        return response.json()

    def send_document(self, filename: str, content: bytes, mime_type: str | None = None) -> dict:
        response = self.http.post("/emulator/send-document", json={
            "user_id": self.user_id, "filename": filename, "mime_type": mime_type, "first_name": self.first_name,
            "content_base64": base64.b64encode(content).decode()})
        response.raise_for_status()
        return response.json()

    def events(self, after: int = 0, wait: float = 0) -> list[dict]:
        response = self.http.get("/emulator/messages", params={"user_id": self.user_id, "after": after,
                                                               "wait": wait})
        response.raise_for_status()
        return response.json()["events"]

    def bot_messages(self) -> list[dict]:
        """The bot's messages in this chat, as they are now (edits applied)."""
        return [e["message"] for e in self.events() if e["sender"] == "bot"]

    def wait_for(self, predicate: Callable[[dict], bool], timeout: float = 20.0, since: int | None = None) -> dict:
        """The next bot message (new or edited since the last wait, or since the chat position
        `since`) that satisfies `predicate`.

        `since` is for messages whose order is not fixed: a reply and a push that the outbox sends
        at about the same moment arrive in either order, so wait for each from the same `mark()`."""
        after = self.seen if since is None else since
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events(after, wait=min(2.0, max(0.1, deadline - time.monotonic()))):
                after = max(after, event["seq"])
                self.seen = max(self.seen, event["seq"])
                if event["sender"] == "bot" and predicate(event["message"]):
                    return event["message"]
        raise AssertionError(f"no matching bot message within {timeout} s; chat: {self.bot_messages()[-3:]}")

    def wait_for_text(self, fragment: str, timeout: float = 20.0, since: int | None = None) -> dict:
        return self.wait_for(lambda m: fragment in (m.get("text") or m.get("caption") or ""), timeout, since)

    def mark(self) -> int:
        """How far the chat has been read (for `wait_for(..., since=...)`)."""
        return self.seen

    def ask(self, text: str, timeout: float = 20.0) -> dict:
        """Send a message and return the bot's next new message after it."""
        sent = self.send(text)
        return self.wait_for(lambda m: m["message_id"] > sent["message_id"], timeout)

    def press(self, message: dict, button_text: str) -> None:
        for row in message.get("reply_markup", {}).get("inline_keyboard", []):
            for button in row:
                if button["text"] == button_text:
                    self.press_data(message["message_id"], button["callback_data"])
                    return
        raise AssertionError(f"no button {button_text!r} in {message.get('reply_markup')}")

    def press_data(self, message_id: int, data: str) -> None:
        response = self.http.post("/emulator/press", json={"user_id": self.user_id, "message_id": message_id,
                                                           "data": data})
        response.raise_for_status()

    def vote(self, poll_id: str, option: int) -> None:
        response = self.http.post("/emulator/vote", json={"user_id": self.user_id, "poll_id": poll_id,
                                                          "option_ids": [option]})
        response.raise_for_status()


def learner_with_days(db_path: Path, user_id: int, weekdays: str) -> None:
    """A learner who has written before and chose `weekdays` (e.g. "" for no days of their own).

    Created and set in one transaction: a new learner has the default days (Monday to Friday at
    09:00), so on a weekday afternoon their own push is due at once, and the bot's push tick
    (every second in these tests) could send it between their first message and a later change
    of days. Tests that count or wait for pushes start from a learner made here."""
    storage = Storage(db_path)
    try:
        with storage.learners.transaction():
            storage.learners.touch_learner(user_id, user_id, datetime.now(UTC))
            storage.learners.update_learner_settings(user_id, weekdays=weekdays)
    finally:
        storage.close()


def buttons(message: dict) -> list[str]:
    return [b["text"] for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row]


def midday_zone() -> str:
    """A fixed-offset zone where it is now around midday, so the test never runs into quiet hours."""
    hour = datetime.now(UTC).hour
    offset = 12 - hour  # local = UTC + offset
    offset = max(-12, min(14, offset))
    return "Etc/UTC" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"


def quiet_zone() -> str:
    """A fixed-offset zone where it is about 02:00 now: quiet hours (21-07), so no daily pushes."""
    offset = (2 - datetime.now(UTC).hour) % 24
    if offset > 14:
        offset -= 24
    return "Etc/UTC" if offset == 0 else f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"
