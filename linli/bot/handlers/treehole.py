"""The tree hole (树洞): /treehole sends an anonymous message to the organizers; they answer
from a button on its card; the sender reads answers with /followup <code> (which also shows
an anonymous hazard report's progress).

Nothing here logs, stores or forwards who wrote a message: the flow's draft is deleted in
the same transaction that saves it, and the WAL is checkpointed right after."""

from __future__ import annotations

import contextlib
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from linli.bot import callbacks, flows, outbox
from linli.bot.commands import CommandSpec
from linli.bot.common import (
    Actor,
    answer,
    deep_link,
    is_private,
    keyboard,
    label,
    load_actor,
    refuse,
    reply,
    text,
)
from linli.bot.context import LinliContext
from linli.bot.handlers import hazards as hazards_handlers
from linli.core import hazards as hazard_rules
from linli.core import treehole as rules
from linli.core.community import Role
from linli.core.hazards import Report
from linli.core.outcomes import Refused, RefusedError
from linli.core.treehole import TreeholeMessage
from linli.storage import hazards as hazards_db
from linli.storage import treehole as treehole_db
from linli.storage.drafts import Draft

FEATURE = "treehole"


async def say_no(update: Update, context: LinliContext, locale: str, refused: Refused) -> None:
    await reply(
        update, context, locale, "treehole/refused", reason=refused.reason, detail=refused.detail
    )


def _nav(context: LinliContext, locale: str) -> list[tuple[str, str]]:
    return [(label(context, locale, "treehole.cancel"), callbacks.pack("th", "cancel"))]


async def start_treehole(update: Update, context: LinliContext, actor: Actor) -> None:
    """Ask for the message (also what a `/start treehole` deep link can call)."""
    outbox.keep_off_disk(actor.user.id)  # nothing links the sender to the message
    await flows.start_flow(context, actor.user.id, "treehole", "text")
    await reply(
        update,
        context,
        actor.locale,
        "treehole/ask",
        keyboard([_nav(context, actor.locale)]),
        limit=rules.MESSAGE_MAX_CHARS,
    )


async def on_treehole(update: Update, context: LinliContext) -> None:
    """/treehole: an anonymous message to the organizers (private chat only)."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    if not is_private(update):
        button = InlineKeyboardButton(
            label(context, actor.locale, "treehole.open_private"),
            url=deep_link(context, "treehole"),
        )
        await reply(
            update, context, actor.locale, "treehole/go_private", InlineKeyboardMarkup([[button]])
        )
        return
    await start_treehole(update, context, actor)


async def _confirm(update: Update, context: LinliContext, actor: Actor, draft: Draft) -> None:
    locale = actor.locale
    rows = [
        [(label(context, locale, "treehole.send"), callbacks.pack("th", "send"))],
        _nav(context, locale),
    ]
    await reply(
        update,
        context,
        locale,
        "treehole/confirm",
        keyboard(rows),
        body=draft.data.get("text", ""),
        photo=bool(draft.data.get("photo")),
    )


async def on_treehole_input(
    update: Update, context: LinliContext, actor: Actor, draft: Draft
) -> None:
    """The message (text, or a photo with an optional caption)."""
    outbox.keep_off_disk(actor.user.id)  # nothing links the sender to the message
    message = update.effective_message
    if message is None:
        return
    if draft.step != "text":
        await reply(update, context, actor.locale, "treehole/use_buttons")
        return
    photo = message.photo[-1].file_id if message.photo else None
    if message.text is None and photo is None:
        await reply(
            update,
            context,
            actor.locale,
            "treehole/not_text",
            kind="sticker" if message.sticker else "other",
        )
        return
    cleaned = rules.clean_message(message.text or message.caption, has_photo=photo is not None)
    if isinstance(cleaned, Refused):
        await say_no(update, context, actor.locale, cleaned)
        return
    draft.data.update(text=cleaned, photo=photo)
    await flows.save(context, draft, "confirm")
    await _confirm(update, context, actor, draft)


async def _send(update: Update, context: LinliContext, actor: Actor) -> None:
    services = context.services
    draft = await flows.current(context, actor.user.id)
    if draft is None or draft.flow != "treehole" or draft.step != "confirm":
        await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return
    code = hazard_rules.new_followup_code()
    try:
        message = await treehole_db.create_message(
            services.db,
            text=draft.data.get("text", ""),
            photo=draft.data.get("photo"),
            followup_hash=hazard_rules.followup_hash(code),
            draft_user_id=actor.user.id,
            now=services.now(),
        )
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, FEATURE)
        return
    await hazards_db.checkpoint(services.db)
    await answer(update, context, actor.locale)
    await _drop_keyboard(update)
    await reply(update, context, actor.locale, "treehole/sent", code=code)
    await _post_card(context, message)


async def _drop_keyboard(update: Update) -> None:
    query = update.callback_query
    if query is not None:
        with contextlib.suppress(TelegramError):  # already without buttons
            await query.edit_message_reply_markup(None)


async def _card_text(context: LinliContext, message: TreeholeMessage, locale: str) -> str:
    answers = await treehole_db.replies(context.services.db, message.id)
    return text(
        context,
        locale,
        "treehole/card",
        code=message.code,
        body=message.text,
        created_at=message.created_at,
        replies=[r.text for r in answers[-3:]],
        count=len(answers),
    )


def _card_markup(
    context: LinliContext, message: TreeholeMessage, locale: str
) -> InlineKeyboardMarkup:
    return keyboard(
        [[(label(context, locale, "treehole.reply"), callbacks.pack("th", "r", message.id))]]
    )


async def _post_card(context: LinliContext, message: TreeholeMessage) -> None:
    """To the organizers' group, or to each organizer if there is none."""
    services = context.services
    group = services.config.organizers.group_chat_id
    chats = (
        [(group, services.config.community.default_locale)]
        if group is not None
        else (await hazards_handlers.organizer_chats(services))
    )
    for chat_id, locale in chats:
        try:
            if message.photo:
                await context.bot.send_photo(chat_id, message.photo)
            card = await context.bot.send_message(
                chat_id,
                await _card_text(context, message, locale),
                reply_markup=_card_markup(context, message, locale),
            )
        except TelegramError:
            continue
        await treehole_db.add_card(services.db, message.id, chat_id, card.message_id)


async def _reply_button(
    update: Update, context: LinliContext, actor: Actor, message_id: int
) -> None:
    """Reply on a card: organizers only; the answer is typed in private."""
    if not actor.is_organizer:
        await refuse(update, context, actor.locale, Refused("organizers_only"), FEATURE)
        return
    message = await treehole_db.get_message(context.services.db, message_id)
    if message is None:
        await refuse(update, context, actor.locale, Refused("unknown_message"), FEATURE)
        return
    markup = keyboard([_nav(context, actor.locale)])
    values = {"code": message.code, "body": message.text}
    flow = ("threply", "text", {"mid": message.id})
    if await flows.ask_privately(
        update, context, actor, flow, FEATURE, "treehole/ask_reply", markup, **values
    ):
        await answer(update, context, actor.locale, "treehole/reply_asked", code=message.code)


async def on_reply_input(update: Update, context: LinliContext, actor: Actor, draft: Draft) -> None:
    """The organizer's answer to a tree-hole message."""
    message = update.effective_message
    services = context.services
    if message is None or message.text is None:
        await reply(update, context, actor.locale, "treehole/not_text", kind="other")
        return
    if not actor.is_organizer:
        await flows.end_flow(context, actor.user.id, "threply")
        await say_no(update, context, actor.locale, Refused("organizers_only"))
        return
    cleaned = rules.clean_reply(message.text)
    if isinstance(cleaned, Refused):
        await say_no(update, context, actor.locale, cleaned)
        return
    try:
        updated = await treehole_db.add_reply(
            services.db, int(draft.data["mid"]), actor.member.id, cleaned, services.now()
        )
    except RefusedError as exc:
        await say_no(update, context, actor.locale, exc.refused)
        return
    await flows.end_flow(context, actor.user.id, "threply")
    await reply(update, context, actor.locale, "treehole/replied", code=updated.code)
    await _refresh_cards(context, updated)


async def _refresh_cards(context: LinliContext, message: TreeholeMessage) -> None:
    default = context.services.config.community.default_locale
    for chat_id, card_id in await treehole_db.cards(context.services.db, message.id):
        try:
            await context.bot.edit_message_text(
                await _card_text(context, message, default),
                chat_id=chat_id,
                message_id=card_id,
                reply_markup=_card_markup(context, message, default),
            )
        except TelegramError:
            continue


async def on_button(update: Update, context: LinliContext) -> None:
    """th: buttons: send, cancel, reply."""
    actor = await load_actor(update, context)
    query = update.callback_query
    if actor is None or query is None:
        return
    action = callbacks.action_of(query.data, "th")
    if action in ("send", "cancel"):
        outbox.keep_off_disk(actor.user.id)  # nothing links the sender to the message
    if action == "send" and callbacks.unpack(query.data, "th") is not None:
        await _send(update, context, actor)
    elif action == "cancel" and callbacks.unpack(query.data, "th") is not None:
        draft = await flows.current(context, actor.user.id)
        if draft is not None and draft.flow in ("treehole", "threply"):
            await flows.end_flow(context, actor.user.id, draft.flow)
        await answer(update, context, actor.locale)
        await _drop_keyboard(update)
        await reply(update, context, actor.locale, "treehole/cancelled")
    elif action == "r" and (parsed := callbacks.unpack(query.data, "th", int)):
        await _reply_button(update, context, actor, parsed[1])
    else:
        await answer(update, context, actor.locale, "common/stale_button", alert=True)


async def on_followup(update: Update, context: LinliContext) -> None:
    """/followup <code>: an anonymous report's status, or a tree-hole message's replies."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    code = hazard_rules.normalize_followup_code(" ".join(context.args or []))
    if code is None:
        await say_no(update, context, actor.locale, Refused("bad_code"))
        return
    digest = hazard_rules.followup_hash(code)
    report = await hazards_db.report_by_followup(context.services.db, digest)
    if report is not None:
        await _followup_report(update, context, actor.locale, report)
        return
    message = await treehole_db.message_by_followup(context.services.db, digest)
    if message is None:
        await say_no(update, context, actor.locale, Refused("unknown_code"))
        return
    await _followup_message(update, context, actor.locale, message)


async def _followup_report(
    update: Update, context: LinliContext, locale: str, report: Report
) -> None:
    history = hazard_rules.visible_changes(await hazards_db.events(context.services.db, report.id))
    changes = [
        {
            "status_name": hazards_handlers.status_name(context, locale, e.status),
            "note": e.note,
            "when": e.created_at,
        }
        for e in history[-5:]
    ]
    view = hazards_handlers.report_view(context, report, locale)
    await reply(update, context, locale, "treehole/followup_report", r=view, changes=changes)


async def _followup_message(
    update: Update, context: LinliContext, locale: str, message: TreeholeMessage
) -> None:
    answers = await treehole_db.replies(context.services.db, message.id)
    await reply(
        update,
        context,
        locale,
        "treehole/followup_message",
        code=message.code,
        body=message.text,
        created_at=message.created_at,
        replies=[{"text": r.text, "when": r.created_at} for r in answers[-3:]],
    )


flows.register_flow("treehole", on_treehole_input)
flows.register_flow("threply", on_reply_input)

HANDLERS: list[BaseHandler[Any, Any, Any]] = [
    CommandHandler("treehole", on_treehole),
    CommandHandler("followup", on_followup),
    CallbackQueryHandler(on_button, pattern=callbacks.pattern("th")),
]
COMMANDS: list[CommandSpec] = [
    CommandSpec("treehole", FEATURE, private=True, group=True),
    CommandSpec("followup", FEATURE),
]

__all__ = ["COMMANDS", "HANDLERS", "Role", "start_treehole"]
