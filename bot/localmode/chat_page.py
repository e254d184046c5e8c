"""The chat page that stands in for the Telegram app in local mode (static/, served at /)."""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

STATIC_DIR = Path(__file__).parent / "static"
# The page is one HTML file with its script and style beside it: nothing inline and nothing from
# another origin, so a policy that allows only this origin costs nothing and stops injected script.
PAGE_HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                                "form-action 'self'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def add_local_chat_routes(app: web.Application) -> None:
    """The chat page and its script and style; it talks to the emulator's /emulator/ API."""

    async def page(request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC_DIR / "chat.html", headers=PAGE_HEADERS)

    app.router.add_get("/", page)
    app.router.add_static("/static/", STATIC_DIR)
