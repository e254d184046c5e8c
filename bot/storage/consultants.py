"""Consultants: dashboard logins, their sessions, failed logins (for throttling) and the link to
a Telegram account.

The SQL of `consultants`, `sessions` and `login_failures`. Only password and token hashes are
stored; hashing is the caller's (bot/services/campaigns.py, bot/web/dashboard.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.storage.database import Repository, to_text

FAILURES_KEPT = timedelta(days=1)


class ConsultantStore(Repository):
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

    def link_telegram(self, code: str, telegram_user_id: int, now: datetime) -> dict | None:
        """Link a Telegram account to the consultant who showed this one-time code, while it is valid
        (the code starts with its expiry as Unix seconds: bot/services/campaigns.py `new_link_code`)."""
        expiry, _, _ = code.partition("-")
        if not expiry.isascii() or not expiry.isdecimal() or int(expiry) < now.timestamp():
            return None
        with self.transaction():
            consultant = self._one("SELECT * FROM consultants WHERE link_code = ?", code)
            if consultant is None:
                return None
            self.conn.execute("UPDATE consultants SET telegram_user_id = NULL WHERE telegram_user_id = ?",
                              (telegram_user_id,))
            self.conn.execute("UPDATE consultants SET telegram_user_id = ?, link_code = NULL WHERE id = ?",
                              (telegram_user_id, consultant["id"]))
        return consultant

    # -- sessions and login throttling ------------------------------------------------------------

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

    def last_login_failures(self, key: str, since: datetime) -> tuple[int, datetime | None]:
        """How many failed logins for `key` since `since`, and when the last one was."""
        count, last = self.conn.execute("SELECT COUNT(*), MAX(failed_at) FROM login_failures"
                                        " WHERE key = ? AND failed_at >= ?", (key, to_text(since))).fetchone()
        return count, datetime.fromisoformat(last) if last else None

    def clear_login_failures(self, key: str) -> None:
        with self.transaction():
            self.conn.execute("DELETE FROM login_failures WHERE key = ?", (key,))

    def purge_sessions(self, now: datetime) -> tuple[int, int]:
        """Expired sessions and day-old failed logins: (sessions, failures) removed."""
        with self.transaction():
            sessions = self.conn.execute("DELETE FROM sessions WHERE expires_at < ?", (to_text(now),)).rowcount
            failures = self.conn.execute(
                "DELETE FROM login_failures WHERE failed_at < ?", (to_text(now - FAILURES_KEPT),)).rowcount
        return sessions, failures
