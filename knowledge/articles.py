"""Loading and validating the articles in knowledge/articles/.

Each article is a Markdown file with YAML front matter (see knowledge/README.md). Problems are
reported as "path:line: message" strings so that `run_bot.py check` can print them as they are.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

AREAS: dict[str, str] = {
    "forvaltning-og-jura": "Forvaltning og jura",
    "politikerbetjening": "Politikerbetjening",
    "relationel": "Relationelle kompetencer",
    "digital": "Digitale og teknologiske kompetencer",
}
ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MIN_WORDS, MAX_WORDS = 80, 350
REVIEW_MAX_AGE = dt.timedelta(days=365)  # facts older than this must be checked again
# "§ 19", "§§ 19 og 20", "§§ 9-11", "§ 9 b": the sections a text cites (numbers and letters only).
SECTIONS = re.compile(r"§§?\s*(\d+(?:\s?[a-z](?![a-zæøå]))?(?:\s*(?:,|og|-|–|til)\s*\d+(?:\s?[a-z](?![a-zæøå]))?)*)")
SECTION = re.compile(r"(\d+)(?:\s?([a-z])(?![a-zæøå]))?")
MIN_QUESTIONS = 4
MAX_FAQ_ANSWER_CHARS = 450
DEFAULT_DIR = Path(__file__).parent / "articles"


@dataclass(frozen=True)
class Source:
    ref: str
    url: str | None = None


@dataclass(frozen=True)
class Faq:
    """A question people ask and the article's short answer to it (1-3 sentences with the source),
    shown instead of a passage when a question matches it best."""

    question: str
    answer: str


@dataclass(frozen=True)
class Article:
    id: str
    title: str
    area: str
    tags: tuple[str, ...]
    sources: tuple[Source, ...]
    questions: tuple[str, ...]
    related: tuple[str, ...]
    reviewed: dt.date | None
    body: str
    path: Path
    faq: tuple[Faq, ...] = ()

    @property
    def source_line(self) -> str:
        """The short source shown under an answer, e.g. 'Forvaltningsloven § 19'."""
        return "; ".join(source.ref for source in self.sources[:2])


def word_count(text: str) -> int:
    return len(re.findall(r"\w+(?:[-'’]\w+)*", text))


def split_front_matter(text: str) -> tuple[str, str, int] | None:
    """(front matter, body, line where the body starts) or None when there is none."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return None
    for index in range(1, len(lines)):
        if lines[index].strip() == "---":
            return "\n".join(lines[1:index]), "\n".join(lines[index + 1 :]).strip(), index + 2
    return None


def _line_of(front: str, key: str) -> int:
    """1-based line of `key:` in the file (front matter starts on line 2)."""
    for number, line in enumerate(front.splitlines(), start=2):
        if line.startswith(f"{key}:"):
            return number
    return 1


def _string_list(value: object) -> list[str] | None:
    if value is None:
        return []
    if isinstance(value, list) and all(isinstance(item, str) and item.strip() for item in value):
        return [item.strip() for item in value]
    return None


def cited_sections(text: str) -> set[str]:
    """The sections cited in `text`, as "19" or "9b"; a range "§§ 9-11" gives 9, 10 and 11."""
    found: set[str] = set()
    for match in SECTIONS.finditer(text):
        group = match.group(1)
        numbers = [(int(n), letter) for n, letter in SECTION.findall(group)]
        found.update(f"{number}{letter}" for number, letter in numbers)
        for (start, _), (end, _) in itertools.pairwise(numbers):
            is_range = re.search(rf"{start}\s*[a-z]?\s*(?:[-–]|til)\s*{end}", group)
            if is_range and end - start < 50:
                found.update(str(n) for n in range(start, end + 1))
    return found


def uncited_sections(body: str, sources: list[Source]) -> list[str]:
    """Sections the text cites that no source names ("9b" counts as named by a source naming § 9)."""
    named = cited_sections(" ".join(source.ref for source in sources))
    missing = []
    for section in sorted(cited_sections(body), key=lambda s: (int(re.match(r"\d+", s).group()), s)):
        if section not in named and section.rstrip("abcdefghijklmnopqrstuvwxyz") not in named:
            missing.append(section)
    return missing


def parse_article(path: Path, today: dt.date | None = None) -> tuple[Article | None, list[str]]:
    """One article and the problems found in it (without cross-article checks)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return None, [f"{path}:1: cannot be read: {error}"]
    parts = split_front_matter(text)
    if parts is None:
        return None, [f"{path}:1: no front matter: the file must start with a line '---'"]
    front, body, _ = parts
    try:
        meta = yaml.safe_load(front) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark else 1
        return None, [f"{path}:{line}: front matter is not valid YAML: {error}"]
    if not isinstance(meta, dict):
        return None, [f"{path}:2: front matter must be a set of 'key: value' lines"]

    problems: list[str] = []

    def problem(key: str, message: str) -> None:
        problems.append(f"{path}:{_line_of(front, key)}: {message}")

    article_id = meta.get("id")
    if not isinstance(article_id, str) or not ID_PATTERN.match(article_id):
        problem("id", "id must be lower-case letters, digits and hyphens, e.g. fvl-partshoering")
        article_id = str(article_id)
    title = meta.get("title")
    if not isinstance(title, str) or not title.strip():
        problem("title", "title is missing")
        title = ""
    area = meta.get("area")
    if area not in AREAS:
        problem("area", f"area must be one of {', '.join(AREAS)} (got {area!r})")
    tags = _string_list(meta.get("tags"))
    if tags is None:
        problem("tags", "tags must be a list of words")
    sources: list[Source] = []
    raw_sources = meta.get("sources")
    if not isinstance(raw_sources, list) or not raw_sources:
        problem("sources", "at least one source is needed (ref: law and section, or guidance)")
    else:
        for raw in raw_sources:
            if isinstance(raw, dict) and isinstance(raw.get("ref"), str) and raw["ref"].strip():
                url = raw.get("url")
                if url is not None and not (isinstance(url, str) and url.startswith("https://")):
                    problem("sources", f"source url must start with https:// : {url!r}")
                    url = None
                sources.append(Source(raw["ref"].strip(), url))
            elif isinstance(raw, str) and raw.strip():
                sources.append(Source(raw.strip()))
            else:
                problem("sources", f"each source needs a 'ref': {raw!r}")
    questions = _string_list(meta.get("questions"))
    if questions is None or len(questions) < MIN_QUESTIONS:
        problem("questions", f"at least {MIN_QUESTIONS} example questions are needed")
    related = _string_list(meta.get("related"))
    if related is None:
        problem("related", "related must be a list of article ids")
    reviewed = meta.get("reviewed")
    if not isinstance(reviewed, dt.date):
        problem("reviewed", "reviewed must be a date, e.g. 2026-11-23")
        reviewed = None
    elif reviewed < (today or dt.date.today()) - REVIEW_MAX_AGE:
        problem("reviewed", f"the facts were last checked {reviewed}, more than 12 months ago: check them again")
    faq = _faq(meta.get("faq"), problem)
    cited_text = "\n".join([body, *(entry.answer for entry in faq)])
    if sources and (missing := uncited_sections(cited_text, sources)):
        problem("sources", "the text cites " + ", ".join(f"§ {s}" for s in missing)
                + " but no source names it: add the section to a source's ref")
    words = word_count(body)
    if not MIN_WORDS <= words <= MAX_WORDS:
        problems.append(
            f"{path}:{parts[2]}: the text has {words} words; it must have {MIN_WORDS} to {MAX_WORDS}"
        )
    unknown = set(meta) - {"id", "title", "area", "tags", "sources", "questions", "related", "reviewed", "faq"}
    if unknown:
        problems.append(f"{path}:2: unknown fields: {', '.join(sorted(unknown))}")

    article = Article(
        id=article_id,
        title=title.strip(),
        area=area if area in AREAS else "",
        tags=tuple(tags or ()),
        sources=tuple(sources),
        questions=tuple(questions or ()),
        faq=tuple(faq),
        related=tuple(related or ()),
        reviewed=reviewed,
        body=body,
        path=path,
    )
    return article, problems


def _faq(raw: object, problem) -> list[Faq]:
    """The article's `faq:` list: each entry a question `q` and a short answer `a` naming its source."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        problem("faq", "faq must be a list of entries with q and a")
        return []
    entries = []
    for entry in raw:
        if not (isinstance(entry, dict) and isinstance(entry.get("q"), str) and isinstance(entry.get("a"), str)
                and entry["q"].strip() and entry["a"].strip()):
            problem("faq", f"each faq entry needs a question q and an answer a: {entry!r}")
            continue
        answer = entry["a"].strip()
        if len(answer) > MAX_FAQ_ANSWER_CHARS:
            problem("faq", f"faq answer to {entry['q']!r} has {len(answer)} characters; at most {MAX_FAQ_ANSWER_CHARS}")
        if "(" not in answer:
            problem("faq", f"faq answer to {entry['q']!r} must name its source in parentheses")
        entries.append(Faq(entry["q"].strip(), answer))
    return entries


def load_articles(directory: Path = DEFAULT_DIR) -> tuple[list[Article], list[str]]:
    """All articles below `directory`, sorted by id, and every problem found."""
    articles: list[Article] = []
    problems: list[str] = []
    for path in sorted(directory.rglob("*.md")):
        article, found = parse_article(path)
        problems += found
        if article is not None:
            articles.append(article)
    seen: dict[str, Path] = {}
    for article in articles:
        if article.id in seen:
            problems.append(f"{article.path}:2: id {article.id!r} is also used by {seen[article.id]}")
        seen.setdefault(article.id, article.path)
    for article in articles:
        for related_id in article.related:
            if related_id not in seen:
                problems.append(f"{article.path}:2: related id {related_id!r} does not exist")
            elif related_id == article.id:
                problems.append(f"{article.path}:2: an article cannot be related to itself")
    articles.sort(key=lambda a: a.id)
    return articles, problems
