"""Running the bot: polling, webhook or local mode, with the web server beside it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal
from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlparse

from aiohttp import web
from telegram import Update
from telegram.ext import AIORateLimiter, ExtBot

from bot.config import Settings
from bot.delivery.inbox import Dispatcher, poll_forever
from bot.delivery.outbox import OutboxSender
from bot.delivery.transport import AiohttpRequest
from bot.localmode.chat_page import add_local_chat_routes
from bot.localmode.emulator import BotApiEmulator
from bot.services.campaigns import Campaigns
from bot.services.knowledge import KnowledgeService
from bot.services.learning import Learning
from bot.storage import Storage, utc_now
from bot.telegram.application import build_application, publish_commands
from bot.telegram.context import SERVICES_KEY
from bot.web.dashboard import Dashboard
from bot.web.webhook import add_webhook_route
from quizzes.bank import load_bank

log = logging.getLogger(__name__)

BOT_ID = 1000000  # the emulator's bot user
LOCAL_CHATS = ".local-chats.json"  # local mode's chats, in a file beside BOT_DB


def configure_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # httpx logs every request URL, and Bot API URLs contain the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("matplotlib").setLevel(logging.WARNING)  # no font-manager lines per chart


async def serve(
    settings: Settings,
    *,
    stop: asyncio.Event | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> None:
    """Run until `stop` is set (or SIGINT/SIGTERM)."""
    stop = stop or asyncio.Event()
    _install_signal_handlers(stop)
    storage = Storage(settings.db_path)
    web_app = web.Application(client_max_size=2 * 1024 * 1024)
    host = settings.http_host
    base_url = token = None
    emulator: BotApiEmulator | None = None
    if settings.local_mode:
        # The emulator must never face a network: local mode binds to loopback only.
        host = "127.0.0.1"
        # A token of its own each run, which no other web page can know; the chats kept beside the database.
        token = f"{BOT_ID}:{secrets.token_urlsafe(32)}"
        emulator = BotApiEmulator(token, store=settings.db_path.with_name(settings.db_path.name + LOCAL_CHATS))
        # A new emulator per run: its update ids continue after the stored ones, as Telegram's would.
        emulator.state.next_update_id = (storage.inbox.last_update_id() or 0) + 1
        emulator.add_routes(web_app)
        add_local_chat_routes(web_app)
        base_url = f"http://127.0.0.1:{settings.http_port}/bot"
    knowledge = KnowledgeService.load(settings.embedding_model)
    bank, problems = load_bank(article_ids=knowledge.knowledge.articles)
    if problems:
        log.warning("quiz bank has %d problem(s); run `python run_bot.py check`", len(problems))
    learning = Learning(storage.learners, storage.quizzes, storage.pushes, bank, settings.timezone)
    campaigns = Campaigns(storage.cohorts, storage.campaigns, storage.quizzes, bank, settings.timezone)
    learning.campaign_pool = campaigns.campaign_pool_of
    learning.campaign_round = campaigns.campaign_round
    campaigns.drafts = storage.drafts
    application = build_application(settings, storage, knowledge=knowledge, learning=learning,
                                    campaigns=campaigns, clock=clock,
                                    base_url=base_url, token=token, tick_seconds=settings.tick_seconds)
    outbox_bot = build_outbox_bot(application.bot.token, application.bot.base_url)
    outbox = OutboxSender(outbox_bot, storage.outbox, clock)
    application.bot_data[SERVICES_KEY].outbox = outbox
    Dashboard(storage.consultants, storage.cohorts, storage.campaigns, campaigns, clock,
              lambda: application.bot.username, settings.trusted_proxies).add_routes(web_app)
    dispatcher = Dispatcher(application, storage.inbox)
    if settings.webhook_mode:
        path = urlparse(settings.webhook_url).path or "/telegram"
        add_webhook_route(web_app, path, settings.webhook_secret, dispatcher)

    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, settings.http_port)
    await site.start()
    poller: asyncio.Task | None = None
    sender: asyncio.Task | None = None
    embedding = asyncio.create_task(knowledge.attach_embeddings(storage.embeddings))
    try:
        await application.initialize()
        await outbox_bot.initialize()
        sender = asyncio.create_task(outbox.run(stop))
        await publish_commands(application)
        await application.start()
        resumed = dispatcher.submit_pending()
        if resumed:
            log.info("handling %d updates stored before the last stop", resumed)
        if settings.webhook_mode:
            await application.bot.set_webhook(
                settings.webhook_url, secret_token=settings.webhook_secret,
                allowed_updates=Update.ALL_TYPES,
            )
            log.info("webhook mode: Telegram posts to %s", settings.webhook_url)
        else:
            await application.bot.delete_webhook()
            poller = asyncio.create_task(poll_forever(application, dispatcher, stop))
        _announce(settings, host)
        if poller is not None:
            await asyncio.wait({poller, asyncio.create_task(stop.wait())}, return_when=asyncio.FIRST_COMPLETED)
            if poller.done() and poller.exception():
                raise poller.exception()
        else:
            await stop.wait()
    finally:
        log.info("stopping")
        stop.set()
        embedding.cancel()
        for task in (poller, sender):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        await dispatcher.drain()
        if application.running:
            await application.stop()
        with contextlib.suppress(Exception):
            await application.shutdown()
        with contextlib.suppress(Exception):
            await outbox_bot.shutdown()
        if emulator is not None:
            emulator.close()
        await runner.cleanup()
        if emulator is not None:
            emulator.save()
        storage.close()


def build_outbox_bot(token: str, base_url: str) -> ExtBot:
    """The bot the outbox sends with: python-telegram-bot's rate limiter keeps bulk sends at
    Telegram's 30 messages a second; with max_retries=0 a RetryAfter reaches the sender."""
    api_url = base_url.removesuffix(token)
    return ExtBot(
        token, base_url=api_url, base_file_url=api_url.replace("/bot", "/file/bot"),
        # 30 a second with a bucket of 2 (not of 30): no burst of 60 in the first second, and
        # enough slack that timer jitter does not drag the average below 30 (bench/push.py).
        rate_limiter=AIORateLimiter(overall_max_rate=2, overall_time_period=2 / 30, max_retries=0),
        request=AiohttpRequest(connection_pool_size=32, pool_timeout=10.0),
    )


def _announce(settings: Settings, host: str) -> None:
    if settings.local_mode:
        log.info(
            "LOCAL MODE (no TELEGRAM_BOT_TOKEN): the bot runs behind the built-in emulator. "
            "Open http://127.0.0.1:%d/ in a browser to chat with it.", settings.http_port,
        )
    else:
        mode = "webhook" if settings.webhook_mode else "long polling"
        log.info("bot running with Telegram (%s); web server on http://%s:%d/",
                 mode, host, settings.http_port)


def _install_signal_handlers(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
