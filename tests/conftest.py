"""Shared fixtures: a fresh emulator and the real bot started against it."""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import TEST_TOKEN, BotProcess, ChatUser, EmulatorThread, free_port, quiet_zone

_user_ids = itertools.count(1001)


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorThread]:
    server = EmulatorThread().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def own_emulator() -> Iterator[EmulatorThread]:
    """A second emulator for a module's own bot: two bots polling one emulator share its updates."""
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
        # Night in the learners' zone: no daily push slips in between a question and its answer.
        # Tests of pushes pass a zone of their own.
        "BOT_TIMEZONE": quiet_zone(),
        **extra,
    }


def polling_started(emulator: EmulatorThread) -> bool:
    return emulator.emulator.state.calls.get("getUpdates", 0) > 0


@pytest.fixture(scope="session")
def embedded_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bot database whose embedding cache already holds every passage, made once per run, so
    each bot started by a test has dense search within a second instead of encoding again."""
    from bot.config import default_embedding_model
    from bot.storage import Storage
    from knowledge.answering import KnowledgeBase
    from knowledge.embeddings import make_embedder

    path = tmp_path_factory.mktemp("template") / "bot.sqlite3"
    storage = Storage(path)
    knowledge, _ = KnowledgeBase.load()
    embedder = make_embedder(default_embedding_model())
    storage.store_embeddings(embedder.name, knowledge.attach_embeddings(embedder, {}))
    storage.close()
    return path


def start_bot(emulator: EmulatorThread, directory: Path, template: Path | None, **extra: str) -> BotProcess:
    """Start `python run_bot.py` against the emulator; ready when polling and dense search run."""
    db_path = directory / "bot.sqlite3"
    if template is not None and not db_path.exists():
        shutil.copy(template, db_path)
    process = BotProcess(bot_env(emulator, db_path, **extra), directory / "bot.log")
    process.db_path = db_path
    process.start(ready=lambda: polling_started(emulator) and "dense search ready" in process.log())
    return process


@pytest.fixture(scope="module")
def bot(
    emulator: EmulatorThread, tmp_path_factory: pytest.TempPathFactory, embedded_database: Path
) -> Iterator[BotProcess]:
    process = start_bot(emulator, tmp_path_factory.mktemp("bot"), embedded_database)
    yield process
    process.stop()


@pytest.fixture
def user(emulator: EmulatorThread) -> ChatUser:
    """A new chat user with an id of its own."""
    return ChatUser(emulator.url, next(_user_ids))
