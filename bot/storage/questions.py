"""The question log: every question asked of the knowledge base, its outcome and its 👍/👎.

The `question_log` table's SQL. Texts are stored with CPR numbers, phone numbers and e-mail
addresses masked, kept QUESTION_TEXT_KEPT, then removed with their asker; the article, score and
feedback stay as anonymous statistics.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from bot.storage.database import Repository, to_text

QUESTION_TEXT_KEPT = timedelta(days=365)  # then a question's text and its asker are removed

# Personal data a learner may type into a question, masked before the text is stored. CPR: ddmmyy
# and four digits; phone: Danish numbers (eight digits, whole or in pairs or fours, maybe +45).
PERSONAL_DATA = (
    (re.compile(r"(?<![\d+])(?:0[1-9]|[12]\d|3[01])(?:0[1-9]|1[0-2])\d{2}[-\s]?\d{4}(?!\d)"), "[CPR-nummer]"),
    (re.compile(r"(?<![\w+])(?:(?:\+|00)\s?45[\s-]?)?(?:\d{8}|\d{2}(?:[ .]\d{2}){3}|\d{4} \d{4})(?!\d)"),
     "[telefonnummer]"),
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[e-mail]"),
)


def mask_personal_data(text: str) -> str:
    """The text with CPR numbers, phone numbers and e-mail addresses replaced by placeholders."""
    for pattern, placeholder in PERSONAL_DATA:
        text = pattern.sub(placeholder, text)
    return text


class QuestionLogStore(Repository):
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
                (update_id, user_id, to_text(now), mask_personal_data(question), article_id, score, int(abstained)),
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

    def asked(self, log_id: int, user_id: int) -> dict | None:
        """The learner's own logged question and the article it was shown, or None."""
        rows = list(self.db.query("SELECT question, article_id FROM question_log WHERE id = ? AND user_id = ?",
                                  [log_id, user_id]))
        return rows[0] if rows else None

    def question_log(self, limit: int = 100) -> list[dict]:
        return list(self.db.query("SELECT * FROM question_log ORDER BY id DESC LIMIT ?", [limit]))

    def questions_of(self, user_id: int) -> list[dict]:
        """The learner's own questions, for the right of access."""
        return list(self.db.query("SELECT asked_at, question, article_id, abstained, feedback FROM question_log"
                                  " WHERE user_id = ? ORDER BY id", [user_id]))

    def forget_asker(self, user_id: int) -> None:
        """The learner's rows lose their owner and their text, which could identify the person; the
        article, score and feedback stay as statistics."""
        with self.transaction():
            self.conn.execute(
                "UPDATE question_log SET question = '', user_id = NULL WHERE user_id = ?",
                (user_id,),
            )

    def purge_old_texts(self, now: datetime) -> int:
        with self.transaction():
            return self.conn.execute(
                "UPDATE question_log SET question = '', user_id = NULL WHERE asked_at < ? AND question != ''",
                (to_text(now - QUESTION_TEXT_KEPT),)).rowcount
