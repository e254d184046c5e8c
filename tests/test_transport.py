"""The aiohttp transport sends what PTB's httpx transport sends, and fails the way PTB expects."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from aiohttp import web
from telegram import Bot, InputFile
from telegram.error import NetworkError, TimedOut

from bot.delivery.transport import AiohttpRequest
from tests.support import TEST_TOKEN, free_port


class RecordingApi:
    """A Bot API stand-in on 127.0.0.1 that keeps each request's content type and fields."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.requests: list[tuple[str, str, dict]] = []

    async def handle(self, request: web.Request) -> web.Response:
        fields = {}
        if request.content_type == "multipart/form-data":
            async for part in await request.multipart():
                fields[part.name] = (part.filename, part.headers.get("Content-Type"), await part.read())
        else:
            fields = dict(await request.post())
        method = request.match_info["method"]
        if method == "getMe":  # Bot's `async with` asks who it is first
            return web.json_response({"ok": True, "result": {"id": 1, "is_bot": True, "first_name": "Bot",
                                                             "username": "test_bot"}})
        self.requests.append((method, request.content_type, fields))
        await asyncio.sleep(self.delay)
        message = {"message_id": 1, "date": 0, "chat": {"id": 7, "type": "private"}, "text": "ok"}
        return web.json_response({"ok": True, "result": message})


async def serve(api: RecordingApi) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", api.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}/bot"


async def test_parameters_are_form_encoded_and_files_multipart() -> None:
    api = RecordingApi()
    runner, url = await serve(api)
    try:
        async with Bot(TEST_TOKEN, base_url=url, request=AiohttpRequest()) as bot:
            await bot.send_message(chat_id=7, text="Æblegrød & <b>", reply_markup=None)
            await bot.send_photo(chat_id=7, photo=InputFile(b"\x89PNG fake", filename="fremskridt.png"),
                                 caption="Dit fremskridt")
    finally:
        await runner.cleanup()
    method, content_type, fields = api.requests[-2]
    assert (method, content_type) == ("sendMessage", "application/x-www-form-urlencoded")
    assert fields["chat_id"] == "7" and fields["text"] == "Æblegrød & <b>"
    method, content_type, fields = api.requests[-1]
    assert (method, content_type) == ("sendPhoto", "multipart/form-data")
    assert fields["caption"][2].decode() == "Dit fremskridt"
    filename, file_type, content = fields["photo"]
    assert (filename, file_type, content) == ("fremskridt.png", "image/png", b"\x89PNG fake")


async def test_a_slow_answer_is_a_timeout() -> None:
    runner, url = await serve(RecordingApi(delay=2.0))
    try:
        async with Bot(TEST_TOKEN, base_url=url, request=AiohttpRequest(read_timeout=0.5)) as bot:
            with pytest.raises(TimedOut):
                await bot.send_message(chat_id=7, text="hej")
    finally:
        await runner.cleanup()


async def test_no_server_is_a_network_error() -> None:
    request = AiohttpRequest()
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as raised:
            await request.post(f"http://127.0.0.1:{free_port()}/bot{TEST_TOKEN}/getMe")
        assert not isinstance(raised.value, TimedOut)
    finally:
        await request.shutdown()


class RecordingProxy:
    """An HTTP proxy stand-in on 127.0.0.1: keeps each request's head and answers as the Bot API would."""

    def __init__(self) -> None:
        self.heads: list[str] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        self.heads.append(head)
        length = next((int(line.split(":", 1)[1]) for line in head.split("\r\n")
                       if line.lower().startswith("content-length:")), 0)
        await reader.readexactly(length)
        body = b'{"ok": true, "result": true}'
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                     b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        writer.close()


@pytest.mark.parametrize("scheme", ["http", "https"])
async def test_the_proxy_in_the_environment_is_used(scheme: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Plain HTTP goes to the proxy as an absolute URL; HTTPS (Telegram) asks the proxy for a tunnel.
    Either way the proxy gets the credentials from the proxy URL."""
    proxy = RecordingProxy()
    server = await asyncio.start_server(proxy.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    monkeypatch.setenv(f"{scheme.upper()}_PROXY", f"http://kommune:hemmelig@127.0.0.1:{port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    request = AiohttpRequest()
    await request.initialize()
    try:
        with contextlib.suppress(NetworkError):  # the stand-in cannot tunnel: HTTPS ends at CONNECT
            await request.post(f"{scheme}://api.telegram.invalid/bot{TEST_TOKEN}/deleteWebhook")
    finally:
        await request.shutdown()
        server.close()
    request_line, *headers = proxy.heads[0].split("\r\n")
    assert request_line == {
        "http": f"POST http://api.telegram.invalid/bot{TEST_TOKEN}/deleteWebhook HTTP/1.1",
        "https": "CONNECT api.telegram.invalid:443 HTTP/1.1",
    }[scheme]
    assert "Proxy-Authorization: Basic a29tbXVuZTpoZW1tZWxpZw==" in headers  # kommune:hemmelig


async def test_no_proxy_hosts_are_reached_directly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    api = RecordingApi()
    runner, url = await serve(api)
    try:
        async with Bot(TEST_TOKEN, base_url=url, request=AiohttpRequest()) as bot:
            await bot.send_message(chat_id=7, text="hej")
    finally:
        await runner.cleanup()
    assert api.requests[-1][0] == "sendMessage"
