"""Loading and validating the quiz bank in quizzes/bank/*.yaml (see quizzes/README.md).

Problems are "path:line: message" strings, printed as they are by `run_bot.py check`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

AREAS = ("forvaltning-og-jura", "politikerbetjening", "relationel", "digital")
TRUE_FALSE_OPTIONS = ("Rigtigt", "Forkert")
MAX_QUESTION, MAX_OPTION, MAX_EXPLANATION = 300, 100, 200
ID_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
DEFAULT_DIR = Path(__file__).parent / "bank"
# An explanation must name its source; these words show that it does.
SOURCE_MARKERS = re.compile(
    r"§|art\.|artikel|lov|forordning|bekendtgørelse|vejledning|ombudsm|datatilsyn|ankestyrels|"
    r"\bKL\b|styrelse|ministeri|kodex|sprognævn|arbejdstilsyn|GDPR|ISO|princip|forvaltningsskik",
    re.IGNORECASE,
)
FIELDS = {"id", "area", "articles", "difficulty", "kind", "scenario", "question", "options",
          "answer", "explanation", "more"}


@dataclass(frozen=True)
class Question:
    id: str
    area: str
    articles: tuple[str, ...]
    difficulty: int
    kind: str  # "single" or "truefalse"
    scenario: bool
    text: str
    options: tuple[str, ...]
    correct: int  # index into options
    explanation: str
    more: str
    path: Path
    line: int


def _normalise(text: str) -> str:
    return re.sub(r"\W+", " ", text.lower()).strip()


def _check_question(raw: dict, where: str, article_ids: set[str] | None) -> tuple[Question | None, list[str]]:
    problems: list[str] = []

    def problem(message: str) -> None:
        problems.append(f"{where}: {message}")

    question_id = raw.get("id")
    if not isinstance(question_id, str) or not ID_PATTERN.match(question_id):
        problem("id must be lower-case letters, digits and hyphens")
        question_id = str(question_id)
    where_id = f"question {question_id}"
    area = raw.get("area")
    if area not in AREAS:
        problem(f"{where_id}: area must be one of {', '.join(AREAS)}")
    articles = raw.get("articles")
    if not isinstance(articles, list) or not articles or not all(isinstance(a, str) for a in articles):
        problem(f"{where_id}: articles must list at least one article id")
        articles = []
    elif article_ids is not None:
        for article_id in articles:
            if article_id not in article_ids:
                problem(f"{where_id}: article {article_id!r} does not exist in knowledge/")
    difficulty = raw.get("difficulty")
    if difficulty not in (1, 2, 3):
        problem(f"{where_id}: difficulty must be 1, 2 or 3")
        difficulty = 2
    scenario = raw.get("scenario", False)
    if not isinstance(scenario, bool):
        problem(f"{where_id}: scenario must be true or false")
        scenario = False
    text = raw.get("question")
    if not isinstance(text, str) or not text.strip():
        problem(f"{where_id}: question text is missing")
        text = ""
    elif len(text) > MAX_QUESTION:
        problem(f"{where_id}: question has {len(text)} characters; at most {MAX_QUESTION}")
    explanation = raw.get("explanation")
    if not isinstance(explanation, str) or not explanation.strip():
        problem(f"{where_id}: explanation is missing")
        explanation = ""
    else:
        if len(explanation) > MAX_EXPLANATION:
            problem(f"{where_id}: explanation has {len(explanation)} characters; at most {MAX_EXPLANATION}")
        if not SOURCE_MARKERS.search(explanation):
            problem(f"{where_id}: explanation must name its source (law and section, or authority)")
    more = raw.get("more", "")
    if not isinstance(more, str):
        problem(f"{where_id}: more must be text")
        more = ""

    kind = raw.get("kind")
    options: tuple[str, ...] = ()
    correct = 0
    answer = raw.get("answer")
    if kind == "single":
        raw_options = raw.get("options")
        if not isinstance(raw_options, list) or not all(isinstance(o, str) and o.strip() for o in raw_options):
            problem(f"{where_id}: options must be a list of texts")
        else:
            options = tuple(o.strip() for o in raw_options)
            if not 3 <= len(options) <= 4:
                problem(f"{where_id}: a single-choice question needs 3 or 4 options")
            if len(set(options)) != len(options):
                problem(f"{where_id}: two options are the same")
            for option in options:
                if len(option) > MAX_OPTION:
                    problem(f"{where_id}: option has {len(option)} characters; at most {MAX_OPTION}: {option[:40]}…")
            matches = [i for i, o in enumerate(options) if isinstance(answer, str) and o == answer.strip()]
            if len(matches) != 1:
                problem(f"{where_id}: answer must be exactly the text of one option")
            else:
                correct = matches[0]
    elif kind == "truefalse":
        if "options" in raw:
            problem(f"{where_id}: a truefalse question has no options")
        if not isinstance(answer, bool):
            problem(f"{where_id}: answer must be true or false")
        options = TRUE_FALSE_OPTIONS
        correct = 0 if answer is True else 1
    else:
        problem(f"{where_id}: kind must be single or truefalse")
    unknown = set(raw) - FIELDS
    if unknown:
        problem(f"{where_id}: unknown fields: {', '.join(sorted(unknown))}")
    if problems:
        return None, problems
    return Question(question_id, area, tuple(articles), difficulty, kind, scenario, text.strip(),
                    options, correct, explanation.strip(), more.strip(), Path(), 0), []


def load_bank(
    directory: Path = DEFAULT_DIR, article_ids: Iterable[str] | None = None
) -> tuple[list[Question], list[str]]:
    """All questions in the bank and every problem found (ids unique, links, lengths ...)."""
    known = set(article_ids) if article_ids is not None else None
    questions: list[Question] = []
    problems: list[str] = []
    for path in sorted(directory.glob("*.y*ml")):
        text = path.read_text(encoding="utf-8")
        try:
            node = yaml.compose(text)
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            problems.append(f"{path}:{mark.line + 1 if mark else 1}: not valid YAML: {error}")
            continue
        if data is None:
            continue
        if not isinstance(data, list):
            problems.append(f"{path}:1: the file must be a list of questions ('- id: ...')")
            continue
        for item, item_node in zip(data, node.value, strict=True):
            line = item_node.start_mark.line + 1
            where = f"{path}:{line}"
            if not isinstance(item, dict):
                problems.append(f"{where}: each question must be a set of 'key: value' lines")
                continue
            question, found = _check_question(item, where, known)
            problems += found
            if question is not None:
                questions.append(_with_place(question, path, line))
    seen: dict[str, str] = {}
    texts: dict[str, str] = {}
    for question in questions:
        where = f"{question.path}:{question.line}"
        if question.id in seen:
            problems.append(f"{where}: id {question.id!r} is also used at {seen[question.id]}")
        seen.setdefault(question.id, where)
        key = _normalise(question.text)
        if key in texts:
            problems.append(f"{where}: question {question.id} repeats the question at {texts[key]}")
        texts.setdefault(key, where)
    return questions, problems


def _with_place(question: Question, path: Path, line: int) -> Question:
    return replace(question, path=path, line=line)
