"""/broadcast (audience -> text and photo -> preview -> confirm) and /broadcasts (the audit log)."""

from __future__ import annotations

import secrets
from typing import Any

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.constants import MessageEntityType
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from linli.bot import callbacks, flows
from linli.bot.commands import CommandSpec
from linli.bot.common import (
    Actor,
    answer,
    edit,
    is_private,
    keyboard,
    label,
    load_actor,
    refuse,
    reply,
    text,
)
from linli.bot.context import LinliApp, LinliContext
from linli.bot.jobs import broadcasts as delivery
from linli.core.broadcasts import (
    CAPTION_LIMIT,
    FILTER_ROLES,
    TEAM_ROLES,
    TEXT_LIMIT,
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

FLOW = "broadcast"
PAGE = 8
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


def _q(update: Update) -> CallbackQuery:
    """The tap being handled (every button handler here is one)."""
    assert update.callback_query is not None
    return update.callback_query


async def _organizer(update: Update, context: LinliContext) -> Actor | None:
    """The acting organizer in private chat, or None after saying why not."""
    actor = await load_actor(update, context)
    if actor is None:
        return None
    refused = may_broadcast(actor.member, private=is_private(update))
    if refused is not None:
        await refuse(update, context, actor.locale, refused, "broadcasts")
        return None
    return actor


async def on_broadcast(update: Update, context: LinliContext) -> None:
    """/broadcast: start choosing who the message is for."""
    actor = await _organizer(update, context)
    if actor is None:
        return
    await flows.start_flow(context, actor.user.id, FLOW, "mode")
    await reply(update, context, actor.locale, "broadcasts/choose_mode", _modes(context, actor))


def _modes(context: LinliContext, actor: Actor) -> InlineKeyboardMarkup:
    return keyboard(
        [
            [
                (
                    label(context, actor.locale, "broadcasts.mode_groups"),
                    callbacks.pack("bc", "m", "g"),
                )
            ],
            [
                (
                    label(context, actor.locale, "broadcasts.mode_members"),
                    callbacks.pack("bc", "m", "p"),
                )
            ],
            [(label(context, actor.locale, "broadcasts.cancel"), callbacks.pack("bc", "x"))],
        ]
    )


def _scopes(context: LinliContext, actor: Actor, mode: str) -> InlineKeyboardMarkup:
    community, loc = context.services.community, actor.locale
    rows = [[(label(context, loc, "broadcasts.scope_community"), callbacks.pack("bc", "s", "k"))]]
    for index, compound in enumerate(community.compounds):
        rows.append(
            [
                (
                    label(context, loc, "broadcasts.scope_compound", name=compound.title(loc)),
                    callbacks.pack("bc", "s", f"c{index}"),
                ),
                (
                    label(context, loc, "broadcasts.scope_buildings", name=compound.title(loc)),
                    callbacks.pack("bc", "c", index),
                ),
            ]
        )
    if mode == "g":
        rows += [
            [
                (
                    label(context, loc, f"broadcasts.role_{role.value}"),
                    callbacks.pack("bc", "s", f"r{role.value}"),
                )
            ]
            for role in TEAM_ROLES
        ]
    rows.append([(label(context, loc, "broadcasts.cancel"), callbacks.pack("bc", "x"))])
    return keyboard(rows)


def _buildings(context: LinliContext, actor: Actor, compound_index: int) -> InlineKeyboardMarkup:
    community = context.services.community
    compound = community.compounds[compound_index]
    all_ids = [b.id for b in community.all_buildings()]
    buttons = [
        (b.name, callbacks.pack("bc", "s", f"b{all_ids.index(b.id)}")) for b in compound.buildings
    ]
    rows = [buttons[i : i + 4] for i in range(0, len(buttons), 4)]
    rows.append([(label(context, actor.locale, "broadcasts.cancel"), callbacks.pack("bc", "x"))])
    return keyboard(rows)


def _roles(context: LinliContext, actor: Actor) -> InlineKeyboardMarkup:
    loc = actor.locale
    rows = [[(label(context, loc, "broadcasts.role_all"), callbacks.pack("bc", "r", "all"))]]
    rows += [
        [
            (
                label(context, loc, f"broadcasts.role_{role.value}"),
                callbacks.pack("bc", "r", role.value),
            )
        ]
        for role in FILTER_ROLES
    ]
    rows.append([(label(context, loc, "broadcasts.cancel"), callbacks.pack("bc", "x"))])
    return keyboard(rows)


def target_of(draft: Draft, context: LinliContext) -> Target | None:
    """The audience a draft describes, or None if it no longer parses (config changed)."""
    audience = parse_scope(str(draft.data.get("scope", "")), context.services.community)
    if audience is None:
        return None
    mode = Mode.GROUPS if draft.data.get("mode") == "g" else Mode.MEMBERS
    role = draft.data.get("role")
    return Target(mode, audience, Role(role) if role and mode is Mode.MEMBERS else None)


async def _draft(context: LinliContext, actor: Actor, *steps: str) -> Draft | None:
    draft = await flows.current(context, actor.user.id)
    if draft is None or draft.flow != FLOW or (steps and draft.step not in steps):
        return None
    return draft


async def on_button(update: Update, context: LinliContext) -> None:
    """Every broadcast button: route by action; anything stale or forged changes nothing."""
    action = callbacks.action_of(_q(update).data if update.callback_query else None, "bc")
    handler = _BUTTONS.get(action or "")
    actor = await _organizer(update, context)
    if actor is None:
        return
    if handler is None or not await handler(update, context, actor):
        await answer(update, context, actor.locale, "common/stale_button", alert=True)


async def _on_mode(update: Update, context: LinliContext, actor: Actor) -> bool:
    parsed = callbacks.unpack(_q(update).data, "bc", str)
    draft = await _draft(context, actor, "mode", "scope", "role", "text")
    if parsed is None or parsed[1] not in ("g", "p") or draft is None:
        return False
    draft.data = {"mode": parsed[1]}
    await flows.save(context, draft, "scope")
    await answer(update, context, actor.locale)
    await edit(
        _q(update),
        text(
            context,
            actor.locale,
            "broadcasts/choose_scope",
            mode=parsed[1],
        ),
        _scopes(context, actor, parsed[1]),
    )
    return True


async def _on_compound(update: Update, context: LinliContext, actor: Actor) -> bool:
    parsed = callbacks.unpack(_q(update).data, "bc", int)
    draft = await _draft(context, actor, "scope")
    compounds = context.services.community.compounds
    if parsed is None or draft is None or not 0 <= parsed[1] < len(compounds):
        return False
    await answer(update, context, actor.locale)
    await edit(
        _q(update),
        text(
            context,
            actor.locale,
            "broadcasts/choose_building",
            compound=compounds[parsed[1]].name,
        ),
        _buildings(context, actor, parsed[1]),
    )
    return True


async def _on_scope(update: Update, context: LinliContext, actor: Actor) -> bool:
    parsed = callbacks.unpack(_q(update).data, "bc", str)
    draft = await _draft(context, actor, "scope")
    if (
        parsed is None
        or draft is None
        or parse_scope(parsed[1], context.services.community) is None
    ):
        return False
    draft.data["scope"] = parsed[1]
    if draft.data.get("mode") == "p":
        await flows.save(context, draft, "role")
        await answer(update, context, actor.locale)
        await edit(
            _q(update),
            text(context, actor.locale, "broadcasts/choose_role"),
            _roles(context, actor),
        )
        return True
    return await _ask_text(update, context, actor, draft)


async def _on_role(update: Update, context: LinliContext, actor: Actor) -> bool:
    parsed = callbacks.unpack(_q(update).data, "bc", str)
    draft = await _draft(context, actor, "role")
    if (
        parsed is None
        or draft is None
        or parsed[1] not in {"all", *(r.value for r in FILTER_ROLES)}
    ):
        return False
    draft.data["role"] = None if parsed[1] == "all" else parsed[1]
    return await _ask_text(update, context, actor, draft)


async def _ask_text(update: Update, context: LinliContext, actor: Actor, draft: Draft) -> bool:
    """The audience is chosen: if it reaches nobody say so now, else ask for the text."""
    target = target_of(draft, context)
    if target is None:
        return False
    count = len(await bc_db.recipients(context.services.db, target, context.services.community))
    await answer(update, context, actor.locale)
    values = delivery.audience_values_of(target, context.services)
    if count == 0:
        await edit(
            _q(update),
            text(context, actor.locale, "broadcasts/nobody", **values),
            _scopes(context, actor, str(draft.data.get("mode"))),
        )
        await flows.save(context, draft, "scope")
        return True
    await flows.save(context, draft, "text")
    await edit(
        _q(update),
        text(
            context,
            actor.locale,
            "broadcasts/ask_text",
            count=count,
            limit=TEXT_LIMIT,
            caption_limit=CAPTION_LIMIT,
            **values,
        ),
    )
    return True


def _html_of(message: Message) -> str:
    """The organizer's text as HTML: their app's formatting if they used it, else what they typed."""
    entities = message.caption_entities if message.photo else message.entities
    formatted = any(e.type in _FORMATTING for e in entities or ())
    if message.photo:
        return (message.caption_html if formatted else message.caption) or ""
    return (message.text_html if formatted else message.text) or ""


async def on_flow_input(update: Update, context: LinliContext, actor: Actor, draft: Draft) -> None:
    """The text (and optional photo) of the broadcast, then the preview with a Send button."""
    message = update.effective_message
    if message is None:
        return
    if draft.step != "text":
        await reply(update, context, actor.locale, "broadcasts/use_buttons")
        return
    refused = may_broadcast(actor.member, private=True)
    target = target_of(draft, context)
    if refused is not None or target is None:
        await flows.end_flow(context, actor.user.id, FLOW)
        await refuse(update, context, actor.locale, refused or Refused("stale"), "broadcasts")
        return
    photo = message.photo[-1].file_id if message.photo else None
    cleaned = clean_html(_html_of(message), limit=CAPTION_LIMIT if photo else TEXT_LIMIT)
    if isinstance(cleaned, Refused):
        await refuse(update, context, actor.locale, cleaned, "broadcasts")
        return
    draft.data.update(text=cleaned.html, photo=photo, key=secrets.token_hex(6))
    await flows.save(context, draft, "confirm")
    await _send_preview(update, context, actor, draft, target)


async def _send_preview(
    update: Update, context: LinliContext, actor: Actor, draft: Draft, target: Target
) -> None:
    services, chat_id = context.services, actor.user.id
    count = len(await bc_db.recipients(services.db, target, services.community))
    if draft.data["photo"]:
        await context.bot.send_photo(chat_id, draft.data["photo"], caption=draft.data["text"])
    else:
        await context.bot.send_message(chat_id, draft.data["text"])
    key = draft.data["key"]
    markup = keyboard(
        [
            [
                (
                    label(context, actor.locale, "broadcasts.send", count=count),
                    callbacks.pack("bc", "ok", key),
                ),
                (
                    label(context, actor.locale, "broadcasts.cancel"),
                    callbacks.pack("bc", "no", key),
                ),
            ]
        ]
    )
    await reply(
        update,
        context,
        actor.locale,
        "broadcasts/preview",
        markup,
        count=count,
        **delivery.audience_values_of(target, services),
    )


async def _on_confirm(update: Update, context: LinliContext, actor: Actor) -> bool:
    """Send: create the broadcast and its delivery rows once, turn the card into the progress."""
    query = update.callback_query
    parsed = callbacks.unpack(query.data if query else None, "bc", str)
    if query is None or parsed is None:
        return False
    draft = await _draft(context, actor, "confirm")
    target = target_of(draft, context) if draft is not None else None
    if draft is None or target is None or draft.data.get("key") != parsed[1]:
        return await _confirmed_before(update, context, actor, parsed[1])
    created = await _create(context, actor, draft, target, parsed[1])
    if isinstance(created, Refused):
        await refuse(update, context, actor.locale, created, "broadcasts")
        return True
    await flows.end_flow(context, actor.user.id, FLOW)
    await answer(update, context, actor.locale, "broadcasts/started", id=created.id)
    await _show_progress(query, context, actor, created)
    delivery.start_delivery(context.application, created.id)  # type: ignore[arg-type]
    return True


async def _confirmed_before(update: Update, context: LinliContext, actor: Actor, key: str) -> bool:
    """A second Send (or one from an old card): say which broadcast it already started."""
    existing = await bc_db.find_by_key(context.services.db, key)
    if existing is None:
        return False
    refused = Refused("already_confirmed", {"id": existing})
    await refuse(update, context, actor.locale, refused, "broadcasts")
    return True


async def _create(
    context: LinliContext, actor: Actor, draft: Draft, target: Target, key: str
) -> bc_db.Broadcast | Refused:
    services = context.services
    return await bc_db.create_broadcast(
        services.db,
        key=key,
        created_by=actor.member.id,
        locale=actor.locale,
        target=target,
        text=draft.data["text"],
        photo=draft.data["photo"],
        recipients=await bc_db.recipients(services.db, target, services.community),
        now=services.now(),
    )


async def _show_progress(
    query: CallbackQuery, context: LinliContext, actor: Actor, created: bc_db.Broadcast
) -> None:
    """The confirmation card becomes the progress card (recorded, so delivery edits it)."""
    services = context.services
    progress = delivery.progress_text(services, actor.locale, created, created.counts, final=False)
    await edit(query, progress)
    if query.message is not None:
        await bc_db.set_progress(
            services.db,
            created.id,
            text=progress,
            now=services.now(),
            chat_id=query.message.chat.id,
            message_id=query.message.message_id,
        )


async def _on_cancel(update: Update, context: LinliContext, actor: Actor) -> bool:
    parsed = callbacks.unpack(_q(update).data, "bc", str)
    draft = await _draft(context, actor)
    if draft is None or (parsed is not None and draft.data.get("key") != parsed[1]):
        return False
    await flows.end_flow(context, actor.user.id, FLOW)
    await answer(update, context, actor.locale)
    await edit(_q(update), text(context, actor.locale, "broadcasts/cancelled"))
    return True


async def _on_page(update: Update, context: LinliContext, actor: Actor) -> bool:
    parsed = callbacks.unpack(_q(update).data, "bc", int)
    if parsed is None or parsed[1] < 0:
        return False
    body, markup = await _log_page(context, actor, parsed[1])
    await answer(update, context, actor.locale)
    await edit(_q(update), body, markup)
    return True


_BUTTONS: dict[str, Any] = {
    "m": _on_mode,
    "c": _on_compound,
    "s": _on_scope,
    "r": _on_role,
    "ok": _on_confirm,
    "no": _on_cancel,
    "x": _on_cancel,
    "pg": _on_page,
}


async def _log_page(
    context: LinliContext, actor: Actor, offset: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    services = context.services
    total = await bc_db.count_broadcasts(services.db)
    page = await bc_db.list_broadcasts(services.db, limit=PAGE, offset=offset)
    items = [(b, delivery.audience_values(b, services)) for b in page]
    nav = []
    if offset > 0:
        nav.append(
            (
                label(context, actor.locale, "broadcasts.newer"),
                callbacks.pack("bc", "pg", max(0, offset - PAGE)),
            )
        )
    if offset + PAGE < total:
        nav.append(
            (
                label(context, actor.locale, "broadcasts.older"),
                callbacks.pack("bc", "pg", offset + PAGE),
            )
        )
    body = text(context, actor.locale, "broadcasts/log", items=items, total=total, offset=offset)
    return body, keyboard([nav]) if nav else None


async def on_broadcasts(update: Update, context: LinliContext) -> None:
    """/broadcasts: the audit log of past broadcasts, newest first; /broadcasts <id>: one in detail."""
    actor = await _organizer(update, context)
    if actor is None:
        return
    args = context.args or []
    if args:
        broadcast = (
            await bc_db.get_broadcast(context.services.db, int(args[0]))
            if args[0].isdigit() and len(args[0]) < 10
            else None
        )
        if broadcast is None:
            await refuse(
                update,
                context,
                actor.locale,
                Refused("not_found", {"ref": args[0][:20]}),
                "broadcasts",
            )
            return
        problems = await bc_db.problems(
            context.services.db, broadcast.id, limit=delivery.PROBLEMS_SHOWN
        )
        await reply(
            update,
            context,
            actor.locale,
            "broadcasts/detail",
            b=broadcast,
            problems=problems,
            **delivery.audience_values(broadcast, context.services),
        )
        return
    body, markup = await _log_page(context, actor, 0)
    await context.bot.send_message(actor.user.id, body, reply_markup=markup)


flows.register_flow(FLOW, on_flow_input)

HANDLERS: list[BaseHandler[Any, Any, Any]] = [
    CommandHandler("broadcast", on_broadcast),
    CommandHandler("broadcasts", on_broadcasts),
    CallbackQueryHandler(on_button, pattern=callbacks.pattern("bc")),
]
COMMANDS: list[CommandSpec] = [
    CommandSpec("broadcast", "broadcasts", role=Role.ORGANIZER),
    CommandSpec("broadcasts", "broadcasts", role=Role.ORGANIZER),
]

__all__ = ["COMMANDS", "HANDLERS", "LinliApp"]
