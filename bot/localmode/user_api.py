"""The user side of the emulator: the small JSON API under /emulator/ through which tests, benchmarks
and the chat page act as Telegram users (write, press, vote, read the chat, block the bot)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from urllib.parse import quote

from aiohttp import web

from bot.localmode.protocol import JSON, ApiError, Fault

if TYPE_CHECKING:
    from bot.localmode.protocol import EmulatorState

INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})


async def _read_at_most(request: web.Request, limit: int) -> bytes:
    """The body, refused with 413 beyond `limit` bytes (also when sent without a Content-Length)."""
    if request.content_length is not None and request.content_length > limit:
        raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=request.content_length)
    body = bytearray()
    async for chunk in request.content.iter_chunked(256 * 1024):
        body += chunk
        if len(body) > limit:
            raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=len(body))
    return bytes(body)


def content_disposition(disposition: str, filename: str) -> str:
    """A Content-Disposition header for any file name (RFC 6266: an ASCII fallback, and the name
    itself percent-encoded as UTF-8), so quotes or line breaks in a name cannot break the header."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename)
    encoded = quote(filename, safe="", errors="replace")
    return f"{disposition}; filename=\"{fallback or 'fil'}\"; filename*=UTF-8''{encoded}"


class UserApiRoutes:
    """The /emulator/ routes' handlers; mixed into BotApiEmulator, which does what users do."""

    state: EmulatorState

    @staticmethod
    async def _json_body(request: web.Request, limit: int | None = None) -> JSON:
        """The request's JSON object. `limit`: read up to that many bytes whatever the server's
        client_max_size (a document sent from the chat page is larger than a form may be)."""
        if request.content_type != "application/json":  # a form or text/plain could come from any page
            raise web.HTTPUnsupportedMediaType(text="JSON (application/json) expected")
        try:
            body = await request.json() if limit is None else json.loads(await _read_at_most(request, limit))
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

    async def _callback_answer(self, request: web.Request) -> web.Response:
        try:
            query_id = request.query["query_id"]
            wait = min(float(request.query.get("wait", 0)), 10.0)
        except (KeyError, ValueError):
            raise web.HTTPBadRequest(text="query_id is needed and wait must be a number") from None
        answer = await self.wait_for_callback_answer(query_id, wait)
        return web.json_response({"answer": answer})

    async def _commands(self, request: web.Request) -> web.Response:
        return web.json_response({"commands": self.state.commands, "bot": self.bot_user(),
                                  "description": self.state.description})

    async def _file(self, request: web.Request) -> web.Response:
        stored = self.state.files.get(request.match_info["file_id"])
        if stored is None:
            raise web.HTTPNotFound()
        content, filename, mime = stored
        mime = mime or "application/octet-stream"
        # A user's file is served from the chat page's own origin: only plain pictures are shown
        # inline, anything else (an .html or .svg a user sent) is downloaded and may run nothing.
        disposition = "inline" if mime in INLINE_TYPES else "attachment"
        return web.Response(body=content, content_type=mime, headers={
            "Content-Disposition": content_disposition(disposition, filename),
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "X-Content-Type-Options": "nosniff",
        })

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
