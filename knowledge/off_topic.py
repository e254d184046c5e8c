"""Topics the assistant does not cover (knowledge/uden_for_emnet.yaml): IT support, pay and
leave, concrete benefits, building permits, everyday life. A question that resembles one of
their examples more than any article (by the model, or by the weight of the words it shares
with them) gets a friendly pointer to where to ask instead, not a legal passage that merely
shares a few words with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from knowledge.articles import ID_PATTERN

DEFAULT_PATH = Path(__file__).parent / "uden_for_emnet.yaml"
MIN_EXAMPLES = 3


@dataclass(frozen=True)
class OffTopic:
    id: str
    title: str
    reply: str  # what the bot says instead of an answer (plain text)
    examples: tuple[str, ...]


def load_off_topics(path: Path = DEFAULT_PATH) -> tuple[list[OffTopic], list[str]]:
    """The catalog and its problems ("path: message"); a missing file is an empty catalog."""
    if not path.exists():
        return [], []
    try:
        entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except yaml.YAMLError as error:
        return [], [f"{path}: not valid YAML: {error}"]
    if not isinstance(entries, list):
        return [], [f"{path}: expected a list of topics"]
    topics: list[OffTopic] = []
    problems: list[str] = []
    seen: set[str] = set()
    for number, entry in enumerate(entries, 1):
        topic, found = _parse(entry)
        problems += [f"{path}: topic {number}: {message}" for message in found]
        if topic is None:
            continue
        if topic.id in seen:
            problems.append(f"{path}: topic {number}: id {topic.id!r} is used twice")
            continue
        seen.add(topic.id)
        topics.append(topic)
    return topics, problems


def _parse(entry: object) -> tuple[OffTopic | None, list[str]]:
    if not isinstance(entry, dict):
        return None, ["expected a mapping with id, title, reply and examples"]
    problems = []
    topic_id, title, reply = entry.get("id"), entry.get("title"), entry.get("reply")
    examples = entry.get("examples")
    if not isinstance(topic_id, str) or not ID_PATTERN.match(topic_id):
        problems.append("id must be lowercase letters, digits and hyphens")
    for key, value in (("title", title), ("reply", reply)):
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{key} must be a non-empty text")
    if not isinstance(examples, list) or not all(isinstance(e, str) and e.strip() for e in examples):
        problems.append("examples must be a list of texts")
    elif len(examples) < MIN_EXAMPLES:
        problems.append(f"at least {MIN_EXAMPLES} examples are needed")
    if problems:
        return None, problems
    return OffTopic(topic_id, title.strip(), reply.strip(), tuple(e.strip() for e in examples)), []
