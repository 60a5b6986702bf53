"""Writing and sending: the text (and photo), the preview, Send (once) or Cancel."""

from __future__ import annotations

import secrets

from telegram import CallbackQuery, Message, Update
from telegram.constants import MessageEntityType

from linli.bot import flows
from linli.bot.common import Actor, answer, edit, refuse, reply
from linli.bot.context import LinliContext
from linli.bot.handlers.broadcasts.shared import (
    FEATURE,
    FLOW,
    ROUTER,
    cancel,
    current_draft,
    organizers_only,
    query_of,
    save,
    stale,
)
from linli.bot.views import broadcasts as views
from linli.core.broadcasts import (
    CAPTION_LIMIT,
    TEXT_LIMIT,
    BroadcastDraft,
    Target,
    clean_html,
    may_broadcast,
)
from linli.core.outcomes import Refused
from linli.storage import broadcasts as bc_db
from linli.storage.drafts import Draft

# Entities that mean the organizer formatted the text in their Telegram app.
_FORMATTING = {
    MessageEntityType.BOLD,
    MessageEntityType.ITALIC,
    MessageEntityType.UNDERLINE,
    MessageEntityType.STRIKETHROUGH,
    MessageEntityType.SPOILER,
    MessageEntityType.CODE,
    MessageEntityType.PRE,
    MessageEntityType.TEXT_LINK,
    MessageEntityType.BLOCKQUOTE,
    MessageEntityType.EXPANDABLE_BLOCKQUOTE,
}


def _html_of(message: Message) -> str:
    """The organizer's text as HTML: their app's formatting if they used it, else what they typed."""
    entities = message.caption_entities if message.photo else message.entities
    formatted = any(e.type in _FORMATTING for e in entities or ())
    if message.photo:
        return (message.caption_html if formatted else message.caption) or ""
    return (message.text_html if formatted else message.text) or ""


async def on_flow_input(update: Update, context: LinliContext, actor: Actor, draft: Draft) -> None:
    """The text (and optional photo) of the broadcast, then the preview with a Send button."""
    message, chosen = update.effective_message, BroadcastDraft.from_data(draft.data)
    if message is None:
        return
    if draft.step != "text":
        await reply(update, context, actor.locale, "broadcasts/use_buttons")
        return
    refused, target = (
        may_broadcast(actor.member, private=True),
        chosen.target(context.services.community),
    )
    if refused is not None or target is None:
        await flows.end_flow(context, actor.user.id, FLOW)
        await refuse(update, context, actor.locale, refused or Refused("stale"), FEATURE)
        return
    photo = message.photo[-1].file_id if message.photo else None
    cleaned = clean_html(_html_of(message), limit=CAPTION_LIMIT if photo else TEXT_LIMIT)
    if isinstance(cleaned, Refused):
        await refuse(update, context, actor.locale, cleaned, FEATURE)
        return
    chosen.text, chosen.photo, chosen.key = cleaned.html, photo, secrets.token_hex(6)
    await save(context, draft, chosen, "confirm")
    await _send_preview(update, context, actor, chosen, target)


async def _send_preview(
    update: Update, context: LinliContext, actor: Actor, chosen: BroadcastDraft, target: Target
) -> None:
    """The broadcast as its recipients will see it, then who it is for, with Send and Cancel."""
    services, chat_id = context.services, actor.user.id
    count = len(await bc_db.recipients(services.db, target, services.community))
    if chosen.photo:
        await context.bot.send_photo(chat_id, chosen.photo, caption=chosen.text)
    else:
        await context.bot.send_message(chat_id, chosen.text)
    await reply(update, context, actor.locale, "broadcasts/preview",
                views.preview_markup(context, actor.locale, chosen.key, count), count=count,
                **views.audience_values_of(target, services, actor.locale))  # fmt: skip


@ROUTER.on(views.Send)
@organizers_only
async def on_send(update: Update, context: LinliContext, actor: Actor, pressed: views.Send) -> None:
    """Send: create the broadcast and its delivery rows once, turn the card into the progress."""
    found = await current_draft(context, actor, "confirm")
    chosen = found[1] if found else None
    target = chosen.target(context.services.community) if chosen else None
    if chosen is None or target is None or chosen.key != pressed.key:
        await _confirmed_before(update, context, actor, pressed.key)
        return
    created = await _create(context, actor, chosen, target)
    if isinstance(created, Refused):
        await refuse(update, context, actor.locale, created, FEATURE)
        return
    await flows.end_flow(context, actor.user.id, FLOW)
    await answer(update, context, actor.locale, "broadcasts/started", id=created.id)
    await _show_progress(query_of(update), context, actor, created)
    views.start_delivery(context.application, created.id)  # type: ignore[arg-type]


async def _confirmed_before(update: Update, context: LinliContext, actor: Actor, key: str) -> None:
    """A second Send (or one from an old card): say which broadcast it already started."""
    existing = await bc_db.find_by_key(context.services.db, key)
    if existing is None:
        await stale(update, context, actor)
        return
    await refuse(
        update, context, actor.locale, Refused("already_confirmed", {"id": existing}), FEATURE
    )


async def _create(
    context: LinliContext, actor: Actor, chosen: BroadcastDraft, target: Target
) -> bc_db.Broadcast | Refused:
    services = context.services
    return await bc_db.create_broadcast(
        services.db, key=chosen.key, created_by=actor.member.id, locale=actor.locale,
        target=target, text=chosen.text, photo=chosen.photo, now=services.now(),
        recipients=await bc_db.recipients(services.db, target, services.community),
    )  # fmt: skip


async def _show_progress(
    query: CallbackQuery, context: LinliContext, actor: Actor, created: bc_db.Broadcast
) -> None:
    """The confirmation card becomes the progress card (recorded, so delivery edits it)."""
    services = context.services
    progress = views.progress_text(services, actor.locale, created, created.counts, final=False)
    await edit(query, progress)
    if query.message is not None:
        await bc_db.set_progress(
            services.db, created.id, text=progress, now=services.now(),
            chat_id=query.message.chat.id, message_id=query.message.message_id,
        )  # fmt: skip


@ROUTER.on(views.Discard)
@organizers_only
async def on_discard(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Discard
) -> None:
    """Cancel on the preview: nothing is sent."""
    await cancel(update, context, actor, pressed.key)
