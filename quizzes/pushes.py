"""When a learner gets the daily push and its one reminder.

The schedule is derived from the learner's settings and what the database says was sent, so a
restart changes nothing and a push missed while the bot was down is sent once when it comes back,
if it is still the same day and not night.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

QUIET_FROM = time(21, 0)  # no pushes from 21:00 ...
QUIET_UNTIL = time(7, 0)  # ... until 07:00 local time
REMINDER_AFTER = timedelta(hours=3)
DEFAULT_TIME = time(9, 0)
DEFAULT_WEEKDAYS = (0, 1, 2, 3, 4)  # Monday to Friday


@dataclass(frozen=True)
class PushSettings:
    push_time: time = DEFAULT_TIME
    weekdays: tuple[int, ...] = DEFAULT_WEEKDAYS
    paused_until: datetime | None = None  # None: not paused
    paused_indefinitely: bool = False


def is_quiet(local: datetime) -> bool:
    return local.time() >= QUIET_FROM or local.time() < QUIET_UNTIL


def outside_quiet_hours(moment: datetime, timezone: ZoneInfo) -> datetime:
    """The moment itself, or, if it falls in quiet hours, the next morning at QUIET_UNTIL."""
    local = moment.astimezone(timezone)
    if not is_quiet(local):
        return moment
    day = local.date() + timedelta(days=1) if local.time() >= QUIET_FROM else local.date()
    return datetime.combine(day, QUIET_UNTIL, tzinfo=timezone)


def is_paused(settings: PushSettings, now: datetime) -> bool:
    return settings.paused_indefinitely or (settings.paused_until is not None and now < settings.paused_until)


def push_time_today(settings: PushSettings, weekday: int, campaign_times: Sequence[time] = ()) -> time | None:
    """When today's one push goes out: on a day with a running campaign, at the campaign's time
    (the earliest, if several), with the learner's due reviews merged in; otherwise on the
    learner's own days at their own time. None: no push today."""
    if campaign_times:
        return min(campaign_times)
    return settings.push_time if weekday in settings.weekdays else None


def push_due(settings: PushSettings, now: datetime, timezone: ZoneInfo, last_push_day: date | None,
             campaign_times: Sequence[time] = ()) -> date | None:
    """The local day whose push should go out now, or None.

    Due when today's push time (push_time_today) has passed, nothing was pushed today, the
    learner has not paused, and it is not night (a late catch-up waits for no one: after 21:00 the
    day's push is skipped). One push a day at most, so never two in the same hour."""
    local = now.astimezone(timezone)
    today = local.date()
    at = push_time_today(settings, local.weekday(), campaign_times)
    if last_push_day == today or at is None or is_paused(settings, now):
        return None
    if local.time() < at or is_quiet(local):
        return None
    return today


def reminder_due(
    pushed_at: datetime, now: datetime, timezone: ZoneInfo, reacted: bool, reminded: bool, paused: bool = False
) -> bool:
    """One reminder, REMINDER_AFTER the push, the same day, if the learner has not reacted (nor
    paused since)."""
    if reacted or reminded or paused or now - pushed_at < REMINDER_AFTER:
        return False
    local = now.astimezone(timezone)
    return local.date() == pushed_at.astimezone(timezone).date() and not is_quiet(local)


def next_push_at(settings: PushSettings, now: datetime, timezone: ZoneInfo) -> datetime | None:
    """When the next push will go out (for showing the learner); None when none is planned."""
    if settings.paused_indefinitely or not settings.weekdays:
        return None
    start = max(now, settings.paused_until) if settings.paused_until else now
    local = start.astimezone(timezone)
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        moment = datetime.combine(day, settings.push_time, tzinfo=timezone)
        if day.weekday() in settings.weekdays and moment > start:
            return moment
    return None
