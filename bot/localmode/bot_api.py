"""The Bot API side of the emulator: the methods python-telegram-bot calls (getUpdates, sendMessage,
sendPoll, editMessageText, ...), each answering as Telegram does, errors included."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

from aiohttp import web

from bot.localmode.protocol import (
    CAPTION_LIMIT,
    JSON,
    ApiError,
    ChatEvent,
    check_markup,
    check_parse_mode,
    check_text,
    truthy,
)

if TYPE_CHECKING:
    from bot.localmode.protocol import EmulatorState


class BotApiMethods:
    """`api_<method>` for each Bot API method the bot uses; mixed into BotApiEmulator, which looks
    them up by name and provides the state, the users and the chat log."""

    state: EmulatorState
    closing: bool

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
            if ready or remaining <= 0 or self.closing:
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
        text = check_text(params.get("text"))
        check_parse_mode(text, params.get("parse_mode"))
        message = self._base_message(chat_id)
        message["text"] = text
        if params.get("parse_mode"):
            message["parse_mode"] = params["parse_mode"]  # kept for the chat page
        markup = check_markup(params)
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
        text = check_text(params.get("text"))
        check_parse_mode(text, params.get("parse_mode"))
        markup = check_markup(params)
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
        markup = check_markup(params)
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
        await self._touch_chat()  # the chat page waits for it, to show the text as a toast
        return True

    async def api_sendpoll(self, params: JSON) -> JSON:
        chat_id = self._chat_id(params)
        question = check_text(params.get("question"), 300)
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
            "is_anonymous": truthy(params.get("is_anonymous", True)),
            "type": poll_type,
            "allows_multiple_answers": truthy(params.get("allows_multiple_answers", False)),
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
        markup = check_markup(params)
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
        check_parse_mode(caption, params.get("parse_mode"))
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
        markup = check_markup(params)
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
