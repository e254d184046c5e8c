"""The database file: opening it, its identity, the schema and its migrations, and transactions.

SQLite in WAL mode through sqlite-utils. The schema is versioned with PRAGMA user_version and
upgraded in place at start; a database written by a newer version, or a file that is not ours,
is refused and never overwritten. The SQL of each table lives in the repository that writes it
(the other modules of this package); this one holds only the schema.

Rule for callers: never await inside `transaction()`. Transactions are short and synchronous,
so the single event-loop thread never waits on a lock it holds itself.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

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
    # 4: quizzes: settings, memory states, rounds, deliveries, answers, daily pushes, the outbox.
    """
    ALTER TABLE learners ADD COLUMN push_time TEXT NOT NULL DEFAULT '09:00';
    ALTER TABLE learners ADD COLUMN weekdays TEXT NOT NULL DEFAULT '0,1,2,3,4';
    ALTER TABLE learners ADD COLUMN areas TEXT NOT NULL DEFAULT '';
    ALTER TABLE learners ADD COLUMN per_push INTEGER NOT NULL DEFAULT 3;
    ALTER TABLE learners ADD COLUMN paused_until TEXT;
    ALTER TABLE learners ADD COLUMN show_name INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE learners ADD COLUMN display_name TEXT;
    ALTER TABLE learners ADD COLUMN blocked_at TEXT;
    CREATE TABLE memory_states (
        user_id INTEGER NOT NULL REFERENCES learners(user_id) ON DELETE CASCADE,
        question_id TEXT NOT NULL,
        card TEXT NOT NULL,
        due_at TEXT NOT NULL,
        last_review_at TEXT,
        reviews INTEGER NOT NULL,
        lapses INTEGER NOT NULL,
        PRIMARY KEY (user_id, question_id)
    );
    CREATE TABLE quiz_rounds (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES learners(user_id) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        question_ids TEXT NOT NULL,
        position INTEGER NOT NULL DEFAULT 0,
        correct INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        finished_at TEXT,
        campaign_id INTEGER
    );
    CREATE INDEX quiz_rounds_user ON quiz_rounds(user_id);
    CREATE TABLE deliveries (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES learners(user_id) ON DELETE CASCADE,
        round_id INTEGER REFERENCES quiz_rounds(id) ON DELETE CASCADE,
        question_id TEXT NOT NULL,
        option_order TEXT NOT NULL,
        poll_id TEXT UNIQUE,
        message_id INTEGER,
        sent_at TEXT NOT NULL,
        answered_at TEXT
    );
    CREATE INDEX deliveries_round ON deliveries(round_id);
    CREATE TABLE answers (
        id INTEGER PRIMARY KEY,
        delivery_id INTEGER UNIQUE REFERENCES deliveries(id) ON DELETE SET NULL,
        user_id INTEGER REFERENCES learners(user_id) ON DELETE SET NULL,
        question_id TEXT NOT NULL,
        area TEXT NOT NULL,
        chosen_option INTEGER NOT NULL,
        correct INTEGER NOT NULL,
        answered_at TEXT NOT NULL,
        campaign_id INTEGER
    );
    CREATE INDEX answers_user ON answers(user_id, answered_at);
    CREATE INDEX answers_question ON answers(question_id);
    CREATE TABLE pushes (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES learners(user_id) ON DELETE CASCADE,
        local_day TEXT NOT NULL,
        pushed_at TEXT NOT NULL,
        reminded_at TEXT,
        reacted_at TEXT,
        UNIQUE (user_id, local_day)
    );
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        user_id INTEGER REFERENCES learners(user_id) ON DELETE CASCADE,
        chat_id INTEGER NOT NULL,
        kind TEXT NOT NULL,
        payload TEXT NOT NULL,
        dedupe_key TEXT UNIQUE,
        created_at TEXT NOT NULL,
        not_before TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL DEFAULT 'pending',
        sent_at TEXT,
        last_error TEXT
    );
    CREATE INDEX outbox_pending ON outbox(not_before) WHERE status = 'pending';
    """,
    # 5: consultants, their sessions, cohorts, enrolments, campaigns and announcements.
    """
    CREATE TABLE consultants (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        password_hash TEXT NOT NULL,
        created_at TEXT NOT NULL,
        telegram_user_id INTEGER UNIQUE,
        link_code TEXT UNIQUE
    );
    CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        consultant_id INTEGER NOT NULL REFERENCES consultants(id) ON DELETE CASCADE,
        csrf_token TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    CREATE TABLE login_failures (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL,
        failed_at TEXT NOT NULL
    );
    CREATE INDEX login_failures_key ON login_failures(key, failed_at);
    CREATE TABLE cohorts (
        id INTEGER PRIMARY KEY,
        consultant_id INTEGER NOT NULL REFERENCES consultants(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        code TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL,
        expires_at TEXT
    );
    CREATE TABLE enrolments (
        cohort_id INTEGER NOT NULL REFERENCES cohorts(id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL REFERENCES learners(user_id) ON DELETE CASCADE,
        enrolled_at TEXT NOT NULL,
        left_at TEXT,
        PRIMARY KEY (cohort_id, user_id)
    );
    CREATE INDEX enrolments_user ON enrolments(user_id);
    CREATE TABLE campaigns (
        id INTEGER PRIMARY KEY,
        cohort_id INTEGER NOT NULL REFERENCES cohorts(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        areas TEXT NOT NULL DEFAULT '',
        question_ids TEXT NOT NULL DEFAULT '',
        start_date TEXT NOT NULL,
        end_date TEXT NOT NULL,
        weekdays TEXT NOT NULL,
        push_time TEXT NOT NULL,
        per_push INTEGER NOT NULL,
        intro TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'active',
        created_at TEXT NOT NULL
    );
    CREATE TABLE announcements (
        id INTEGER PRIMARY KEY,
        cohort_id INTEGER NOT NULL REFERENCES cohorts(id) ON DELETE CASCADE,
        campaign_id INTEGER REFERENCES campaigns(id) ON DELETE CASCADE,
        text TEXT NOT NULL,
        send_at TEXT NOT NULL,
        created_at TEXT NOT NULL,
        queued_at TEXT
    );
    CREATE TABLE retention_snapshots (
        campaign_id INTEGER NOT NULL REFERENCES campaigns(id) ON DELETE CASCADE,
        day TEXT NOT NULL,
        area TEXT NOT NULL,
        retention REAL NOT NULL,
        learners INTEGER NOT NULL,
        PRIMARY KEY (campaign_id, day, area)
    );
    """,
    # 6: the inbox notes when an update's reply reached Telegram (see bot/delivery/inbox.py).
    """
    ALTER TABLE inbox ADD COLUMN replied INTEGER NOT NULL DEFAULT 0;
    """,
    # 7: a member may pause one cohort's questions and keeps one pseudonym number; erased users
    # are not signed up again until they send /start (only a hash of their id is kept, see
    # LearnerStore.mark_erased).
    """
    ALTER TABLE enrolments ADD COLUMN paused INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE enrolments ADD COLUMN number INTEGER;
    UPDATE enrolments SET number = (SELECT COUNT(*) FROM enrolments e2 WHERE e2.cohort_id = enrolments.cohort_id
        AND (e2.enrolled_at < enrolments.enrolled_at
             OR (e2.enrolled_at = enrolments.enrolled_at AND e2.user_id <= enrolments.user_id)));
    CREATE TABLE erased_users (
        user_hash TEXT PRIMARY KEY,
        erased_at TEXT NOT NULL
    );
    """,
    # 8: 'Tjek mit udkast' keeps only anonymous counts per cohort, day, kind and checklist item.
    """
    CREATE TABLE draft_check_counts (
        cohort_id INTEGER NOT NULL REFERENCES cohorts(id) ON DELETE CASCADE,
        day TEXT NOT NULL,
        kind TEXT NOT NULL,
        item TEXT NOT NULL,
        checked INTEGER NOT NULL DEFAULT 0,
        missing INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (cohort_id, day, kind, item)
    );
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


class Database:
    """One connection to the bot's SQLite file, checked and migrated when opened."""

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

    def one(self, sql: str, *args: object) -> dict | None:
        """The first row of a query as a dict, or None."""
        rows = list(self.db.query(sql, list(args)))
        return rows[0] if rows else None

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


class Repository:
    """Base of the repositories: each works on the one Database and holds the SQL of its tables."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.conn = database.conn
        self.db = database.db
        self.transaction = database.transaction
        self._one = database.one


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements (no semicolons inside our statements)."""
    return [part.strip() for part in script.split(";") if part.strip()]
