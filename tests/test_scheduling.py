"""Scheduling with an injected clock: FSRS intervals, new-question rate, interleaving, pushes."""

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

from quizzes.bank import Question
from quizzes.progress import progress, streak
from quizzes.pushes import PushSettings, next_push_at, push_due, reminder_due
from quizzes.scheduling import RecentAnswer, choose_questions, mistakes, most_forgotten, review

CPH = ZoneInfo("Europe/Copenhagen")
NOW = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)  # a Monday, 09:30 in Copenhagen


def question(qid: str, area: str = "forvaltning-og-jura", difficulty: int = 1) -> Question:
    return Question(qid, area, ("a",), difficulty, "single", False, f"Spørgsmål {qid}?", ("x", "y", "z"), 0,
                    "Forklaring (fvl § 19).", "", Path("q.yaml"), 1)


def test_intervals_grow_on_success_and_shrink_on_failure() -> None:
    now = NOW
    state = review(None, "q1", True, now)
    intervals = [state.interval()]
    for _ in range(3):
        now = state.due
        state = review(state, "q1", True, now)
        intervals.append(state.interval())
    assert intervals == sorted(intervals) and intervals[-1] > intervals[0] * 4
    now = state.due
    failed = review(state, "q1", False, now)
    assert failed.interval() < intervals[-1]
    assert failed.lapses == 1 and failed.reviews == 5


def test_new_questions_come_at_a_steady_rate() -> None:
    bank = [question(f"q{i}") for i in range(20)]
    chosen = choose_questions(bank, {}, NOW, count=5, new_allowed=2)
    assert len(chosen) == 2


def test_due_questions_come_before_new_ones() -> None:
    bank = [question(f"q{i}") for i in range(5)]
    states = {"q3": review(None, "q3", False, NOW - timedelta(days=5))}
    chosen = choose_questions(bank, states, NOW, count=3, new_allowed=2)
    assert chosen[0] == "q3"
    assert len(chosen) == 3


def test_questions_are_interleaved_across_areas() -> None:
    bank = [question(f"j{i}", "forvaltning-og-jura") for i in range(4)]
    bank += [question(f"p{i}", "politikerbetjening") for i in range(4)]
    chosen = choose_questions(bank, {}, NOW, count=4, new_allowed=4)
    areas = [next(q.area for q in bank if q.id == c) for c in chosen]
    assert all(a != b for a, b in pairwise(areas))


def test_areas_can_be_chosen() -> None:
    bank = [question("j", "forvaltning-og-jura"), question("d", "digital")]
    assert choose_questions(bank, {}, NOW, count=3, areas=["digital"]) == ["d"]


def test_mistakes_and_most_forgotten() -> None:
    answers = [RecentAnswer("a", False, NOW - timedelta(days=2)), RecentAnswer("b", False, NOW - timedelta(days=1)),
               RecentAnswer("a", True, NOW - timedelta(hours=1)), RecentAnswer("c", False, NOW - timedelta(days=90))]
    assert mistakes(answers, NOW, count=5) == ["b"]
    states = {"x": review(None, "x", True, NOW - timedelta(days=30)), "y": review(None, "y", True, NOW)}
    assert most_forgotten(states, NOW, count=1) == ["x"]


def test_push_at_the_chosen_time_on_chosen_days_only() -> None:
    settings = PushSettings(push_time=time(9, 0))
    assert push_due(settings, NOW, CPH, None) == date(2026, 11, 23)
    assert push_due(settings, NOW - timedelta(hours=1), CPH, None) is None  # 08:30 local: too early
    assert push_due(settings, NOW, CPH, date(2026, 11, 23)) is None  # never twice a day
    saturday = NOW + timedelta(days=5)
    assert push_due(settings, saturday, CPH, None) is None


def test_no_push_at_night_even_when_missed() -> None:
    settings = PushSettings(push_time=time(9, 0))
    late_evening = datetime(2026, 11, 23, 21, 30, tzinfo=UTC)  # 22:30 in Copenhagen
    assert push_due(settings, late_evening, CPH, None) is None
    afternoon = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # missed while down: caught up once
    assert push_due(settings, afternoon, CPH, None) == date(2026, 11, 23)


def test_pause_stops_pushes_until_it_ends() -> None:
    paused = PushSettings(paused_until=NOW + timedelta(days=2))
    assert push_due(paused, NOW, CPH, None) is None
    assert push_due(paused, NOW + timedelta(days=2, minutes=1), CPH, None) is not None
    assert push_due(PushSettings(paused_indefinitely=True), NOW, CPH, None) is None
    assert next_push_at(paused, NOW, CPH) == datetime(2026, 11, 26, 9, 0, tzinfo=CPH)


def test_one_reminder_later_the_same_day() -> None:
    pushed = NOW
    assert not reminder_due(pushed, NOW + timedelta(hours=1), CPH, reacted=False, reminded=False)
    assert reminder_due(pushed, NOW + timedelta(hours=3), CPH, reacted=False, reminded=False)
    assert not reminder_due(pushed, NOW + timedelta(hours=3), CPH, reacted=True, reminded=False)
    assert not reminder_due(pushed, NOW + timedelta(hours=3), CPH, reacted=False, reminded=True)
    assert not reminder_due(pushed, NOW + timedelta(days=1), CPH, reacted=False, reminded=False)


def test_progress_per_area_and_streak() -> None:
    bank = [question("j1"), question("j2"), question("d1", "digital")]
    states = {"j1": review(None, "j1", True, NOW - timedelta(days=1))}
    answers = [RecentAnswer("j1", True, NOW - timedelta(days=1)), RecentAnswer("j1", False, NOW - timedelta(days=2))]
    result = progress(bank, states, answers, NOW, CPH)
    jura = next(a for a in result.areas if a.area == "forvaltning-og-jura")
    assert (jura.seen, jura.answers, jura.correct, jura.questions_in_bank) == (1, 2, 1, 2)
    assert jura.retention is None  # two answers: too early to say
    more = answers + [RecentAnswer("j1", True, NOW - timedelta(days=3, hours=h)) for h in range(3)]
    jura = next(a for a in progress(bank, states, more, NOW, CPH).areas if a.area == "forvaltning-og-jura")
    assert 0.5 < jura.retention <= 1.0
    assert result.streak_days == 2  # yesterday and the day before; today is not over yet
    assert streak({date(2026, 11, 23)}, date(2026, 11, 23)) == 1
