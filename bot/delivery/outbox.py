"""The outbox sender: one loop drains the outbox within Telegram's limits.

Pushes, reminders and announcements are rows in the outbox (bot/storage/outbox.py); this loop sends each
and marks it sent, so a restart resumes where it stopped. It honours RetryAfter, marks a learner
who blocked the bot and stops sending to them, and retries other failures with backoff. The
overall rate (30/s) comes from python-telegram-bot's AIORateLimiter on a bot of its own; a chat
gets at most one message a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot.storage import OutboxStore

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
PER_CHAT_INTERVAL = 1.0


def keyboard_from_payload(rows: list[list[list[str]]] | None) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data) for label, data in row]
                                 for row in rows])


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(600, 2 ** attempts))


class OutboxSender:
    def __init__(self, bot: Bot, outbox: OutboxStore, clock: Callable[[], datetime], concurrency: int = 16) -> None:
        self.bot = bot
        self.outbox = outbox
        self.clock = clock
        self.concurrency = concurrency
        self.wake = asyncio.Event()
        self._last_sent: dict[int, float] = {}
        self.sent = 0

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                busy = await self.drain_once()
            except Exception:
                log.exception("outbox round failed; trying again shortly")
                busy = False
            if not busy:
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), timeout=1.0)

    async def drain_once(self, limit: int = 200) -> bool:
        """Send what is due now; True if there was anything."""
        rows = self.outbox.due_outbox(self.clock(), limit)
        if not rows:
            return False
        now = time.monotonic()
        ready, seen_chats = [], set()
        for row in rows:
            chat = row["chat_id"]
            if chat in seen_chats or now - self._last_sent.get(chat, -PER_CHAT_INTERVAL) < PER_CHAT_INTERVAL:
                continue  # at most one message per chat per second: it waits for the next round
            seen_chats.add(chat)
            ready.append(row)
        if not ready:
            await asyncio.sleep(0.2)
            return True
        if len(self._last_sent) > 10_000:  # forget chats not written to in the last second
            self._last_sent = {c: t for c, t in self._last_sent.items() if now - t < PER_CHAT_INTERVAL}
        slots = asyncio.Semaphore(self.concurrency)

        async def send(row: dict) -> None:
            async with slots:
                await self._send(row)

        await asyncio.gather(*(send(row) for row in ready))
        return True

    async def _send(self, row: dict) -> None:
        payload = row["payload"]
        self._last_sent[row["chat_id"]] = time.monotonic()
        try:
            await self.bot.send_message(
                row["chat_id"], payload["text"], parse_mode=payload.get("parse_mode"),
                reply_markup=keyboard_from_payload(payload.get("buttons")),
            )
        except RetryAfter as error:
            delay = error.retry_after if isinstance(error.retry_after, (int, float)) else \
                error.retry_after.total_seconds()
            log.warning("outbox %s: Telegram asks us to wait %.0f s", row["id"], delay)
            self.outbox.mark_outbox_retry(row["id"], "retry after", self.clock() + timedelta(seconds=delay), False)
            return
        except Forbidden:
            log.info("outbox %s: the learner blocked the bot; no more messages to them", row["id"])
            if row["user_id"] is not None:
                self.outbox.mark_blocked(row["user_id"], self.clock())
            else:
                self.outbox.mark_outbox_retry(row["id"], "forbidden", self.clock(), True)
            return
        except BadRequest as error:
            log.error("outbox %s: Telegram refused the message (%s); not retried", row["id"], error.message)
            self.outbox.mark_outbox_retry(row["id"], error.message, self.clock(), True)
            return
        except TelegramError as error:
            attempts = row["attempts"] + 1
            give_up = attempts >= MAX_ATTEMPTS
            log.warning("outbox %s: sending failed (%s), attempt %d%s", row["id"], error, attempts,
                        "; giving up" if give_up else "")
            self.outbox.mark_outbox_retry(row["id"], str(error), self.clock() + backoff(attempts), give_up)
            return
        self.outbox.mark_outbox_sent(row["id"], self.clock())
        self.sent += 1
