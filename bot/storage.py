"""The one module that owns the database: schema, migrations and every SQL statement.

SQLite in WAL mode through sqlite-utils. The schema is versioned with PRAGMA user_version and
upgraded in place at start; a database written by a newer version, or a file that is not ours,
is refused and never overwritten.

Rule for callers: never await inside `transaction()`. Transactions are short and synchronous,
so the single event-loop thread never waits on a lock it holds itself.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import sqlite_utils

# 'KLÆR' would be nicer, but application_id is a 32-bit integer: b"KBot".
APPLICATION_ID = int.from_bytes(b"KBot", "big")


class DatabaseRefused(Exception):
    """The database file cannot be used; the message says why and what to do."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_text(moment: datetime) -> str:
    """Timestamps are stored as ISO 8601 text in UTC, which sorts correctly."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


# Each migration moves the schema from version N-1 to N. Append only; never edit a released one.
MIGRATIONS: list[str] = [
    # 1: learners and the durable inbox of incoming updates.
    """
    CREATE TABLE learners (
        user_id INTEGER PRIMARY KEY,
        chat_id INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        last_seen_at TEXT NOT NULL,
        start_payload TEXT
    );
    CREATE TABLE inbox (
        update_id INTEGER PRIMARY KEY,
        received_at TEXT NOT NULL,
        body TEXT,
        status TEXT NOT NULL DEFAULT 'pending',
        applied INTEGER NOT NULL DEFAULT 0,
        attempts INTEGER NOT NULL DEFAULT 0,
        finished_at TEXT
    );
    CREATE INDEX inbox_pending ON inbox(status) WHERE status = 'pending';
    """,
    # 2: questions asked of the knowledge base, and cached passage embeddings.
    """
    CREATE TABLE question_log (
        id INTEGER PRIMARY KEY,
        user_id INTEGER REFERENCES learners(user_id) ON DELETE SET NULL,
        asked_at TEXT NOT NULL,
        question TEXT NOT NULL,
        article_id TEXT,
        score REAL,
        abstained INTEGER NOT NULL,
        feedback INTEGER
    );
    CREATE INDEX question_log_user ON question_log(user_id);
    CREATE TABLE embeddings (
        model TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        vector BLOB NOT NULL,
        PRIMARY KEY (model, content_hash)
    );
    """,
    # 3: a question is logged once per update, so a replayed update is recognised.
    """
    ALTER TABLE question_log ADD COLUMN update_id INTEGER;
    CREATE UNIQUE INDEX question_log_update ON question_log(update_id) WHERE update_id IS NOT NULL;
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(frozen=True)
class InboxRow:
    update_id: int
    body: str
    applied: bool


class Storage:
    """All reads and writes of the bot's data."""

    def __init__(self, path: Path | str, *, migrate_to: int = SCHEMA_VERSION) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._refuse_foreign_file()
        connection = sqlite3.connect(
            str(path), isolation_level=None, check_same_thread=False, timeout=5.0
        )
        self.db = sqlite_utils.Database(connection)
        self.conn = connection
        self._depth = 0
        try:
            self.conn.execute("PRAGMA foreign_keys = ON")
            self.conn.execute("PRAGMA busy_timeout = 5000")
            self._check_identity()
            if str(path) != ":memory:":
                self.db.enable_wal()
            self.conn.execute("PRAGMA synchronous = NORMAL")
            self._migrate(migrate_to)
        except sqlite3.DatabaseError as error:
            connection.close()
            raise DatabaseRefused(
                f"The database {self.path} cannot be read ({error}). It was left untouched: "
                "restore a backup or point BOT_DB elsewhere."
            ) from None
        except DatabaseRefused:
            connection.close()
            raise

    # -- opening, identity and migrations ---------------------------------------------------

    def _refuse_foreign_file(self) -> None:
        """Refuse a file that is not an SQLite database before SQLite touches it."""
        if str(self.path) == ":memory:" or not self.path.exists():
            return
        with self.path.open("rb") as handle:
            header = handle.read(16)
        if header and header != b"SQLite format 3\x00":
            raise DatabaseRefused(
                f"{self.path} is not an SQLite database (perhaps damaged or a different file). "
                "It was left untouched: restore a backup or point BOT_DB elsewhere."
            )

    def _check_identity(self) -> None:
        application_id = self.conn.execute("PRAGMA application_id").fetchone()[0]
        version = self.conn.execute("PRAGMA user_version").fetchone()[0]
        has_tables = bool(self.db.table_names())
        if application_id == 0 and has_tables:
            raise DatabaseRefused(
                f"{self.path} holds another program's data (tables but no mark of this bot). "
                "It was left untouched: point BOT_DB at this bot's own database file."
            )
        if application_id not in (0, APPLICATION_ID):
            raise DatabaseRefused(
                f"{self.path} belongs to another program (application_id {application_id}). "
                "It was left untouched."
            )
        if version > SCHEMA_VERSION:
            raise DatabaseRefused(
                f"{self.path} was written by a newer version of the bot (schema {version}, this "
                f"version knows up to {SCHEMA_VERSION}). Upgrade the bot; the file was left untouched."
            )

    def _migrate(self, target: int) -> None:
        version = self.schema_version()
        for number in range(version + 1, target + 1):
            with self.transaction():
                for statement in _split_sql(MIGRATIONS[number - 1]):
                    self.conn.execute(statement)
                self.conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                self.conn.execute(f"PRAGMA user_version = {number}")

    def schema_version(self) -> int:
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; nested calls join the outer one."""
        if self._depth:
            self._depth += 1
            try:
                yield self.conn
            finally:
                self._depth -= 1
            return
        self.conn.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield self.conn
        except BaseException:
            self._depth = 0
            self.conn.execute("ROLLBACK")
            raise
        self._depth = 0
        self.conn.execute("COMMIT")

    def integrity_check(self) -> str:
        return self.conn.execute("PRAGMA integrity_check").fetchone()[0]

    def backup_to(self, target: Path) -> None:
        """A consistent copy of the live database (SQLite's online backup)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        destination = sqlite3.connect(str(target))
        try:
            self.conn.backup(destination)
        finally:
            destination.close()

    # -- learners -----------------------------------------------------------------------------

    def touch_learner(
        self, user_id: int, chat_id: int, now: datetime, start_payload: str | None = None
    ) -> bool:
        """Create the learner on first contact, else note the visit. True if new."""
        with self.transaction():
            existing = self.conn.execute(
                "SELECT 1 FROM learners WHERE user_id = ?", (user_id,)
            ).fetchone()
            if existing:
                self.conn.execute(
                    "UPDATE learners SET chat_id = ?, last_seen_at = ?,"
                    " start_payload = COALESCE(?, start_payload) WHERE user_id = ?",
                    (chat_id, to_text(now), start_payload, user_id),
                )
                return False
            self.conn.execute(
                "INSERT INTO learners (user_id, chat_id, created_at, last_seen_at, start_payload)"
                " VALUES (?, ?, ?, ?, ?)",
                (user_id, chat_id, to_text(now), to_text(now), start_payload),
            )
            return True

    def learner(self, user_id: int) -> dict | None:
        row = self.conn.execute("SELECT * FROM learners WHERE user_id = ?", (user_id,)).fetchone()
        if row is None:
            return None
        columns = [c[0] for c in self.conn.execute("SELECT * FROM learners LIMIT 0").description]
        return dict(zip(columns, row, strict=True))

    def export_learner(self, user_id: int) -> dict | None:
        """Everything stored about one learner, for the right of access."""
        learner = self.learner(user_id)
        if learner is None:
            return None
        questions = self.db.query(
            "SELECT asked_at, question, article_id, abstained, feedback FROM question_log"
            " WHERE user_id = ? ORDER BY id",
            [user_id],
        )
        return {"learner": learner, "questions": list(questions)}

    def delete_learner(self, user_id: int) -> bool:
        """Erase a learner and everything tied to them; anonymous aggregates stay."""
        with self.transaction():
            # Question log rows lose their owner (ON DELETE SET NULL) and their text, which
            # could identify the person; the article, score and feedback stay as statistics.
            self.conn.execute(
                "UPDATE question_log SET question = '', user_id = NULL WHERE user_id = ?",
                (user_id,),
            )
            cursor = self.conn.execute("DELETE FROM learners WHERE user_id = ?", (user_id,))
        return bool(cursor.rowcount)

    # -- the knowledge base: embeddings cache and question log -----------------------------------

    def cached_embeddings(self, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        wanted = list(hashes)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(
                f"SELECT content_hash, vector FROM embeddings WHERE model = ? AND content_hash IN ({marks})",
                [model, *chunk],
            )
            for content_hash, vector in rows:
                found[content_hash] = np.frombuffer(vector, dtype=np.float32)
        return found

    def store_embeddings(self, model: str, items: dict[str, np.ndarray]) -> None:
        with self.transaction():
            self.conn.executemany(
                "INSERT OR REPLACE INTO embeddings (model, content_hash, vector) VALUES (?, ?, ?)",
                [(model, h, np.asarray(v, dtype=np.float32).tobytes()) for h, v in items.items()],
            )

    def log_question(
        self, *, update_id: int | None, user_id: int | None, now: datetime, question: str,
        article_id: str | None, score: float, abstained: bool,
    ) -> int:
        """Log a question and its outcome; a replayed update gets the id of its first log."""
        with self.transaction():
            if update_id is not None:
                row = self.conn.execute(
                    "SELECT id FROM question_log WHERE update_id = ?", (update_id,)
                ).fetchone()
                if row:
                    return row[0]
            cursor = self.conn.execute(
                "INSERT INTO question_log (update_id, user_id, asked_at, question, article_id, score, abstained)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (update_id, user_id, to_text(now), question, article_id, score, int(abstained)),
            )
            return cursor.lastrowid

    def record_feedback(self, log_id: int, user_id: int, helpful: bool) -> bool:
        """Store 👍/👎 on the learner's own question only; False if it is not theirs."""
        with self.transaction():
            cursor = self.conn.execute(
                "UPDATE question_log SET feedback = ? WHERE id = ? AND user_id = ?",
                (1 if helpful else -1, log_id, user_id),
            )
        return bool(cursor.rowcount)

    def question_log(self, limit: int = 100) -> list[dict]:
        return list(self.db.query("SELECT * FROM question_log ORDER BY id DESC LIMIT ?", [limit]))

    # -- the durable inbox --------------------------------------------------------------------

    def store_updates(self, updates: list[tuple[int, dict]], now: datetime) -> list[int]:
        """Store fetched updates in one transaction; returns the ids that were new."""
        fresh: list[int] = []
        with self.transaction():
            for update_id, body in updates:
                cursor = self.conn.execute(
                    "INSERT OR IGNORE INTO inbox (update_id, received_at, body) VALUES (?, ?, ?)",
                    (update_id, to_text(now), json.dumps(body, ensure_ascii=False)),
                )
                if cursor.rowcount:
                    fresh.append(update_id)
        return fresh

    def pending_updates(self, limit: int = 1000) -> list[InboxRow]:
        rows = self.conn.execute(
            "SELECT update_id, body, applied FROM inbox WHERE status = 'pending'"
            " ORDER BY update_id LIMIT ?",
            (limit,),
        ).fetchall()
        return [InboxRow(update_id, body, bool(applied)) for update_id, body, applied in rows]

    def inbox_row(self, update_id: int) -> InboxRow | None:
        row = self.conn.execute(
            "SELECT update_id, body, applied FROM inbox WHERE update_id = ? AND status = 'pending'",
            (update_id,),
        ).fetchone()
        return InboxRow(row[0], row[1], bool(row[2])) if row else None

    def note_attempt(self, update_id: int) -> int:
        """Count a handling attempt; returns how many there have been."""
        with self.transaction():
            self.conn.execute(
                "UPDATE inbox SET attempts = attempts + 1 WHERE update_id = ?", (update_id,)
            )
            row = self.conn.execute(
                "SELECT attempts FROM inbox WHERE update_id = ?", (update_id,)
            ).fetchone()
        return row[0] if row else 0

    @contextmanager
    def update_effects(self, update_id: int | None) -> Iterator[bool]:
        """A transaction for the database effects of one update, applied at most once.

        Yields True when the effects should be applied now, False when an earlier attempt
        (before a crash) already committed them. The inbox row is marked in the same
        transaction as the effects, so a replayed update is recognised.
        """
        with self.transaction():
            if update_id is None:
                yield True
                return
            row = self.conn.execute(
                "SELECT applied FROM inbox WHERE update_id = ?", (update_id,)
            ).fetchone()
            if row is not None and row[0]:
                yield False
                return
            yield True
            self.conn.execute("UPDATE inbox SET applied = 1 WHERE update_id = ?", (update_id,))

    def finish_update(self, update_id: int, now: datetime, status: str = "done") -> None:
        """Mark an update handled and drop its body: the message text is no longer needed."""
        with self.transaction():
            self.conn.execute(
                "UPDATE inbox SET status = ?, finished_at = ?, body = NULL WHERE update_id = ?",
                (status, to_text(now), update_id),
            )

    def last_update_id(self) -> int | None:
        return self.conn.execute("SELECT MAX(update_id) FROM inbox").fetchone()[0]

    def purge_inbox(self, now: datetime, keep: timedelta = timedelta(days=7)) -> int:
        with self.transaction():
            cursor = self.conn.execute(
                "DELETE FROM inbox WHERE status != 'pending' AND finished_at < ?",
                (to_text(now - keep),),
            )
        return cursor.rowcount

    def inbox_counts(self) -> dict[str, int]:
        return dict(self.conn.execute("SELECT status, COUNT(*) FROM inbox GROUP BY status"))


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements (no semicolons inside our statements)."""
    return [part.strip() for part in script.split(";") if part.strip()]
