"""A local Telegram Bot API emulator (aiohttp, loopback only).

It speaks the Bot API's HTTP contract to the real python-telegram-bot client, so the bot can be
tested end to end and tried in the local chat page without Telegram. Users are simulated through
a small JSON API under /emulator/ (used by the tests and by the chat page):

    POST /emulator/send     {"user_id", "text", "first_name"?}        a user writes
    POST /emulator/press    {"user_id", "message_id", "data"}         a user presses a button
    POST /emulator/vote     {"user_id", "poll_id", "option_ids"}      a user answers a poll
    GET  /emulator/messages?user_id=&after=&wait=                     the chat, long-polled
    GET  /emulator/commands                                           the bot's command menu
    GET  /emulator/files/{file_id}                                    a photo or document
    POST /emulator/faults   {"method", "status", "count", ...}        make the next calls fail
    POST /emulator/block    {"user_id", "blocked"}                    a user blocks the bot

Objects carry every field python-telegram-bot 22.8 requires (see shared/NOTES.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_USERNAME = "forvaltning_assistent_bot"
# Fields that are text even when they look like JSON or a number.
STRING_FIELDS = frozenset({
    "text", "caption", "question", "explanation", "description", "short_description",
    "callback_query_id", "url", "secret_token", "parse_mode", "explanation_parse_mode", "type",
})
JSON = dict[str, Any]
CAPTION_LIMIT = 1024  # characters, for photos and documents


class ApiError(Exception):
    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after


@dataclass
class Fault:
    """Make the next `count` calls of `method` (or of any method, '*') fail."""

    method: str
    status: int
    count: int = 1
    retry_after: int | None = None
    description: str = ""
    delay: float = 0.0  # seconds to wait first (simulates a timeout when long)


@dataclass
class ChatEvent:
    """One entry of a chat as the user sees it."""

    seq: int
    message: JSON
    sender: str  # "user" or "bot"
    edited: bool = False


@dataclass
class EmulatorState:
    bot_id: int = 1000000
    updates: list[JSON] = field(default_factory=list)
    next_update_id: int = 1
    confirmed_offset: int = 0
    chats: dict[int, list[ChatEvent]] = field(default_factory=lambda: defaultdict(list))
    messages: dict[tuple[int, int], ChatEvent] = field(default_factory=dict)
    users: dict[int, JSON] = field(default_factory=dict)
    polls: dict[str, JSON] = field(default_factory=dict)
    callback_answers: dict[str, JSON] = field(default_factory=dict)
    blocked: set[int] = field(default_factory=set)
    faults: list[Fault] = field(default_factory=list)
    commands: list[JSON] = field(default_factory=list)
    description: str = ""
    short_description: str = ""
    webhook: JSON = field(default_factory=dict)
    files: dict[str, tuple[bytes, str, str]] = field(default_factory=dict)
    calls: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))


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


class BotApiEmulator:
    """The emulator's state and its HTTP routes; mount with `add_routes(app)`."""

    def __init__(self) -> None:
        self.state = EmulatorState()
        self._updates_changed = _Signal()
        self._chat_changed = _Signal()
        self._message_ids = itertools.count(1)
        self._seq = itertools.count(1)
        self._ids = itertools.count(1)

    # -- mounting ---------------------------------------------------------------------------

    def add_routes(self, app: web.Application) -> None:
        app.router.add_post("/bot{token}/{method}", self._bot_api)
        app.router.add_get("/bot{token}/{method}", self._bot_api)
        app.router.add_post("/emulator/send", self._user_send)
        app.router.add_post("/emulator/press", self._user_press)
        app.router.add_post("/emulator/vote", self._user_vote)
        app.router.add_get("/emulator/messages", self._user_messages)
        app.router.add_get("/emulator/commands", self._commands)
        app.router.add_get("/emulator/files/{file_id}", self._file)
        app.router.add_post("/emulator/faults", self._add_fault)
        app.router.add_post("/emulator/block", self._block)
        app.router.add_get("/emulator/state", self._summary)

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

    async def wait_for_chat(self, user_id: int, after: int, timeout: float) -> list[JSON]:
        deadline = time.monotonic() + timeout
        while True:
            events = self.chat_log(user_id, after)
            remaining = deadline - time.monotonic()
            if events or remaining <= 0:
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

    # -- the Bot API ---------------------------------------------------------------------------

    async def _bot_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        self.state.calls[method] += 1
        try:
            params = await self._params(request)
            await self._apply_faults(method)
            handler = getattr(self, f"api_{method.lower()}", None)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            result = await handler(params)
        except ApiError as error:
            body: JSON = {"ok": False, "error_code": error.status, "description": error.description}
            if error.retry_after is not None:
                body["parameters"] = {"retry_after": error.retry_after}
            return web.json_response(body, status=error.status)
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
                params[key] = _maybe_json(value)
        return params

    async def _apply_faults(self, method: str) -> None:
        for fault in list(self.state.faults):
            if fault.method not in (method, "*") or fault.count <= 0:
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

    def _chat_id(self, params: JSON) -> int:
        try:
            chat_id = int(params["chat_id"])
        except (KeyError, TypeError, ValueError):
            raise ApiError(400, "Bad Request: chat_id is empty or invalid") from None
        if chat_id in self.state.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if chat_id not in self.state.users:
            raise ApiError(400, "Bad Request: chat not found")
        return chat_id

    def _base_message(self, chat_id: int) -> JSON:
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self.private_chat(chat_id),
            "from": self.bot_user(),
        }

    @staticmethod
    def _check_text(text: Any, limit: int = 4096) -> str:
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text) > limit:
            raise ApiError(400, "Bad Request: message is too long")
        return text

    @staticmethod
    def _check_markup(params: JSON) -> JSON | None:
        markup = params.get("reply_markup")
        if markup is None:
            return None
        if isinstance(markup, str):
            markup = _maybe_json(markup)
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and len(data.encode("utf-8")) > 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return markup

    @staticmethod
    def _check_parse_mode(text: str, parse_mode: str | None) -> None:
        """Reject HTML that Telegram would reject, so escaping mistakes show in tests."""
        if parse_mode and parse_mode.upper() == "HTML":
            import html.parser

            allowed = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code",
                       "pre", "span", "tg-spoiler", "blockquote", "tg-emoji"}
            stack: list[str] = []

            class Checker(html.parser.HTMLParser):
                def handle_starttag(self, tag: str, attrs: list) -> None:
                    if tag not in allowed:
                        raise ApiError(400, f"Bad Request: can't parse entities: Unsupported start tag \"{tag}\"")
                    stack.append(tag)

                def handle_endtag(self, tag: str) -> None:
                    if not stack or stack.pop() != tag:
                        raise ApiError(400, "Bad Request: can't parse entities: unmatched end tag")

            Checker(convert_charrefs=True).feed(text)
            if stack:
                raise ApiError(400, "Bad Request: can't parse entities: unclosed start tag")

    async def api_getme(self, params: JSON) -> JSON:
        return self.bot_user()

    async def api_logout(self, params: JSON) -> bool:
        return True

    async def api_close(self, params: JSON) -> bool:
        return True

    async def api_getupdates(self, params: JSON) -> list[JSON]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        timeout = float(params.get("timeout") or 0)
        if offset:
            # Asking from `offset` confirms everything before it, as Telegram does.
            self.state.confirmed_offset = max(self.state.confirmed_offset, offset)
            self.state.updates = [u for u in self.state.updates if u["update_id"] >= offset]
        deadline = time.monotonic() + timeout
        while True:
            ready = [u for u in self.state.updates if u["update_id"] >= offset][:limit]
            remaining = deadline - time.monotonic()
            if ready or remaining <= 0:
                return ready
            await self._updates_changed.wait(min(remaining, 1.0))

    async def api_setwebhook(self, params: JSON) -> bool:
        self.state.webhook = {"url": params.get("url", ""), "secret_token": params.get("secret_token")}
        return True

    async def api_deletewebhook(self, params: JSON) -> bool:
        self.state.webhook = {}
        return True

    async def api_getwebhookinfo(self, params: JSON) -> JSON:
        return {"url": self.state.webhook.get("url", ""), "has_custom_certificate": False,
                "pending_update_count": len(self.state.updates)}

    async def api_setmycommands(self, params: JSON) -> bool:
        commands = params.get("commands") or []
        if isinstance(commands, str):
            commands = json.loads(commands)
        self.state.commands = commands
        return True

    async def api_getmycommands(self, params: JSON) -> list[JSON]:
        return self.state.commands

    async def api_deletemycommands(self, params: JSON) -> bool:
        self.state.commands = []
        return True

    async def api_setmydescription(self, params: JSON) -> bool:
        self.state.description = str(params.get("description", ""))
        return True

    async def api_setmyshortdescription(self, params: JSON) -> bool:
        self.state.short_description = str(params.get("short_description", ""))
        return True

    async def api_sendchataction(self, params: JSON) -> bool:
        self._chat_id(params)
        return True

    async def api_sendmessage(self, params: JSON) -> JSON:
        chat_id = self._chat_id(params)
        text = self._check_text(params.get("text"))
        self._check_parse_mode(text, params.get("parse_mode"))
        message = self._base_message(chat_id)
        message["text"] = text
        if params.get("parse_mode"):
            message["parse_mode"] = params["parse_mode"]  # kept for the chat page
        markup = self._check_markup(params)
        if markup:
            message["reply_markup"] = markup
        await self._record(chat_id, message, "bot")
        return message

    def _own_message(self, params: JSON) -> ChatEvent:
        chat_id = self._chat_id(params)
        try:
            message_id = int(params["message_id"])
        except (KeyError, TypeError, ValueError):
            raise ApiError(400, "Bad Request: message identifier is not specified") from None
        event = self.state.messages.get((chat_id, message_id))
        if event is None or event.sender != "bot":
            raise ApiError(400, "Bad Request: message to edit not found")
        return event

    async def api_editmessagetext(self, params: JSON) -> JSON:
        event = self._own_message(params)
        text = self._check_text(params.get("text"))
        self._check_parse_mode(text, params.get("parse_mode"))
        markup = self._check_markup(params)
        if text == event.message.get("text") and markup == event.message.get("reply_markup"):
            raise ApiError(400, "Bad Request: message is not modified")
        event.message = {**event.message, "text": text, "edit_date": int(time.time())}
        event.message["parse_mode"] = params.get("parse_mode")
        event.message.pop("reply_markup", None)
        if markup:
            event.message["reply_markup"] = markup
        await self._mark_edited(event)
        return event.message

    async def api_editmessagereplymarkup(self, params: JSON) -> JSON:
        event = self._own_message(params)
        markup = self._check_markup(params)
        event.message = {**event.message, "edit_date": int(time.time())}
        event.message.pop("reply_markup", None)
        if markup:
            event.message["reply_markup"] = markup
        await self._mark_edited(event)
        return event.message

    async def _mark_edited(self, event: ChatEvent) -> None:
        # Move the event to a new sequence number so pollers see the change.
        event.seq = next(self._seq)
        event.edited = True
        await self._touch_chat()

    async def api_deletemessage(self, params: JSON) -> bool:
        event = self._own_message(params)
        chat_id = event.message["chat"]["id"]
        self.state.chats[chat_id] = [e for e in self.state.chats[chat_id] if e is not event]
        self.state.messages.pop((chat_id, event.message["message_id"]), None)
        await self._touch_chat()
        return True

    async def api_answercallbackquery(self, params: JSON) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if not query_id:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired")
        text = params.get("text")
        if text is not None and len(str(text)) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self.state.callback_answers[query_id] = {"text": text, "show_alert": bool(params.get("show_alert"))}
        return True

    async def api_sendpoll(self, params: JSON) -> JSON:
        chat_id = self._chat_id(params)
        question = self._check_text(params.get("question"), 300)
        raw_options = params.get("options") or []
        if len(raw_options) < 2 or len(raw_options) > 12:
            raise ApiError(400, "Bad Request: poll must have 2-12 options")
        options = []
        for index, option in enumerate(raw_options):
            text = option["text"] if isinstance(option, dict) else str(option)
            if not 1 <= len(text) <= 100:
                raise ApiError(400, "Bad Request: poll options must be 1-100 characters")
            options.append({"text": text, "voter_count": 0, "persistent_id": f"o{index}"})
        correct = params.get("correct_option_ids")
        if correct is None and params.get("correct_option_id") is not None:
            correct = [int(params["correct_option_id"])]
        explanation = params.get("explanation")
        if explanation is not None and len(str(explanation)) > 200:
            raise ApiError(400, "Bad Request: explanation is too long")
        poll_type = params.get("type") or "regular"
        if poll_type == "quiz" and not correct:
            raise ApiError(400, "Bad Request: quiz poll needs a correct option")
        poll = {
            "id": str(next(self._ids) + 5_000_000),
            "question": question,
            "options": options,
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": _truthy(params.get("is_anonymous", True)),
            "type": poll_type,
            "allows_multiple_answers": _truthy(params.get("allows_multiple_answers", False)),
            "allows_revoting": False,
            "members_only": False,
        }
        if correct:
            poll["correct_option_ids"] = [int(i) for i in correct]
            poll["correct_option_id"] = int(correct[0])
        if explanation:
            poll["explanation"] = str(explanation)
        self.state.polls[poll["id"]] = poll
        message = self._base_message(chat_id)
        message["poll"] = {k: v for k, v in poll.items()}
        markup = self._check_markup(params)
        if markup:
            message["reply_markup"] = markup
        await self._record(chat_id, message, "bot")
        return message

    async def api_stoppoll(self, params: JSON) -> JSON:
        event = self._own_message(params)
        poll = self.state.polls[event.message["poll"]["id"]]
        poll["is_closed"] = True
        await self._touch_chat()
        return {k: v for k, v in poll.items() if not k.startswith("_")}

    async def _store_file(self, params: JSON, field_name: str) -> tuple[str, int]:
        value = params.get(field_name)
        if not isinstance(value, web.FileField):
            raise ApiError(400, f"Bad Request: there is no {field_name} in the request")
        content = value.file.read()
        file_id = f"file{next(self._ids)}"
        self.state.files[file_id] = (content, value.filename or file_id, value.content_type)
        return file_id, len(content)

    def _add_caption(self, message: JSON, params: JSON) -> None:
        caption = params.get("caption")
        if not caption:
            return
        # Telegram counts the caption's visible characters; the source with its tags is longer,
        # so this is, if anything, stricter.
        if len(caption) > CAPTION_LIMIT:
            raise ApiError(400, "Bad Request: message caption is too long")
        self._check_parse_mode(caption, params.get("parse_mode"))
        message["caption"] = caption
        if params.get("parse_mode"):
            message["parse_mode"] = params["parse_mode"]

    async def api_sendphoto(self, params: JSON) -> JSON:
        chat_id = self._chat_id(params)
        file_id, size = await self._store_file(params, "photo")
        message = self._base_message(chat_id)
        message["photo"] = [{"file_id": file_id, "file_unique_id": file_id, "width": 800,
                             "height": 600, "file_size": size}]
        self._add_caption(message, params)
        markup = self._check_markup(params)
        if markup:
            message["reply_markup"] = markup
        await self._record(chat_id, message, "bot")
        return message

    async def api_senddocument(self, params: JSON) -> JSON:
        chat_id = self._chat_id(params)
        file_id, size = await self._store_file(params, "document")
        _, filename, mime = self.state.files[file_id]
        message = self._base_message(chat_id)
        message["document"] = {"file_id": file_id, "file_unique_id": file_id,
                               "file_name": filename, "mime_type": mime, "file_size": size}
        self._add_caption(message, params)
        await self._record(chat_id, message, "bot")
        return message

    # -- the user-side JSON API -----------------------------------------------------------------

    @staticmethod
    async def _json_body(request: web.Request) -> JSON:
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise web.HTTPBadRequest(text="JSON body expected") from None
        if not isinstance(body, dict):
            raise web.HTTPBadRequest(text="JSON object expected")
        return body

    async def _user_send(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        text = str(body.get("text", ""))[:4096]
        if not text.strip():
            raise web.HTTPBadRequest(text="empty message")
        message = await self.user_sends(int(body["user_id"]), text, body.get("first_name"))
        return web.json_response(message)

    async def _user_press(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        try:
            result = await self.user_presses(int(body["user_id"]), int(body["message_id"]), str(body["data"]))
        except ApiError as error:
            raise web.HTTPBadRequest(text=error.description) from None
        return web.json_response(result)

    async def _user_vote(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        try:
            result = await self.user_votes(int(body["user_id"]), str(body["poll_id"]),
                                           [int(i) for i in body["option_ids"]])
        except ApiError as error:
            raise web.HTTPBadRequest(text=error.description) from None
        return web.json_response(result)

    async def _user_messages(self, request: web.Request) -> web.Response:
        try:
            user_id = int(request.query["user_id"])
            after = int(request.query.get("after", 0))
            wait = min(float(request.query.get("wait", 0)), 30.0)
        except (KeyError, ValueError):
            raise web.HTTPBadRequest(text="user_id, after and wait must be numbers") from None
        events = await self.wait_for_chat(user_id, after, wait)
        return web.json_response({"events": events})

    async def _commands(self, request: web.Request) -> web.Response:
        return web.json_response({"commands": self.state.commands, "bot": self.bot_user(),
                                  "description": self.state.description})

    async def _file(self, request: web.Request) -> web.Response:
        stored = self.state.files.get(request.match_info["file_id"])
        if stored is None:
            raise web.HTTPNotFound()
        content, filename, mime = stored
        return web.Response(body=content, content_type=mime or "application/octet-stream",
                            headers={"Content-Disposition": f'inline; filename="{filename}"'})

    async def _add_fault(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        self.state.faults.append(Fault(**body))
        return web.json_response({"ok": True})

    async def _block(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        user_id = int(body["user_id"])
        if body.get("blocked", True):
            self.state.blocked.add(user_id)
        else:
            self.state.blocked.discard(user_id)
        return web.json_response({"ok": True})

    async def _summary(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "pending_updates": len(self.state.updates),
                "confirmed_offset": self.state.confirmed_offset,
                "calls": dict(self.state.calls),
                "callback_answers": self.state.callback_answers,
                "users": list(self.state.users),
            }
        )


def _maybe_json(value: str) -> Any:
    """Form values arrive as strings; PTB JSON-encodes everything that is not a string."""
    if value[:1] in "[{" or value in ("true", "false", "null") or _is_number(value):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _truthy(value: Any) -> bool:
    return value is True or value == "true" or value == 1


def create_app(emulator: BotApiEmulator | None = None) -> web.Application:
    """A standalone emulator server (for tests and benchmarks)."""
    emulator = emulator or BotApiEmulator()
    app = web.Application(client_max_size=20 * 1024 * 1024)
    emulator.add_routes(app)
    app["emulator"] = emulator
    return app
