"""Wording and buttons of the quiz, the daily push, the settings and the progress view (Danish)."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from bot.services.learning import AnswerOutcome, Delivery, LearnerSettings
from bot.telegram.answers import Buttons, Reply
from bot.telegram.texts import escape
from knowledge.articles import AREAS as AREA_NAMES
from quizzes.bank import AREAS
from quizzes.progress import Progress

WEEKDAYS = ("man", "tir", "ons", "tor", "fre", "lør", "søn")
PUSH_TIMES = tuple(f"{hour:02d}:00" for hour in range(7, 21))  # any whole hour 07-20; or typed
PER_PUSH_CHOICES = (1, 3, 5)
SHORT_AREA = {
    "forvaltning-og-jura": "Jura",
    "politikerbetjening": "Politik",
    "relationel": "Relationel",
    "digital": "Digital",
}

NO_QUESTIONS = "Du har ikke flere spørgsmål lige nu. 🎉 Kom igen i morgen, så er der nye."
NO_MISTAKES = "Du har ingen fejl at øve lige nu. 💪"
NO_REVIEW = "Du har ikke svaret på nogen spørgsmål endnu. Start med /quiz."
STOPPED = "Fint, vi stopper her. Vi ses næste gang! 👋"
STALE_QUIZ = "Det spørgsmål er ikke aktivt længere."
PAUSED_FOREVER = "⏸ Dine daglige spørgsmål er sat på pause. Skriv /genoptag, når du vil have dem igen."
RESUMED = "▶ Velkommen tilbage! Du får igen dine daglige spørgsmål."
PAUSE_BAD = "Skriv antal dage som et tal, fx /pause 7 (højst 365)."


AREA_NEEDED = "Vælg mindst ét område."
BAD_TIME = "Skriv et tidspunkt mellem 7.00 og 20.59, fx /indstillinger 8.30."


def minutes_for(count: int) -> int:
    return max(1, round(count * 0.7))


def plural(count: int, one: str, many: str) -> str:
    """"1 minut", "2 minutter"."""
    return f"{count} {one if count == 1 else many}"


def clock(moment: time | datetime) -> str:
    """Danish clock time: "8.30", "14.00"."""
    return f"{moment.hour}.{moment.minute:02d}"


def push_message(count: int) -> dict:
    """The push names the number of questions the round it opens will have."""
    return {
        "text": f"☀️ {plural(count, 'spørgsmål', 'spørgsmål')} klar – {plural(minutes_for(count), 'minut', 'minutter')}",
        "buttons": [[["▶ Start", "quiz:new:daily"]]],
    }


def reminder_message(count: int) -> dict:
    return {
        "text": f"⏰ Dine {plural(count, 'spørgsmål', 'spørgsmål')} venter stadig. "
                f"Det tager kun {plural(minutes_for(count), 'minut', 'minutter')}.",
        "buttons": [[["▶ Start", "quiz:new:daily"]]],
    }


def announcement_message(announcement: dict) -> dict:
    return {"text": f"📣 {announcement['text']}"}


def poll_question(delivery: Delivery) -> str:
    prefixed = f"({delivery.position}/{delivery.round_size}) {delivery.question.text}"
    return prefixed if len(prefixed) <= 300 else delivery.question.text


def feedback(outcome: AnswerOutcome, shown_correct_text: str) -> Reply:
    question = outcome.question
    lines = ["✅ <b>Rigtigt!</b>" if outcome.correct else "❌ <b>Ikke helt.</b>"]
    if not outcome.correct:
        lines.append(f"Det rigtige svar: <b>{escape(shown_correct_text)}</b>")
    lines.append("")
    lines.append(escape(question.explanation))
    if question.more:
        lines += ["", escape(question.more)]
    buttons: Buttons = [[("📖 Læs mere", f"art:{question.articles[0]}:0")]]
    if outcome.round_id is not None and not outcome.round_done:
        buttons.append([("▶ Næste", f"quiz:next:{outcome.round_id}"), ("⏹ Stop", f"quiz:stop:{outcome.round_id}")])
    elif outcome.round_id is not None:
        lines += ["", round_summary(outcome.round_correct, outcome.round_size)]
        buttons += after_round_buttons()
    return Reply("\n".join(lines), buttons)


def round_summary(correct: int, size: int) -> str:
    cheer = "🎉" if correct == size else "💪"
    return f"<b>Runden er færdig:</b> {correct} af {size} rigtige {cheer}"


def after_round_buttons() -> Buttons:
    return [
        [("🔁 Øv mine fejl", "quiz:new:mistakes"), ("⚡ Hurtig repetition", "quiz:new:review")],
        [("📈 Se fremskridt", "progress")],
    ]


def settings_view(settings: LearnerSettings, next_push: datetime | None, timezone: ZoneInfo,
                  cohorts: list[dict] | None = None) -> Reply:
    """The learner's own schedule, and each cohort's (from its campaigns) with buttons to pause the
    cohort's questions or leave it. `cohorts`: rows of CampaignStore.cohort_schedules."""
    days = days_label(settings.weekdays)
    areas = ", ".join(SHORT_AREA[a] for a in settings.areas) if settings.areas else "alle"
    if settings.paused_indefinitely:
        status = "⏸ På pause, til du skriver /genoptag"
    elif settings.paused_until:
        status = f"⏸ På pause til {settings.paused_until.astimezone(timezone):%d.%m.%Y}"
    elif next_push:
        status = f"Næste spørgsmål: {WEEKDAYS[next_push.weekday()]} {next_push:%d.%m kl. %H:%M}"
    else:
        status = "Ingen daglige spørgsmål (ingen dage valgt)"
    text = (
        "<b>⚙️ Indstillinger</b>\n\n"
        f"<b>Dine egne spørgsmål:</b> {days} kl. {clock(settings.push_time)}, "
        f"{plural(settings.per_push, 'spørgsmål', 'spørgsmål')} ad gangen\n"
        f"📚 Områder: {areas}\n"
        f"👤 Vis mit navn for konsulenten: {'ja' if settings.show_name else 'nej'}\n\n"
        f"{status}"
    )
    pause = ("▶ Genoptag", "set:resume") if settings.paused_indefinitely or settings.paused_until else \
        ("⏸ Pause en uge", "set:pause")
    buttons: Buttons = [
        [("⏰ Tidspunkt", "set:timemenu"), ("📅 Dage", "set:daymenu")],
        [("📚 Områder", "set:areamenu"), ("🔢 Antal", "set:countmenu")],
        [("👤 Navn: " + ("skjul" if settings.show_name else "vis"), "set:name"), pause],
    ]
    seen: set[int] = set()
    for row in cohorts or []:
        if row["cohort_id"] in seen:
            continue
        seen.add(row["cohort_id"])
        campaigns = [c for c in cohorts or [] if c["cohort_id"] == row["cohort_id"] and c["campaign_id"]]
        text += f"\n\n<b>Holdet {escape(row['cohort_name'])}:</b>"
        if not campaigns:
            text += " ingen kampagne lige nu"
        for campaign in campaigns:
            days_text = days_label(tuple(int(d) for d in campaign["weekdays"].split(",") if d))
            at = clock(time.fromisoformat(campaign["push_time"]))
            start, end = date.fromisoformat(campaign["start_date"]), date.fromisoformat(campaign["end_date"])
            text += (f"\n{escape(campaign['name'])}: {days_text} kl. {at}, "
                     f"{plural(campaign['per_push'], 'spørgsmål', 'spørgsmål')} ad gangen, "
                     f"{start:%d.%m.%Y}–{end:%d.%m.%Y}")
        if row["paused"]:
            text += "\n⏸ Holdets spørgsmål er sat på pause."
        toggle = ("▶ Genoptag holdets spørgsmål", f"set:cresume:{row['cohort_id']}") if row["paused"] else \
            ("⏸ Sæt holdets spørgsmål på pause", f"set:cpause:{row['cohort_id']}")
        buttons.append([toggle, ("🚪 Forlad holdet", f"set:cleave:{row['cohort_id']}")])
    if cohorts:
        text += "\n\nPå en dag med holdets spørgsmål får du ét samlet push på holdets tidspunkt."
    return Reply(text, buttons)


def days_label(weekdays: tuple[int, ...]) -> str:
    if tuple(sorted(weekdays)) == (0, 1, 2, 3, 4):
        return "man–fre"
    if len(weekdays) == 7:
        return "alle dage"
    if not weekdays:
        return "ingen"
    return ", ".join(WEEKDAYS[d] for d in sorted(weekdays))


def time_menu() -> Reply:
    rows = [[(t, f"set:time:{t.replace(':', '')}") for t in PUSH_TIMES[i:i + 5]] for i in range(0, len(PUSH_TIMES), 5)]
    return Reply("Hvornår vil du have dine daglige spørgsmål? Vil du have et andet tidspunkt, så skriv "
                 "fx /indstillinger 8.30.", [*rows, [("↩ Tilbage", "set:menu")]])


def day_menu(settings: LearnerSettings) -> Reply:
    row = [(("✅ " if d in settings.weekdays else "▫️ ") + name, f"set:day:{d}") for d, name in enumerate(WEEKDAYS)]
    return Reply("Hvilke dage? Tryk for at slå til og fra.", [row[:4], row[4:], [("✔ Færdig", "set:menu")]])


def area_menu(settings: LearnerSettings) -> Reply:
    rows = [[(("✅ " if (not settings.areas or a in settings.areas) else "▫️ ") + AREA_NAMES[a], f"set:area:{i}")]
            for i, a in enumerate(AREAS)]
    return Reply("Hvilke områder vil du øve? (Alle er valgt, når ingen er fravalgt.)",
                 [*rows, [("✔ Færdig", "set:menu")]])


def count_menu() -> Reply:
    return Reply("Hvor mange spørgsmål pr. gang?",
                 [[(str(n), f"set:count:{n}") for n in PER_PUSH_CHOICES], [("↩ Tilbage", "set:menu")]])


def progress_text(progress: Progress) -> str:
    lines = ["📈 <b>Dit fremskridt</b>"]
    if progress.streak_days:
        lines.append(f"🔥 {progress.streak_days} {'dag' if progress.streak_days == 1 else 'dage'} i træk")
    if not progress.total_answers:
        return "📈 <b>Dit fremskridt</b>\n\nDu har ikke svaret på nogen spørgsmål endnu. Start med /quiz."
    for row in progress.areas:
        lines.append("")
        lines.append(f"<b>{AREA_NAMES[row.area]}</b>")
        if not row.seen:
            lines.append("Ikke øvet endnu")
            continue
        parts = [f"{row.seen} af {row.questions_in_bank} set"]
        if row.accuracy is not None:
            parts.append(f"{row.accuracy:.0%} rigtige".replace("%", " %"))
        if row.retention is not None:
            parts.append(f"husker ca. {row.retention:.0%}".replace("%", " %"))
        else:
            parts.append("husker: for tidligt at sige")
        lines.append(" · ".join(parts))
        if row.due_now:
            lines.append(f"{row.due_now} klar til repetition nu")
        elif row.next_due:
            lines.append(f"Næste repetition {row.next_due:%d.%m}")
    return "\n".join(lines)
