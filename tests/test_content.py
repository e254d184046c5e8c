"""The knowledge base and the quiz bank: valid, and at least as large as the issues ask."""

from collections import Counter

import pytest

from knowledge.articles import load_articles
from quizzes.bank import load_bank

ARTICLES_PER_AREA = {"forvaltning-og-jura": 60, "politikerbetjening": 35, "relationel": 25, "digital": 25}
QUESTIONS_PER_AREA = {"forvaltning-og-jura": 120, "politikerbetjening": 70, "relationel": 50, "digital": 50}


@pytest.fixture(scope="module")
def content():
    articles, article_problems = load_articles()
    questions, quiz_problems = load_bank(article_ids=[a.id for a in articles])
    return articles, questions, article_problems + quiz_problems


def test_content_has_no_problems(content) -> None:
    _, _, problems = content
    assert problems == []


def test_article_counts_per_area(content) -> None:
    articles, _, _ = content
    counts = Counter(a.area for a in articles)
    print("\narticles per area:", dict(counts), "total", len(articles))
    assert len(articles) >= 150
    for area, minimum in ARTICLES_PER_AREA.items():
        assert counts[area] >= minimum, f"{area}: {counts[area]} articles, at least {minimum} needed"


def test_question_counts_scenarios_and_coverage(content) -> None:
    articles, questions, _ = content
    counts = Counter(q.area for q in questions)
    scenarios = sum(q.scenario for q in questions)
    covered = {article_id for q in questions for article_id in q.articles}
    share = len(covered & {a.id for a in articles}) / len(articles)
    print(f"\nquestions per area: {dict(counts)} total {len(questions)}; scenarios {scenarios} "
          f"({scenarios / len(questions):.0%}); articles covered by a question: {share:.0%}")
    assert len(questions) >= 300
    for area, minimum in QUESTIONS_PER_AREA.items():
        assert counts[area] >= minimum, f"{area}: {counts[area]} questions, at least {minimum} needed"
    assert scenarios * 3 >= len(questions)
    assert share >= 0.95


def test_question_area_matches_its_articles(content) -> None:
    articles, questions, _ = content
    area_of = {a.id: a.area for a in articles}
    mismatched = [q.id for q in questions if area_of.get(q.articles[0]) not in (q.area, None)]
    # A question may test an article of another area (e.g. a relational scenario on tavshedspligt),
    # but most should sit in their article's area.
    assert len(mismatched) <= len(questions) * 0.1, mismatched
