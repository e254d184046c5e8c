"""Personal data a draft should not carry into a chat: CPR numbers, and health information beside
a person's name (GDPR art. 9). The words and first names are data (knowledge/checks/privatliv.yaml).
A warning, never a block: the draft is not stored either way."""

from __future__ import annotations

import re
from dataclasses import dataclass

# ddmmyy-xxxx (with or without the hyphen or a space); the date part must be a real day and month.
CPR = re.compile(r"(?<![\d-])([0-3]\d)([01]\d)(\d\d)[- ]?(\d{4})(?![\d-])")
CAPITALISED = re.compile(r"\b([A-ZÆØÅ][a-zæøåéü]+)(?:\s+([A-ZÆØÅ][a-zæøåéü]+))?")


@dataclass(frozen=True)
class PrivacyWords:
    health_words: tuple[str, ...]
    first_names: frozenset[str]


@dataclass(frozen=True)
class PrivacyFindings:
    cpr_numbers: int
    health_with_name: bool
    health_word: str | None = None


def cpr_numbers(text: str) -> list[str]:
    """CPR-shaped numbers with a valid day and month (masked ones like 010190-xxxx are not found)."""
    found = []
    for match in CPR.finditer(text):
        day, month = int(match.group(1)), int(match.group(2))
        if 1 <= day <= 31 and 1 <= month <= 12:
            found.append(match.group(0))
    return found


def has_name(text: str, first_names: frozenset[str]) -> bool:
    """A known first name followed by a capitalised word ("Hanne Jensen"), or a greeting to a
    named person ("Kære Hanne")."""
    for match in CAPITALISED.finditer(text):
        first, last = match.group(1), match.group(2)
        if first.lower() in first_names and last:
            return True
    return bool(re.search(r"\b(?:Kære|Hej|Til)\s+([A-ZÆØÅ][a-zæøå]+)", text)) and any(
        m.group(1).lower() in first_names for m in re.finditer(r"\b(?:Kære|Hej|Til)\s+([A-ZÆØÅ][a-zæøå]+)", text))


def health_word(text: str, words: tuple[str, ...]) -> str | None:
    lowered = text.lower()
    for word in words:
        if re.search(rf"\b{re.escape(word)}", lowered):
            return word
    return None


def findings(text: str, words: PrivacyWords) -> PrivacyFindings:
    health = health_word(text, words.health_words)
    return PrivacyFindings(
        cpr_numbers=len(cpr_numbers(text)),
        health_with_name=health is not None and has_name(text, words.first_names),
        health_word=health,
    )
