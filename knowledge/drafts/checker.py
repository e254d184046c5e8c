"""The draft check: which kind of draft it is, which checklist items it has (patterns first, then
the embedding model for a section written in other words), the klarsprog figures and the privacy
findings, as one `Report`. The draft lives only in memory while it is checked."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from knowledge.drafts.checklists import Checks, Group, Item
from knowledge.drafts.klarsprog import Klarsprog, Sentence, analyse, sentences, words
from knowledge.drafts.privacy import PrivacyFindings, cpr_numbers, findings

MAX_CHECKED_CHARS = 60_000  # about 25 pages: a longer text is checked on its beginning
MIN_DRAFT_CHARS = 300  # a pasted message shorter than this is a question, not a draft
QUESTION_UNTIL = 800  # a message up to this long that ends with a question is a question
MODEL_THRESHOLD = 0.90  # cosine between a sentence and an item's example (multilingual-e5-small)
MODEL_CANDIDATES = 3  # sentences per missing item sent to the model, chosen by shared words
MODEL_MAX_SENTENCES = 8  # at most this many sentences encoded per check (time on a long draft)
MODEL_SENTENCE_WORDS = 32
MODEL_MIN_WORDS = 6  # headings and subject lines are too short to say what a section does
QUOTE_CHARS = 110
BODY_SENTENCE_WORDS = 6  # a line this long that ends a sentence is the body, not a header line
LABEL_WORDS = 4  # a list label before a sentence on its line (»Model 2:«) is read with the sentence

AFGOERELSE_MARKERS = (
    r"\bkære\b", r"\bdu (får|kan|skal|har)\b", r"\bdig\b", r"\bafgørelse\b", r"\bafslag\b", r"\bbevilge",
    r"\bklag(e|evejledning)\b", r"\bmed venlig hilsen\b", r"\bansøgning\b", r"\bvi har (besluttet|modtaget)\b",
    r"\bpartshøring\b", r"\btilladelse\b",
)
SAG_MARKERS = (
    r"^\s*indstilling", r"\bindstiller\b", r"\bat (udvalget|kommunalbestyrelsen|byrådet|økonomiudvalget)\b",
    r"^\s*sagsfremstilling", r"^\s*beslutning", r"^\s*økonomi", r"^\s*bilag", r"\budvalg", r"^\s*høring",
    r"^\s*baggrund", r"^\s*resum[eé]", r"\bforvaltningen\b", r"\bkommunalbestyrelsen\b|\bbyrådet\b",
)


class Embedder(Protocol):
    def encode(self, texts: Sequence[str], kind: str = "query") -> np.ndarray: ...


@dataclass(frozen=True)
class ItemResult:
    item: Item
    status: str  # "ok", "missing" or "not_needed"
    reason: str  # one short reason (the item's own when missing)
    quote: str | None = None  # the sentence that triggered the point
    by_model: bool = False  # recognised by the model, not by a pattern
    similarity: float | None = None  # the model's best cosine, when it was asked

    @property
    def ok(self) -> bool:
        return self.status != "missing"


@dataclass
class Report:
    kind: str
    results: list[ItemResult]
    klarsprog: Klarsprog
    privacy: PrivacyFindings
    truncated: bool = False
    model_used: bool = False

    @property
    def missing(self) -> list[ItemResult]:
        """The fixes, the most important first (weight, then the checklist's order)."""
        return sorted((r for r in self.results if r.status == "missing"), key=lambda r: -r.item.weight)

    @property
    def present(self) -> list[ItemResult]:
        return [r for r in self.results if r.status == "ok"]

    @property
    def counts(self) -> dict[str, bool]:
        """item id -> missing, for the anonymous statistics (items that applied only)."""
        return {r.item.id: r.status == "missing" for r in self.results if r.status != "not_needed"}


def plain_text(text: str) -> str:
    """HTML and Markdown as plain text: tags removed (blocks become lines), entities decoded, '#'
    headings, '**bold**' and '*' bullets made plain."""
    if re.search(r"</?[a-zA-Z][^>]{0,200}>", text):
        text = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>", " ", text)
        text = re.sub(r"(?i)<\s*(br|/p|/div|/li|/h\d|/tr|p|div|li|h\d|tr)\b[^>]*>", "\n", text)
        text = re.sub(r"<[^>]{0,500}>", " ", text)
        text = html.unescape(text)
    text = re.sub(r"(?m)^\s{0,3}#{1,6}\s+", "", text)
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)
    text = re.sub(r"(?m)^(\s*)\*\s+", r"\1- ", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")
    text = re.sub(r"[ \t]+", " ", text)
    return re.sub(r" ?\n ?", "\n", text).strip()


def marker_scores(text: str) -> tuple[int, int]:
    flags = re.IGNORECASE | re.MULTILINE
    afg = sum(1 for p in AFGOERELSE_MARKERS if re.search(p, text, flags))
    sag = sum(1 for p in SAG_MARKERS if re.search(p, text, flags))
    return afg, sag


def guess_kind(text: str) -> str | None:
    """'afgoerelse', 'sagsfremstilling', or None when the markers do not settle it."""
    afg, sag = marker_scores(text)
    if afg >= 2 and afg >= 2 * sag:
        return "afgoerelse"
    if sag >= 2 and sag >= 2 * afg:
        return "sagsfremstilling"
    return None


def looks_like_draft(text: str) -> bool:
    """A pasted message that reads like a document rather than a question: long, several sentences
    or lines, and the marks of a letter or a sagsfremstilling."""
    if len(text) < MIN_DRAFT_CHARS or (len(text) < QUESTION_UNTIL and "?" in text.rstrip()[-80:]):
        return False
    afg, sag = marker_scores(text)
    lines = sum(1 for line in text.splitlines() if line.strip())
    return (afg + sag >= 3) or (len(text) >= 1200 and lines >= 4)


def quote(text: str, limit: int = QUOTE_CHARS) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    return cut[: cut.rfind(" ")].rstrip(" ,;:") + " …" if " " in cut else cut + "…"


def _body_start(text: str) -> int:
    """Where the body begins: at the greeting (»Kære …«) or the first line that is a sentence (six words or
    more, ending in ».«, »!« or »?«); before it stand the letterhead, the address, dates, references and the
    subject line, whose length differs from one municipality's template to the next."""
    for line in re.finditer(r"(?m)^[ \t]*(\S[^\n]*?)[ \t]*$", text):
        content = line.group(1)
        if re.match(r"(?i)(kære|hej|goddag)\b", content) or (len(words(content)) >= BODY_SENTENCE_WORDS
                                                             and content[-1] in ".!?"):
            return line.start(1)
    return 0


def _word_offsets(text: str) -> list[int]:
    return [m.start() for m in re.finditer(r"\S+", text)]


def _sentence_at(parts: list[Sentence], position: int) -> Sentence | None:
    found = None
    for sentence in parts:
        if sentence.start <= position:
            found = sentence
        else:
            break
    return found


class DraftChecker:
    """Checks drafts against `checks`; with an embedder, a section the patterns miss may still be
    recognised by its meaning (one sentence against the item's examples)."""

    def __init__(self, checks: Checks, embedder: Embedder | None = None,
                 threshold: float = MODEL_THRESHOLD) -> None:
        self.checks = checks
        self.embedder = embedder
        self.threshold = threshold
        self._example_vectors: dict[tuple[str, str], np.ndarray] = {}

    def check(self, text: str, kind: str, use_model: bool = True) -> Report:
        text = plain_text(text)
        truncated = len(text) > MAX_CHECKED_CHARS
        text = text[:MAX_CHECKED_CHARS]
        checklist = self.checks.checklists[kind]
        parts = sentences(text)
        offsets = _word_offsets(text)
        body = self._word_index(offsets, _body_start(text))
        results = [self._check_item(item, text, parts, offsets, body) for item in checklist.items]
        model_used = False
        if use_model and self.embedder is not None:
            model_used = self._recognise_by_model(kind, results, parts, offsets, body)
        return Report(
            kind=kind, results=results,
            klarsprog=analyse(text, self.checks.jargon, self.checks.passive_words),
            privacy=findings(text, self.checks.privacy), truncated=truncated, model_used=model_used,
        )

    # -- patterns and rules -------------------------------------------------------------------

    def _check_item(self, item: Item, text: str, parts: list[Sentence], offsets: list[int],
                    body: int = 0) -> ItemResult:
        if item.rule == "no_cpr":
            numbers = cpr_numbers(text)
            if numbers:
                sentence = _sentence_at(parts, text.find(numbers[0]))
                return ItemResult(item, "missing", item.missing, _mask_cpr(quote(sentence.text)) if sentence else None)
            return ItemResult(item, "ok", "")
        if item.only_if and not any(p.search(text) for p in item.only_if):
            return ItemResult(item, "not_needed", "")
        if (item.not_needed_if and any(p.search(text) for p in item.not_needed_if)
                and not any(p.search(text) for p in item.still_needed_if)):
            return ItemResult(item, "not_needed", "")
        for pattern in item.avoid:
            # Only where the item must stand: »drøftelse« in a later section does not undo a decidable
            # indstilling at the top.
            match = next((m for m in pattern.finditer(text)
                          if not self._too_late(item, self._word_index(offsets, m.start()), len(offsets), body)),
                         None)
            if match:
                sentence = _sentence_at(parts, match.start())
                return ItemResult(item, "missing", item.avoid_reason or item.missing,
                                  quote(sentence.text) if sentence else quote(match.group(0)))
        first_match: int | None = None
        absent: list[str] = []
        for group in item.needs:
            position = self._group_match(group, text, parts, offsets)
            if position is None:
                absent.append(group.name)
            elif first_match is None or position < first_match:
                first_match = position
        if absent:
            named = [name for name in absent if name]
            if named and len(named) < len(item.needs):
                return ItemResult(item, "missing", f"Mangler {' og '.join(named)}.")
            return ItemResult(item, "missing", item.missing)
        if first_match is None:  # an avoid-only item without a match
            return ItemResult(item, "ok", "")
        sentence = _sentence_at(parts, first_match)
        if self._too_late(item, self._word_index(offsets, first_match), len(offsets), body):
            return ItemResult(item, "missing", item.late or item.missing, quote(sentence.text) if sentence else None)
        return ItemResult(item, "ok", "", quote(sentence.text) if sentence else None)

    @staticmethod
    def _too_late(item: Item, index: int, total: int, body: int = 0) -> bool:
        """Whether a match at word `index` of `total` comes after where `item` must start, counted in the body
        (from word `body`, after the letterhead, address and subject lines): a match before the body is in time."""
        if item.within_first is not None and index - body >= item.within_first:
            return True
        return item.within_share is not None and index - body >= item.within_share * (total - body)

    @staticmethod
    def _word_index(offsets: list[int], position: int) -> int:
        return sum(1 for offset in offsets if offset < position)

    def _group_match(self, group: Group, text: str, parts: list[Sentence], offsets: list[int]) -> int | None:
        """Where the group first matches in `text` (a pattern, or a sentence that meets a sentence rule)."""
        best: int | None = None
        for pattern in group.patterns:
            for match in pattern.finditer(text):
                if not self._near_edges(group, match.start(), offsets):
                    continue
                if best is None or match.start() < best:
                    best = match.start()
                break
        for rule in group.sentence_rules:
            for sentence in parts:
                if best is not None and sentence.start >= best:
                    break
                if not all(p.search(sentence.text) for p in rule.same_sentence):
                    continue
                if any(p.search(_with_label(text, sentence)) for p in rule.unless) or not self._near_edges(
                        group, sentence.start, offsets):
                    continue
                best = sentence.start
                break
        return best

    def _near_edges(self, group: Group, position: int, offsets: list[int]) -> bool:
        """Whether `position` is where the group may match (anywhere, or near the text's edges)."""
        if group.near_edges is None:
            return True
        index = self._word_index(offsets, position)
        return not group.near_edges <= index < len(offsets) - group.near_edges

    # -- the model ------------------------------------------------------------------------------

    def _examples(self, kind: str, item: Item) -> np.ndarray:
        key = (kind, item.id)
        if key not in self._example_vectors:
            self._example_vectors[key] = self.embedder.encode(list(item.examples), kind="query")
        return self._example_vectors[key]

    def warm_up(self) -> None:
        """Encode every item's examples now (slow: run it off the event loop)."""
        if self.embedder is None:
            return
        for kind, checklist in self.checks.checklists.items():
            for item in checklist.items:
                if item.examples:
                    self._examples(kind, item)

    def _recognise_by_model(self, kind: str, results: list[ItemResult], parts: list[Sentence],
                            offsets: list[int], body: int = 0) -> bool:
        """Items missing by the patterns (not too late, not failed on an avoided phrase, not kept from
        the model) get a second look: the few sentences sharing most words with the item's examples
        are encoded and compared with the examples. Returns whether the model was asked."""
        open_items = [(i, r) for i, r in enumerate(results)
                      if r.status == "missing" and r.item.examples and r.item.model and r.quote is None]
        if not open_items or not parts:
            return False
        chosen: dict[int, set[int]] = {}
        for index, result in open_items:
            eligible = [n for n, s in enumerate(parts) if s.words >= MODEL_MIN_WORDS
                        and not self._too_late(result.item, self._word_index(offsets, s.start), len(offsets), body)]
            chosen[index] = set(_closest_by_words(parts, eligible, result.item.examples, MODEL_CANDIDATES))
        wanted = sorted(set().union(*chosen.values()))[:MODEL_MAX_SENTENCES]
        if not wanted:
            return False
        texts = [" ".join(parts[n].text.split()[:MODEL_SENTENCE_WORDS]) for n in wanted]
        vectors = self.embedder.encode(texts, kind="query")
        # Each sentence against every item's examples: a sentence counts only for the item it
        # resembles most, so "Er du uenig, kan du klage …" is not taken for partshøring.
        items = [item for item in self.checks.checklists[kind].items if item.examples]
        per_item = np.stack([(vectors @ self._examples(kind, item).T).max(axis=1) for item in items], axis=1)
        closest = [items[i].id for i in per_item.argmax(axis=1)]
        column = {item.id: i for i, item in enumerate(items)}
        row_of = {n: row for row, n in enumerate(wanted)}
        for index, result in open_items:
            rows = [row_of[n] for n in chosen[index] if n in row_of and closest[row_of[n]] == result.item.id]
            if not rows:
                continue
            scores = per_item[rows, column[result.item.id]]
            best = float(scores.max())
            if best >= self.threshold:
                sentence = parts[wanted[rows[int(scores.argmax())]]]
                results[index] = ItemResult(result.item, "ok", "", quote(sentence.text), by_model=True,
                                            similarity=best)
        return True


def _with_label(text: str, sentence: Sentence) -> str:
    """The sentence with a short label before it on its line (»Model 2:«, »- «), which the sentence
    splitter cuts off."""
    prefix = text[text.rfind("\n", 0, sentence.start) + 1:sentence.start]
    return prefix + sentence.text if len(words(prefix)) <= LABEL_WORDS else sentence.text


def _stems(text: str) -> set[str]:
    return {w.lower()[:5] for w in words(text) if len(w) > 3}


def _closest_by_words(parts: list[Sentence], eligible: list[int], examples: Sequence[str], count: int) -> list[int]:
    wanted = set().union(*(_stems(e) for e in examples))
    scored = [(len(_stems(parts[n].text) & wanted), n) for n in eligible]
    scored = [(score, n) for score, n in scored if score > 0]
    return [n for _, n in sorted(scored, key=lambda pair: (-pair[0], pair[1]))[:count]]


def _mask_cpr(text: str) -> str:
    for number in cpr_numbers(text):
        text = text.replace(number, number[:6] + "-xxxx")
    return text

