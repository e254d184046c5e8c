"""Klarsprog figures for a Danish text: sentences and words, LIX on the usual Danish scale, long
sentences, passive forms, jargon with plain alternatives, and "De" where "du" reads better.

Counting rules (the same as bench/drafts.py's hand counts): a word is a run of letters or digits
(a hyphenated word and a number like "1,2" are one word); a long word has more than six letters;
a list item's dash or number is not a word; a sentence ends at ".", "!", "?" or ":" before a capital
letter, a digit or the end, at a line break after a heading or list item, and not after
abbreviations such as "jf." or "fx".
LIX = words / sentences + 100 × long words / words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LONG_WORD = 6  # letters; longer is long
LONG_SENTENCE = 25  # words; longer is quoted
# Abbreviations that never end a sentence, and those that may (when a capital follows).
NEVER_END = frozenset({
    "jf", "jfr", "jvf", "fx", "f.eks", "bl.a", "nr", "stk", "pkt", "ca", "evt", "inkl", "tlf", "kl", "hhv",
    "iht", "vedr", "dvs", "mht", "pga", "ift", "att", "hr", "fru", "dr", "ang", "vha", "mm", "ts", "s",
})
WORD = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+(?:[-'’][^\W_]+)*|[^\W_]+", re.UNICODE)
SENTENCE_END = re.compile(r"([.!?:])(?=[\s\"»”)\]]*(?:$|\s))")
MONTHS = "januar|februar|marts|april|maj|juni|juli|august|september|oktober|november|december"
# A list item's dash or number is not a word ("12. marts" at the start of a line is a date).
BULLET = re.compile(rf"^\s*(?:[-*•–]|\d+[.)](?!\s+(?:{MONTHS})\b))\s+", re.I)
MODALS = r"(?:kan|kunne|skal|skulle|må|måtte|bør|burde|vil|ville)"
# s-passive after a modal ("kan bevilges", "skal ikke betales"), the common present-tense s-passives
# of official letters ("indstilles", "vedlægges"), and blive-passive ("blev afvist", "er blevet sendt").
PASSIVE_AFTER_MODAL = re.compile(rf"\b{MODALS}\s+(?:ikke\s+|også\s+|derfor\s+)?([^\W\d_]{{3,}}(?:es|s))\b", re.I)
PASSIVE_BLIVE = re.compile(
    r"\b(?:bliver|blev|blive|er blevet|var blevet|blevet)\s+(?:ikke\s+)?([^\W\d_]{3,}(?:et|t|s))\b", re.I)
NOT_PASSIVE = frozenset({"hjemmes", "tilfreds", "anders", "hans", "lars", "thomas", "andres", "deres", "hendes",
                         "mindes", "længes", "findes", "synes", "lykkes", "færdes", "ses", "mødes", "enes",
                         "stærkt", "godt", "let", "sagt", "stort", "ret", "tydeligt", "klart", "muligt", "bedst",
                         "lidt", "meget", "mest", "mindst", "først", "sidst", "hurtigt", "vigtigt", "nødt",
                         "vant", "træt", "sent", "tidligt", "flest", "fast", "bekendt", "kendt"})


@dataclass(frozen=True)
class Sentence:
    text: str
    words: int
    start: int  # character offset in the text


@dataclass(frozen=True)
class Jargon:
    term: str
    instead: str
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class JargonHit:
    term: str
    instead: str
    quote: str  # the words as written


@dataclass(frozen=True)
class Klarsprog:
    words: int
    sentences: int
    long_words: int
    lix: float
    level: str  # "meget let" … "meget svær"
    long_sentences: list[Sentence]
    passives: list[str]
    jargon: list[JargonHit]
    formal_de: list[str]  # "De", "Dem", "Deres" inside a sentence
    du_count: int


def words(text: str) -> list[str]:
    return WORD.findall(text)


def letters(word: str) -> int:
    return sum(1 for c in word if c.isalpha())


def _ends_after_abbreviation(text: str, position: int) -> bool:
    """Whether the period at `position` belongs to an abbreviation that never ends a sentence."""
    start = position
    while start > 0 and (text[start - 1].isalpha() or text[start - 1] == "."):
        start -= 1
    token = text[start:position].lower().strip(".")
    return token in NEVER_END


def sentences(text: str) -> list[Sentence]:
    """The text cut into sentences (see the module's counting rules); empty pieces are dropped."""
    found: list[Sentence] = []
    offset = 0
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        if stripped:
            body_start = offset + line.find(stripped)
            bullet = BULLET.match(stripped)
            if bullet:
                body_start += bullet.end()
                stripped = stripped[bullet.end():]
            found.extend(_line_sentences(stripped, body_start))
        offset += len(line)
    return _join_unfinished_lines(found, text)


def _line_sentences(line: str, base: int) -> list[Sentence]:
    pieces: list[Sentence] = []
    start = 0
    for match in SENTENCE_END.finditer(line):
        end = match.end()
        after = line[end:].lstrip(" \"»”)]")
        if after and not (after[0].isupper() or after[0].isdigit() or after[0] in "\"«»“§(-–•"):
            continue
        if match.group(1) == "." and _ends_after_abbreviation(line, match.start()) and after:
            continue
        piece = line[start:end].strip()
        if words(piece):
            pieces.append(Sentence(piece, len(words(piece)), base + start))
        start = end
    rest = line[start:].strip()
    if words(rest):
        pieces.append(Sentence(rest, len(words(rest)), base + start))
    return pieces


def _join_unfinished_lines(found: list[Sentence], text: str) -> list[Sentence]:
    """A sentence broken over two lines (a pasted PDF or a hard-wrapped text) is one sentence: a
    line that ends without punctuation and is followed by a line starting in lower case."""
    joined: list[Sentence] = []
    for sentence in found:
        if joined:
            previous = joined[-1]
            if previous.text[-1:].isalnum() and sentence.text[:1].islower() and len(previous.text.split()) > 4:
                merged = f"{previous.text} {sentence.text}"
                joined[-1] = Sentence(merged, previous.words + sentence.words, previous.start)
                continue
        joined.append(sentence)
    return joined


def lix_level(lix: float) -> str:
    """The usual Danish scale."""
    if lix < 25:
        return "meget let"
    if lix < 35:
        return "let"
    if lix < 45:
        return "middel"
    if lix < 55:
        return "svær"
    return "meget svær"


def lix(text: str) -> tuple[float, int, int, int]:
    """LIX, with the words, sentences and long words it was computed from."""
    parts = sentences(text)
    all_words = [w for s in parts for w in words(s.text)]
    count = len(all_words)
    if count == 0:
        return 0.0, 0, 0, 0
    long_words = sum(1 for w in all_words if letters(w) > LONG_WORD)
    return count / max(len(parts), 1) + 100 * long_words / count, count, len(parts), long_words


def compile_jargon(entries: list[tuple[str, str]]) -> list[Jargon]:
    """Terms as written in the list; a term matches as whole words, in any inflection of its last
    word's ending (e.g. "imødekomme" also finds "imødekommes")."""
    compiled = []
    for term, instead in entries:
        words_of_term = [re.escape(w) for w in term.split()]
        pattern = r"\b" + r"\s+".join(words_of_term) + r"[a-zæøå]{0,3}\b"
        compiled.append(Jargon(term, instead, re.compile(pattern, re.I)))
    return compiled


def passive_forms(text: str, passive_words: frozenset[str] = frozenset()) -> list[str]:
    """The passive forms as written, in order: after a modal, with "blive", and the words listed
    as passive in knowledge/checks/klarsprog.yaml (each place counted once)."""
    found: list[tuple[int, int, str]] = []
    for pattern in (PASSIVE_AFTER_MODAL, PASSIVE_BLIVE):
        for match in pattern.finditer(text):
            if match.group(1).lower() not in NOT_PASSIVE:
                found.append((match.start(), match.end(), match.group(0)))
    if passive_words:
        listed = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in sorted(passive_words)) + r")\b", re.I)
        for match in listed.finditer(text):
            if not any(start <= match.start() < end for start, end, _ in found):
                found.append((match.start(), match.end(), match.group(0)))
    return [quote for _, _, quote in sorted(found)]


FORMAL_DE = re.compile(r"(?<=[a-zæøå,;] )(De|Dem|Deres)\b")
DU = re.compile(r"\b(du|dig|din|dit|dine)\b", re.I)


def analyse(text: str, jargon: list[Jargon], passive_words: frozenset[str] = frozenset()) -> Klarsprog:
    """Every klarsprog figure of `text` (plain text)."""
    value, word_count, sentence_count, long_words = lix(text)
    long_ones = [s for s in sentences(text) if s.words > LONG_SENTENCE]
    passives = passive_forms(text, passive_words)
    jargon_hits: list[JargonHit] = []
    for entry in jargon:
        match = entry.pattern.search(text)
        if match:
            jargon_hits.append(JargonHit(entry.term, entry.instead, match.group(0)))
    return Klarsprog(
        words=word_count, sentences=sentence_count, long_words=long_words, lix=value, level=lix_level(value),
        long_sentences=long_ones, passives=passives, jargon=jargon_hits,
        formal_de=FORMAL_DE.findall(text), du_count=len(DU.findall(text)),
    )
