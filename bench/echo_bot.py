"""A bare python-telegram-bot echo bot: the baseline that bench/load.py compares the real bot with.

    TELEGRAM_BOT_TOKEN=123456:... TELEGRAM_API_URL=http://127.0.0.1:PORT/bot .venv/bin/python bench/echo_bot.py

It answers every text message (commands included) with the same text, through the Bot API at
TELEGRAM_API_URL (the emulator). Updates of different chats are handled concurrently, as many at
once as the real bot's dispatcher (32), so the comparison is of the work per update.
It sends through PTB's default HTTP library (httpx); --transport aiohttp makes it send through the
bot's own transport (bot/telegram_transport.py), to see how much of a difference is the transport.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(update.effective_message.text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concurrent-updates", type=int, default=32,
                        help="updates handled at once (default 32, as bot/inbox.py Dispatcher; 1 = one by one)")
    parser.add_argument("--transport", choices=("httpx", "aiohttp"), default="httpx",
                        help="HTTP library for the Bot API calls (default httpx, PTB's own)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # request URLs contain the token
    builder = (
        ApplicationBuilder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(os.environ.get("TELEGRAM_API_URL", "https://api.telegram.org/bot"))
        .concurrent_updates(args.concurrent_updates)
    )
    if args.transport == "aiohttp":
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
        from bot.delivery.transport import AiohttpRequest

        builder = builder.request(AiohttpRequest(connection_pool_size=16)).get_updates_request(AiohttpRequest(1))
    application = builder.build()
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.run_polling(allowed_updates=Update.ALL_TYPES)


if __name__ == "__main__":
    main()
