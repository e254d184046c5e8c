"""A local Telegram Bot API emulator (aiohttp, loopback only).

It speaks the Bot API's HTTP contract to the real python-telegram-bot client, so the bot can be
tested end to end and tried in the local chat page without Telegram. Users are simulated through
a small JSON API under /emulator/ (used by the tests and by the chat page):

    POST /emulator/send     {"user_id", "text", "first_name"?}        a user writes
    POST /emulator/press    {"user_id", "message_id", "data"}         a user presses a button
    POST /emulator/vote     {"user_id", "poll_id", "option_ids"}      a user answers a poll
    GET  /emulator/messages?user_id=&after=&wait=                     the chat, long-polled
    GET  /emulator/callback-answer?query_id=&wait=                    the bot's answer to a button press
    GET  /emulator/commands                                           the bot's command menu
    GET  /emulator/files/{file_id}                                    a photo or document
    POST /emulator/faults   {"method", "status", "count", ...}        make the next calls fail
    POST /emulator/block    {"user_id", "blocked"}                    a user blocks the bot
    POST /emulator/send-document                                      a user sends a file (documents.py)

Objects carry every field python-telegram-bot 22.8 requires (see shared/NOTES.md).

Only this machine's own pages may use it: a request naming another host (DNS rebinding) or coming
from another origin is refused, /emulator/ takes only JSON, and the Bot API wants the bot's token.
With `store` the chats (users, messages, polls) are kept in that file across restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import itertools
import json
import logging
import os
import time
from dataclasses import asdict
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from bot.localmode.bot_api import BotApiMethods
from bot.localmode.documents import UserDocuments
from bot.localmode.protocol import (
    BOT_USERNAME,
    JSON,
    STRING_FIELDS,
    ApiError,
    ChatEvent,
    EmulatorState,
    Fault,
    maybe_json,
)
from bot.localmode.user_api import UserApiRoutes

__all__ = ["BOT_USERNAME", "ApiError", "BotApiEmulator", "ChatEvent", "EmulatorState", "Fault", "create_app"]

log = logging.getLogger(__name__)

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
SAVE_DELAY = 1.0  # seconds: chat changes are written to `store` at most this often


@web.middleware
async def local_only(request: web.Request, handler: object) -> web.StreamResponse:
    """Refuse requests that name a host other than this machine (DNS rebinding) or come from a page
    of another origin: they could act as any learner."""
    try:
        host = urlsplit(f"//{request.host}").hostname
    except ValueError:
        host = None
    if host not in LOCAL_HOSTS:
        return web.Response(status=421, text="this server answers only to 127.0.0.1 and localhost")
    origin = request.headers.get("Origin")
    if origin is not None and origin != f"{request.scheme}://{request.host}":
        return web.Response(status=403, text="requests from other web pages are refused")
    return await handler(request)


class _Signal:
    """Wakes every waiter when something changed (no lock held while waiting)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout)



class BotApiEmulator(BotApiMethods, UserApiRoutes, UserDocuments):
    """The emulator's state and its HTTP routes; mount with `add_routes(app)`."""

    def __init__(self, token: str | None = None, store: Path | None = None) -> None:
        """`token`: the only bot token accepted (None: any, for benchmarks); `store`: a file that
        keeps the chats across restarts."""
        self.state = EmulatorState()
        self.token = token
        self.store = store
        self._updates_changed = _Signal()
        self._chat_changed = _Signal()
        self.closing = False  # set by close(): long polls answer at once
        self._message_ids = itertools.count(1)
        self._seq = itertools.count(1)
        self._ids = itertools.count(1)
        self._save_pending: asyncio.TimerHandle | None = None
        if store is not None and store.exists():
            self._load(store)

    # -- mounting ---------------------------------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        app.middlewares.append(local_only)
        app.router.add_post("/bot{token}/{method}", self._bot_api)
        app.router.add_get("/bot{token}/{method}", self._bot_api)
        app.router.add_post("/emulator/send", self._user_send)
        app.router.add_post("/emulator/press", self._user_press)
        app.router.add_post("/emulator/vote", self._user_vote)
        app.router.add_get("/emulator/messages", self._user_messages)
        app.router.add_get("/emulator/callback-answer", self._callback_answer)
        app.router.add_get("/emulator/commands", self._commands)
        app.router.add_get("/emulator/files/{file_id}", self._file)
        app.router.add_post("/emulator/faults", self._add_fault)
        app.router.add_post("/emulator/block", self._block)
        app.router.add_get("/emulator/state", self._summary)
        self.add_document_routes(app)

    # -- objects ------------------------------------------------------------------------------

    def bot_user(self) -> JSON:
        return {
            "id": self.state.bot_id,
            "is_bot": True,
            "first_name": "Forvaltningsassistenten",
            "username": BOT_USERNAME,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def user(self, user_id: int, first_name: str | None = None) -> JSON:
        known = self.state.users.get(user_id)
        if known is None or (first_name and known["first_name"] != first_name):
            known = {
                "id": user_id,
                "is_bot": False,
                "first_name": first_name or f"Bruger {user_id}",
                "language_code": "da",
            }
            self.state.users[user_id] = known
        return known

    def private_chat(self, user_id: int) -> JSON:
        user = self.user(user_id)
        return {"id": user_id, "type": "private", "first_name": user["first_name"]}

    # -- what users do ---------------------------------------------------------------------

    async def push_update(self, update: JSON) -> JSON:
        update["update_id"] = self.state.next_update_id
        self.state.next_update_id += 1
        self.state.updates.append(update)
        self._updates_changed.notify()
        return update

    async def user_sends(self, user_id: int, text: str, first_name: str | None = None) -> JSON:
        message: JSON = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self.private_chat(user_id),
            "from": self.user(user_id, first_name),
            "text": text,
        }
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        await self._record(user_id, message, "user")
        await self.push_update({"message": message})
        return message

    async def user_presses(self, user_id: int, message_id: int, data: str) -> JSON:
        event = self.state.messages.get((user_id, message_id))
        if event is None:
            raise ApiError(400, "Bad Request: message not found")
        query_id = str(next(self._ids))
        await self.push_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self.user(user_id),
                    "message": event.message,
                    "chat_instance": str(user_id),
                    "data": data,
                }
            }
        )
        return {"callback_query_id": query_id}

    async def user_votes(self, user_id: int, poll_id: str, option_ids: list[int]) -> JSON:
        poll = self.state.polls.get(poll_id)
        if poll is None:
            raise ApiError(400, "Bad Request: poll not found")
        for index in option_ids:
            poll["options"][index]["voter_count"] += 1
        poll["total_voter_count"] += 1
        poll.setdefault("_votes", {})[user_id] = option_ids
        for event in self.state.chats.get(user_id, []):
            if event.message.get("poll", {}).get("id") == poll_id:
                event.seq = next(self._seq)  # the chat page redraws the poll with the answer shown
        await self._touch_chat()
        if not poll["is_anonymous"]:
            await self.push_update(
                {
                    "poll_answer": {
                        "poll_id": poll_id,
                        "user": self.user(user_id),
                        "option_ids": option_ids,
                        "option_persistent_ids": [
                            poll["options"][i]["persistent_id"] for i in option_ids
                        ],
                    }
                }
            )
        return {"ok": True}

    def chat_log(self, user_id: int, after: int = 0) -> list[JSON]:
        return [
            {"seq": e.seq, "sender": e.sender, "edited": e.edited, "message": self._public(e.message)}
            for e in self.state.chats.get(user_id, [])
            if e.seq > after
        ]

    async def wait_for_callback_answer(self, query_id: str, timeout: float) -> JSON | None:
        """The bot's answerCallbackQuery for a press (its text is what Telegram shows as a toast)."""
        deadline = time.monotonic() + timeout
        while True:
            answer = self.state.callback_answers.get(query_id)
            remaining = deadline - time.monotonic()
            if answer is not None or remaining <= 0 or self.closing:
                return answer
            await self._chat_changed.wait(remaining)

    async def wait_for_chat(self, user_id: int, after: int, timeout: float) -> list[JSON]:
        deadline = time.monotonic() + timeout
        while True:
            events = self.chat_log(user_id, after)
            remaining = deadline - time.monotonic()
            if events or remaining <= 0 or self.closing:
                return events
            await self._chat_changed.wait(remaining)

    def _public(self, message: JSON) -> JSON:
        """A message for the chat page: the poll with its current counts."""
        if "poll" in message:
            poll = self.state.polls.get(message["poll"]["id"], message["poll"])
            message = {**message, "poll": {k: v for k, v in poll.items() if not k.startswith("_")}}
            message["poll"]["voted"] = {str(k): v for k, v in poll.get("_votes", {}).items()}
        return message

    async def _record(self, chat_id: int, message: JSON, sender: str) -> None:
        event = ChatEvent(next(self._seq), message, sender)
        self.state.chats[chat_id].append(event)
        self.state.messages[(chat_id, message["message_id"])] = event
        await self._touch_chat()

    async def _touch_chat(self) -> None:
        self._chat_changed.notify()
        if self.store is not None and self._save_pending is None:
            self._save_pending = asyncio.get_running_loop().call_later(SAVE_DELAY, self.save)

    def close(self) -> None:
        """Answer every waiting long poll now, so the web server can stop without waiting out a
        poll's timeout (the bot's poller, cancelled at a stop, leaves its request behind)."""
        self.closing = True
        self._updates_changed.notify()
        self._chat_changed.notify()

    # -- the chats kept across restarts ----------------------------------------------------------

    def save(self) -> None:
        """Write users, chats, polls and blocks to `store` (atomically: a new file, then renamed)."""
        self._save_pending = None
        if self.store is None:
            return
        state = self.state
        data = {
            "users": list(state.users.values()),
            "chats": {str(chat): [asdict(e) for e in events] for chat, events in state.chats.items()},
            "polls": {pid: {**poll, "_votes": {str(u): v for u, v in poll.get("_votes", {}).items()}}
                      for pid, poll in state.polls.items()},
            "blocked": sorted(state.blocked),
            # (Taking the next number skips one: harmless, and no id is ever given out twice.)
            "next": [next(self._message_ids), next(self._seq), next(self._ids)],
        }
        temporary = self.store.with_name(self.store.name + ".tmp")
        try:
            temporary.write_text(json.dumps(data, ensure_ascii=False))
            os.replace(temporary, self.store)
        except (OSError, ValueError) as error:  # ValueError: text that is not UTF-8 (a lone surrogate)
            log.warning("local chats could not be saved to %s: %s", self.store, error)

    def _load(self, store: Path) -> None:
        try:
            data = json.loads(store.read_text())
        except (OSError, ValueError) as error:
            log.warning("local chats in %s could not be read (%s); starting with none", store, error)
            return
        state = self.state
        state.users = {user["id"]: user for user in data.get("users", [])}
        for chat, events in data.get("chats", {}).items():
            for event in events:
                chat_event = ChatEvent(**event)
                state.chats[int(chat)].append(chat_event)
                state.messages[(int(chat), chat_event.message["message_id"])] = chat_event
        state.polls = {pid: {**poll, "_votes": {int(u): v for u, v in poll.get("_votes", {}).items()}}
                       for pid, poll in data.get("polls", {}).items()}
        state.blocked = set(data.get("blocked", []))
        message_id, seq, other_id = data.get("next", [1, 1, 1])
        self._message_ids, self._seq, self._ids = itertools.count(message_id), itertools.count(seq), itertools.count(
            other_id)

    # -- the Bot API ---------------------------------------------------------------------------

    async def _bot_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if self.token is not None and not hmac.compare_digest(request.match_info["token"].encode(),
                                                              self.token.encode()):
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        self.state.calls[method] += 1
        counted = method != "getUpdates"
        if counted:
            self.state.in_flight += 1
            self.state.max_in_flight = max(self.state.max_in_flight, self.state.in_flight)
        try:
            params = await self._params(request)
            await self._apply_faults(method, params)
            handler = getattr(self, f"api_{method.lower()}", None)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            result = await handler(params)
        except ApiError as error:
            body: JSON = {"ok": False, "error_code": error.status, "description": error.description}
            if error.retry_after is not None:
                body["parameters"] = {"retry_after": error.retry_after}
            return web.json_response(body, status=error.status)
        finally:
            if counted:
                self.state.in_flight -= 1
        return web.json_response({"ok": True, "result": result})

    async def _params(self, request: web.Request) -> JSON:
        params: JSON = dict(request.query)
        if request.method != "POST":
            return params
        if request.content_type == "application/json":
            params.update(await request.json())
            return params
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField) or key in STRING_FIELDS:
                params[key] = value
            else:
                params[key] = maybe_json(value)
        return params

    async def _apply_faults(self, method: str, params: JSON) -> None:
        for fault in list(self.state.faults):
            if not fault.matches(method, params):
                continue
            fault.count -= 1
            if fault.count <= 0:
                self.state.faults.remove(fault)
            if fault.delay:
                await asyncio.sleep(fault.delay)
            description = fault.description or {
                429: f"Too Many Requests: retry after {fault.retry_after or 1}",
                500: "Internal Server Error",
                502: "Bad Gateway",
                403: "Forbidden: bot was blocked by the user",
            }.get(fault.status, "Bad Request")
            retry = (fault.retry_after or 1) if fault.status == 429 else None
            raise ApiError(fault.status, description, retry)


def create_app(emulator: BotApiEmulator | None = None) -> web.Application:
    """A standalone emulator server (for tests and benchmarks)."""
    emulator = emulator or BotApiEmulator()
    app = web.Application(client_max_size=20 * 1024 * 1024)
    emulator.add_routes(app)
    app["emulator"] = emulator
    return app
