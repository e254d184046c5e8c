"""Danish text to search tokens: lower-casing, section numbers, synonyms, Snowball stems and
compound splitting, so that "aktindsigten", "aktindsigt" and "aktindsigtsanmodning" meet."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import Stemmer
import yaml

SYNONYMS_FILE = Path(__file__).parent / "synonyms.yaml"

# Only pure function words. Words that carry a legal question's meaning (ikke, skal, må, kan,
# hvornår, hvem, frist) are kept on purpose.
STOP_WORDS = frozenset({
    "og", "i", "at", "en", "et", "den", "det", "de", "til", "på", "er", "som", "af", "for", "med",
    "der", "jeg", "du", "vi", "man", "os", "mig", "dig", "sig", "om", "så", "da", "fra", "eller",
    "men", "også", "bare", "lige", "nu", "her", "hvis", "når", "hvad", "jo", "vel", "sådan",
    "noget", "nogen", "nogle", "have", "har", "havde", "være", "var", "været", "blive", "bliver",
    "blev", "hvordan", "hvorfor", "hej", "hey", "ved", "min", "mit", "mine", "din", "dit", "dine",
    "sin", "sit", "sine", "vores", "jeres", "deres", "hans", "hendes", "dens", "dets", "ens", "hen",
    "mere", "meget"
})
# Section numbers ("§ 19 a"), numbers ("72", "3a"), codes that start with digits ("2FA", "4G") and
# words (hyphenated ones whole: "cpr-nummer").
WORD = re.compile(r"§+\s*\d+\s*[a-z]?\b|\d+[a-z]?\b|\d+[^\W_]+|[^\W\d_]+(?:-[^\W\d_]+)*", re.IGNORECASE)
LINKING = ("s", "e")  # Danish compounds often join with -s- or -e-
MIN_PART = 4
NOUN_ENDINGS = ("ering", "ning", "ing")


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def fold(token: str) -> str:
    """Spell Danish letters the way people do on a foreign keyboard (or a hurried phone):
    æ/ae, ø/oe/o and å/aa/a all meet."""
    token = token.replace("æ", "ae").replace("ø", "o").replace("å", "a")
    return token.replace("aa", "a").replace("oe", "o")


@lru_cache(maxsize=1)
def synonyms() -> dict[str, list[str]]:
    data = yaml.safe_load(SYNONYMS_FILE.read_text(encoding="utf-8")) or {}
    return {str(k).lower(): [str(w).lower() for w in v] for k, v in data.items()}


class Analyzer:
    """Turns text into BM25 tokens. `vocabulary` (words of the corpus) enables compound splitting."""

    def __init__(self, vocabulary: Iterable[str] = ()) -> None:
        self._stemmer = Stemmer.Stemmer("danish")
        self.vocabulary: set[str] = set()
        self.add_vocabulary(vocabulary)

    def add_vocabulary(self, words: Iterable[str]) -> None:
        for word in words:
            if len(word) >= MIN_PART and word not in STOP_WORDS:
                self.vocabulary.add(word)
                self.vocabulary.add(self.stem(word))

    def stem(self, word: str) -> str:
        """Snowball's Danish stem, then the noun endings it keeps (-ering, -ning, -ing), so that
        "partshøring" meets "partshøre" and "anmodning" meets "anmode"."""
        stem = self._stemmer.stemWord(word)
        for ending in NOUN_ENDINGS:
            if stem.endswith(ending) and len(stem) - len(ending) >= MIN_PART:
                return stem[: -len(ending)]
        return stem

    @staticmethod
    def words(text: str) -> list[str]:
        """Lower-case words and section numbers ("§ 19" becomes "§19")."""
        found = []
        for match in WORD.finditer(normalise(text)):
            token = match.group(0)
            if token.startswith("§"):
                token = "§" + re.sub(r"[§\s]", "", token)
            found.append(token)
        return found

    def split_compound(self, word: str) -> list[str]:
        """Known parts of a compound word, e.g. aktindsigtsanmodning -> [aktindsigt, anmodning]."""
        if len(word) < 2 * MIN_PART or "-" in word:
            return [part for part in word.split("-") if len(part) >= 2] if "-" in word else []
        for cut in range(len(word) - MIN_PART, MIN_PART - 1, -1):
            head, tail = word[:cut], word[cut:]
            if not self._known(tail):
                continue
            for candidate in (head, *(head[: -len(s)] for s in LINKING if head.endswith(s))):
                if len(candidate) >= MIN_PART and self._known(candidate):
                    return [candidate, tail, *self.split_compound(candidate)]
        return []

    def _known(self, part: str) -> bool:
        return part in self.vocabulary or self.stem(part) in self.vocabulary

    @staticmethod
    def tokens_for_coverage(tokens: list[str]) -> list[str]:
        """The tokens that count when measuring how much of a question an article covers."""
        return [t for t in tokens if not t.isdigit()]

    def tokens(self, text: str) -> list[str]:
        """Stemmed, folded search tokens, with the parts of compound words added."""
        tokens: list[str] = []
        table = synonyms()
        for word in self.words(text):
            if word in STOP_WORDS:
                continue
            expanded = [word, *table.get(word, [])]
            for item in expanded:
                for piece in item.split() if " " in item else [item]:
                    tokens.append(self.stem(piece) if not piece.startswith("§") else piece)
                    for part in self.split_compound(piece):
                        tokens.append(self.stem(part))
        return [fold(t) for t in tokens if len(t) >= 2 or t.isdigit()]
