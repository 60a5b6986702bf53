"""/broadcast (audience -> text and photo -> preview -> confirm) and /broadcasts (the audit log).

The buttons, keyboards and the delivery are in linli/bot/views/broadcasts.py; resuming a
delivery after a restart is a tick (linli/bot/jobs/broadcasts.py).
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from telegram import CallbackQuery, Message, Update
from telegram.constants import MessageEntityType
from telegram.ext import BaseHandler, CommandHandler

from linli.bot import flows
from linli.bot.buttons import Router
from linli.bot.commands import CommandSpec
from linli.bot.common import Actor, answer, edit, is_private, load_actor, refuse, reply, text
from linli.bot.context import LinliContext
from linli.bot.views import broadcasts as views
from linli.core.broadcasts import (
    CAPTION_LIMIT,
    FILTER_ROLES,
    MODE_CODES,
    TEXT_LIMIT,
    BroadcastDraft,
    Mode,
    Target,
    clean_html,
    may_broadcast,
    parse_scope,
)
from linli.core.community import Role
from linli.core.outcomes import Refused
from linli.storage import broadcasts as bc_db
from linli.storage.drafts import Draft

FEATURE = "broadcasts"
FLOW = "broadcast"
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

ROUTER = Router("bc")
Pressed = TypeVar("Pressed")
ButtonFn = Callable[[Update, LinliContext, Actor, Pressed], Awaitable[None]]


async def _organizer(update: Update, context: LinliContext) -> Actor | None:
    """The acting organizer in private chat, or None after saying why not."""
    actor = await load_actor(update, context)
    if actor is None or await _refused(update, context, actor):
        return None
    return actor


async def _refused(update: Update, context: LinliContext, actor: Actor) -> bool:
    refused = may_broadcast(actor.member, private=is_private(update))
    if refused is not None:
        await refuse(update, context, actor.locale, refused, FEATURE)
    return refused is not None


def _organizers_only(handler: ButtonFn[Pressed]) -> ButtonFn[Pressed]:
    """A broadcast button acts only for an organizer in private chat (others are told why)."""

    @functools.wraps(handler)
    async def checked(
        update: Update, context: LinliContext, actor: Actor, pressed: Pressed
    ) -> None:
        if not await _refused(update, context, actor):
            await handler(update, context, actor, pressed)

    return checked


def _q(update: Update) -> CallbackQuery:
    """The tap being handled (every button handler here is one)."""
    assert update.callback_query is not None
    return update.callback_query


async def _stale(update: Update, context: LinliContext, actor: Actor) -> None:
    await answer(update, context, actor.locale, "common/stale_button", alert=True)


async def _draft(
    context: LinliContext, actor: Actor, *steps: str
) -> tuple[Draft, BroadcastDraft] | None:
    """The organizer's broadcast draft, if it is at one of `steps` (any step if none given)."""
    draft = await flows.current(context, actor.user.id)
    if draft is None or draft.flow != FLOW or (steps and draft.step not in steps):
        return None
    return draft, BroadcastDraft.from_data(draft.data)


async def _save(context: LinliContext, draft: Draft, chosen: BroadcastDraft, step: str) -> None:
    draft.data = chosen.to_data()
    await flows.save(context, draft, step)


# --- choosing who it is for ----------------------------------------------------------------


async def on_broadcast(update: Update, context: LinliContext) -> None:
    """/broadcast: start choosing who the message is for."""
    actor = await _organizer(update, context)
    if actor is None:
        return
    await flows.start_flow(context, actor.user.id, FLOW, "mode")
    await reply(update, context, actor.locale, "broadcasts/choose_mode",
                views.modes_markup(context, actor.locale))  # fmt: skip


@ROUTER.on(views.ChooseMode)
@_organizers_only
async def on_mode(
    update: Update, context: LinliContext, actor: Actor, pressed: views.ChooseMode
) -> None:
    """Groups or private messages: then the audiences."""
    found = await _draft(context, actor, "mode", "scope", "role", "text")
    if pressed.code not in MODE_CODES or found is None:
        await _stale(update, context, actor)
        return
    chosen = BroadcastDraft(mode=MODE_CODES[pressed.code])
    await _save(context, found[0], chosen, "scope")
    await answer(update, context, actor.locale)
    await edit(_q(update), text(context, actor.locale, "broadcasts/choose_scope", mode=pressed.code),
               views.scopes_markup(context, actor.locale, chosen.mode))  # fmt: skip


@ROUTER.on(views.ListBuildings)
@_organizers_only
async def on_list_buildings(
    update: Update, context: LinliContext, actor: Actor, pressed: views.ListBuildings
) -> None:
    """A compound's buildings, in place of the audiences."""
    compounds = context.services.community.compounds
    if await _draft(context, actor, "scope") is None or not 0 <= pressed.index < len(compounds):
        await _stale(update, context, actor)
        return
    name = compounds[pressed.index].title(actor.locale)
    await answer(update, context, actor.locale)
    await edit(_q(update), text(context, actor.locale, "broadcasts/choose_building", compound=name),
               views.buildings_markup(context, actor.locale, pressed.index))  # fmt: skip


@ROUTER.on(views.ChooseScope)
@_organizers_only
async def on_scope(
    update: Update, context: LinliContext, actor: Actor, pressed: views.ChooseScope
) -> None:
    """The audience: for private messages, then a role filter; for groups, the text."""
    found = await _draft(context, actor, "scope")
    if found is None or parse_scope(pressed.token, context.services.community) is None:
        await _stale(update, context, actor)
        return
    draft, chosen = found
    chosen.scope = pressed.token
    if chosen.mode is not Mode.MEMBERS:
        await _ask_text(update, context, actor, draft, chosen)
        return
    await _save(context, draft, chosen, "role")
    await answer(update, context, actor.locale)
    await edit(_q(update), text(context, actor.locale, "broadcasts/choose_role"),
               views.roles_markup(context, actor.locale))  # fmt: skip


@ROUTER.on(views.ChooseRole)
@_organizers_only
async def on_role(
    update: Update, context: LinliContext, actor: Actor, pressed: views.ChooseRole
) -> None:
    """Private messages to everyone in the audience, or only to holders of one role."""
    found = await _draft(context, actor, "role")
    if found is None or pressed.role not in {"all", *(r.value for r in FILTER_ROLES)}:
        await _stale(update, context, actor)
        return
    draft, chosen = found
    chosen.role = None if pressed.role == "all" else Role(pressed.role)
    await _ask_text(update, context, actor, draft, chosen)


async def _ask_text(
    update: Update, context: LinliContext, actor: Actor, draft: Draft, chosen: BroadcastDraft
) -> None:
    """The audience is chosen: if it reaches nobody say so now, else ask for the text."""
    services = context.services
    target = chosen.target(services.community)
    if target is None:
        await _stale(update, context, actor)
        return
    count = len(await bc_db.recipients(services.db, target, services.community))
    await answer(update, context, actor.locale)
    values = views.audience_values_of(target, services, actor.locale)
    if count == 0:
        await edit(_q(update), text(context, actor.locale, "broadcasts/nobody", **values),
                   views.scopes_markup(context, actor.locale, chosen.mode))  # fmt: skip
        await _save(context, draft, chosen, "scope")
        return
    await _save(context, draft, chosen, "text")
    await edit(_q(update), text(context, actor.locale, "broadcasts/ask_text", count=count,
                                limit=TEXT_LIMIT, caption_limit=CAPTION_LIMIT, **values))  # fmt: skip


# --- the text, the preview and sending -----------------------------------------------------


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
    await _save(context, draft, chosen, "confirm")
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
@_organizers_only
async def on_send(update: Update, context: LinliContext, actor: Actor, pressed: views.Send) -> None:
    """Send: create the broadcast and its delivery rows once, turn the card into the progress."""
    found = await _draft(context, actor, "confirm")
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
    await _show_progress(_q(update), context, actor, created)
    views.start_delivery(context.application, created.id)  # type: ignore[arg-type]


async def _confirmed_before(update: Update, context: LinliContext, actor: Actor, key: str) -> None:
    """A second Send (or one from an old card): say which broadcast it already started."""
    existing = await bc_db.find_by_key(context.services.db, key)
    if existing is None:
        await _stale(update, context, actor)
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
@_organizers_only
async def on_discard(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Discard
) -> None:
    """Cancel on the preview: nothing is sent."""
    await _cancel(update, context, actor, pressed.key)


@ROUTER.on(views.Stop)
@_organizers_only
async def on_stop(update: Update, context: LinliContext, actor: Actor, pressed: views.Stop) -> None:
    """Cancel while choosing the audience."""
    await _cancel(update, context, actor, None)


async def _cancel(update: Update, context: LinliContext, actor: Actor, key: str | None) -> None:
    found = await _draft(context, actor)
    if found is None or (key is not None and found[1].key != key):
        await _stale(update, context, actor)
        return
    await flows.end_flow(context, actor.user.id, FLOW)
    await answer(update, context, actor.locale)
    await edit(_q(update), text(context, actor.locale, "broadcasts/cancelled"))


# --- the log -------------------------------------------------------------------------------


async def on_broadcasts(update: Update, context: LinliContext) -> None:
    """/broadcasts: the audit log of past broadcasts, newest first; /broadcasts <id>: one in detail."""
    actor = await _organizer(update, context)
    if actor is None:
        return
    if context.args:
        await _detail(update, context, actor, context.args[0])
        return
    body, markup = await views.log_page(context, actor.locale, 0)
    await context.bot.send_message(actor.user.id, body, reply_markup=markup)


async def _detail(update: Update, context: LinliContext, actor: Actor, ref: str) -> None:
    """One broadcast: who it was for, its counts and its first problems."""
    db = context.services.db
    broadcast = await bc_db.get_broadcast(db, int(ref)) if ref.isdigit() and len(ref) < 10 else None
    if broadcast is None:
        await refuse(
            update, context, actor.locale, Refused("not_found", {"ref": ref[:20]}), FEATURE
        )
        return
    problems = await bc_db.problems(db, broadcast.id, limit=views.PROBLEMS_SHOWN)
    await reply(update, context, actor.locale, "broadcasts/detail", b=broadcast, problems=problems,
                **views.audience_values(broadcast, context.services, actor.locale))  # fmt: skip


@ROUTER.on(views.Page)
@_organizers_only
async def on_page(update: Update, context: LinliContext, actor: Actor, pressed: views.Page) -> None:
    """Newer or older broadcasts in the log."""
    if pressed.offset < 0:
        await _stale(update, context, actor)
        return
    body, markup = await views.log_page(context, actor.locale, pressed.offset)
    await answer(update, context, actor.locale)
    await edit(_q(update), body, markup)


flows.register_flow(FLOW, on_flow_input)

HANDLERS: list[BaseHandler[Any, Any, Any]] = [
    CommandHandler("broadcast", on_broadcast),
    CommandHandler("broadcasts", on_broadcasts),
    ROUTER.handler(),
]
COMMANDS: list[CommandSpec] = [
    CommandSpec("broadcast", "broadcasts", role=Role.ORGANIZER),
    CommandSpec("broadcasts", "broadcasts", role=Role.ORGANIZER),
]
