"""Telegram handlers: read the update, call one domain function, render the reply.

Database effects go through `storage.inbox.update_effects(update_id)` so that an update replayed after
a crash changes nothing twice.
"""

from __future__ import annotations

import io
import json
import logging
import sqlite3

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.telegram import answers, quiz_texts, texts
from bot.telegram.answers import Reply
from bot.telegram.context import services

log = logging.getLogger(__name__)

CONSULTANT_LINK_PREFIX = "k_"
DEEP_LINK_ALLOWED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def clean_payload(args: list[str] | None) -> str | None:
    """The deep-link payload if it has Telegram's allowed form, else None."""
    if not args:
        return None
    payload = args[0]
    if len(payload) > 64 or not set(payload) <= DEEP_LINK_ALLOWED:
        return None
    return payload


def note_learner(update: Update, context: ContextTypes.DEFAULT_TYPE, payload: str | None = None) -> bool:
    """Record the contact; True if this learner is new."""
    svc = services(context)
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return False
    # Idempotent, so it needs no once-only guard: a replay just notes the visit again.
    return svc.storage.learners.touch_learner(user.id, chat.id, svc.clock(), payload)


async def erased_guard(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Runs before every other handler: someone who erased their data is not a learner until they
    send /start; anything else gets a short reply, and nothing is stored."""
    user = update.effective_user
    if user is None or not services(context).storage.learners.is_erased(user.id):
        return
    message = update.effective_message
    if message is not None and (message.text or "").split(" ")[0].split("@")[0] == "/start":
        return
    if update.callback_query is not None:
        await update.callback_query.answer(texts.ERASED_REPLY[:200], show_alert=True)
    elif message is not None and update.effective_chat is not None:
        await message.reply_text(texts.ERASED_REPLY)
    raise ApplicationHandlerStop


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Welcome; a deep-link payload enrols in a cohort (or links a consultant's account)."""
    payload = clean_payload(context.args)
    services(context).storage.learners.clear_erased(update.effective_user.id)
    is_new = note_learner(update, context, payload)
    user = update.effective_user
    message = update.effective_message
    if payload and payload.startswith(CONSULTANT_LINK_PREFIX):
        code = payload.removeprefix(CONSULTANT_LINK_PREFIX)
        consultant = services(context).storage.consultants.link_telegram(code, user.id, services(context).clock())
        await message.reply_html(texts.consultant_linked(consultant["name"]) if consultant
                                 else texts.CONSULTANT_LINK_UNKNOWN)
        return
    # Enrol before the first reply is awaited: the daily push job could otherwise run in between
    # and give a new learner their own push of the day in place of the campaign's.
    status, cohort = ("unknown", None)
    if context.args and payload is not None:
        status, cohort = services(context).campaigns.enrol_by_code(user.id, payload, services(context).clock())
    await message.reply_html(texts.welcome(user.first_name if user else None, returning=not is_new))
    if not context.args:
        return
    if status in ("enrolled", "already"):
        await message.reply_html(texts.enrolled(cohort["name"], already=status == "already"))
        if status == "enrolled":
            # Late joiners get the running campaigns' welcome messages too, once per campaign.
            svc = services(context)
            if svc.campaigns.queue_intros(cohort["id"], user.id, update.effective_chat.id, svc.clock(),
                                          quiz_texts.announcement_message) and svc.outbox is not None:
                svc.outbox.wake.set()
    else:
        await message.reply_html(texts.INVITATION_EXPIRED if status == "expired" else texts.INVITATION_UNKNOWN)


async def leave(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    note_learner(update, context)
    svc = services(context)
    names = svc.storage.cohorts.leave_cohorts(update.effective_user.id, svc.clock())
    await update.effective_message.reply_html(texts.left(names))


async def consultant_campaigns(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/kampagner: a linked consultant's campaigns in a few lines."""
    svc = services(context)
    consultant = svc.storage.consultants.consultant_by_telegram(update.effective_user.id)
    if consultant is None:
        await update.effective_message.reply_text(texts.NOT_A_CONSULTANT)
        return
    await update.effective_message.reply_html(texts.campaign_overview(
        svc.storage.campaigns.campaigns_of_consultant(consultant["id"])))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    note_learner(update, context)
    await update.effective_message.reply_html(texts.help_text())


async def privacy(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    note_learner(update, context)
    learner = services(context).storage.learners.learner(update.effective_user.id)
    await update.effective_message.reply_html(texts.privacy_text(bool(learner and learner["show_name"])))


async def my_data(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    exported = svc.storage.export_learner(update.effective_user.id)
    if exported is None:
        await update.effective_message.reply_text(texts.NO_DATA)
        return
    document = io.BytesIO(json.dumps(exported, ensure_ascii=False, indent=2).encode("utf-8"))
    await update.effective_message.reply_html(texts.export_summary(exported))
    await update.effective_message.reply_document(
        document, filename="mine_data.json", caption=texts.EXPORT_CAPTION
    )


async def delete_my_data(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    keyboard = InlineKeyboardMarkup(
        [[
            InlineKeyboardButton(texts.DELETE_YES, callback_data="delete:yes"),
            InlineKeyboardButton(texts.DELETE_NO, callback_data="delete:no"),
        ]]
    )
    await update.effective_message.reply_html(texts.DELETE_CONFIRM, reply_markup=keyboard)


async def delete_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    await query.answer()
    if query.data == "delete:yes":
        svc = services(context)
        with svc.storage.inbox.update_effects(update.update_id) as fresh:
            if fresh:
                svc.storage.delete_learner(query.from_user.id, svc.clock())
        await query.edit_message_text(texts.DELETE_DONE)
    else:
        await query.edit_message_text(texts.DELETE_CANCELLED)


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in reply.buttons]
    )


async def question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A question in free text: the best passage with its source, or an honest 'not sure'."""
    note_learner(update, context)
    await answer_question(update, context, update.effective_message, update.effective_message.text or "")


async def answer_question(update: Update, context: ContextTypes.DEFAULT_TYPE, message: Message, text: str) -> None:
    """Answer `text` as a question (logged for the consultants' view), replying to `message`."""
    svc = services(context)
    answer = await svc.knowledge.answer(text)
    log_id = None
    if answer.smalltalk is None:
        best = answer.result.best if answer.result else None
        log_id = svc.storage.questions.log_question(
            update_id=update.update_id, user_id=update.effective_user.id, now=svc.clock(), question=text,
            article_id=best.article.id if best else None,
            score=answer.result.confidence if answer.result else 0.0, abstained=answer.abstained,
        )
    reply = answers.render_answer(svc.knowledge.knowledge, answer, log_id, svc.learning.articles_with_questions)
    await message.reply_html(reply.text, reply_markup=keyboard(reply))


async def show_article(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """'Læs hele artiklen' sends the article; its page buttons turn the pages in place."""
    query = update.callback_query
    kind, article_id, page = query.data.split(":")
    reply = answers.render_article_page(services(context).knowledge.knowledge, article_id, int(page))
    await query.answer()
    if kind == "page":
        await query.edit_message_text(reply.text, parse_mode="HTML", reply_markup=keyboard(reply))
    else:
        await query.message.reply_html(reply.text, reply_markup=keyboard(reply))


async def show_related(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    _, article_id = query.data.split(":")
    reply = answers.render_related(services(context).knowledge.knowledge, article_id)
    await query.answer()
    await query.message.reply_html(reply.text, reply_markup=keyboard(reply))


async def feedback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """👍/👎 on an answer: stored on the learner's own question, then the buttons go away. After 👎
    the next two articles for the same question are offered."""
    query = update.callback_query
    svc = services(context)
    _, log_id, value = query.data.split(":")
    if not svc.storage.questions.record_feedback(int(log_id), query.from_user.id, value == "1"):
        await query.answer("Den knap virker ikke længere.")
        return
    await query.answer(answers.FEEDBACK_THANKS)
    await query.edit_message_reply_markup(reply_markup=_without_feedback_row(query.message.reply_markup))
    if value == "1":
        return
    asked = svc.storage.questions.asked(int(log_id), query.from_user.id)
    alternatives = []
    if asked and asked["question"]:
        answer = await svc.knowledge.answer(asked["question"])
        alternatives = svc.knowledge.knowledge.alternatives(answer, asked["article_id"])
    reply = answers.render_alternatives(alternatives)
    await query.message.reply_html(reply.text, reply_markup=keyboard(reply))


def _without_feedback_row(markup: InlineKeyboardMarkup | None) -> InlineKeyboardMarkup | None:
    if markup is None:
        return None
    rows = [row for row in markup.inline_keyboard if not any((b.callback_data or "").startswith("fb:") for b in row)]
    return InlineKeyboardMarkup(rows) if rows else None


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(texts.UNKNOWN_COMMAND)


async def not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(texts.NOT_TEXT)


async def stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button whose data no handler knows (old keyboard or forged data)."""
    await update.callback_query.answer("Den knap virker ikke længere.")


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure in one line (no message text) and answer the user politely."""
    error = context.error
    update_id = getattr(update, "update_id", None)
    if isinstance(error, sqlite3.OperationalError):
        log.error("database error while handling update %s: %s", update_id, error)
        reply = texts.BUSY_REPLY
    else:
        log.error("error while handling update %s", update_id, exc_info=error)
        reply = texts.ERROR_REPLY
    if not isinstance(update, Update):
        return
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(reply[:200], show_alert=True)
        elif update.effective_chat is not None:
            await context.bot.send_message(update.effective_chat.id, reply)
    except TelegramError as send_error:
        log.warning("could not tell the user about the error: %s", send_error)
