"""The durable inbox: every update is stored before Telegram is told it arrived.

Polling: fetch a batch with getUpdates, store it in one transaction, and only then ask for the
next offset (that next call is what confirms the batch to Telegram). Webhook: the HTTP handler
stores the update before answering 200. Either way the dispatcher handles stored rows, one chat
at a time in order, several chats at once, and marks each row finished. At start, whatever was
stored but not finished is handled first.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
from collections import defaultdict
from collections.abc import Callable
from contextvars import ContextVar
from datetime import timedelta

from telegram import Update
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ExtBot

from bot.delivery.transport import READ_TIMEOUT
from bot.storage import InboxStore, utc_now

log = logging.getLogger(__name__)

# The update a handler is working on (set per task by the dispatcher), so outgoing replies can be
# noted against it.
CURRENT_UPDATE: ContextVar[int | None] = ContextVar("current_update", default=None)
REPLY_METHODS = frozenset({"sendMessage", "sendPoll", "sendPhoto", "sendDocument", "editMessageText",
                           "editMessageReplyMarkup"})


class ReplyTrackingBot(ExtBot):
    """The bot, noting in the inbox the moment an update's reply has reached Telegram.

    Telegram has no idempotency key: if the bot dies after replying but before the update is
    marked done, a restart would answer twice. The note, written right after Telegram confirms the
    reply, narrows that window to microseconds: a replayed update that was already answered is
    finished without being handled again (its database effects were committed before the reply).
    """

    def __init__(self, *args: object, reply_marker: Callable[[int], None] | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._reply_marker = reply_marker

    async def _do_post(self, endpoint: str, data: dict, **kwargs: object) -> object:
        result = await self._post_with_retries(endpoint, data, **kwargs)
        update_id = CURRENT_UPDATE.get()
        if update_id is not None and endpoint in REPLY_METHODS and self._reply_marker is not None:
            self._reply_marker(update_id)
        return result

    async def get_update_bodies(self, offset: int | None, timeout: int) -> list[dict]:
        """getUpdates as Telegram's JSON. PTB's `get_updates` would build an `Update` from each, which
        the inbox would only turn back into JSON to store it; the dispatcher builds each one once."""
        data = {"offset": offset, "timeout": timeout, "allowed_updates": Update.ALL_TYPES}
        # As `get_updates` does: the long poll's wait plus the ordinary read timeout.
        return await self._post("getUpdates", data, read_timeout=READ_TIMEOUT + timeout)

    async def _post_with_retries(self, endpoint: str, data: dict, **kwargs: object) -> object:
        """Retry a call that failed in transit or on Telegram's side (5xx, timeouts) with backoff,
        logging one line per failure; Telegram's refusals (4xx) are not retried. getUpdates has its
        own backoff in poll_forever."""
        for attempt in range(len(RETRY_DELAYS) + 1):
            try:
                return await super()._do_post(endpoint, data, **kwargs)
            except (BadRequest, Forbidden, InvalidToken, RetryAfter):
                raise
            except NetworkError as error:
                if endpoint == "getUpdates" or attempt == len(RETRY_DELAYS):
                    raise
                delay = RETRY_DELAYS[attempt]
                log.warning("Telegram call %s failed (%s); retry %d in %.1f s", endpoint, error or type(error).__name__,
                            attempt + 1, delay)
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")


RETRY_DELAYS = (0.5, 1.0, 2.0)
MAX_ATTEMPTS = 3  # an update that crashed the bot this often is set aside, not retried forever
POLL_TIMEOUT = 25


def chat_key(body: dict) -> int:
    """The chat (or user) an update belongs to, so one chat's updates are handled in order."""
    for kind in ("message", "edited_message", "callback_query", "poll_answer", "my_chat_member"):
        item = body.get(kind)
        if not item:
            continue
        if kind == "callback_query":
            return item["from"]["id"]
        if kind == "poll_answer":
            return item.get("user", {}).get("id", 0)
        return item.get("chat", {}).get("id", 0)
    return 0


class Dispatcher:
    """Handles stored updates: in order within a chat, concurrently across chats."""

    def __init__(self, application: Application, inbox: InboxStore, concurrency: int = 32) -> None:
        self.application = application
        self.inbox = inbox
        self._slots = asyncio.Semaphore(concurrency)
        self._chat_locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._tasks: set[asyncio.Task] = set()
        self._scheduled: set[int] = set()

    def submit(self, update_id: int, body: dict) -> None:
        if update_id in self._scheduled:
            return
        self._scheduled.add(update_id)
        task = asyncio.create_task(self._handle(update_id, body, chat_key(body)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def submit_pending(self) -> int:
        rows = self.inbox.pending_updates()
        for row in rows:
            self.submit(row.update_id, json.loads(row.body))
        return len(rows)

    async def _handle(self, update_id: int, body: dict, chat: int) -> None:
        lock = self._chat_locks[chat]
        try:
            async with lock, self._slots:
                attempts, replied = self.inbox.note_attempt(update_id)
                if replied:
                    log.info("update %s was answered before the last stop; not handled again", update_id)
                    self.inbox.finish_update(update_id, utc_now())
                    return
                if attempts > MAX_ATTEMPTS:
                    log.error("update %s failed %s times; set aside", update_id, attempts - 1)
                    self.inbox.finish_update(update_id, utc_now(), status="failed")
                    return
                update = Update.de_json(body, self.application.bot)
                CURRENT_UPDATE.set(update_id)
                await self.application.process_update(update)
                self.inbox.finish_update(update_id, utc_now())
        except Exception:
            log.exception("update %s could not be handled; it stays in the inbox", update_id)
        finally:
            self._scheduled.discard(update_id)
            if not lock.locked() and not lock._waiters:
                self._chat_locks.pop(chat, None)

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for the updates in hand (used at shutdown)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    def store_and_submit(self, bodies: list[dict]) -> int:
        """Store updates (webhook or polling) and start handling the new ones."""
        by_id = {body["update_id"]: body for body in bodies}
        fresh = self.inbox.store_updates(list(by_id.items()), utc_now())
        for update_id in fresh:
            self.submit(update_id, by_id[update_id])
        return len(fresh)


async def poll_forever(application: Application, dispatcher: Dispatcher, stop: asyncio.Event) -> None:
    """Long-poll Telegram and feed the inbox until `stop` is set (`application.bot` is a ReplyTrackingBot)."""
    # Telegram remembers what was confirmed, so the first call asks for everything unconfirmed.
    # (Our own last id is no guide: after a week without updates Telegram's ids start afresh.)
    offset = None
    backoff = 1.0
    while not stop.is_set():
        try:
            bodies = await application.bot.get_update_bodies(offset, POLL_TIMEOUT)
        except RetryAfter as error:
            delay = _seconds(error.retry_after)
            log.warning("getUpdates: Telegram asks us to wait %.0f s", delay)
            await _sleep_or_stop(stop, delay)
            continue
        except (InvalidToken, Forbidden) as error:
            log.critical("getUpdates refused: %s. Check TELEGRAM_BOT_TOKEN.", error)
            raise
        except (NetworkError, TelegramError) as error:
            log.warning("getUpdates failed (%s); retrying in %.0f s", error, backoff)
            await _sleep_or_stop(stop, backoff)
            backoff = min(backoff * 2, 30.0)
            continue
        backoff = 1.0
        if not bodies:
            continue
        # Stored before the next getUpdates call confirms them to Telegram. If storing fails,
        # the offset stays put and Telegram sends the same batch again.
        try:
            dispatcher.store_and_submit(bodies)
        except sqlite3.Error as error:
            log.error("could not store %d updates (%s); fetching them again in %.0f s", len(bodies), error, backoff)
            await _sleep_or_stop(stop, backoff)
            backoff = min(backoff * 2, 30.0)
            continue
        offset = max(body["update_id"] for body in bodies) + 1


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
