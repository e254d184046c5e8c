"""Shared fixtures: a fresh emulator and the real bot started against it."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import TEST_TOKEN, BotProcess, ChatUser, EmulatorThread, free_port

_user_ids = itertools.count(1001)


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorThread]:
    server = EmulatorThread().start()
    yield server
    server.stop()


def bot_env(emulator: EmulatorThread, db_path: Path, **extra: str) -> dict[str, str]:
    return {
        "TELEGRAM_BOT_TOKEN": TEST_TOKEN,
        "TELEGRAM_API_URL": emulator.api_url,
        "BOT_DB": str(db_path),
        "HTTP_PORT": str(free_port()),
        "HF_HUB_OFFLINE": "1",
        **extra,
    }


def polling_started(emulator: EmulatorThread) -> bool:
    return emulator.emulator.state.calls.get("getUpdates", 0) > 0


@pytest.fixture(scope="module")
def bot(emulator: EmulatorThread, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BotProcess]:
    directory = tmp_path_factory.mktemp("bot")
    process = BotProcess(bot_env(emulator, directory / "bot.sqlite3"), directory / "bot.log")
    process.db_path = directory / "bot.sqlite3"
    process.start(ready=lambda: polling_started(emulator))
    yield process
    process.stop()


@pytest.fixture
def user(emulator: EmulatorThread) -> ChatUser:
    """A new chat user with an id of its own."""
    return ChatUser(emulator.url, next(_user_ids))
