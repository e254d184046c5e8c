"""What the Bot API emulator keeps and checks: its state, the errors it answers with, the faults a
test can inject, and Telegram's rules for texts, buttons and HTML (so escaping mistakes show in tests).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

BOT_USERNAME = "forvaltning_assistent_bot"
# Fields that are text even when they look like JSON or a number.
STRING_FIELDS = frozenset({
    "text", "caption", "question", "explanation", "description", "short_description",
    "callback_query_id", "url", "secret_token", "parse_mode", "explanation_parse_mode", "type",
})
JSON = dict[str, Any]
CAPTION_LIMIT = 1024  # characters, for photos and documents


class ApiError(Exception):
    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after


@dataclass
class Fault:
    """Make the next `count` calls of `method` (or of any method, '*') fail: only those to `chat_id`
    and whose text contains `text`, when given, so that a test's fault hits the message it means."""

    method: str
    status: int
    count: int = 1
    retry_after: int | None = None
    description: str = ""
    delay: float = 0.0  # seconds to wait first (simulates a timeout when long)
    chat_id: int | None = None
    text: str = ""

    def matches(self, method: str, params: dict) -> bool:
        return (self.method in (method, "*") and self.count > 0
                and (self.chat_id is None or str(params.get("chat_id")) == str(self.chat_id))
                and self.text in str(params.get("text") or params.get("caption") or ""))


@dataclass
class ChatEvent:
    """One entry of a chat as the user sees it."""

    seq: int
    message: JSON
    sender: str  # "user" or "bot"
    edited: bool = False


@dataclass
class EmulatorState:
    bot_id: int = 1000000
    updates: list[JSON] = field(default_factory=list)
    next_update_id: int = 1
    confirmed_offset: int = 0
    chats: dict[int, list[ChatEvent]] = field(default_factory=lambda: defaultdict(list))
    messages: dict[tuple[int, int], ChatEvent] = field(default_factory=dict)
    users: dict[int, JSON] = field(default_factory=dict)
    polls: dict[str, JSON] = field(default_factory=dict)
    callback_answers: dict[str, JSON] = field(default_factory=dict)
    blocked: set[int] = field(default_factory=set)
    faults: list[Fault] = field(default_factory=list)
    commands: list[JSON] = field(default_factory=list)
    description: str = ""
    short_description: str = ""
    webhook: JSON = field(default_factory=dict)
    files: dict[str, tuple[bytes, str, str]] = field(default_factory=dict)
    calls: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    in_flight: int = 0  # Bot API calls being answered now (getUpdates aside), and the most at once
    max_in_flight: int = 0


def check_text(text: Any, limit: int = 4096) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if len(text) > limit:
        raise ApiError(400, "Bad Request: message is too long")
    return text


def check_markup(params: JSON) -> JSON | None:
    markup = params.get("reply_markup")
    if markup is None:
        return None
    if isinstance(markup, str):
        markup = maybe_json(markup)
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and len(data.encode("utf-8")) > 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return markup


def check_parse_mode(text: str, parse_mode: str | None) -> None:
    """Reject HTML that Telegram would reject, so escaping mistakes show in tests."""
    if parse_mode and parse_mode.upper() == "HTML":
        import html.parser

        allowed = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code",
                   "pre", "span", "tg-spoiler", "blockquote", "tg-emoji"}
        stack: list[str] = []

        class Checker(html.parser.HTMLParser):
            def handle_starttag(self, tag: str, attrs: list) -> None:
                if tag not in allowed:
                    raise ApiError(400, f"Bad Request: can't parse entities: Unsupported start tag \"{tag}\"")
                stack.append(tag)

            def handle_endtag(self, tag: str) -> None:
                if not stack or stack.pop() != tag:
                    raise ApiError(400, "Bad Request: can't parse entities: unmatched end tag")

        Checker(convert_charrefs=True).feed(text)
        if stack:
            raise ApiError(400, "Bad Request: can't parse entities: unclosed start tag")


def maybe_json(value: str) -> Any:
    """Form values arrive as strings; PTB JSON-encodes everything that is not a string."""
    if value[:1] in "[{" or value in ("true", "false", "null") or _is_number(value):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def truthy(value: Any) -> bool:
    return value is True or value == "true" or value == 1
