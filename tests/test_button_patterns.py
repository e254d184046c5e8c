"""Button data is matched whole: a trailing newline or extra text reaches no handler but the stale-button
reply (issue 20, finding 8), and invitation codes never look like a consultant's link code."""

from __future__ import annotations

import pytest
from telegram.ext import ApplicationBuilder, CallbackQueryHandler

from bot.services.campaigns import new_code
from bot.telegram.application import register_handlers

VALID = ["quiz:new:daily", "progress", "delete:yes", "art:fvl-partshoering:0", "rel:fvl-partshoering", "fb:12:1",
         "tjek:ja"]


@pytest.fixture(scope="module")
def patterns() -> list:
    application = ApplicationBuilder().token("123456:" + "a" * 35).updater(None).build()
    register_handlers(application)
    return [h.pattern for group in application.handlers.values() for h in group
            if isinstance(h, CallbackQueryHandler) and h.pattern is not None]


@pytest.mark.parametrize("data", VALID)
def test_valid_button_data_has_a_handler(patterns: list, data: str) -> None:
    assert any(p.match(data) for p in patterns)


@pytest.mark.parametrize("data", VALID)
def test_button_data_with_a_trailing_newline_has_none(patterns: list, data: str) -> None:
    assert not any(p.match(data + "\n") for p in patterns)


def test_invitation_codes_never_start_like_a_consultant_link() -> None:
    assert not any(new_code().startswith("k_") for _ in range(20_000))


def test_odd_campaign_form_values_are_problems_not_errors() -> None:
    from bot.web.pages import campaign_fields

    form = {"name": "Kampagne", "start_date": "2026-12-07", "end_date": "2026-12-20", "push_time": "09:00",
            "per_push": "²"}
    _, problems = campaign_fields(form, [], [""], [], {})
    assert "Antal spørgsmål pr. gang skal være mellem 1 og 10." in problems
    assert "Vælg mindst én ugedag." in problems


def test_only_real_times_reach_the_push_time_setting(patterns: list) -> None:
    assert any(p.match("set:time:0930") for p in patterns)
    assert not any(p.match("set:time:9999") for p in patterns)  # the stale-button reply instead of an error


def test_a_consultant_link_code_works_once_and_for_an_hour(tmp_path) -> None:
    from datetime import UTC, datetime, timedelta

    from bot.services.campaigns import new_link_code
    from bot.storage import Storage

    storage = Storage(tmp_path / "bot.sqlite3")
    now = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
    consultant_id = storage.consultants.add_consultant("karin", "hash", now)
    code = new_link_code(now)
    storage.consultants.set_link_code(consultant_id, code)
    assert storage.consultants.link_telegram(code, 42, now + timedelta(hours=2)) is None  # too late
    assert storage.consultants.link_telegram(code, 42, now + timedelta(minutes=10))["name"] == "karin"
    assert storage.consultants.link_telegram(code, 43, now + timedelta(minutes=11)) is None  # used
    assert storage.consultants.link_telegram("not-a-code", 42, now) is None
    storage.close()


def test_a_press_without_data_reaches_only_the_stale_button_reply() -> None:

    from telegram import CallbackQuery, Update, User

    from bot.telegram import handlers

    application = ApplicationBuilder().token("123456:" + "a" * 35).updater(None).build()
    register_handlers(application)
    query = CallbackQuery("1", User(5, "Test", False), chat_instance="5")
    update = Update(1, callback_query=query)
    matching = [h.callback for group in application.handlers.values() for h in group
                if isinstance(h, CallbackQueryHandler) and h.check_update(update)]
    assert matching[0] is handlers.stale_button
