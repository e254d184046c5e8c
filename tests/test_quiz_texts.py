"""What the learner reads about pushes and schedules (Danish): counts and plurals, and
/indstillinger with their own schedule and each cohort's, with its buttons."""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo

from bot.services.learning import LearnerSettings
from bot.telegram import quiz_texts
from bot.telegram.quiz_handlers import typed_time

CPH = ZoneInfo("Europe/Copenhagen")


def test_push_counts_and_plurals() -> None:
    assert quiz_texts.push_message(1)["text"] == "☀️ 1 spørgsmål klar – 1 minut"
    assert quiz_texts.push_message(2)["text"] == "☀️ 2 spørgsmål klar – 1 minut"
    assert quiz_texts.push_message(5)["text"] == "☀️ 5 spørgsmål klar – 4 minutter"
    assert "tager kun 2 minutter" in quiz_texts.reminder_message(3)["text"]


def test_settings_show_own_and_cohort_schedules_with_buttons() -> None:
    settings = LearnerSettings(time(9, 0), (0, 1, 2, 3, 4), (), 3, None, False, False)
    cohorts = [
        {"cohort_id": 7, "cohort_name": "Kolding", "paused": 0, "campaign_id": 3, "name": "Aktindsigt",
         "weekdays": "0,2,4", "push_time": "08:30", "per_push": 2, "start_date": "2027-03-01",
         "end_date": "2027-03-28"},
        {"cohort_id": 8, "cohort_name": "Vejle", "paused": 1, "campaign_id": None, "name": None, "weekdays": None,
         "push_time": None, "per_push": None, "start_date": None, "end_date": None},
    ]
    reply = quiz_texts.settings_view(settings, None, CPH, cohorts)
    assert "Dine egne spørgsmål:</b> man–fre kl. 9.00, 3 spørgsmål ad gangen" in reply.text
    assert "Holdet Kolding:</b>\nAktindsigt: man, ons, fre kl. 8.30, 2 spørgsmål ad gangen, 01.03.2027–28.03.2027" \
        in reply.text
    assert "Holdet Vejle:</b> ingen kampagne lige nu" in reply.text and "sat på pause" in reply.text
    rows = [[data for _, data in row] for row in reply.buttons]
    assert ["set:cpause:7", "set:cleave:7"] in rows and ["set:cresume:8", "set:cleave:8"] in rows


def test_a_typed_push_time() -> None:
    assert typed_time("8.30") == time(8, 30) and typed_time("20") == time(20, 0) and typed_time("07:05") == time(7, 5)
    assert typed_time("6.30") is None and typed_time("21") is None and typed_time("kl 8") is None
