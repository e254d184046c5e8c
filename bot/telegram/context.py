"""The services a handler may use, kept in `application.bot_data` under one key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from telegram.ext import ContextTypes

from bot.config import Settings
from bot.services.knowledge import KnowledgeService
from bot.storage import Storage, utc_now

if TYPE_CHECKING:
    from bot.delivery.outbox import OutboxSender
    from bot.services.campaigns import Campaigns
    from bot.services.learning import Learning

SERVICES_KEY = "services"


@dataclass
class Services:
    settings: Settings
    storage: Storage
    knowledge: KnowledgeService
    learning: Learning
    campaigns: Campaigns
    clock: Callable[[], datetime] = field(default=utc_now)
    outbox: OutboxSender | None = None


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.bot_data[SERVICES_KEY]
