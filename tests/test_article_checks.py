"""What `run_bot.py check` finds mechanically in an article: sections the text cites that no
source names, facts not checked for 12 months, sources that are not https."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from knowledge.articles import cited_sections, parse_article

BODY = " ".join(["Ord"] * 90)


def write(tmp_path: Path, body: str, ref: str = "Forvaltningsloven § 19", url: str = "https://www.retsinformation.dk/",
          reviewed: str = "2026-11-23") -> Path:
    path = tmp_path / "a.md"
    path.write_text(
        "---\nid: a\ntitle: A\narea: forvaltning-og-jura\ntags: [a]\n"
        f"sources:\n  - ref: \"{ref}\"\n    url: \"{url}\"\n"
        "questions: [\"a?\", \"b?\", \"c?\", \"d?\"]\nrelated: []\n"
        f"reviewed: {reviewed}\n---\n{body}\n", encoding="utf-8")
    return path


def test_sections_are_read_with_lists_ranges_and_letters() -> None:
    assert cited_sections("(forvaltningsloven § 19, stk. 1)") == {"19"}
    assert cited_sections("§§ 19 og 20 og §§ 24–26") == {"19", "20", "24", "25", "26"}
    assert cited_sections("offentlighedsloven § 9 b og § 3a") == {"9b", "3a"}
    assert cited_sections("§ 20 til 22") == {"20", "21", "22"}


def test_a_section_no_source_names_is_a_problem(tmp_path: Path) -> None:
    _, problems = parse_article(write(tmp_path, f"{BODY} (forvaltningsloven § 19 og § 22)."),
                                today=dt.date(2026, 12, 6))
    assert len(problems) == 1 and "§ 22" in problems[0] and "§ 19" not in problems[0]


def test_a_range_in_a_source_names_every_section_in_it(tmp_path: Path) -> None:
    path = write(tmp_path, f"{BODY} (forvaltningsloven § 20).", ref="Forvaltningsloven §§ 19-21")
    assert parse_article(path, today=dt.date(2026, 12, 6))[1] == []


def test_old_reviews_and_plain_http_are_problems(tmp_path: Path) -> None:
    path = write(tmp_path, BODY, url="http://www.kl.dk/", reviewed="2025-11-01")
    problems = parse_article(path, today=dt.date(2026, 12, 6))[1]
    assert any("https://" in p for p in problems)
    assert any("more than 12 months ago" in p for p in problems)
