"""The emulator's files as the chat page uses them: a document sent from the page may be larger than
the web server's form limit, and a user's file is served so that it can run nothing on the page."""

from __future__ import annotations

import base64
from urllib.parse import unquote

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.localmode import documents
from bot.localmode.emulator import BotApiEmulator
from bot.localmode.user_api import content_disposition


@pytest.fixture
async def client() -> TestClient:
    app = web.Application(client_max_size=1024 * 1024)  # as the runner's web server: sized for forms
    BotApiEmulator("1:token").add_routes(app)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


def document(filename: str, content: bytes, mime_type: str | None = None) -> dict:
    return {"user_id": 42, "filename": filename, "mime_type": mime_type,
            "content_base64": base64.b64encode(content).decode()}


async def test_a_document_larger_than_the_servers_form_limit_arrives(client: TestClient) -> None:
    content = b"Afgoerelse. " * 300_000  # 3.6 MB, nearly 5 MB in base64
    sent = await client.post("/emulator/send-document", json=document("lang.txt", content, "text/plain"))
    assert sent.status == 200
    file_id = (await sent.json())["document"]["file_id"]
    update = (await (await client.post("/bot1:token/getUpdates")).json())["result"][0]
    assert update["message"]["document"]["file_size"] == len(content)
    path = (await (await client.post("/bot1:token/getFile", data={"file_id": file_id})).json())["result"]["file_path"]
    assert await (await client.get(f"/file/bot1:token/{path}")).read() == content
    # Other user calls keep the server's limit.
    assert (await client.post("/emulator/send", json={"user_id": 42, "text": "x" * 2_000_000})).status == 413


async def test_a_document_over_the_emulators_limit_is_refused(client: TestClient, monkeypatch) -> None:
    monkeypatch.setattr(documents, "BODY_LIMIT", 10_000)
    refused = await client.post("/emulator/send-document", json=document("stor.pdf", bytes(20_000)))
    assert refused.status == 413
    not_json = await client.post("/emulator/send-document", data=b"{}", headers={"Content-Type": "text/plain"})
    assert not_json.status == 415  # as every user call: a page of another site cannot send it


async def test_a_users_file_is_downloaded_and_runs_nothing(client: TestClient) -> None:
    name = 'side "1"\nmed æøå.html'
    sent = await client.post("/emulator/send-document",
                             json=document(name, b"<script>alert(1)</script>", "text/html"))
    file_id = (await sent.json())["document"]["file_id"]
    served = await client.get(f"/emulator/files/{file_id}")
    assert served.status == 200
    assert served.headers["Content-Disposition"].startswith("attachment;")
    assert served.headers["Content-Security-Policy"].startswith("sandbox")
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    encoded = served.headers["Content-Disposition"].split("filename*=UTF-8''", 1)[1]
    assert unquote(encoded) == name  # the name itself, for browsers that read filename* (all current ones)


def test_content_disposition_keeps_any_name_in_one_header() -> None:
    value = content_disposition("inline", 'a"b\\c\r\nd.png')
    assert "\r" not in value and "\n" not in value
    assert value.startswith('inline; filename="a_b_c__d.png"; filename*=UTF-8\'\'')


async def test_a_waiting_long_poll_is_answered_when_the_emulator_closes() -> None:
    """A stop must not wait out the long poll (25 s) that the cancelled poller left behind."""
    import asyncio
    import time

    app = web.Application()
    emulator = BotApiEmulator("1:token")
    emulator.add_routes(app)
    async with TestClient(TestServer(app)) as test_client:
        started = time.monotonic()
        poll = asyncio.create_task(test_client.post("/bot1:token/getUpdates", json={"timeout": 20}))
        await asyncio.sleep(0.3)
        emulator.close()
        response = await poll
        assert response.status == 200 and (await response.json())["result"] == []
        assert time.monotonic() - started < 5
