"""Campaign rules with an injected clock: the order of new questions per learner, what a campaign
push holds, the one push a day at the campaign's time, quiet hours, retention only with data."""

from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from quizzes.bank import Question
from quizzes.campaigns import enough_for_retention, new_question_order, round_questions
from quizzes.pushes import PushSettings, outside_quiet_hours, push_due, push_time_today, reminder_due

CPH = ZoneInfo("Europe/Copenhagen")
SUNDAY = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)  # 10:00 in Copenhagen


def question(qid: str, area: str) -> Question:
    return Question(qid, area, ("a",), 1, "single", False, f"Spørgsmål {qid}?", ("x", "y", "z"), 0,
                    "Forklaring.", "", Path("q.yaml"), 1)


BANK = [question(f"j{i}", "forvaltning-og-jura") for i in range(30)] + \
    [question(f"p{i}", "politikerbetjening") for i in range(30)] + [question(f"d{i}", "digital") for i in range(5)]


def test_areas_take_turns_and_learners_get_different_orders() -> None:
    areas = ["forvaltning-og-jura", "politikerbetjening"]
    first = new_question_order(BANK, areas, [], seed="7:1001")
    second = new_question_order(BANK, areas, [], seed="7:1002")
    assert len(first) == 60 and set(first) == {q.id for q in BANK if q.area in areas}
    assert [q[0] for q in first[:6]] == ["j", "p"] * 3  # round-robin: both areas in the first two
    assert first != second
    assert first == new_question_order(BANK, areas, [], seed="7:1001")  # stable for one learner


def test_hand_picked_questions_keep_the_consultants_order() -> None:
    assert new_question_order(BANK, ["digital"], ["p3", "j1", "nope", "p3", "d0"], seed="x") == ["p3", "j1", "d0"]


def test_a_round_has_reviews_first_but_always_moves_on() -> None:
    assert round_questions(["r1", "r2", "r3"], ["n1", "n2"], 3) == ["r1", "r2", "n1"]
    assert round_questions([], ["n1", "n2", "n3", "n4"], 3) == ["n1", "n2", "n3"]
    assert round_questions(["r1", "r2", "r3", "r4"], [], 3) == ["r1", "r2", "r3"]
    assert round_questions(["r1"], ["n1"], 1) == ["n1"]


def test_a_campaign_day_outside_the_learners_own_days_gets_one_push_at_the_campaigns_time() -> None:
    own = PushSettings(time(9, 0), (0, 1, 2, 3, 4))
    assert push_time_today(own, 6) is None  # Sunday: not one of the learner's days
    assert push_time_today(own, 6, [time(10, 30), time(9, 30)]) == time(9, 30)
    assert push_due(own, SUNDAY, CPH, None) is None
    assert push_due(own, SUNDAY, CPH, None, [time(9, 30)]) == SUNDAY.date()
    assert push_due(own, SUNDAY, CPH, SUNDAY.date(), [time(9, 30)]) is None  # one push a day
    assert push_due(own, SUNDAY, CPH, None, [time(10, 30)]) is None  # not yet


def test_a_pause_stops_campaign_pushes_and_reminders() -> None:
    paused = PushSettings(time(9, 0), (0, 1, 2, 3, 4), paused_until=SUNDAY + timedelta(days=3))
    assert push_due(paused, SUNDAY, CPH, None, [time(9, 30)]) is None
    assert not reminder_due(SUNDAY - timedelta(hours=4), SUNDAY, CPH, False, False, paused=True)


def test_announcements_in_quiet_hours_wait_until_the_morning() -> None:
    late = datetime(2026, 11, 22, 2, 15, tzinfo=UTC)  # 03:15 in Copenhagen
    assert outside_quiet_hours(late, CPH) == datetime(2026, 11, 22, 7, 0, tzinfo=CPH)
    evening = datetime(2026, 11, 22, 21, 30, tzinfo=UTC)  # 22:30
    assert outside_quiet_hours(evening, CPH) == datetime(2026, 11, 23, 7, 0, tzinfo=CPH)
    assert outside_quiet_hours(SUNDAY, CPH) == SUNDAY


def test_retention_only_with_enough_answers_the_first_a_day_old() -> None:
    now = SUNDAY
    assert not enough_for_retention([now - timedelta(hours=h) for h in range(5)], now)
    assert not enough_for_retention([now - timedelta(days=2)] * 4, now)
    assert enough_for_retention([now - timedelta(days=2)] + [now] * 4, now)
