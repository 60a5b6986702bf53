"""The tree hole (树洞): /treehole sends an anonymous message to the organizers; they answer
from a button on its card; the sender reads answers with /followup <code> (which also shows
an anonymous hazard report's progress).

Nothing here logs, stores or forwards who wrote a message: the flow's draft is deleted in
the same transaction that saves it, and the WAL is checkpointed right after."""

from __future__ import annotations

import contextlib
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CommandHandler

from linli.bot import flows, outbox
from linli.bot.buttons import Router
from linli.bot.commands import CommandSpec
from linli.bot.common import (
    Actor,
    answer,
    is_private,
    load_actor,
    organizer_or_refuse,
    refuse,
    reply,
)
from linli.bot.context import LinliContext
from linli.bot.views import hazards as hazard_views
from linli.bot.views import treehole as views
from linli.core import hazards as hazard_rules
from linli.core import treehole as rules
from linli.core.hazards import Report
from linli.core.outcomes import Refused, RefusedError
from linli.core.treehole import ReplyDraft, TreeholeDraft, TreeholeMessage
from linli.storage import hazards as hazards_db
from linli.storage import treehole as treehole_db
from linli.storage.drafts import Draft

FEATURE = "treehole"
FLOW = "treehole"
REPLY_FLOW = "threply"
ROUTER = Router("th")


async def say_no(update: Update, context: LinliContext, locale: str, refused: Refused) -> None:
    await reply(
        update, context, locale, "treehole/refused", reason=refused.reason, detail=refused.detail
    )


async def _drop_keyboard(update: Update) -> None:
    query = update.callback_query
    if query is not None:
        with contextlib.suppress(TelegramError):  # already without buttons
            await query.edit_message_reply_markup(None)


# --- Writing a message.


async def on_treehole(update: Update, context: LinliContext) -> None:
    """/treehole: an anonymous message to the organizers (private chat only)."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    if not is_private(update):
        markup = views.private_link(context, actor.locale)
        await reply(update, context, actor.locale, "treehole/go_private", markup)
        return
    await start_treehole(update, context, actor)


async def start_treehole(update: Update, context: LinliContext, actor: Actor) -> None:
    """Ask for the message (also what a `/start treehole` deep link can call)."""
    outbox.keep_off_disk(actor.user.id)  # nothing links the sender to the message
    await flows.start_flow(context, actor.user.id, FLOW, "text")
    markup = views.cancel_markup(context, actor.locale)
    await reply(
        update, context, actor.locale, "treehole/ask", markup, limit=rules.MESSAGE_MAX_CHARS
    )


async def on_treehole_input(
    update: Update, context: LinliContext, actor: Actor, draft: Draft
) -> None:
    """The message (text, or a photo with an optional caption)."""
    outbox.keep_off_disk(actor.user.id)  # nothing links the sender to the message
    message = update.effective_message
    if message is None:
        return
    photo = message.photo[-1].file_id if message.photo else None
    if draft.step != "text":
        await reply(update, context, actor.locale, "treehole/use_buttons")
        return
    if message.text is None and photo is None:
        kind = "sticker" if message.sticker else "other"
        await reply(update, context, actor.locale, "treehole/not_text", kind=kind)
        return
    await _written(update, context, actor, draft, message.text or message.caption, photo)


async def _written(
    update: Update,
    context: LinliContext,
    actor: Actor,
    draft: Draft,
    body: str | None,
    photo: str | None,
) -> None:
    """Keep the message and show it with Send and Cancel."""
    cleaned = rules.clean_message(body, has_photo=photo is not None)
    if isinstance(cleaned, Refused):
        await say_no(update, context, actor.locale, cleaned)
        return
    written = TreeholeDraft(cleaned, photo)
    draft.data = written.to_data()
    await flows.save(context, draft, "confirm")
    await reply(update, context, actor.locale, "treehole/confirm", views.confirm_markup(context, actor.locale),
                body=written.text, photo=written.photo is not None)  # fmt: skip


@ROUTER.on(views.Send)
async def on_send(update: Update, context: LinliContext, actor: Actor, pressed: views.Send) -> None:
    """✅ Send: saved with only the hash of the sender's follow-up code; the card is posted."""
    outbox.keep_off_disk(actor.user.id)  # nothing links the sender to the message
    draft = await flows.current(context, actor.user.id)
    if draft is None or draft.flow != FLOW or draft.step != "confirm":
        await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return
    code = hazard_rules.new_followup_code()
    try:
        message = await _save(context, draft, code)
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, FEATURE)
        return
    await answer(update, context, actor.locale)
    await _drop_keyboard(update)
    await reply(update, context, actor.locale, "treehole/sent", code=code)
    await views.post_card(context, message)


async def _save(context: LinliContext, draft: Draft, code: str) -> TreeholeMessage:
    services, written = context.services, TreeholeDraft.from_data(draft.data)
    message = await treehole_db.create_message(
        services.db, text=written.text, photo=written.photo,
        followup_hash=hazard_rules.followup_hash(code), ending=draft, now=services.now(),
    )  # fmt: skip
    await hazards_db.checkpoint(services.db)  # the finished draft's old pages leave the log
    return message


@ROUTER.on(views.Cancel)
async def on_cancel(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Cancel
) -> None:
    """✖ Cancel: ends the message being written, or a reply."""
    outbox.keep_off_disk(actor.user.id)  # nothing links the sender to the message
    draft = await flows.current(context, actor.user.id)
    if draft is not None and draft.flow in (FLOW, REPLY_FLOW):
        await flows.end_flow(context, actor.user.id, draft.flow)
    await answer(update, context, actor.locale)
    await _drop_keyboard(update)
    await reply(update, context, actor.locale, "treehole/cancelled")


# --- The organizers' replies.


@ROUTER.on(views.Reply)
async def on_reply(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Reply
) -> None:
    """💬 Reply on a card: organizers only; the answer is typed in private."""
    if not await organizer_or_refuse(update, context, actor, FEATURE):
        return
    message = await treehole_db.get_message(context.services.db, pressed.message_id)
    if message is None:
        await refuse(update, context, actor.locale, Refused("unknown_message"), FEATURE)
        return
    markup = views.cancel_markup(context, actor.locale)
    values = {"code": message.code, "body": message.text}
    flow = (REPLY_FLOW, "text", ReplyDraft(message.id).to_data())
    if await flows.ask_privately(
        update, context, actor, flow, FEATURE, "treehole/ask_reply", markup, **values
    ):
        await answer(update, context, actor.locale, "treehole/reply_asked", code=message.code)


async def on_reply_input(update: Update, context: LinliContext, actor: Actor, draft: Draft) -> None:
    """The organizer's answer to a tree-hole message."""
    message = update.effective_message
    if message is None or message.text is None:
        await reply(update, context, actor.locale, "treehole/not_text", kind="other")
        return
    if not actor.is_organizer:
        await flows.end_flow(context, actor.user.id, REPLY_FLOW)
        await say_no(update, context, actor.locale, Refused("organizers_only"))
        return
    updated = await _add_reply(context, actor, draft, message.text)
    if isinstance(updated, Refused):  # the flow stays: write it again
        await say_no(update, context, actor.locale, updated)
        return
    await flows.end_flow(context, actor.user.id, REPLY_FLOW)
    await reply(update, context, actor.locale, "treehole/replied", code=updated.code)
    await views.refresh_cards(context, updated)


async def _add_reply(
    context: LinliContext, actor: Actor, draft: Draft, typed: str
) -> TreeholeMessage | Refused:
    cleaned = rules.clean_reply(typed)
    if isinstance(cleaned, Refused):
        return cleaned
    services, wanted = context.services, ReplyDraft.from_data(draft.data)
    try:
        return await treehole_db.add_reply(
            services.db, wanted.message_id, actor.member.id, cleaned, services.now()
        )
    except RefusedError as exc:
        return exc.refused


# --- /followup: what became of an anonymous report or message.


async def on_followup(update: Update, context: LinliContext) -> None:
    """/followup <code>: an anonymous report's status, or a tree-hole message's replies."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    code = hazard_rules.normalize_followup_code(" ".join(context.args or []))
    if code is None:
        await say_no(update, context, actor.locale, Refused("bad_code"))
        return
    digest, db = hazard_rules.followup_hash(code), context.services.db
    if (report := await hazards_db.report_by_followup(db, digest)) is not None:
        await _followup_report(update, context, actor.locale, report)
    elif (message := await treehole_db.message_by_followup(db, digest)) is not None:
        await _followup_message(update, context, actor.locale, message)
    else:
        await say_no(update, context, actor.locale, Refused("unknown_code"))


async def _followup_report(
    update: Update, context: LinliContext, locale: str, report: Report
) -> None:
    changes = await hazard_views.changes_view(context, report, locale)
    view = hazard_views.report_view(context, report, locale)
    await reply(update, context, locale, "treehole/followup_report", r=view, changes=changes)


async def _followup_message(
    update: Update, context: LinliContext, locale: str, message: TreeholeMessage
) -> None:
    answers = await treehole_db.replies(context.services.db, message.id)
    replies = [{"text": r.text, "when": r.created_at} for r in answers[-3:]]
    await reply(update, context, locale, "treehole/followup_message", code=message.code,
                body=message.text, created_at=message.created_at, replies=replies)  # fmt: skip


flows.register_flow(FLOW, on_treehole_input)
flows.register_flow(REPLY_FLOW, on_reply_input)

HANDLERS: list[BaseHandler[Any, Any, Any]] = [
    CommandHandler("treehole", on_treehole),
    CommandHandler("followup", on_followup),
    ROUTER.handler(),
]
COMMANDS: list[CommandSpec] = [
    CommandSpec("treehole", FEATURE, private=True, group=True),
    CommandSpec("followup", FEATURE),
]

__all__ = ["COMMANDS", "HANDLERS", "start_treehole"]
