"""The chat page that stands in for the Telegram app in local mode (static/, served at /)."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

STATIC_DIR = Path(__file__).parent / "static"


def add_local_chat_routes(app: web.Application) -> None:
    """The chat page and its script and style; it talks to the emulator's /emulator/ API."""

    async def page(request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC_DIR / "chat.html")

    app.router.add_get("/", page)
    app.router.add_static("/static/", STATIC_DIR)
