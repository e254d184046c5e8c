"""The durable inbox: every update is stored before Telegram is told it arrived.

Polling: fetch a batch with getUpdates, store it in one transaction, and only then ask for the
next offset (that next call is what confirms the batch to Telegram). Webhook: the HTTP handler
stores the update before answering 200. Either way the dispatcher handles stored rows, one chat
at a time in order, several chats at once, and marks each row finished. At start, whatever was
stored but not finished is handled first.

A poison update never stops the bot: one that cannot be parsed or handled MAX_ATTEMPTS times (in one
run, or across restarts it crashed) is set aside, kept in the inbox marked 'failed' and logged once.
Text that cannot be stored (a lone UTF-16 surrogate) is replaced, and a malformed update never
breaks the poller.
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
    What is left are the replies in flight at the instant of a kill: at most REPLIES_IN_FLIGHT.
    """

    def __init__(self, *args: object, reply_marker: Callable[[int], None] | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._reply_marker = reply_marker
        self._in_flight = asyncio.Semaphore(REPLIES_IN_FLIGHT)

    async def _do_post(self, endpoint: str, data: dict, **kwargs: object) -> object:
        if endpoint == "getUpdates":
            return await self._post_with_retries(endpoint, data, **kwargs)
        async with self._in_flight:
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
# Bot API calls the handlers may have on their way at once: a kill -9 can double at most this many
# replies. Eight keep up with the bot's ceiling of about 250 updates a second at Telegram's ~30 ms.
REPLIES_IN_FLIGHT = 16
MAX_ATTEMPTS = 3  # an update that failed (or crashed the bot) this often is set aside, not retried forever
ATTEMPT_PAUSE = 1.0  # seconds between attempts at an update that failed
POLL_TIMEOUT = 25
MAX_UPDATE_ID = 2**63 - 1  # SQLite's largest integer


def chat_key(body: dict) -> int:
    """The chat (or user) an update belongs to, so one chat's updates are handled in order; 0 when
    a malformed update names none."""
    for kind, path in (("message", "chat"), ("edited_message", "chat"), ("callback_query", "from"),
                       ("poll_answer", "user"), ("my_chat_member", "chat")):
        item = body.get(kind)
        if not item:
            continue
        owner = item.get(path) if isinstance(item, dict) else None
        key = owner.get("id") if isinstance(owner, dict) else None
        return key if isinstance(key, int) and abs(key) <= MAX_UPDATE_ID else 0
    return 0


def is_update(body: object) -> bool:
    """An object with an update id SQLite can store: everything else is not an update."""
    return isinstance(body, dict) and type(body.get("update_id")) is int and 0 <= body["update_id"] <= MAX_UPDATE_ID


def storable(body: dict) -> dict:
    """The update with lone UTF-16 surrogates (which no UTF-8 database can store) replaced by '?'."""
    text = json.dumps(body, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.loads(text.encode("utf-8", "replace"))
    return body


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
            async with lock:  # held between attempts: the chat's later updates wait their turn
                for _ in range(MAX_ATTEMPTS):
                    if await self._attempt(update_id, body):
                        break
                    await asyncio.sleep(ATTEMPT_PAUSE)
        except Exception:
            log.exception("update %s could not be handled; it stays in the inbox", update_id)
        finally:
            self._scheduled.discard(update_id)
            if not lock.locked() and not lock._waiters:
                self._chat_locks.pop(chat, None)

    async def _attempt(self, update_id: int, body: dict) -> bool:
        """One try at an update: True when it is finished (handled, answered before, or set aside)."""
        async with self._slots:
            attempts, replied = self.inbox.note_attempt(update_id)
            if replied:
                log.info("update %s was answered before the last stop; not handled again", update_id)
                self.inbox.finish_update(update_id, utc_now())
                return True
            if attempts > MAX_ATTEMPTS:  # it stopped the bot this often before the last start
                log.error("update %s was in hand at %d stops; set aside", update_id, attempts - 1)
                self.inbox.set_aside(update_id, utc_now())
                return True
            try:
                update = Update.de_json(body, self.application.bot)
                CURRENT_UPDATE.set(update_id)
                await self.application.process_update(update)
            except Exception as error:
                if attempts < MAX_ATTEMPTS:
                    return False
                log.error("update %s failed %d times; set aside", update_id, attempts, exc_info=error)
                self.inbox.set_aside(update_id, utc_now())
                return True
            self.inbox.finish_update(update_id, utc_now())
            return True

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for the updates in hand (used at shutdown)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    def store_and_submit(self, bodies: list[dict]) -> int:
        """Store updates (webhook or polling) and start handling the new ones; what is not an
        update is dropped with a log line."""
        by_id = {body["update_id"]: body for body in bodies if is_update(body)}
        if len(by_id) < len(bodies):
            log.error("%d of %d received objects are not updates; dropped", len(bodies) - len(by_id), len(bodies))
        try:
            fresh = self.inbox.store_updates(list(by_id.items()), utc_now())
        except UnicodeEncodeError:
            by_id = {update_id: storable(body) for update_id, body in by_id.items()}
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
        if ids := [body["update_id"] for body in bodies if is_update(body)]:
            offset = max(ids) + 1


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
