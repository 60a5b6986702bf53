"""Small helpers every handler shares: who is acting, in which language, and replying."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
    User,
)
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden

from linli.bot.context import LinliContext, Services
from linli.core.community import Community, NodeKind, Role
from linli.core.members import Member, display_name, resolve_locale
from linli.core.outcomes import Refused
from linli.storage import accounts as accounts_db
from linli.storage import members as members_db

log = logging.getLogger(__name__)

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


@dataclass(frozen=True, slots=True)
class Actor:
    """The member behind an update, with their language settled."""

    member: Member
    locale: str
    user: User

    @property
    def is_organizer(self) -> bool:
        return self.member.is_organizer

    def has(self, role: Role) -> bool:
        return self.member.has(role)


def with_config_roles(member: Member, services: Services, user_id: int) -> Member:
    """Organizers named in the config (by Telegram id: `user_id` is the member's) are
    organizers whatever the database says."""
    if user_id in services.config.organizers.user_ids:
        return member.with_roles(frozenset({Role.ORGANIZER}))
    return member


async def chat_of(services: Services, member: Member | None) -> int | None:
    """The member's private chat: their Telegram account's id (None: no member, or no
    account, e.g. forgotten). Core knows members only by their own id."""
    if member is None:
        return None
    return await accounts_db.telegram_id_of(services.db, member.id)


async def with_chats(services: Services, members: Iterable[Member]) -> list[tuple[Member, int]]:
    """The members that have a Telegram account, each with their private chat (one query)."""
    listed = list(members)
    chats = await accounts_db.telegram_ids(services.db, [m.id for m in listed])
    return [(m, chats[m.id]) for m in listed if m.id in chats]


async def actor_for(user: User, services: Services) -> Actor:
    """The member for a Telegram user (created on first contact), and their locale."""
    name = display_name(user.first_name, user.last_name)
    member = await members_db.get_member_by_telegram(services.db, user.id)
    if (
        member is None
        or (member.name, member.username) != (name, user.username)
        or (user.language_code and member.language_code != user.language_code)
    ):
        member = await members_db.ensure_member(
            services.db, user.id, name, user.username, services.now(), user.language_code
        )
    if user.id in services.config.organizers.user_ids and not member.is_organizer:
        # An organizer from the config, seen for the first time: recorded as one.
        await members_db.sync_config_organizers(
            services.db, services.config.organizers.user_ids, services.now()
        )
    member = with_config_roles(member, services, user.id)
    locale = resolve_locale(
        member.locale, user.language_code, services.config.community.default_locale
    )
    return Actor(member, locale, user)


async def load_actor(update: Update, context: LinliContext) -> Actor | None:
    user = update.effective_user
    if user is None or user.is_bot:
        return None
    return await actor_for(user, context.services)


def locale_of(member: Member, services: Services) -> str:
    """The language to write to a member in when they are not the one acting (notices, jobs)."""
    return resolve_locale(
        member.locale, member.language_code, services.config.community.default_locale
    )


def text(context: LinliContext, locale: str, template: str, **values: Any) -> str:
    return context.services.renderer.render(locale, template, **values)


def label(context: LinliContext, locale: str, key: str, **values: Any) -> str:
    return context.services.renderer.label(locale, key, **values)


def is_private(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type == ChatType.PRIVATE


def keyboard(rows: Sequence[Sequence[tuple[str, str]]]) -> InlineKeyboardMarkup:
    """Inline keyboard from rows of (label, callback data)."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(lbl, callback_data=data) for lbl, data in row] for row in rows]
    )


async def reply(
    update: Update,
    context: LinliContext,
    locale: str,
    template: str,
    markup: Markup | None = None,
    **values: Any,
) -> Message | None:
    """Answer in the chat the update came from."""
    chat = update.effective_chat
    if chat is None:
        return None
    return await context.bot.send_message(
        chat.id, text(context, locale, template, **values), reply_markup=markup
    )


async def answer(
    update: Update,
    context: LinliContext,
    locale: str,
    template: str | None = None,
    *,
    alert: bool = False,
    **values: Any,
) -> None:
    """Answer a button tap (a toast, or an alert), swallowing 'query is too old'."""
    query = update.callback_query
    if query is None:
        return
    body = text(context, locale, template, **values) if template else None
    # A query expires after a while (the bot was down); the edit that follows still tells the
    # user. The same refusal comes for a second answer to one press, a bug: logged, and the
    # harness fails any test that does it.
    try:
        await query.answer(body[:200] if body else None, show_alert=alert)
    except BadRequest as exc:
        log.warning("button press %s not answered: %s", query.id, exc)


async def refuse(
    update: Update, context: LinliContext, locale: str, refused: Refused, feature: str
) -> None:
    """Say why not, as a toast for a button or a message for a command: `<feature>/refused`."""
    if update.callback_query is not None:
        await answer(
            update,
            context,
            locale,
            f"{feature}/refused",
            alert=True,
            reason=refused.reason,
            detail=refused.detail,
        )
    else:
        await reply(
            update,
            context,
            locale,
            f"{feature}/refused",
            reason=refused.reason,
            detail=refused.detail,
        )


async def edit(
    query: CallbackQuery, new_text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Edit the message a button sits on; an unchanged edit is not an error for us."""
    try:
        if query.message is not None and getattr(query.message, "photo", None):
            await query.edit_message_caption(new_text, reply_markup=markup)
        else:
            await query.edit_message_text(new_text, reply_markup=markup)
    except BadRequest as exc:
        if "not modified" not in str(exc):
            raise


async def edit_card(
    update: Update, new_text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Edit the message the pressed button sits on (nothing for a command)."""
    if update.callback_query is not None:
        await edit(update.callback_query, new_text, markup)


async def notify(
    context: LinliContext,
    recipient: Member,
    template: str,
    markup: Markup | None = None,
    **values: Any,
) -> bool:
    """A private message to a member in their language; False if they cannot be reached
    (forgotten, or they blocked the bot: then nothing is sent)."""
    chat = None if recipient.blocked else await chat_of(context.services, recipient)
    if chat is None:
        return False
    locale = locale_of(recipient, context.services)
    try:
        await context.bot.send_message(
            chat, text(context, locale, template, **values), reply_markup=markup
        )
    except (Forbidden, BadRequest):
        return False
    return True


async def post(
    context: LinliContext,
    chat_id: int,
    locale: str,
    template: str,
    markup: Markup | None = None,
    **values: Any,
) -> Message | None:
    """A message to a group (or any chat) that may be gone: None, logged, if it cannot be sent."""
    try:
        return await context.bot.send_message(
            chat_id, text(context, locale, template, **values), reply_markup=markup
        )
    except (Forbidden, BadRequest) as exc:
        log.warning("could not post %s to chat %s: %s", template, chat_id, exc)
        return None


def building_label(services: Services, locale: str, building_id: str | None) -> str:
    """A building as people say it: "和苑小区 1号楼", "和苑小区, building 1"."""
    if building_id is None:
        return ""
    building = services.community.building(building_id)
    compound = services.community.compound(building.compound_id) if building else None
    if building is None or compound is None:
        return building_id
    return services.renderer.label(
        locale, "common.building", compound=compound.title(locale), name=building.name
    )


def scope_names(kind: NodeKind, target: str, community: Community, locale: str) -> dict[str, str]:
    """What a template needs to name a binding or an audience in the reader's language: its
    kind, the node's name and, for a building, its compound's name."""
    if kind is NodeKind.COMPOUND:
        compound = community.compound(target)
        name = compound.title(locale) if compound else target
        return {"kind": kind.value, "name": name, "compound": ""}
    if kind is NodeKind.BUILDING:
        building = community.building(target)
        parent = community.compound(building.compound_id) if building else None
        return {
            "kind": kind.value,
            "name": building.name if building else target,
            "compound": parent.title(locale) if parent else "",
        }
    if kind is NodeKind.COMMUNITY:
        return {"kind": kind.value, "name": community.title(locale), "compound": ""}
    return {"kind": kind.value, "name": target, "compound": ""}


def deep_link(context: LinliContext, payload: str = "") -> str:
    suffix = f"?start={payload}" if payload else ""
    return f"https://t.me/{context.bot.username}{suffix}"


async def organizer_or_refuse(
    update: Update, context: LinliContext, actor: Actor, feature: str
) -> bool:
    """Organizers only, checked at the moment of the action (`<feature>/refused` otherwise)."""
    if not actor.is_organizer:
        await refuse(update, context, actor.locale, Refused("organizers_only"), feature)
        return False
    return True


async def load_organizer(update: Update, context: LinliContext, feature: str) -> Actor | None:
    """The organizer behind an update; anyone else is refused (`<feature>/refused`): None."""
    actor = await load_actor(update, context)
    if actor is None or not await organizer_or_refuse(update, context, actor, feature):
        return None
    return actor


def message_key(update: Update, what: str) -> str:
    """An idempotency key for what this message asks: the same message (redelivered, or
    its command repeated) acts once."""
    message = update.effective_message
    chat = update.effective_chat
    return f"{what}:{chat.id if chat else 0}:{message.message_id if message else update.update_id}"


async def stale_button(update: Update, context: LinliContext) -> None:
    """The last callback handler: a button nothing recognises (old, forwarded or forged)."""
    actor = await load_actor(update, context)
    locale = actor.locale if actor else context.services.config.community.default_locale
    await answer(update, context, locale, "common/stale_button", alert=True)
