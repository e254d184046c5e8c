"""Recognising greetings, thanks and small talk, which get a friendly reply instead of a passage."""

from __future__ import annotations

import re

_PATTERNS: dict[str, re.Pattern[str]] = {
    "greeting": re.compile(
        r"^(hej+|hejsa|hallo+j?|halløj|goddag|godmorgen|god morgen|god eftermiddag|godaften|"
        r"god aften|dav|davs|hey|hi|hello|yo|morn|mojn|hejhej)( med dig| der| bot)?$"
    ),
    "thanks": re.compile(
        r"^(tak|tak!|mange tak|tusind tak|tak for hjælpen|tak for svaret|tak skal du have|takker|"
        r"det var en stor hjælp|super tak|fedt tak|thanks|thank you|tak det hjalp)( for (hjælpen|svaret|det))?$"
    ),
    "goodbye": re.compile(r"^(farvel|hej hej|vi ses|god dag|god weekend|ha' en god dag|hav en god dag|bye)$"),
    "how_are_you": re.compile(r"^(hvordan går det|hvordan har du det|går det godt|hvad så|står det godt til)$"),
    "who_are_you": re.compile(
        r"^(hvem er du|hvad er du|hvad kan du|hvad kan du hjælpe med|hvad kan jeg spørge om|"
        r"er du en robot|er du et menneske|hvad kan du svare på)$"
    ),
    "ok": re.compile(r"^(ok|okay|oki|okay tak|ok tak|fint|super|godt|fedt|perfekt|forstået|jep|ja|nej|👍|🙏|😊)$"),
}


def classify_smalltalk(text: str) -> str | None:
    """The kind of small talk ("greeting", "thanks", ...) or None for a real question."""
    cleaned = re.sub(r"[!.?,:;]+", " ", text.lower())
    cleaned = re.sub(r"\s+", " ", cleaned).strip()
    if not cleaned:
        return None
    for kind, pattern in _PATTERNS.items():
        if pattern.match(cleaned):
            return kind
    return None
