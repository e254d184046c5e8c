"""The webhook endpoint on the project's aiohttp server: where Telegram POSTs updates in webhook mode.

One server, one port (HTTP_HOST:HTTP_PORT), in the same asyncio loop as the bot (bot/runner.py
mounts this, the dashboard and, in local mode, the emulator and the chat page).
"""

from __future__ import annotations

import hmac
import json
import logging

from aiohttp import web

from bot.delivery.inbox import Dispatcher, is_update

log = logging.getLogger(__name__)

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
        except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested too deep
            return web.Response(status=400, text="bad json")
        if not is_update(body):
            return web.Response(status=400, text="not an update")
        # A storage failure raises here and Telegram gets a 500, so it sends the update again.
        dispatcher.store_and_submit([body])
        return web.Response(text="ok")

    app.router.add_post(path, receive)

