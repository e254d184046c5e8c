"""The checklists for 'Tjek mit udkast', kept as data in knowledge/checks/:

    afgoerelse.yaml, sagsfremstilling.yaml   one checklist per kind of draft (more files of the same
                                             `kind` add items: a municipality's own template)
    klarsprog.yaml                           jargon with plain alternatives, passive words
    privatliv.yaml                           health words and first names for the privacy warning

The format is in knowledge/checks/README.md; `python run_bot.py check` validates it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from knowledge.articles import ID_PATTERN
from knowledge.drafts.klarsprog import Jargon, compile_jargon
from knowledge.drafts.privacy import PrivacyWords

DEFAULT_DIR = Path(__file__).resolve().parent.parent / "checks"
KINDS = {"afgoerelse": "afgørelse", "sagsfremstilling": "sagsfremstilling"}
RULES = ("no_cpr",)
SPECIAL_FILES = ("klarsprog.yaml", "privatliv.yaml")
ITEM_KEYS = {"id", "title", "missing", "article", "weight", "patterns", "needs", "within_first", "within_share", "late",
             "only_if", "not_needed_if", "still_needed_if", "avoid", "avoid_reason", "examples", "model", "rule"}


@dataclass(frozen=True)
class SentenceRule:
    """One sentence in which every pattern of `same_sentence` matches, and no pattern of `unless` in the
    sentence or in a short label before it on its line (»Model 2:« is a sentence of its own)."""

    same_sentence: tuple[re.Pattern[str], ...]
    unless: tuple[re.Pattern[str], ...] = ()


@dataclass(frozen=True)
class Group:
    """Patterns (or sentence rules) of which one must match; `near_edges` words: only in the first or
    last that many."""

    name: str
    patterns: tuple[re.Pattern[str], ...]
    near_edges: int | None = None
    sentence_rules: tuple[SentenceRule, ...] = ()


@dataclass(frozen=True)
class Item:
    id: str
    title: str  # short, for the ✓/✗ line
    missing: str  # one short reason, shown when the item is missing
    article: str  # the article that explains it
    weight: int = 1  # the most important fixes come first
    needs: tuple[Group, ...] = ()  # every group must match
    within_first: int | None = None  # words: the match must start this early
    within_share: float | None = None  # and within this share of the text (0-1): "first" in a short draft too
    late: str | None = None  # the reason when it matches, but too late
    only_if: tuple[re.Pattern[str], ...] = ()  # checked only when one of these matches
    not_needed_if: tuple[re.Pattern[str], ...] = ()
    still_needed_if: tuple[re.Pattern[str], ...] = ()  # overrides not_needed_if
    avoid: tuple[re.Pattern[str], ...] = ()  # a match makes the item fail, quoted
    avoid_reason: str | None = None
    examples: tuple[str, ...] = ()  # how the section reads in other words, for the model
    model: bool = True  # whether the model may tick it (False: it needs facts a pattern checks, e.g. a deadline)
    rule: str | None = None  # a built-in rule instead of patterns (RULES)


@dataclass(frozen=True)
class Checklist:
    kind: str
    title: str
    items: tuple[Item, ...]


@dataclass
class Checks:
    checklists: dict[str, Checklist]
    jargon: list[Jargon] = field(default_factory=list)
    passive_words: frozenset[str] = frozenset()
    privacy: PrivacyWords = field(default_factory=lambda: PrivacyWords((), frozenset()))

    def item(self, kind: str, item_id: str) -> Item | None:
        checklist = self.checklists.get(kind)
        return next((i for i in checklist.items if i.id == item_id), None) if checklist else None


def compile_pattern(text: str) -> re.Pattern[str]:
    return re.compile(text, re.IGNORECASE | re.MULTILINE)


def load_checks(directory: Path = DEFAULT_DIR, article_ids: set[str] | None = None) -> tuple[Checks, list[str]]:
    """Every checklist below `directory` and its problems ("file: message"); `article_ids`, when
    given, are the articles an item may link to."""
    problems: list[str] = []
    items_by_kind: dict[str, list[Item]] = {kind: [] for kind in KINDS}
    titles: dict[str, str] = {}
    checks = Checks({})
    # The base checklists first, so that a municipality's own items come after them.
    for path in sorted(directory.glob("*.yaml"), key=lambda p: (p.stem not in KINDS, p.name)):
        data, problem = _read(path)
        if problem:
            problems.append(problem)
            continue
        if path.name == "klarsprog.yaml":
            checks.jargon, checks.passive_words = _klarsprog(path, data, problems)
        elif path.name == "privatliv.yaml":
            checks.privacy = _privacy(path, data, problems)
        else:
            kind = data.get("kind")
            if kind not in KINDS:
                problems.append(f"{path}: kind must be one of {', '.join(KINDS)}")
                continue
            if data.get("title"):
                titles.setdefault(kind, str(data["title"]))
            raw_items = data.get("items")
            if not isinstance(raw_items, list) or not raw_items:
                problems.append(f"{path}: items must be a non-empty list")
                continue
            for number, raw in enumerate(raw_items, 1):
                item = _item(path, number, raw, article_ids, problems)
                if item is None:
                    continue
                if any(i.id == item.id for i in items_by_kind[kind]):
                    problems.append(f"{path}: item {item.id!r} appears twice in the {kind} checklist")
                    continue
                items_by_kind[kind].append(item)
    for kind, items in items_by_kind.items():
        if not items:
            problems.append(f"{directory}: no checklist for {kind}")
            continue
        checks.checklists[kind] = Checklist(kind, titles.get(kind, KINDS[kind]), tuple(items))
    return checks, problems


def _read(path: Path) -> tuple[dict, str | None]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        return {}, f"{path}: not valid YAML: {error}"
    if not isinstance(data, dict):
        return {}, f"{path}: expected a mapping at the top"
    return data, None


def _patterns(path: Path, where: str, raw: object, problems: list[str]) -> tuple[re.Pattern[str], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(p, str) and p for p in raw):
        problems.append(f"{path}: {where} must be a list of patterns (text)")
        return ()
    compiled = []
    for text in raw:
        try:
            pattern = compile_pattern(text)
        except re.error as error:
            problems.append(f"{path}: {where}: bad pattern {text!r}: {error}")
            continue
        if pattern.search(""):
            problems.append(f"{path}: {where}: pattern {text!r} matches empty text")
            continue
        compiled.append(pattern)
    return tuple(compiled)


def _group_patterns(path: Path, where: str, raw: object,
                    problems: list[str]) -> tuple[tuple[re.Pattern[str], ...], tuple[SentenceRule, ...]]:
    """A group's entries: a text is a pattern; a mapping {same_sentence: [...], unless: [...]} is a
    sentence rule."""
    if not isinstance(raw, list):
        return _patterns(path, where, raw, problems), ()
    texts = [entry for entry in raw if not isinstance(entry, dict)]
    rules: list[SentenceRule] = []
    for entry in raw:
        if not isinstance(entry, dict):
            continue
        for key in sorted(set(entry) - {"same_sentence", "unless"}):
            problems.append(f"{path}: {where}: unknown field {key!r} in a sentence rule")
        together = _patterns(path, f"{where} same_sentence", entry.get("same_sentence"), problems)
        unless = _patterns(path, f"{where} unless", entry.get("unless"), problems)
        # One pattern is a plain pattern, unless `unless` rules some of its sentences out.
        if len(together) < (1 if unless else 2):
            problems.append(f"{path}: {where}: same_sentence needs two patterns, or one with unless")
            continue
        rules.append(SentenceRule(together, unless))
    return _patterns(path, where, texts, problems) if texts else (), tuple(rules)


def _item(path: Path, number: int, raw: object, article_ids: set[str] | None, problems: list[str]) -> Item | None:
    if not isinstance(raw, dict):
        problems.append(f"{path}: item {number} must be a mapping")
        return None
    item_id = raw.get("id")
    where = f"item {item_id or number}"
    before = len(problems)
    if not isinstance(item_id, str) or not ID_PATTERN.match(item_id):
        problems.append(f"{path}: {where}: id must be lower-case letters, digits and hyphens")
    for key in sorted(set(raw) - ITEM_KEYS):
        problems.append(f"{path}: {where}: unknown field {key!r}")
    for key in ("title", "missing", "article"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            problems.append(f"{path}: {where}: {key} is required (text)")
    if len(str(raw.get("title", ""))) > 40:
        problems.append(f"{path}: {where}: title longer than 40 characters (it must fit a phone line)")
    if len(str(raw.get("missing", ""))) > 160:
        problems.append(f"{path}: {where}: missing longer than 160 characters (one short reason)")
    article = raw.get("article")
    if article_ids is not None and isinstance(article, str) and article not in article_ids:
        problems.append(f"{path}: {where}: article {article!r} does not exist")
    rule = raw.get("rule")
    if rule is not None and rule not in RULES:
        problems.append(f"{path}: {where}: rule must be one of {', '.join(RULES)}")
    groups: list[Group] = []
    if raw.get("patterns") is not None:
        patterns, rules = _group_patterns(path, f"{where} patterns", raw["patterns"], problems)
        groups.append(Group("", patterns, sentence_rules=rules))
    needs = raw.get("needs") or []
    if not isinstance(needs, list):
        problems.append(f"{path}: {where}: needs must be a list of {{name, patterns}}")
        needs = []
    for group in needs:
        if not isinstance(group, dict) or not isinstance(group.get("name"), str):
            problems.append(f"{path}: {where}: each of needs must have a name and patterns")
            continue
        edges = group.get("near_edges")
        if edges is not None and (not isinstance(edges, int) or edges < 1):
            problems.append(f"{path}: {where}: near_edges must be a positive number of words")
            edges = None
        patterns, rules = _group_patterns(path, f"{where} needs", group.get("patterns"), problems)
        groups.append(Group(group["name"], patterns, edges, rules))
    avoid = _patterns(path, f"{where} avoid", raw.get("avoid"), problems)
    if not groups and not avoid and rule is None:
        problems.append(f"{path}: {where}: needs patterns, needs, avoid or a rule")
    if any(not g.patterns and not g.sentence_rules for g in groups):
        problems.append(f"{path}: {where}: a group without patterns can never match")
    within_first = raw.get("within_first")
    if within_first is not None and (not isinstance(within_first, int) or within_first < 1):
        problems.append(f"{path}: {where}: within_first must be a positive number of words")
    within_share = raw.get("within_share")
    if within_share is not None and (isinstance(within_share, bool) or not isinstance(within_share, (int, float))
                                     or not 0 < within_share <= 1):
        problems.append(f"{path}: {where}: within_share must be a number above 0 and at most 1")
    weight = raw.get("weight", 1)
    if not isinstance(weight, int) or not 1 <= weight <= 10:
        problems.append(f"{path}: {where}: weight must be a whole number from 1 to 10")
    examples = raw.get("examples") or []
    if not isinstance(examples, list) or not all(isinstance(e, str) and e.strip() for e in examples):
        problems.append(f"{path}: {where}: examples must be a list of texts")
        examples = []
    model = raw.get("model", True)
    if not isinstance(model, bool):
        problems.append(f"{path}: {where}: model must be true or false")
    only_if = _patterns(path, f"{where} only_if", raw.get("only_if"), problems)
    not_needed_if = _patterns(path, f"{where} not_needed_if", raw.get("not_needed_if"), problems)
    still_needed_if = _patterns(path, f"{where} still_needed_if", raw.get("still_needed_if"), problems)
    if len(problems) > before:
        return None
    return Item(
        id=item_id, title=raw["title"].strip(), missing=raw["missing"].strip(), article=article, weight=weight,
        needs=tuple(groups), within_first=within_first,
        within_share=float(within_share) if within_share is not None else None, late=raw.get("late"), only_if=only_if,
        not_needed_if=not_needed_if, still_needed_if=still_needed_if, avoid=avoid,
        avoid_reason=raw.get("avoid_reason"), examples=tuple(e.strip() for e in examples), model=model, rule=rule,
    )


def _klarsprog(path: Path, data: dict, problems: list[str]) -> tuple[list[Jargon], frozenset[str]]:
    entries: list[tuple[str, str]] = []
    for number, raw in enumerate(data.get("jargon") or [], 1):
        if not isinstance(raw, dict) or not isinstance(raw.get("term"), str) or not isinstance(raw.get("instead"), str):
            problems.append(f"{path}: jargon {number} needs term and instead (text)")
            continue
        entries.append((raw["term"].strip(), raw["instead"].strip()))
    if not entries:
        problems.append(f"{path}: jargon must list at least one term")
    passive = data.get("passive_words") or []
    if not isinstance(passive, list) or not all(isinstance(w, str) for w in passive):
        problems.append(f"{path}: passive_words must be a list of words")
        passive = []
    return compile_jargon(entries), frozenset(w.strip().lower() for w in passive)


def _privacy(path: Path, data: dict, problems: list[str]) -> PrivacyWords:
    health = data.get("health_words") or []
    names = data.get("first_names") or []
    for key, value in (("health_words", health), ("first_names", names)):
        if not isinstance(value, list) or not value or not all(isinstance(w, str) and w.strip() for w in value):
            problems.append(f"{path}: {key} must be a non-empty list of words")
    return PrivacyWords(tuple(str(w).strip().lower() for w in health if isinstance(w, str)),
                        frozenset(str(n).strip().lower() for n in names if isinstance(n, str)))
