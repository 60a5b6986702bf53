"""Group chats: the bot joining and leaving, /bind and /unbind, /start and /help in groups;
and a member blocking or unblocking the bot in their private chat (the same update kind)."""

from __future__ import annotations

from typing import Any

from telegram import ChatMember, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from linli.bot import callbacks
from linli.bot.commands import CommandSpec
from linli.bot.common import (
    answer,
    building_label,
    deep_link,
    edit,
    keyboard,
    label,
    load_actor,
    refuse,
    reply,
    scope_names,
    text,
)
from linli.bot.context import LinliContext
from linli.core.community import GRANTABLE_ROLES, Binding, Community, NodeKind, Role
from linli.core.members import parse_binding
from linli.core.outcomes import Refused
from linli.storage import groups as groups_db
from linli.storage import members as members_db

F = "g"
_ROLE_ORDER = sorted(GRANTABLE_ROLES, key=lambda r: r.value)


def describe(binding: Binding | None, community: Community) -> dict[str, str]:
    """What a template needs to name a binding (or that there is none)."""
    if binding is None:
        return {"kind": "none", "name": "", "compound": ""}
    return scope_names(binding.kind, binding.target, community)


async def on_my_chat_member(update: Update, context: LinliContext) -> None:
    """The bot was added to or removed from a group (remember it, say hello), or a member
    blocked or unblocked it in their private chat (nothing is sent to them while blocked)."""
    change = update.my_chat_member
    if change is None:
        return
    services = context.services
    status = change.new_chat_member.status
    if change.chat.type == "private":
        blocked = status in (ChatMember.BANNED, ChatMember.LEFT)
        await members_db.set_blocked(services.db, change.chat.id, blocked, services.now())
        return
    if status in (ChatMember.LEFT, ChatMember.BANNED):
        await groups_db.deactivate_group(services.db, change.chat.id, services.now())
        return
    was_in = change.old_chat_member.status not in (ChatMember.LEFT, ChatMember.BANNED)
    await groups_db.upsert_group(
        services.db, change.chat.id, change.chat.title or "", services.now()
    )
    if not was_in:
        locale = services.config.community.default_locale
        await context.bot.send_message(
            change.chat.id, text(context, locale, "groups/hello", link=deep_link(context))
        )


async def on_migrate(update: Update, context: LinliContext) -> None:
    """A group became a supergroup: its id changed, the binding follows."""
    message = update.effective_message
    if message is not None and message.migrate_to_chat_id:
        await groups_db.migrate_group(
            context.services.db, message.chat.id, message.migrate_to_chat_id
        )


async def on_group_start(update: Update, context: LinliContext) -> None:
    """/start or /help in a group: a link to the private chat, and what this group is bound to."""
    actor = await load_actor(update, context)
    chat = update.effective_chat
    if actor is None or chat is None:
        return
    group = await groups_db.get_group(context.services.db, chat.id)
    binding = group.binding if group else None
    await reply(
        update,
        context,
        actor.locale,
        "groups/start_in_group",
        link=deep_link(context),
        bound=describe(binding, context.services.community),
    )


def _kinds_keyboard(context: LinliContext, locale: str) -> Any:
    rows = [
        [(label(context, locale, f"groups.kind_{k.value}"), callbacks.pack(F, "k", k.value))]
        for k in NodeKind
    ]
    return keyboard(rows)


def _targets_keyboard(context: LinliContext, locale: str, kind: NodeKind) -> Any:
    community = context.services.community
    rows: list[list[tuple[str, str]]] = []
    if kind is NodeKind.COMPOUND:
        rows = [
            [(c.title(locale), callbacks.pack(F, "b", "compound", ci, 0))]
            for ci, c in enumerate(community.compounds)
        ]
    elif kind is NodeKind.BUILDING:
        for ci, c in enumerate(community.compounds):
            row = [
                (
                    building_label(context.services, locale, b.id),
                    callbacks.pack(F, "b", "building", ci, bi),
                )
                for bi, b in enumerate(c.buildings)
            ]
            rows += [row[i : i + 3] for i in range(0, len(row), 3)]
    elif kind is NodeKind.ROLE:
        rows = [
            [
                (
                    label(context, locale, f"groups.role_{r.value}"),
                    callbacks.pack(F, "b", "role", ri, 0),
                )
            ]
            for ri, r in enumerate(_ROLE_ORDER)
        ]
    rows.append([(label(context, locale, "groups.back"), callbacks.pack(F, "k", "back"))])
    return keyboard(rows)


async def on_bind(update: Update, context: LinliContext) -> None:
    """/bind [kind target] in a group (organizers): what this group is for."""
    actor = await load_actor(update, context)
    chat = update.effective_chat
    if actor is None or chat is None:
        return
    if not actor.is_organizer:
        await refuse(update, context, actor.locale, Refused("organizers_only"), "groups")
        return
    if chat.type == "private":
        await refuse(update, context, actor.locale, Refused("groups_only"), "groups")
        return
    if not context.args:
        await reply(
            update,
            context,
            actor.locale,
            "groups/bind_choose",
            _kinds_keyboard(context, actor.locale),
        )
        return
    binding = parse_binding(list(context.args), context.services.community, chat.id)
    if isinstance(binding, Refused):
        await refuse(update, context, actor.locale, binding, "groups")
        return
    await _bind(update, context, actor.member.id, actor.locale, binding)


async def _bind(
    update: Update, context: LinliContext, by: int, locale: str, binding: Binding
) -> None:
    chat = update.effective_chat
    assert chat is not None
    services = context.services
    await groups_db.bind_group(services.db, chat.id, chat.title or "", binding, by, services.now())
    body = text(context, locale, "groups/bound", bound=describe(binding, services.community))
    if update.callback_query is not None:
        await answer(update, context, locale)
        await edit(update.callback_query, body)
    else:
        await context.bot.send_message(chat.id, body)


async def on_bind_button(update: Update, context: LinliContext) -> None:
    """The /bind keyboard; the organizer check happens again at every press."""
    query = update.callback_query
    actor = await load_actor(update, context)
    chat = update.effective_chat
    if query is None or actor is None or chat is None:
        return
    if not actor.is_organizer:
        await refuse(update, context, actor.locale, Refused("organizers_only"), "groups")
        return
    community = context.services.community
    action = callbacks.action_of(query.data, F)
    if action == "k":
        parsed = callbacks.unpack(query.data, F, str)
        choice = parsed[1] if parsed else ""
        if choice == "back":
            await answer(update, context, actor.locale)
            await edit(
                query,
                text(context, actor.locale, "groups/bind_choose"),
                _kinds_keyboard(context, actor.locale),
            )
        elif choice == NodeKind.COMMUNITY.value:
            await _bind(
                update,
                context,
                actor.member.id,
                actor.locale,
                Binding(chat.id, NodeKind.COMMUNITY, ""),
            )
        elif choice in {k.value for k in NodeKind}:
            await answer(update, context, actor.locale)
            await edit(
                query,
                text(context, actor.locale, "groups/bind_target", kind=choice),
                _targets_keyboard(context, actor.locale, NodeKind(choice)),
            )
        else:
            await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return
    parsed = callbacks.unpack(query.data, F, str, int, int)
    binding = (
        _binding_from_indexes(parsed, community, chat.id) if parsed and parsed[0] == "b" else None
    )
    if binding is None:
        await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return
    await _bind(update, context, actor.member.id, actor.locale, binding)


def _binding_from_indexes(
    parsed: tuple[Any, ...], community: Community, chat_id: int
) -> Binding | None:
    _, kind, first, second = parsed
    if kind == "compound" and 0 <= first < len(community.compounds):
        return Binding(chat_id, NodeKind.COMPOUND, community.compounds[first].id)
    if kind == "building" and 0 <= first < len(community.compounds):
        buildings = community.compounds[first].buildings
        if 0 <= second < len(buildings):
            return Binding(chat_id, NodeKind.BUILDING, buildings[second].id)
    if kind == "role" and 0 <= first < len(_ROLE_ORDER):
        return Binding(chat_id, NodeKind.ROLE, _ROLE_ORDER[first].value)
    return None


async def on_unbind(update: Update, context: LinliContext) -> None:
    """/unbind in a group (organizers): the group stops receiving posts."""
    actor = await load_actor(update, context)
    chat = update.effective_chat
    if actor is None or chat is None:
        return
    if not actor.is_organizer:
        await refuse(update, context, actor.locale, Refused("organizers_only"), "groups")
        return
    services = context.services
    changed = await groups_db.unbind_group(services.db, chat.id, actor.member.id, services.now())
    await reply(update, context, actor.locale, "groups/unbound", changed=changed)


HANDLERS: list[BaseHandler[Any, Any, Any]] = [
    ChatMemberHandler(on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER),
    MessageHandler(filters.StatusUpdate.MIGRATE, on_migrate),
    CommandHandler(["start", "help"], on_group_start, filters.ChatType.GROUPS),
    CommandHandler("bind", on_bind),
    CommandHandler("unbind", on_unbind),
    CallbackQueryHandler(on_bind_button, pattern=callbacks.pattern(F)),
]

COMMANDS: list[CommandSpec] = [
    CommandSpec("bind", "groups", private=False, group=True, role=Role.ORGANIZER),
    CommandSpec("unbind", "groups", private=False, group=True, role=Role.ORGANIZER),
]
