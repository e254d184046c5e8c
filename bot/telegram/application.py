"""Wiring only: builds the python-telegram-bot Application and registers the handlers.

Updates do not come through PTB's Updater: the durable inbox (bot/delivery/inbox.py) stores each update
before it is confirmed and then calls `application.process_update`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    Defaults,
    MessageHandler,
    PollAnswerHandler,
    TypeHandler,
    filters,
)

from bot.config import Settings
from bot.delivery.inbox import ReplyTrackingBot
from bot.delivery.transport import AiohttpRequest
from bot.services.campaigns import Campaigns
from bot.services.knowledge import KnowledgeService
from bot.services.learning import Learning
from bot.storage import Storage, utc_now
from bot.telegram import draft_handlers, handlers, quiz_handlers, texts
from bot.telegram.context import SERVICES_KEY, Services

LOCAL_MODE_TOKEN = "1000000:local-mode-token-for-the-emulator-only"


def build_application(
    settings: Settings,
    storage: Storage,
    *,
    knowledge: KnowledgeService,
    learning: Learning,
    campaigns: Campaigns,
    clock: Callable[[], datetime] = utc_now,
    base_url: str | None = None,
    token: str | None = None,
    tick_seconds: float = 20.0,
) -> Application:
    """The bot, pointed at `base_url` (or TELEGRAM_API_URL), with all handlers registered."""
    token = token or settings.telegram_bot_token or LOCAL_MODE_TOKEN  # local mode: the runner's random one
    api_url = base_url or settings.telegram_api_url
    bot = ReplyTrackingBot(
        token, base_url=api_url, base_file_url=api_url.replace("/bot", "/file/bot"),
        # aiohttp rather than PTB's default httpx: less CPU per call (see bot/delivery/transport.py).
        request=AiohttpRequest(connection_pool_size=16, pool_timeout=10.0),
        get_updates_request=AiohttpRequest(connection_pool_size=1),
        defaults=Defaults(link_preview_options=LinkPreviewOptions(is_disabled=True)),
        # Replies answer the user's own message; Telegram's 429 is waited out and retried here.
        rate_limiter=AIORateLimiter(overall_max_rate=0, max_retries=3),
        reply_marker=storage.inbox.mark_replied,
    )
    application = ApplicationBuilder().bot(bot).updater(None).build()
    application.bot_data[SERVICES_KEY] = Services(
        settings=settings, storage=storage, knowledge=knowledge, learning=learning, campaigns=campaigns,
        clock=clock
    )
    register_handlers(application)
    # Pushes are derived from the database on every tick, so nothing is lost across restarts.
    application.job_queue.run_repeating(quiz_handlers.push_tick, interval=tick_seconds, first=1.0, name="push-tick")
    return application


def register_handlers(application: Application) -> None:
    # Button patterns end in \Z, not $: "$" would also accept the data with a newline after it.
    # Group -1 runs first: a user who erased their data is stopped here until they send /start.
    application.add_handler(TypeHandler(Update, handlers.erased_guard), group=-1)
    # Group 0: commands, then buttons, then free text; the catch-alls come last in the group so
    # that a known command never reaches the unknown-command reply.
    application.add_handler(CommandHandler("start", handlers.start))
    application.add_handler(CommandHandler(["help", "hjaelp"], handlers.help_command))
    application.add_handler(CommandHandler("privatliv", handlers.privacy))
    application.add_handler(CommandHandler("mine_data", handlers.my_data))
    application.add_handler(CommandHandler("slet_mine_data", handlers.delete_my_data))
    application.add_handler(CommandHandler("forlad", handlers.leave))
    application.add_handler(CommandHandler("kampagner", handlers.consultant_campaigns))
    application.add_handler(CommandHandler("tjek", draft_handlers.check_command))
    application.add_handler(CommandHandler("quiz", quiz_handlers.quiz_command))
    application.add_handler(CommandHandler("fremskridt", quiz_handlers.progress_command))
    application.add_handler(CommandHandler("indstillinger", quiz_handlers.settings_command))
    application.add_handler(CommandHandler("pause", quiz_handlers.pause_command))
    application.add_handler(CommandHandler("genoptag", quiz_handlers.resume_command))
    # A press without data (or a game) would match the first handler with a pattern: python-telegram-bot
    # checks patterns only against data that is there. A game pattern that never matches catches it.
    application.add_handler(CallbackQueryHandler(handlers.stale_button, game_pattern=r"(?!)"))
    application.add_handler(CallbackQueryHandler(
        quiz_handlers.quiz_button,
        pattern=r"^quiz:(new:(daily|mistakes|review)|topic:[a-z0-9-]+|next:\d{1,12}|stop:\d{1,12})\Z"))
    application.add_handler(CallbackQueryHandler(quiz_handlers.progress_command, pattern=r"^progress\Z"))
    application.add_handler(CallbackQueryHandler(
        quiz_handlers.settings_button,
        pattern=r"^set:(timemenu|daymenu|areamenu|countmenu|menu|name|pause|resume|time:([01]\d|2[0-3])[0-5]\d|day:[0-6]"
                r"|area:[0-3]|count:\d|(cpause|cresume|cleave):\d{1,12})\Z"))
    application.add_handler(PollAnswerHandler(quiz_handlers.poll_answer))
    application.add_handler(CallbackQueryHandler(handlers.delete_answer, pattern=r"^delete:(yes|no)\Z"))
    application.add_handler(CallbackQueryHandler(handlers.show_article, pattern=r"^(art|page):[a-z0-9-]+:\d{1,3}\Z"))
    application.add_handler(CallbackQueryHandler(handlers.show_related, pattern=r"^rel:[a-z0-9-]+\Z"))
    application.add_handler(CallbackQueryHandler(handlers.feedback, pattern=r"^fb:\d{1,12}:[01]\Z"))
    application.add_handler(MessageHandler(filters.COMMAND, handlers.unknown_command))
    application.add_handler(CallbackQueryHandler(
        draft_handlers.button, pattern=r"^tjek:(ja|nej|afg|sag|igen:(afg|sag))\Z"))
    application.add_handler(CallbackQueryHandler(handlers.stale_button))
    # Free text is a question, or a draft to check ('Tjek mit udkast'), which draft_handlers decides.
    application.add_handler(MessageHandler(filters.ChatType.PRIVATE & filters.TEXT, draft_handlers.text_message))
    application.add_handler(MessageHandler(filters.ChatType.PRIVATE & filters.Document.ALL, draft_handlers.document))
    application.add_handler(
        MessageHandler(filters.ChatType.PRIVATE & ~filters.TEXT & ~filters.StatusUpdate.ALL, handlers.not_text)
    )
    application.add_error_handler(handlers.on_error)


async def publish_commands(application: Application) -> None:
    """Set the command menu and descriptions that Telegram shows the user."""
    await application.bot.set_my_commands([BotCommand(c, d) for c, d in texts.COMMANDS])
    await application.bot.set_my_description(texts.BOT_DESCRIPTION)
    await application.bot.set_my_short_description(texts.BOT_SHORT_DESCRIPTION)


