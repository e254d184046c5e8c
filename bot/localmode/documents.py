"""Files from the user's side of the emulator: a user sends a document (as Telegram's clients do),
and the bot fetches it with getFile and the file URL, as from Telegram.

    POST /emulator/send-document {"user_id", "filename", "content_base64", "mime_type"?, "caption"?,
                                  "first_name"?}                  a user sends a file
    POST /bot<token>/getFile      {"file_id"}                      the file's path (Bot API)
    GET  /file/bot<token>/<path>                                   the file's bytes (Bot API)
"""

from __future__ import annotations

import base64
import binascii
import time
from typing import TYPE_CHECKING

from aiohttp import web

from bot.localmode.protocol import JSON, ApiError

if TYPE_CHECKING:
    from bot.localmode.protocol import EmulatorState

DOWNLOAD_LIMIT = 20 * 1024 * 1024  # Telegram's getFile limit for bots
UPLOAD_LIMIT = 50 * 1024 * 1024
BODY_LIMIT = UPLOAD_LIMIT * 4 // 3 + 64 * 1024  # the file in base64, and the other fields


class UserDocuments:
    """Mixed into BotApiEmulator, which provides the state, the users, the chat log and updates."""

    state: EmulatorState

    def add_document_routes(self, app: web.Application) -> None:
        app.router.add_post("/emulator/send-document", self._user_send_document)
        app.router.add_get("/file/bot{token}/{file_path:.+}", self._download)

    async def user_sends_document(self, user_id: int, filename: str, content: bytes, mime_type: str | None = None,
                                  caption: str | None = None, first_name: str | None = None) -> JSON:
        file_id = f"file{next(self._ids)}"
        self.state.files[file_id] = (content, filename, mime_type or "application/octet-stream")
        message: JSON = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self.private_chat(user_id),
            "from": self.user(user_id, first_name),
            "document": {"file_id": file_id, "file_unique_id": file_id, "file_name": filename,
                         "mime_type": mime_type or "application/octet-stream", "file_size": len(content)},
        }
        if caption:
            message["caption"] = caption
        await self._record(user_id, message, "user")
        await self.push_update({"message": message})
        return message

    async def _user_send_document(self, request: web.Request) -> web.Response:
        # The file comes base64-encoded in JSON (the emulator's user API takes only JSON): read it
        # past the web server's form-sized client_max_size, up to what Telegram would take.
        body = await self._json_body(request, limit=BODY_LIMIT)
        try:
            content = base64.b64decode(str(body["content_base64"]), validate=True)
            user_id = int(body["user_id"])
            filename = str(body["filename"])[:255]
        except (KeyError, ValueError, binascii.Error):
            raise web.HTTPBadRequest(text="user_id, filename and content_base64 are needed") from None
        if len(content) > UPLOAD_LIMIT:
            raise web.HTTPRequestEntityTooLarge(max_size=UPLOAD_LIMIT, actual_size=len(content))
        message = await self.user_sends_document(user_id, filename, content, body.get("mime_type"),
                                                 body.get("caption"), body.get("first_name"))
        return web.json_response(message)

    async def api_getfile(self, params: JSON) -> JSON:
        file_id = str(params.get("file_id", ""))
        stored = self.state.files.get(file_id)
        if stored is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        content, filename, _ = stored
        if len(content) > DOWNLOAD_LIMIT:
            raise ApiError(400, "Bad Request: file is too big")
        return {"file_id": file_id, "file_unique_id": file_id, "file_size": len(content),
                "file_path": f"documents/{file_id}/{filename}"}

    async def _download(self, request: web.Request) -> web.Response:
        parts = request.match_info["file_path"].split("/")
        stored = self.state.files.get(parts[1]) if len(parts) >= 2 and parts[0] == "documents" else None
        if stored is None:
            raise web.HTTPNotFound()
        content, _, mime = stored
        return web.Response(body=content, content_type=mime or "application/octet-stream")
