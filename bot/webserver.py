"""The project's aiohttp server: the webhook endpoint, the local chat page and its emulator.

One server, one port (HTTP_HOST:HTTP_PORT), in the same asyncio loop as the bot.
"""

from __future__ import annotations

import hmac
import json
import logging
from pathlib import Path

from aiohttp import web

from bot.inbox import Dispatcher

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 1024 * 1024


def add_webhook_route(app: web.Application, path: str, secret: str, dispatcher: Dispatcher) -> None:
    """Telegram POSTs updates here; each is stored before we answer 200."""

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            log.warning("webhook call without the right secret token from %s", request.remote)
            return web.Response(status=403, text="forbidden")
        if request.content_length is not None and request.content_length > MAX_UPDATE_BYTES:
            return web.Response(status=413, text="too large")
        try:
            body = json.loads(await request.read())
        except (json.JSONDecodeError, UnicodeDecodeError):
            return web.Response(status=400, text="bad json")
        if not isinstance(body, dict) or not isinstance(body.get("update_id"), int):
            return web.Response(status=400, text="not an update")
        # A storage failure raises here and Telegram gets a 500, so it sends the update again.
        dispatcher.store_and_submit([body])
        return web.Response(text="ok")

    app.router.add_post(path, receive)


def add_local_chat_routes(app: web.Application) -> None:
    """The chat page that stands in for the Telegram app in local mode."""

    async def page(request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC_DIR / "chat.html")

    app.router.add_get("/", page)
    app.router.add_static("/static/", STATIC_DIR)
