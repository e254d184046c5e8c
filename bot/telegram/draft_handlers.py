"""'Tjek mit udkast' in the chat: /tjek, a pasted draft, an uploaded .docx/.pdf/.txt, the kind
question and the buttons. Thin: the check is knowledge/drafts/, the wording draft_texts.py.
The draft stays in memory (DraftService) and is never written to the database; only anonymous
counts per checklist item are, once per update."""

from __future__ import annotations

import asyncio
import logging
import time

from telegram import Message, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.services.drafts import DraftService
from bot.telegram import draft_texts, handlers
from bot.telegram.answers import Reply
from bot.telegram.context import services
from knowledge.drafts.documents import MAX_BYTES, DocumentError, extract_text, kind_of

log = logging.getLogger(__name__)
DRAFTS_KEY = "drafts"
CONTINUATION_SECONDS = 60  # a long paste that Telegram split in two arrives as two messages
SPLIT_LENGTH = 3500  # a first part this long may have a second


def drafts(context: ContextTypes.DEFAULT_TYPE) -> DraftService:
    """The draft service, made on first use from the knowledge service and the storage."""
    service = context.bot_data.get(DRAFTS_KEY)
    if service is None:
        svc = services(context)
        service = DraftService.load(svc.knowledge, svc.storage.drafts)
        context.bot_data[DRAFTS_KEY] = service
    return service


async def check_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/tjek: a draft after the command is checked; without one, the next message is the draft."""
    handlers.note_learner(update, context)
    message = update.effective_message
    text = (message.text or "").partition(" ")[2].strip()
    if len(text) >= 40:
        await _start_check(update, context, message, text, None)
        return
    drafts(context).wait_for_draft(update.effective_user.id)
    await message.reply_html(draft_texts.INTRO)


async def text_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Free text: the draft the bot waits for, a pasted text that looks like a draft (ask first),
    or a question for the knowledge base."""
    service = drafts(context)
    user_id = update.effective_user.id
    message = update.effective_message
    text = message.text or ""
    pending = service.pending(user_id)
    if pending is not None and pending.text is None:
        service.forget(user_id)
        handlers.note_learner(update, context)
        await _start_check(update, context, message, text, pending.kind)
        return
    if (pending is not None and pending.text is not None and len(pending.text) >= SPLIT_LENGTH
            and time.monotonic() - pending.since < CONTINUATION_SECONDS):
        service.hold(user_id, f"{pending.text}\n{text}", pending.kind)  # the rest of a split paste
        return
    if service.looks_like_draft(text):
        handlers.note_learner(update, context)
        service.hold(user_id, text)
        await message.reply_html(draft_texts.ASK_IF_DRAFT, reply_markup=handlers.keyboard(
            Reply("", draft_texts.confirm_keyboard())))
        return
    await handlers.question(update, context)


async def document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An uploaded draft: fetched, read in a worker thread, checked; a clear reply when it cannot be read."""
    handlers.note_learner(update, context)
    message = update.effective_message
    upload = message.document
    try:
        if upload.file_size and upload.file_size > MAX_BYTES:
            raise DocumentError("too_large")
        kind_of(upload.file_name, upload.mime_type)
    except DocumentError as error:
        await message.reply_text(draft_texts.DOCUMENT_ERRORS[error.reason])
        return
    try:
        telegram_file = await upload.get_file()
        content = bytes(await telegram_file.download_as_bytearray())
    except TelegramError as error:
        log.warning("could not fetch an uploaded draft in update %s: %s", update.update_id, error)
        await message.reply_text(draft_texts.DOWNLOAD_FAILED)
        return
    try:
        text = await asyncio.to_thread(extract_text, content, upload.file_name, upload.mime_type)
    except DocumentError as error:
        await message.reply_text(draft_texts.DOCUMENT_ERRORS[error.reason])
        return
    finally:
        del content
    pending = drafts(context).take(update.effective_user.id)
    kind = pending.kind if pending is not None and pending.text is None else None
    await _start_check(update, context, message, text, kind)


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """tjek:ja / tjek:nej after "Skal jeg tjekke det?", tjek:afg / tjek:sag for the kind, and
    tjek:igen:<kind> for a new version."""
    query = update.callback_query
    service = drafts(context)
    user_id = query.from_user.id
    data = query.data or ""
    if data.startswith("tjek:igen:"):
        kind = draft_texts.KIND_CODES[data.rsplit(":", 1)[1]]
        service.wait_for_draft(user_id, kind)
        await query.answer()
        await query.message.reply_html(draft_texts.SEND_NEW_VERSION.format(kind=draft_texts.KIND_NAMES[kind]))
        return
    pending = service.pending(user_id)
    if pending is None or pending.text is None:
        await query.answer(draft_texts.GONE[:200], show_alert=True)
        return
    await query.answer()
    await query.edit_message_reply_markup(reply_markup=None)
    if data == "tjek:nej":
        service.forget(user_id)
        await _answer_question(update, context, query.message, pending.text)
        return
    kind = draft_texts.KIND_CODES.get(data.removeprefix("tjek:")) or pending.kind
    if kind is None:
        kind = service.guess_kind(pending.text)
    if kind is None:
        await query.message.reply_html(draft_texts.ASK_KIND, reply_markup=handlers.keyboard(
            Reply("", draft_texts.kind_keyboard())))
        return
    service.forget(user_id)
    await _check_and_reply(update, context, query.message, pending.text, kind)


async def _start_check(update: Update, context: ContextTypes.DEFAULT_TYPE, message: Message, text: str,
                       kind: str | None) -> None:
    service = drafts(context)
    kind = kind or service.guess_kind(text)
    if kind is None:
        service.hold(update.effective_user.id, text)
        await message.reply_html(draft_texts.ASK_KIND, reply_markup=handlers.keyboard(
            Reply("", draft_texts.kind_keyboard())))
        return
    await _check_and_reply(update, context, message, text, kind)


async def _check_and_reply(update: Update, context: ContextTypes.DEFAULT_TYPE, message: Message, text: str,
                           kind: str) -> None:
    svc = services(context)
    report = await drafts(context).check(text, kind)
    with svc.storage.inbox.update_effects(update.update_id) as fresh:
        if fresh:
            drafts(context).record(update.effective_user.id, report, svc.campaigns.local_day(svc.clock()))
    reply = draft_texts.render_report(report, svc.knowledge.knowledge)
    await message.reply_html(reply.text, reply_markup=handlers.keyboard(reply))


async def _answer_question(update: Update, context: ContextTypes.DEFAULT_TYPE, message: Message, text: str) -> None:
    """"Nej, svar på det": the pasted text answered as a question, as `handlers.question` does."""
    await handlers.answer_question(update, context, message, text)
