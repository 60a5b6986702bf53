"""Group chats: the bot joining and leaving, /bind and /unbind, /start and /help in groups;
and a member blocking or unblocking the bot in their private chat (the same update kind)."""

from __future__ import annotations

from typing import Any

from telegram import Chat, ChatMember, Update
from telegram.ext import BaseHandler, ChatMemberHandler, CommandHandler, MessageHandler, filters

from linli.bot.buttons import Router
from linli.bot.commands import CommandSpec
from linli.bot.common import Actor, answer, deep_link, edit_card, load_actor, refuse, reply, text
from linli.bot.context import LinliContext
from linli.bot.views import groups as views
from linli.core.community import Binding, Role
from linli.core.members import choose_bind_kind, choose_bind_target, parse_binding
from linli.core.outcomes import Refused
from linli.storage import groups as groups_db
from linli.storage import members as members_db


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
        bound=views.describe(binding, context.services.community, actor.locale),
    )


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
        markup = views.kinds_markup(context, actor.locale)
        await reply(update, context, actor.locale, "groups/bind_choose", markup)
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
    bound = views.describe(binding, services.community, locale)
    body = text(context, locale, "groups/bound", bound=bound)
    if update.callback_query is not None:
        await answer(update, context, locale)
        await edit_card(update, body)
    else:
        await context.bot.send_message(chat.id, body)


ROUTER = Router("g")


@ROUTER.on(views.ChooseKind)
async def on_kind(
    update: Update, context: LinliContext, actor: Actor, pressed: views.ChooseKind
) -> None:
    """A kind in the /bind menu: bind the whole community, or show a kind's targets (or back)."""
    chat = await _organizer_chat(update, context, actor)
    chosen = choose_bind_kind(pressed.kind, chat.id) if chat else None
    if chat is None or chosen is None:
        await _stale(update, context, actor, chat)
    elif isinstance(chosen, Binding):
        await _bind(update, context, actor.member.id, actor.locale, chosen)
    else:
        template, markup, values = views.menu(context, actor.locale, chosen)
        await answer(update, context, actor.locale)
        await edit_card(update, text(context, actor.locale, template, **values), markup)


@ROUTER.on(views.ChooseTarget)
async def on_target(
    update: Update, context: LinliContext, actor: Actor, pressed: views.ChooseTarget
) -> None:
    """A compound, building or role team in the /bind menu: bind the group to it."""
    chat = await _organizer_chat(update, context, actor)
    where = (pressed.kind, pressed.first, pressed.second, context.services.community)
    binding = choose_bind_target(*where, chat.id) if chat else None
    if chat is None or binding is None:
        await _stale(update, context, actor, chat)
        return
    await _bind(update, context, actor.member.id, actor.locale, binding)


async def _organizer_chat(update: Update, context: LinliContext, actor: Actor) -> Chat | None:
    """The chat of a /bind menu pressed by an organizer (checked again at every press)."""
    chat = update.effective_chat
    if chat is not None and not actor.is_organizer:
        await refuse(update, context, actor.locale, Refused("organizers_only"), "groups")
        return None
    return chat


async def _stale(update: Update, context: LinliContext, actor: Actor, chat: Chat | None) -> None:
    """A press that does not fit (a refused non-organizer was already answered)."""
    if chat is not None:
        await answer(update, context, actor.locale, "common/stale_button", alert=True)


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
    ROUTER.handler(),
]

COMMANDS: list[CommandSpec] = [
    CommandSpec("bind", "groups", private=False, group=True, role=Role.ORGANIZER),
    CommandSpec("unbind", "groups", private=False, group=True, role=Role.ORGANIZER),
]
