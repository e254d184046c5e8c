"""Shared fixtures: a fresh emulator and the real bot started against it."""

from __future__ import annotations

import itertools
import os
import re
import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
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
def embedded_database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bot database whose embedding cache already holds every passage, made once per run, so
    each bot started by a test has dense search within a second instead of encoding again.

    The vectors are also kept between runs in pytest's cache, by model and passage hash (the
    bot's own cache keys), so a run encodes only what changed since the last one: encoding all
    of them takes 1-2 minutes on 2 idle cores and over 7 on 2 busy ones, most of a run's time and
    close to the 600 s a test may take."""
    from bot.config import default_embedding_model
    from bot.storage import Storage
    from knowledge.answering import KnowledgeBase
    from knowledge.embeddings import make_embedder

    path = tmp_path_factory.mktemp("template") / "bot.sqlite3"
    knowledge, _ = KnowledgeBase.load()
    embedder = make_embedder(default_embedding_model())
    hashes = knowledge.unit_hashes()
    kept = _kept_vectors_file(request.config, embedder.name)
    vectors = _load_vectors(kept, set(hashes))
    missing = knowledge.missing_embeddings(vectors)
    if missing:
        vectors.update(knowledge.encode_missing(embedder, missing))
        if kept is not None:
            _save_vectors(kept, {h: vectors[h] for h in hashes})
    storage = Storage(path)
    storage.store_embeddings(embedder.name, {h: vectors[h] for h in hashes})
    storage.close()
    return path


def _kept_vectors_file(config: pytest.Config, model: str) -> Path | None:
    cache = getattr(config, "cache", None)  # None with -p no:cacheprovider: then nothing is kept
    if cache is None:
        return None
    return cache.mkdir("embedded_database") / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', model)}.npz"


def _load_vectors(file: Path | None, wanted: set[str]) -> dict[str, np.ndarray]:
    if file is None or not file.exists():
        return {}
    try:
        with np.load(file) as data:
            hashes, matrix = data["hashes"], data["vectors"]
            return {str(h): matrix[row] for row, h in enumerate(hashes) if str(h) in wanted}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return {}  # unreadable: encoded again and written anew


def _save_vectors(file: Path, vectors: dict[str, np.ndarray]) -> None:
    """Written beside and then moved into place: runs at the same time read a whole file."""
    partial = file.with_name(f"{file.name}.{os.getpid()}.partial")
    with partial.open("wb") as out:
        np.savez(out, hashes=np.array(list(vectors)), vectors=np.vstack(list(vectors.values())).astype(np.float32))
    os.replace(partial, file)


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
