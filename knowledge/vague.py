"""Questions without a subject ("hvad gør jeg?", "er det lovligt?", "regler") get a follow-up
question instead of a confident answer: the words that only frame a question are listed in
knowledge/uklare_spoergsmaal.yaml, beside the topics offered when nothing else points anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from knowledge.text import STOP_WORDS, Analyzer, fold

DEFAULT_PATH = Path(__file__).parent / "uklare_spoergsmaal.yaml"


@dataclass(frozen=True)
class VagueWords:
    """Framing words (folded stems), and the article ids offered for a question with no subject."""

    framing: frozenset[str]
    starter_topics: tuple[str, ...]


def load_vague_words(analyzer: Analyzer, path: Path = DEFAULT_PATH) -> tuple[VagueWords, list[str]]:
    """The file's words as the analyzer stems them, and its problems ("path: message")."""
    if not path.exists():
        return VagueWords(frozenset(), ()), []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        return VagueWords(frozenset(), ()), [f"{path}: not valid YAML: {error}"]
    words = data.get("framing_words") or []
    topics = data.get("starter_topics") or []
    if not isinstance(words, list) or not isinstance(topics, list):
        return VagueWords(frozenset(), ()), [f"{path}: framing_words and starter_topics must be lists"]
    framing = {fold(analyzer.stem(str(word).lower())) for word in words} | {fold(str(w).lower()) for w in words}
    return VagueWords(frozenset(framing), tuple(str(t) for t in topics)), []


def subject_words(analyzer: Analyzer, vague: VagueWords, question: str) -> list[str]:
    """The question's words that say what it is about: neither function words nor framing words."""
    subject = []
    for word in analyzer.words(question):
        if word in STOP_WORDS or word.isdigit():
            continue
        if fold(word) in vague.framing or fold(analyzer.stem(word)) in vague.framing:
            continue
        subject.append(word)
    return subject
