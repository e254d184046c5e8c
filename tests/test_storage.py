import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.storage import SCHEMA_VERSION, DatabaseRefused, Storage

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def storage(tmp_path: Path) -> Storage:
    return Storage(tmp_path / "bot.sqlite3")


def test_new_database_has_the_latest_schema_in_wal_mode(storage: Storage) -> None:
    assert storage.schema_version() == SCHEMA_VERSION
    assert storage.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_old_schema_is_migrated_in_place_without_data_loss(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    old = Storage(path, migrate_to=1)
    old.touch_learner(42, 42, NOW, "kolding")
    old.store_updates([(7, {"update_id": 7})], NOW)
    old.close()
    assert SCHEMA_VERSION > 1

    upgraded = Storage(path)
    assert upgraded.schema_version() == SCHEMA_VERSION
    assert upgraded.learner(42)["start_payload"] == "kolding"
    assert [row.update_id for row in upgraded.pending_updates()] == [7]
    assert "question_log" in upgraded.db.table_names()


def test_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    Storage(path).close()
    with sqlite3.connect(path) as connection:
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(DatabaseRefused, match="newer version"):
        Storage(path)


def test_foreign_sqlite_database_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "foreign.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE invoices (id INTEGER)")
    before = path.read_bytes()
    with pytest.raises(DatabaseRefused, match="another program"):
        Storage(path)
    assert path.read_bytes() == before


def test_corrupt_file_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(DatabaseRefused, match="not an SQLite database"):
        Storage(path)
    assert path.read_bytes() == b"this is not a database" * 100


def test_inbox_stores_each_update_once(storage: Storage) -> None:
    assert storage.store_updates([(1, {"update_id": 1}), (2, {"update_id": 2})], NOW) == [1, 2]
    assert storage.store_updates([(2, {"update_id": 2}), (3, {"update_id": 3})], NOW) == [3]
    assert [row.update_id for row in storage.pending_updates()] == [1, 2, 3]
    storage.finish_update(2, NOW)
    assert [row.update_id for row in storage.pending_updates()] == [1, 3]
    assert storage.last_update_id() == 3


def test_update_effects_apply_once_even_when_replayed(storage: Storage) -> None:
    storage.store_updates([(5, {"update_id": 5})], NOW)
    applied = []
    for _ in range(2):  # the second pass is a replay after a crash
        with storage.update_effects(5) as fresh:
            if fresh:
                applied.append(1)
    assert applied == [1]


def test_failed_effects_roll_back_and_can_be_retried(storage: Storage) -> None:
    storage.store_updates([(6, {"update_id": 6})], NOW)
    with pytest.raises(RuntimeError), storage.update_effects(6) as fresh:
        assert fresh
        storage.touch_learner(1, 1, NOW)
        raise RuntimeError("boom")
    assert storage.learner(1) is None
    with storage.update_effects(6) as fresh:
        assert fresh


def test_delete_learner_leaves_only_anonymous_statistics(storage: Storage) -> None:
    storage.touch_learner(9, 9, NOW)
    storage.conn.execute(
        "INSERT INTO question_log (user_id, asked_at, question, article_id, abstained) VALUES (9, ?, ?, ?, 0)",
        ("2026-11-23", "mit spørgsmål", "fvl-partshoering"),
    )
    assert storage.export_learner(9)["questions"][0]["question"] == "mit spørgsmål"
    assert storage.delete_learner(9)
    assert storage.learner(9) is None
    rows = storage.conn.execute("SELECT user_id, question, article_id FROM question_log").fetchall()
    assert rows == [(None, "", "fvl-partshoering")]


def test_backup_is_a_working_copy(storage: Storage, tmp_path: Path) -> None:
    storage.touch_learner(3, 3, NOW)
    target = tmp_path / "backup" / "copy.sqlite3"
    storage.backup_to(target)
    copy = Storage(target)
    assert copy.learner(3) is not None
    assert copy.integrity_check() == "ok"


def test_old_data_is_purged_by_the_retention_rules(storage: Storage) -> None:
    from datetime import timedelta

    storage.touch_learner(4, 4, NOW)
    storage.store_updates([(1, {"update_id": 1, "message": {"text": "hemmeligt"}})], NOW - timedelta(days=10))
    storage.finish_update(1, NOW - timedelta(days=10))
    storage.log_question(update_id=None, user_id=4, now=NOW - timedelta(days=400), question="gammelt spørgsmål",
                         article_id="a", score=0.5, abstained=False)
    storage.log_question(update_id=None, user_id=4, now=NOW, question="nyt spørgsmål", article_id="a", score=0.5,
                         abstained=False)
    removed = storage.purge_old_data(NOW)
    assert removed["inbox"] == 1 and removed["question_texts"] == 1
    texts = [row[0] for row in storage.conn.execute("SELECT question FROM question_log ORDER BY id")]
    assert texts == ["", "nyt spørgsmål"]


def test_a_visit_is_written_about_once_a_minute_but_an_unblock_at_once(storage: Storage) -> None:
    from datetime import timedelta

    assert storage.touch_learner(5, 5, NOW)
    assert not storage.touch_learner(5, 5, NOW + timedelta(seconds=30))
    assert storage.learner(5)["last_seen_at"] == "2026-11-23T09:00:00+00:00"
    assert not storage.touch_learner(5, 5, NOW + timedelta(seconds=90))
    assert storage.learner(5)["last_seen_at"] == "2026-11-23T09:01:30+00:00"
    storage.mark_blocked(5, NOW + timedelta(seconds=100))
    storage.touch_learner(5, 5, NOW + timedelta(seconds=110))
    assert storage.learner(5)["blocked_at"] is None
    storage.touch_learner(5, 5, NOW + timedelta(seconds=120), "kolding")
    assert storage.learner(5)["start_payload"] == "kolding"
