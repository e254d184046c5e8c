"""How a question is framed, as opposed to what it asks about (knowledge/uklare_spoergsmaal.yaml):

- Questions without a subject ("hvad gør jeg?", "er det lovligt?", "regler") get a follow-up
  question instead of a confident answer: the file lists the words that only frame a question,
  and the topics offered when nothing else points anywhere.
- An opening that names the asker's job ("Jeg er socialrådgiver og …", "Som plejehjemsleder, …",
  "Byggesag: …") is left out of the search: it would pull the question toward articles about
  employees themselves (side jobs, freedom of speech) instead of the case it is about.
"""

from __future__ import annotations

import re
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
    roles: frozenset[str] = frozenset()  # words naming a job ("socialrådgiver"), lower case


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
    roles = data.get("role_words") or []
    if not isinstance(roles, list):
        return VagueWords(frozenset(), ()), [f"{path}: role_words must be a list"]
    framing = {fold(analyzer.stem(str(word).lower())) for word in words} | {fold(str(w).lower()) for w in words}
    return VagueWords(frozenset(framing), tuple(str(t) for t in topics), frozenset(str(r).lower() for r in roles)), []


# "Jeg er socialrådgiver og …", "Som ny plejehjemsleder, …", "Jeg arbejder som pædagog i en vuggestue. …"
SELF_INTRODUCTION = re.compile(
    r"^\s*(?:hej[,!.]?\s*)?(?:jeg er|jeg arbejder som|jeg sidder som|som)\s+(?:en |et |ny |nyansat )?"
    r"(?P<role>[\w/-]+)[^.,:;!?–]{0,60}?(?:[.,:;!–]\s*|\s+og\s+)", re.IGNORECASE)
# "Byggesag: …", "Plejehjemsleder her: …", "IT/digitalisering: …" (a short heading without numbers).
HEADING = re.compile(r"^\s*(?P<heading>[^\W\d][\w/ -]{0,30}?)(?:\s+her)?\s*:\s+(?=\S)", re.IGNORECASE)
ROLE_ENDINGS = ("leder", "rådgiver", "behandler", "medarbejder", "assistent", "konsulent", "hjælper", "chef",
                "sekretær")


def is_role(word: str, vague: VagueWords) -> bool:
    word = word.lower()
    return word in vague.roles or word.endswith(ROLE_ENDINGS)


def without_role_opener(question: str, vague: VagueWords) -> str:
    """The question without an opening that only says who asks (see the module's docstring)."""
    match = SELF_INTRODUCTION.match(question)
    if match and is_role(match.group("role"), vague) and match.end() < len(question):
        return question[match.end():]
    match = HEADING.match(question)
    if match and len(match.group("heading").split()) <= 3 and "§" not in match.group("heading"):
        return question[match.end():]
    return question


def subject_words(analyzer: Analyzer, vague: VagueWords, question: str) -> list[str]:
    """The question's words that say what it is about: neither function words nor framing words
    (a number counts: "fvl 19" asks about a section)."""
    subject = []
    for word in analyzer.words(question):
        if word in STOP_WORDS:
            continue
        if fold(word) in vague.framing or fold(analyzer.stem(word)) in vague.framing:
            continue
        subject.append(word)
    return subject
