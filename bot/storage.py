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
from collections.abc import Callable, Iterator, Sequence
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
    # 6: the inbox notes when an update's reply reached Telegram (see bot/inbox.py).
    """
    ALTER TABLE inbox ADD COLUMN replied INTEGER NOT NULL DEFAULT 0;
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)
QUESTION_TEXT_KEPT = timedelta(days=365)  # then a question's text and its asker are removed
LAST_SEEN_STEP = timedelta(minutes=1)  # last_seen_at is kept to about the minute (see touch_learner)


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

    def _one(self, sql: str, *args: object) -> dict | None:
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

    # -- learners -----------------------------------------------------------------------------

    def touch_learner(
        self, user_id: int, chat_id: int, now: datetime, start_payload: str | None = None
    ) -> bool:
        """Create the learner on first contact, else note the visit. True if new.

        A learner seen in the last LAST_SEEN_STEP from the same chat, not blocked, is not written
        again: most updates come from someone who just wrote, and a write costs the event loop more
        than this read."""
        if start_payload is None and self.conn.execute(
            "SELECT 1 FROM learners WHERE user_id = ? AND chat_id = ? AND blocked_at IS NULL AND last_seen_at > ?",
            (user_id, chat_id, to_text(now - LAST_SEEN_STEP)),
        ).fetchone():
            return False
        with self.transaction():
            existing = self.conn.execute(
                "SELECT 1 FROM learners WHERE user_id = ?", (user_id,)
            ).fetchone()
            if existing:
                # Writing to the bot again means the learner has unblocked it.
                self.conn.execute(
                    "UPDATE learners SET chat_id = ?, last_seen_at = ?, blocked_at = NULL,"
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

        def rows(sql: str) -> list[dict]:
            return list(self.db.query(sql, [user_id]))

        return {
            "learner": learner,
            "questions": rows("SELECT asked_at, question, article_id, abstained, feedback FROM question_log"
                              " WHERE user_id = ? ORDER BY id"),
            "quiz_answers": rows("SELECT answered_at, question_id, area, chosen_option, correct FROM answers"
                                 " WHERE user_id = ? ORDER BY id"),
            "memory_states": rows("SELECT question_id, due_at, last_review_at, reviews, lapses, card"
                                  " FROM memory_states WHERE user_id = ? ORDER BY question_id"),
            "daily_pushes": rows("SELECT local_day, pushed_at, reminded_at, reacted_at FROM pushes"
                                 " WHERE user_id = ? ORDER BY local_day"),
            "cohorts": self._cohort_export(user_id),
        }

    def _cohort_export(self, user_id: int) -> list[dict]:
        if "enrolments" not in self.db.table_names():
            return []
        return list(self.db.query(
            "SELECT c.name AS cohort, e.enrolled_at, e.left_at FROM enrolments e JOIN cohorts c ON c.id = e.cohort_id"
            " WHERE e.user_id = ?", [user_id]))

    def delete_learner(self, user_id: int) -> bool:
        """Erase a learner and everything tied to them; anonymous aggregates stay."""
        with self.transaction():
            # Question log rows lose their owner (ON DELETE SET NULL) and their text, which
            # could identify the person; the article, score and feedback stay as statistics.
            self.conn.execute(
                "UPDATE question_log SET question = '', user_id = NULL WHERE user_id = ?",
                (user_id,),
            )
            # Quiz answers stay as anonymous statistics per question (user_id becomes NULL).
            cursor = self.conn.execute("DELETE FROM learners WHERE user_id = ?", (user_id,))
        return bool(cursor.rowcount)

    # -- quiz settings, memory states, rounds and answers ------------------------------------------

    def update_learner_settings(self, user_id: int, **fields: object) -> None:
        allowed = {"push_time", "weekdays", "areas", "per_push", "paused_until", "show_name", "display_name"}
        unknown = set(fields) - allowed
        if unknown:
            raise ValueError(f"unknown settings: {unknown}")
        assignments = ", ".join(f"{name} = ?" for name in fields)
        with self.transaction():
            self.conn.execute(f"UPDATE learners SET {assignments} WHERE user_id = ?", [*fields.values(), user_id])

    def memory_states(self, user_id: int) -> list[dict]:
        return list(self.db.query("SELECT * FROM memory_states WHERE user_id = ?", [user_id]))

    def memory_state(self, user_id: int, question_id: str) -> dict | None:
        return self._one("SELECT * FROM memory_states WHERE user_id = ? AND question_id = ?", user_id, question_id)

    def recent_answers(self, user_id: int, since: datetime | None = None) -> list[dict]:
        return list(self.db.query(
            "SELECT question_id, correct, answered_at FROM answers WHERE user_id = ? AND answered_at >= ?"
            " ORDER BY id", [user_id, to_text(since) if since else ""]))

    def new_questions_since(self, user_id: int, since: datetime) -> int:
        """How many questions the learner met for the first time since `since`."""
        row = self.conn.execute(
            "SELECT COUNT(*) FROM (SELECT MIN(answered_at) AS first FROM answers WHERE user_id = ?"
            " GROUP BY question_id) WHERE first >= ?", (user_id, to_text(since)),
        ).fetchone()
        return row[0]

    def create_round(self, user_id: int, kind: str, question_ids: list[str], now: datetime,
                     campaign_id: int | None = None) -> int:
        with self.transaction():
            cursor = self.conn.execute(
                "INSERT INTO quiz_rounds (user_id, kind, question_ids, created_at, campaign_id) VALUES (?, ?, ?, ?, ?)",
                (user_id, kind, json.dumps(question_ids), to_text(now), campaign_id),
            )
        return cursor.lastrowid

    def quiz_round(self, round_id: int) -> dict | None:
        row = self._one("SELECT * FROM quiz_rounds WHERE id = ?", round_id)
        if row is not None:
            row["question_ids"] = json.loads(row["question_ids"])
        return row

    def finish_round(self, round_id: int, now: datetime) -> None:
        with self.transaction():
            self.conn.execute("UPDATE quiz_rounds SET finished_at = COALESCE(finished_at, ?) WHERE id = ?",
                              (to_text(now), round_id))

    def add_delivery(self, user_id: int, round_id: int | None, question_id: str, option_order: list[int],
                     now: datetime) -> int:
        with self.transaction():
            cursor = self.conn.execute(
                "INSERT INTO deliveries (user_id, round_id, question_id, option_order, sent_at) VALUES (?, ?, ?, ?, ?)",
                (user_id, round_id, question_id, json.dumps(option_order), to_text(now)),
            )
        return cursor.lastrowid

    def set_delivery_message(self, delivery_id: int, poll_id: str | None, message_id: int) -> None:
        with self.transaction():
            self.conn.execute("UPDATE deliveries SET poll_id = ?, message_id = ? WHERE id = ?",
                              (poll_id, message_id, delivery_id))

    def delivery(self, *, delivery_id: int | None = None, poll_id: str | None = None) -> dict | None:
        column, value = ("id", delivery_id) if delivery_id is not None else ("poll_id", poll_id)
        row = self._one(f"SELECT * FROM deliveries WHERE {column} = ?", value)
        if row is not None:
            row["option_order"] = json.loads(row["option_order"])
        return row

    def round_delivery(self, round_id: int, question_id: str) -> dict | None:
        row = self._one("SELECT id FROM deliveries WHERE round_id = ? AND question_id = ?", round_id, question_id)
        return self.delivery(delivery_id=row["id"]) if row else None

    def record_answer(
        self, *, delivery: dict, area: str, chosen_option: int, correct: bool, state: dict, now: datetime,
        local_day: str, campaign_id: int | None = None,
    ) -> bool:
        """Record one answer and its effects in one transaction. False if the delivery was already
        answered (a double tap, a stale button or a replayed update): nothing changes then."""
        with self.transaction():
            cursor = self.conn.execute(
                "INSERT OR IGNORE INTO answers (delivery_id, user_id, question_id, area, chosen_option, correct,"
                " answered_at, campaign_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (delivery["id"], delivery["user_id"], delivery["question_id"], area, chosen_option, int(correct),
                 to_text(now), campaign_id),
            )
            if not cursor.rowcount:
                return False
            self.conn.execute(
                "INSERT OR REPLACE INTO memory_states (user_id, question_id, card, due_at, last_review_at, reviews,"
                " lapses) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (delivery["user_id"], delivery["question_id"], state["card"], state["due_at"],
                 state["last_review_at"], state["reviews"], state["lapses"]),
            )
            self.conn.execute("UPDATE deliveries SET answered_at = ? WHERE id = ?", (to_text(now), delivery["id"]))
            if delivery["round_id"] is not None:
                self.conn.execute(
                    "UPDATE quiz_rounds SET position = position + 1, correct = correct + ? WHERE id = ?",
                    (int(correct), delivery["round_id"]),
                )
            self.conn.execute(
                "UPDATE pushes SET reacted_at = COALESCE(reacted_at, ?) WHERE user_id = ? AND local_day = ?",
                (to_text(now), delivery["user_id"], local_day),
            )
        return True

    def mark_push_reacted(self, user_id: int, local_day: str, now: datetime) -> None:
        with self.transaction():
            self.conn.execute(
                "UPDATE pushes SET reacted_at = COALESCE(reacted_at, ?) WHERE user_id = ? AND local_day = ?",
                (to_text(now), user_id, local_day),
            )

    # -- daily pushes and the outbox -----------------------------------------------------------------

    def push_candidates(self, local_day: str, local_time: str, weekday: int) -> list[dict]:
        """Reachable learners who may be due a push now: today is one of their days, their time
        ("HH:MM") has come, and they have had no push today. (The rules are applied again in
        quizzes/pushes.py; this only keeps an idle tick cheap.)"""
        return list(self.db.query(
            "SELECT l.user_id, l.chat_id, l.push_time, l.weekdays, l.paused_until, l.per_push,"
            " NULL AS last_push_day FROM learners l"
            " WHERE l.blocked_at IS NULL AND l.push_time <= ? AND instr(l.weekdays, ?) > 0"
            " AND NOT EXISTS (SELECT 1 FROM pushes p WHERE p.user_id = l.user_id AND p.local_day = ?)",
            [local_time, str(weekday), local_day]))

    def create_push(self, user_id: int, chat_id: int, local_day: str, now: datetime, payload: dict) -> bool:
        """The day's push and its message, once: False if this day's push exists already."""
        return self.create_pushes([(user_id, chat_id, local_day, payload)], now) == 1

    def create_pushes(self, pushes: list[tuple[int, int, str, dict]], now: datetime) -> int:
        """Many (user, chat, day, payload) pushes in one transaction; returns how many were new."""
        created = 0
        with self.transaction():
            for user_id, chat_id, local_day, payload in pushes:
                cursor = self.conn.execute(
                    "INSERT OR IGNORE INTO pushes (user_id, local_day, pushed_at) VALUES (?, ?, ?)",
                    (user_id, local_day, to_text(now)),
                )
                if cursor.rowcount:
                    created += self._enqueue(user_id, chat_id, "push", payload, now, f"push:{user_id}:{local_day}")
        return created

    def pushes_awaiting_reaction(self, local_day: str) -> list[dict]:
        return list(self.db.query(
            "SELECT p.user_id, p.local_day, p.pushed_at, l.chat_id FROM pushes p JOIN learners l USING (user_id)"
            " WHERE p.local_day = ? AND p.reacted_at IS NULL AND p.reminded_at IS NULL AND l.blocked_at IS NULL",
            [local_day],
        ))

    def create_reminder(self, user_id: int, chat_id: int, local_day: str, now: datetime, payload: dict) -> bool:
        with self.transaction():
            cursor = self.conn.execute(
                "UPDATE pushes SET reminded_at = ? WHERE user_id = ? AND local_day = ? AND reminded_at IS NULL",
                (to_text(now), user_id, local_day),
            )
            if not cursor.rowcount:
                return False
            self._enqueue(user_id, chat_id, "reminder", payload, now, f"reminder:{user_id}:{local_day}")
        return True

    def enqueue(self, user_id: int | None, chat_id: int, kind: str, payload: dict, now: datetime,
                dedupe_key: str | None = None, not_before: datetime | None = None) -> bool:
        with self.transaction():
            return self._enqueue(user_id, chat_id, kind, payload, now, dedupe_key, not_before)

    def _enqueue(self, user_id: int | None, chat_id: int, kind: str, payload: dict, now: datetime,
                 dedupe_key: str | None, not_before: datetime | None = None) -> bool:
        cursor = self.conn.execute(
            "INSERT OR IGNORE INTO outbox (user_id, chat_id, kind, payload, dedupe_key, created_at, not_before)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (user_id, chat_id, kind, json.dumps(payload, ensure_ascii=False), dedupe_key, to_text(now),
             to_text(not_before or now)),
        )
        return bool(cursor.rowcount)

    def due_outbox(self, now: datetime, limit: int = 200) -> list[dict]:
        rows = list(self.db.query(
            "SELECT * FROM outbox WHERE status = 'pending' AND not_before <= ? ORDER BY id LIMIT ?",
            [to_text(now), limit],
        ))
        for row in rows:
            row["payload"] = json.loads(row["payload"])
        return rows

    def mark_outbox_sent(self, outbox_id: int, now: datetime) -> None:
        with self.transaction():
            self.conn.execute("UPDATE outbox SET status = 'sent', sent_at = ? WHERE id = ?",
                              (to_text(now), outbox_id))

    def mark_outbox_retry(self, outbox_id: int, error: str, retry_at: datetime, give_up: bool) -> None:
        with self.transaction():
            self.conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?, not_before = ?, status = ? WHERE id = ?",
                (error[:300], to_text(retry_at), "failed" if give_up else "pending", outbox_id),
            )

    def mark_blocked(self, user_id: int, now: datetime) -> None:
        """The learner blocked the bot: stop sending (pending messages to them are dropped)."""
        with self.transaction():
            self.conn.execute("UPDATE learners SET blocked_at = ? WHERE user_id = ?", (to_text(now), user_id))
            self.conn.execute("UPDATE outbox SET status = 'blocked' WHERE user_id = ? AND status = 'pending'",
                              (user_id,))

    def outbox_counts(self) -> dict[str, int]:
        return dict(self.conn.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status"))

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

    # -- consultants, sessions and login throttling -------------------------------------------------

    def add_consultant(self, name: str, password_hash: str, now: datetime) -> int:
        with self.transaction():
            cursor = self.conn.execute(
                "INSERT INTO consultants (name, password_hash, created_at) VALUES (?, ?, ?)",
                (name, password_hash, to_text(now)),
            )
        return cursor.lastrowid

    def consultants(self) -> list[dict]:
        return list(self.db.query(
            "SELECT c.id, c.name, c.created_at, c.telegram_user_id IS NOT NULL AS linked,"
            " (SELECT COUNT(*) FROM cohorts WHERE consultant_id = c.id) AS cohorts FROM consultants c ORDER BY name"))

    def remove_consultant(self, name: str) -> bool:
        with self.transaction():
            cursor = self.conn.execute("DELETE FROM consultants WHERE name = ?", (name,))
        return bool(cursor.rowcount)

    def consultant_by_name(self, name: str) -> dict | None:
        return self._one("SELECT * FROM consultants WHERE name = ?", name)

    def consultant_by_telegram(self, user_id: int) -> dict | None:
        return self._one("SELECT * FROM consultants WHERE telegram_user_id = ?", user_id)

    def set_password_hash(self, consultant_id: int, password_hash: str) -> None:
        with self.transaction():
            self.conn.execute("UPDATE consultants SET password_hash = ? WHERE id = ?", (password_hash, consultant_id))

    def set_link_code(self, consultant_id: int, code: str) -> None:
        with self.transaction():
            self.conn.execute("UPDATE consultants SET link_code = ? WHERE id = ?", (code, consultant_id))

    def link_telegram(self, code: str, telegram_user_id: int) -> dict | None:
        """Link a Telegram account to the consultant who showed this one-time code."""
        with self.transaction():
            consultant = self._one("SELECT * FROM consultants WHERE link_code = ?", code)
            if consultant is None:
                return None
            self.conn.execute("UPDATE consultants SET telegram_user_id = NULL WHERE telegram_user_id = ?",
                              (telegram_user_id,))
            self.conn.execute("UPDATE consultants SET telegram_user_id = ?, link_code = NULL WHERE id = ?",
                              (telegram_user_id, consultant["id"]))
        return consultant

    def create_session(self, token_hash: str, consultant_id: int, csrf_token: str, now: datetime,
                       expires_at: datetime) -> None:
        with self.transaction():
            self.conn.execute("DELETE FROM sessions WHERE expires_at < ?", (to_text(now),))
            self.conn.execute(
                "INSERT INTO sessions (token_hash, consultant_id, csrf_token, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?)", (token_hash, consultant_id, csrf_token, to_text(now), to_text(expires_at)))

    def session(self, token_hash: str, now: datetime) -> dict | None:
        return self._one(
            "SELECT s.csrf_token, s.expires_at, c.id AS consultant_id, c.name FROM sessions s"
            " JOIN consultants c ON c.id = s.consultant_id WHERE s.token_hash = ? AND s.expires_at > ?",
            token_hash, to_text(now))

    def delete_session(self, token_hash: str) -> None:
        with self.transaction():
            self.conn.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,))

    def record_login_failure(self, key: str, now: datetime) -> None:
        with self.transaction():
            self.conn.execute("INSERT INTO login_failures (key, failed_at) VALUES (?, ?)", (key, to_text(now)))

    def login_failures_since(self, key: str, since: datetime) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM login_failures WHERE key = ? AND failed_at >= ?",
                                 (key, to_text(since))).fetchone()[0]

    def clear_login_failures(self, key: str) -> None:
        with self.transaction():
            self.conn.execute("DELETE FROM login_failures WHERE key = ?", (key,))

    # -- cohorts and enrolment ------------------------------------------------------------------------

    def create_cohort(self, consultant_id: int, name: str, code: str, now: datetime,
                      expires_at: datetime | None = None) -> int:
        with self.transaction():
            cursor = self.conn.execute(
                "INSERT INTO cohorts (consultant_id, name, code, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                (consultant_id, name, code, to_text(now), to_text(expires_at) if expires_at else None))
        return cursor.lastrowid

    def cohorts_of(self, consultant_id: int) -> list[dict]:
        return list(self.db.query(
            "SELECT c.*, (SELECT COUNT(*) FROM enrolments e WHERE e.cohort_id = c.id AND e.left_at IS NULL)"
            " AS members FROM cohorts c WHERE c.consultant_id = ? ORDER BY c.id DESC", [consultant_id]))

    def cohort(self, cohort_id: int, consultant_id: int) -> dict | None:
        """A cohort, only if it belongs to this consultant (the scope check is in the query)."""
        return self._one("SELECT * FROM cohorts WHERE id = ? AND consultant_id = ?", cohort_id, consultant_id)

    def cohort_by_code(self, code: str) -> dict | None:
        return self._one("SELECT * FROM cohorts WHERE code = ?", code)

    def enrol(self, cohort_id: int, user_id: int, now: datetime) -> bool:
        """Enrol (or re-enrol) a learner; False if they were already in the cohort."""
        with self.transaction():
            existing = self._one("SELECT left_at FROM enrolments WHERE cohort_id = ? AND user_id = ?",
                                 cohort_id, user_id)
            if existing is not None and existing["left_at"] is None:
                return False
            self.conn.execute(
                "INSERT OR REPLACE INTO enrolments (cohort_id, user_id, enrolled_at, left_at) VALUES (?, ?, ?, NULL)",
                (cohort_id, user_id, to_text(now)))
        return True

    def leave_cohorts(self, user_id: int, now: datetime) -> list[str]:
        with self.transaction():
            names = [r["name"] for r in self.db.query(
                "SELECT c.name FROM enrolments e JOIN cohorts c ON c.id = e.cohort_id"
                " WHERE e.user_id = ? AND e.left_at IS NULL", [user_id])]
            self.conn.execute("UPDATE enrolments SET left_at = ? WHERE user_id = ? AND left_at IS NULL",
                              (to_text(now), user_id))
        return names

    def cohort_members(self, cohort_id: int) -> list[dict]:
        """Active members, in enrolment order (the order gives the pseudonyms)."""
        return list(self.db.query(
            "SELECT l.user_id, l.chat_id, l.show_name, l.display_name, l.weekdays, l.blocked_at, e.enrolled_at"
            " FROM enrolments e JOIN learners l USING (user_id) WHERE e.cohort_id = ? AND e.left_at IS NULL"
            " ORDER BY e.enrolled_at, l.user_id", [cohort_id]))

    # -- campaigns and announcements -------------------------------------------------------------------

    def create_campaign(self, cohort_id: int, now: datetime, **fields: object) -> int:
        columns = ["cohort_id", "created_at", *fields]
        with self.transaction():
            cursor = self.conn.execute(
                f"INSERT INTO campaigns ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                [cohort_id, to_text(now), *fields.values()])
        return cursor.lastrowid

    def campaigns_of_cohort(self, cohort_id: int) -> list[dict]:
        return list(self.db.query("SELECT * FROM campaigns WHERE cohort_id = ? ORDER BY id DESC", [cohort_id]))

    def campaigns_of_consultant(self, consultant_id: int) -> list[dict]:
        return list(self.db.query(
            "SELECT k.*, c.name AS cohort_name,"
            " (SELECT COUNT(*) FROM enrolments e WHERE e.cohort_id = c.id AND e.left_at IS NULL) AS members,"
            " (SELECT COUNT(*) FROM answers a WHERE a.campaign_id = k.id) AS answers"
            " FROM campaigns k JOIN cohorts c ON c.id = k.cohort_id WHERE c.consultant_id = ? ORDER BY k.id DESC",
            [consultant_id]))

    def campaign(self, campaign_id: int, consultant_id: int | None = None) -> dict | None:
        """A campaign, only if it belongs to this consultant (when one is given)."""
        if consultant_id is None:
            return self._one("SELECT * FROM campaigns WHERE id = ?", campaign_id)
        return self._one(
            "SELECT k.*, c.name AS cohort_name FROM campaigns k JOIN cohorts c ON c.id = k.cohort_id"
            " WHERE k.id = ? AND c.consultant_id = ?", campaign_id, consultant_id)

    def set_campaign_status(self, campaign_id: int, status: str) -> None:
        with self.transaction():
            self.conn.execute("UPDATE campaigns SET status = ? WHERE id = ?", (status, campaign_id))

    def active_campaigns(self, local_day: str) -> list[dict]:
        return list(self.db.query(
            "SELECT * FROM campaigns WHERE status = 'active' AND start_date <= ? AND end_date >= ?",
            [local_day, local_day]))

    def learner_campaigns(self, user_id: int, local_day: str) -> list[dict]:
        return list(self.db.query(
            "SELECT k.* FROM campaigns k JOIN enrolments e ON e.cohort_id = k.cohort_id"
            " WHERE e.user_id = ? AND e.left_at IS NULL AND k.status = 'active'"
            " AND k.start_date <= ? AND k.end_date >= ? ORDER BY k.id", [user_id, local_day, local_day]))

    def campaign_answered(self, campaign_id: int, user_id: int) -> set[str]:
        return {r["question_id"] for r in self.db.query(
            "SELECT DISTINCT question_id FROM answers WHERE campaign_id = ? AND user_id = ?", [campaign_id, user_id])}

    def create_announcement(self, cohort_id: int, text: str, send_at: datetime, now: datetime,
                            campaign_id: int | None = None) -> int:
        with self.transaction():
            cursor = self.conn.execute(
                "INSERT INTO announcements (cohort_id, campaign_id, text, send_at, created_at) VALUES (?, ?, ?, ?, ?)",
                (cohort_id, campaign_id, text, to_text(send_at), to_text(now)))
        return cursor.lastrowid

    def announcements_of_cohort(self, cohort_id: int) -> list[dict]:
        return list(self.db.query("SELECT * FROM announcements WHERE cohort_id = ? ORDER BY send_at DESC",
                                  [cohort_id]))

    def queue_due_announcements(self, now: datetime, payload_for: Callable[[dict], dict]) -> int:
        """Every announcement whose time has come becomes one outbox row per member, once."""
        queued = 0
        for announcement in self.db.query(
                "SELECT * FROM announcements WHERE queued_at IS NULL AND send_at <= ?", [to_text(now)]):
            with self.transaction():
                members = self.conn.execute(
                    "SELECT l.user_id, l.chat_id FROM enrolments e JOIN learners l USING (user_id)"
                    " WHERE e.cohort_id = ? AND e.left_at IS NULL AND l.blocked_at IS NULL",
                    (announcement["cohort_id"],)).fetchall()
                payload = payload_for(announcement)
                for user_id, chat_id in members:
                    queued += self._enqueue(user_id, chat_id, "announcement", payload, now,
                                            f"announcement:{announcement['id']}:{user_id}")
                self.conn.execute("UPDATE announcements SET queued_at = ? WHERE id = ?",
                                  (to_text(now), announcement["id"]))
        return queued

    # -- campaign results -----------------------------------------------------------------------------

    def campaign_answers(self, campaign_id: int) -> list[dict]:
        return list(self.db.query(
            "SELECT user_id, question_id, area, chosen_option, correct, answered_at FROM answers"
            " WHERE campaign_id = ? ORDER BY id", [campaign_id]))

    def members_memory_states(self, cohort_id: int) -> list[dict]:
        return list(self.db.query(
            "SELECT m.* FROM memory_states m JOIN enrolments e ON e.user_id = m.user_id"
            " WHERE e.cohort_id = ? AND e.left_at IS NULL", [cohort_id]))

    def unanswered_questions(self, cohort_id: int, since: str, limit: int = 50) -> list[dict]:
        """What the cohort asked the bot that it could not answer (the text only, no names)."""
        return list(self.db.query(
            "SELECT q.question, q.asked_at FROM question_log q JOIN enrolments e ON e.user_id = q.user_id"
            " WHERE e.cohort_id = ? AND q.abstained = 1 AND q.asked_at >= ? ORDER BY q.id DESC LIMIT ?",
            [cohort_id, since, limit]))

    def last_activity(self, user_ids: Sequence[int]) -> dict[int, str]:
        if not user_ids:
            return {}
        marks = ",".join("?" * len(user_ids))
        return {r["user_id"]: r["last"] for r in self.db.query(
            f"SELECT user_id, MAX(answered_at) AS last FROM answers WHERE user_id IN ({marks}) GROUP BY user_id",
            list(user_ids))}

    def store_retention(self, campaign_id: int, day: str, rows: list[tuple[str, float, int]]) -> None:
        with self.transaction():
            self.conn.executemany(
                "INSERT OR REPLACE INTO retention_snapshots (campaign_id, day, area, retention, learners)"
                " VALUES (?, ?, ?, ?, ?)", [(campaign_id, day, area, r, n) for area, r, n in rows])

    def retention_series(self, campaign_id: int) -> list[dict]:
        return list(self.db.query(
            "SELECT day, area, retention, learners FROM retention_snapshots WHERE campaign_id = ? ORDER BY day",
            [campaign_id]))

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

    def note_attempt(self, update_id: int) -> tuple[int, bool]:
        """Count a handling attempt: (how many there have been, whether it was answered already).

        This and the other per-update inbox writes are single statements, each its own transaction
        (autocommit): one call into SQLite instead of three or four, on the event loop's busiest path."""
        rows = self.conn.execute(
            "UPDATE inbox SET attempts = attempts + 1 WHERE update_id = ? RETURNING attempts, replied", (update_id,)
        ).fetchall()  # fetched to the end, so the statement completes and commits
        return (rows[0][0], bool(rows[0][1])) if rows else (0, False)

    def mark_replied(self, update_id: int) -> None:
        self.conn.execute("UPDATE inbox SET replied = 1 WHERE update_id = ? AND replied = 0", (update_id,))

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

    def purge_old_data(self, now: datetime) -> dict[str, int]:
        """The retention rules of the README: what is not needed any longer goes."""
        removed = {"inbox": self.purge_inbox(now)}
        with self.transaction():
            removed["question_texts"] = self.conn.execute(
                "UPDATE question_log SET question = '', user_id = NULL WHERE asked_at < ? AND question != ''",
                (to_text(now - QUESTION_TEXT_KEPT),)).rowcount
            removed["outbox"] = self.conn.execute(
                "DELETE FROM outbox WHERE status != 'pending' AND created_at < ?",
                (to_text(now - timedelta(days=30)),)).rowcount
            removed["sessions"] = self.conn.execute(
                "DELETE FROM sessions WHERE expires_at < ?", (to_text(now),)).rowcount
            removed["login_failures"] = self.conn.execute(
                "DELETE FROM login_failures WHERE failed_at < ?", (to_text(now - timedelta(days=1)),)).rowcount
        return removed

    def inbox_counts(self) -> dict[str, int]:
        return dict(self.conn.execute("SELECT status, COUNT(*) FROM inbox GROUP BY status"))


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements (no semicolons inside our statements)."""
    return [part.strip() for part in script.split(";") if part.strip()]
