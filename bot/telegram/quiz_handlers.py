"""Telegram handlers for quizzes, settings, pause, progress and the daily push job.

Callback data: "quiz:new:<kind>", "quiz:topic:<article>", "quiz:next:<round>", "quiz:stop:<round>",
"progress", "set:..." for the settings screens.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import time

from telegram import Poll, Update
from telegram.ext import ContextTypes

from bot.services.learning import Learning
from bot.telegram import quiz_texts
from bot.telegram.charts import progress_chart
from bot.telegram.context import services
from bot.telegram.handlers import keyboard, note_learner
from quizzes.bank import AREAS
from quizzes.pushes import next_push_at

log = logging.getLogger(__name__)


def learning(context: ContextTypes.DEFAULT_TYPE) -> Learning:
    return services(context).learning


async def send_next_question(context: ContextTypes.DEFAULT_TYPE, chat_id: int, round_id: int) -> bool:
    """Send the round's next question as a quiz poll; False when the round is done."""
    svc = services(context)
    delivery = svc.learning.next_delivery(round_id, svc.clock())
    if delivery is None:
        return False
    message = await context.bot.send_poll(
        chat_id, quiz_texts.poll_question(delivery), delivery.shown_options, is_anonymous=False,
        type=Poll.QUIZ, correct_option_ids=[delivery.shown_correct],
    )  # no explanation on the poll: the feedback message right after it explains (once)
    svc.storage.quizzes.set_delivery_message(delivery.delivery_id, message.poll.id, message.message_id)
    return True


async def start_round(update: Update, context: ContextTypes.DEFAULT_TYPE, kind: str,
                      article_id: str | None = None) -> None:
    svc = services(context)
    user_id, chat_id = update.effective_user.id, update.effective_chat.id
    now = svc.clock()
    campaign_id = None
    if kind == "daily":
        # The same round the day's push counted: the campaign's on a campaign day, else one's own.
        campaign_id, question_ids = svc.learning.daily_round(user_id, now)
    else:
        question_ids = svc.learning.choose(user_id, kind, now, article_id=article_id)
    round_id = svc.learning.start_round(user_id, kind, now, question_ids, campaign_id)
    if round_id is None:
        empty = {"mistakes": quiz_texts.NO_MISTAKES, "review": quiz_texts.NO_REVIEW}.get(kind, quiz_texts.NO_QUESTIONS)
        await context.bot.send_message(chat_id, empty)
        return
    await send_next_question(context, chat_id, round_id)


async def quiz_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/quiz: continue today's open round, else start the day's round."""
    note_learner(update, context)
    await continue_or_start(update, context)


async def continue_or_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    open_round = svc.learning.open_round(update.effective_user.id, svc.clock())
    if open_round is not None and await send_next_question(context, update.effective_chat.id, open_round):
        return
    await start_round(update, context, "daily")


async def quiz_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    note_learner(update, context)
    parts = query.data.split(":")
    action = parts[1]
    svc = services(context)
    if action in ("next", "stop"):
        quiz_round = svc.storage.quizzes.quiz_round(int(parts[2]))
        if quiz_round is None or quiz_round["user_id"] != query.from_user.id:
            await query.answer(quiz_texts.STALE_QUIZ)
            return
        await query.answer()
        await query.edit_message_reply_markup(reply_markup=None)
        if action == "stop":
            svc.storage.quizzes.finish_round(quiz_round["id"], svc.clock())
            await context.bot.send_message(update.effective_chat.id, quiz_texts.STOPPED)
        elif not await send_next_question(context, update.effective_chat.id, quiz_round["id"]):
            await context.bot.send_message(update.effective_chat.id, quiz_texts.NO_QUESTIONS)
        return
    await query.answer()
    if action == "topic":
        await start_round(update, context, "topic", article_id=parts[2])
    elif parts[2] == "daily":
        await continue_or_start(update, context)
    else:
        await start_round(update, context, parts[2])  # quiz:new:<daily|mistakes|review>


async def poll_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A learner answered a quiz poll: record it once, then feedback and what next."""
    answer = update.poll_answer
    svc = services(context)
    delivery = svc.storage.quizzes.delivery(poll_id=answer.poll_id)
    if delivery is None or answer.user is None or delivery["user_id"] != answer.user.id or not answer.option_ids:
        log.info("poll answer for an unknown or foreign poll ignored")
        return
    with svc.storage.inbox.update_effects(update.update_id) as first_time:
        outcome = svc.learning.answer(delivery, answer.option_ids[0], svc.clock())
    if outcome is None or (first_time and not outcome.recorded):
        return  # a second tap on an answered poll: nothing changes and nothing is said
    # (Not first_time: this very update recorded the answer before a restart; its feedback may
    # not have gone out, so it is sent now. The answer itself is not recorded again.)
    learner = svc.storage.learners.learner(answer.user.id)
    shown_correct = outcome.question.options[outcome.question.correct]
    reply = quiz_texts.feedback(outcome, shown_correct)
    await context.bot.send_message(learner["chat_id"], reply.text, parse_mode="HTML", reply_markup=keyboard(reply))


async def progress_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    note_learner(update, context)
    if update.callback_query:
        await update.callback_query.answer()
    svc = services(context)
    progress = svc.learning.progress(update.effective_user.id, svc.clock())
    chat_id = update.effective_chat.id
    text = quiz_texts.progress_text(progress)
    if not progress.total_answers:
        await context.bot.send_message(chat_id, text, parse_mode="HTML")
        return
    image = await asyncio.to_thread(progress_chart, progress)
    # One message: the chart with the figures under it (four areas: under 500 of a caption's 1,024 characters).
    await context.bot.send_photo(chat_id, image, caption=text, parse_mode="HTML")


# -- settings, pause ---------------------------------------------------------------------------------

def _settings_reply(context: ContextTypes.DEFAULT_TYPE, user_id: int):
    svc = services(context)
    settings = svc.learning.settings(user_id)
    now = svc.clock()
    return quiz_texts.settings_view(settings, next_push_at(settings.push, now, svc.learning.timezone),
                                    svc.learning.timezone,
                                    svc.storage.campaigns.cohort_schedules(user_id, svc.learning.local_day(now)))


def typed_time(text: str) -> time | None:
    """"8.30", "08:30", "8" -> a push time between 07:00 and 20:59, else None."""
    match = re.fullmatch(r"(\d{1,2})(?:[.:](\d{2}))?", text.strip())
    if not match:
        return None
    hour, minute = int(match[1]), int(match[2] or 0)
    return time(hour, minute) if 7 <= hour <= 20 and minute < 60 else None


async def settings_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/indstillinger shows the settings; "/indstillinger 8.30" sets the push time."""
    note_learner(update, context)
    if context.args:
        chosen = typed_time(context.args[0])
        if chosen is None:
            await update.effective_message.reply_text(quiz_texts.BAD_TIME)
            return
        services(context).storage.learners.update_learner_settings(update.effective_user.id,
                                                                   push_time=chosen.strftime("%H:%M"))
    reply = _settings_reply(context, update.effective_user.id)
    await update.effective_message.reply_html(reply.text, reply_markup=keyboard(reply))


async def settings_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    note_learner(update, context)
    svc = services(context)
    user_id = query.from_user.id
    parts = query.data.split(":")
    action = parts[1]
    settings = svc.learning.settings(user_id)
    reply = None
    if action == "timemenu":
        reply = quiz_texts.time_menu()
    elif action == "daymenu":
        reply = quiz_texts.day_menu(settings)
    elif action == "areamenu":
        reply = quiz_texts.area_menu(settings)
    elif action == "countmenu":
        reply = quiz_texts.count_menu()
    elif action == "time":
        chosen = time(int(parts[2][:2]), int(parts[2][2:]))
        if chosen.strftime("%H:%M") in quiz_texts.PUSH_TIMES:
            svc.storage.learners.update_learner_settings(user_id, push_time=chosen.strftime("%H:%M"))
    elif action == "day":
        day = int(parts[2])
        days = set(settings.weekdays) ^ {day}
        svc.storage.learners.update_learner_settings(user_id, weekdays=",".join(str(d) for d in sorted(days)))
        reply = quiz_texts.day_menu(svc.learning.settings(user_id))
    elif action == "area":
        area = AREAS[int(parts[2])]
        chosen = set(settings.areas or AREAS) ^ {area}
        if not chosen:
            await query.answer(quiz_texts.AREA_NEEDED, show_alert=True)
            return
        stored = "" if chosen == set(AREAS) else ",".join(a for a in AREAS if a in chosen)
        svc.storage.learners.update_learner_settings(user_id, areas=stored)
        reply = quiz_texts.area_menu(svc.learning.settings(user_id))
    elif action == "count":
        if int(parts[2]) in quiz_texts.PER_PUSH_CHOICES:
            svc.storage.learners.update_learner_settings(user_id, per_push=int(parts[2]))
    elif action == "name":
        user = query.from_user
        svc.storage.learners.update_learner_settings(user_id, show_name=int(not settings.show_name),
                                            display_name=user.full_name if not settings.show_name else None)
    elif action == "pause":
        svc.learning.pause(user_id, svc.clock(), 7)
    elif action == "resume":
        svc.learning.resume(user_id)
    elif action in ("cpause", "cresume"):
        svc.storage.cohorts.set_cohort_paused(user_id, int(parts[2]), action == "cpause")
    elif action == "cleave":
        svc.storage.cohorts.leave_cohorts(user_id, svc.clock(), int(parts[2]))
    await query.answer()
    reply = reply or _settings_reply(context, user_id)
    await query.edit_message_text(reply.text, parse_mode="HTML", reply_markup=keyboard(reply))


async def pause_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    note_learner(update, context)
    svc = services(context)
    days = None
    if context.args:
        if not context.args[0].isdigit() or not 1 <= int(context.args[0]) <= 365:
            await update.effective_message.reply_text(quiz_texts.PAUSE_BAD)
            return
        days = int(context.args[0])
    until = svc.learning.pause(update.effective_user.id, svc.clock(), days)
    if until is None:
        await update.effective_message.reply_text(quiz_texts.PAUSED_FOREVER)
    else:
        local = until.astimezone(svc.learning.timezone)
        await update.effective_message.reply_text(
            f"⏸ Pause i {days} {'dag' if days == 1 else 'dage'}, til {local:%d.%m.%Y}. "
            "Skriv /genoptag for at starte før."
        )


async def resume_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    note_learner(update, context)
    services(context).learning.resume(update.effective_user.id)
    await update.effective_message.reply_text(quiz_texts.RESUMED)


# -- the daily push job ------------------------------------------------------------------------------

async def push_tick(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Runs every few seconds: creates the day's pushes (one a learner and day, at their own time or
    their campaign's) and reminders that are due (once each, by the database's unique keys) as
    outbox rows, queues due announcements, and wakes the sender."""
    svc = services(context)
    now = svc.clock()
    pushes = []
    for learner, day in svc.learning.due_pushes(now, svc.campaigns.todays_campaign_times(now)):
        _, question_ids = svc.learning.daily_round(learner["user_id"], now)
        if question_ids:  # nothing to practise today: no push
            pushes.append((learner["user_id"], learner["chat_id"], day, quiz_texts.push_message(len(question_ids))))
    created = svc.storage.pushes.create_pushes(pushes, now)
    for row in svc.learning.due_reminders(now):
        _, question_ids = svc.learning.daily_round(row["user_id"], now)
        if question_ids:
            created += svc.storage.pushes.create_reminder(row["user_id"], row["chat_id"], row["local_day"], now,
                                                          quiz_texts.reminder_message(len(question_ids)))
    created += svc.campaigns.queue_announcements(now, quiz_texts.announcement_message)
    today = svc.learning.local_day(now)
    if context.bot_data.get("daily_day") != today:
        svc.campaigns.snapshot_retention(now)
        removed = svc.storage.purge_old_data(now)
        log.info("daily housekeeping: %s", ", ".join(f"{k} {v}" for k, v in removed.items()))
        context.bot_data["daily_day"] = today
    if created and svc.outbox is not None:
        log.info("%d pushes, reminders and announcements queued", created)
        svc.outbox.wake.set()
