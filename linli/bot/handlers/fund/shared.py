"""What the fund's handlers share: its button router, who may do what, names, photos."""

from __future__ import annotations

import logging
from typing import Any

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, Forbidden

from linli.bot import common
from linli.bot.buttons import Router
from linli.bot.common import Actor, refuse, text
from linli.bot.context import LinliContext
from linli.bot.views import fund as views
from linli.core.outcomes import Refused

log = logging.getLogger(__name__)

ROUTER = Router("fd")
Args = list[str]


async def organizer_or_refuse(update: Update, context: LinliContext, actor: Actor) -> bool:
    """Organizers only, checked at the moment of the action."""
    return await common.organizer_or_refuse(update, context, actor, "fund")


async def resident_or_refuse(update: Update, context: LinliContext, actor: Actor) -> bool:
    """The books are open to verified residents (and organizers)."""
    if actor.is_organizer or (actor.member.verified and actor.member.household_id is not None):
        return True
    await refuse(update, context, actor.locale, Refused("not_verified"), "fund")
    return False


def values(context: LinliContext, locale: str, **extra: Any) -> dict[str, Any]:
    return {**views.names(context.services, locale), **extra}


def render(context: LinliContext, locale: str, template: str, **extra: Any) -> str:
    return text(context, locale, template, **values(context, locale, **extra))


async def post_photo(
    context: LinliContext,
    chat_id: int,
    photo: str,
    caption: str,
    markup: InlineKeyboardMarkup | None = None,
) -> Message | None:
    """A photo to a chat that may be gone: None, logged, if it cannot be sent."""
    try:
        return await context.bot.send_photo(chat_id, photo, caption=caption, reply_markup=markup)
    except (Forbidden, BadRequest) as exc:
        log.warning("could not post a fund photo to chat %s: %s", chat_id, exc)
        return None
