"""The tree hole's buttons and cards (a message's card in the organizers' chats)."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import TelegramError

from linli.bot.buttons import button, pack
from linli.bot.common import deep_link, keyboard, label, text
from linli.bot.context import LinliContext
from linli.bot.views.hazards import organizer_chats
from linli.core.treehole import TreeholeMessage
from linli.storage import treehole as treehole_db


@button("th", "send")
@dataclass(frozen=True, slots=True)
class Send:
    """Send the message written (anonymously)."""


@button("th", "cancel")
@dataclass(frozen=True, slots=True)
class Cancel:
    """End the tree hole's flow, or a reply not written yet."""


@button("th", "r")
@dataclass(frozen=True, slots=True)
class Reply:
    """An organizer answers a message (typed in private)."""

    message_id: int


def cancel_markup(context: LinliContext, locale: str) -> InlineKeyboardMarkup:
    return keyboard([[(label(context, locale, "treehole.cancel"), pack(Cancel()))]])


def confirm_markup(context: LinliContext, locale: str) -> InlineKeyboardMarkup:
    return keyboard([
        [(label(context, locale, "treehole.send"), pack(Send()))],
        [(label(context, locale, "treehole.cancel"), pack(Cancel()))],
    ])  # fmt: skip


def private_link(context: LinliContext, locale: str) -> InlineKeyboardMarkup:
    link = InlineKeyboardButton(
        label(context, locale, "treehole.open_private"), url=deep_link(context, "treehole")
    )
    return InlineKeyboardMarkup([[link]])


def card_markup(
    context: LinliContext, message: TreeholeMessage, locale: str
) -> InlineKeyboardMarkup:
    return keyboard([[(label(context, locale, "treehole.reply"), pack(Reply(message.id)))]])


async def card_text(context: LinliContext, message: TreeholeMessage, locale: str) -> str:
    answers = await treehole_db.replies(context.services.db, message.id)
    return text(
        context, locale, "treehole/card", code=message.code, body=message.text,
        created_at=message.created_at, replies=[r.text for r in answers[-3:]], count=len(answers),
    )  # fmt: skip


async def post_card(context: LinliContext, message: TreeholeMessage) -> None:
    """To the organizers' group, or to each organizer if there is none."""
    services = context.services
    group = services.config.organizers.group_chat_id
    default = services.config.community.default_locale
    chats = [(group, default)] if group is not None else await organizer_chats(services)
    for chat_id, locale in chats:
        try:
            if message.photo:
                await context.bot.send_photo(chat_id, message.photo)
            card = await context.bot.send_message(chat_id, await card_text(context, message, locale),
                                                  reply_markup=card_markup(context, message, locale))  # fmt: skip
        except TelegramError:
            continue
        await treehole_db.add_card(services.db, message.id, chat_id, card.message_id)


async def refresh_cards(context: LinliContext, message: TreeholeMessage) -> None:
    """Every card of the message shows its replies so far."""
    default = context.services.config.community.default_locale
    for chat_id, card_id in await treehole_db.cards(context.services.db, message.id):
        try:
            await context.bot.edit_message_text(
                await card_text(context, message, default), chat_id=chat_id, message_id=card_id,
                reply_markup=card_markup(context, message, default),
            )  # fmt: skip
        except TelegramError:
            continue
