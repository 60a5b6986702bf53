"""What recognition's handlers share: its button router, who may do what, keys."""

from __future__ import annotations

from typing import TypeVar

from telegram import Update

from linli.bot.buttons import Router
from linli.bot.common import Actor, refuse
from linli.bot.context import LinliContext
from linli.core.outcomes import Refused, RefusedError

ROUTER = Router("ho")
Args = list[str]
T = TypeVar("T")


def checked(value: T | Refused) -> T:
    """A parsed value, or the refusal raised (so one `except` says no to every bad input)."""
    if isinstance(value, Refused):
        raise RefusedError(value)
    return value


async def organizer_or_refuse(update: Update, context: LinliContext, actor: Actor) -> bool:
    """Organizers only, checked at the moment of the action."""
    if not actor.is_organizer:
        await refuse(update, context, actor.locale, Refused("organizers_only"), "honours")
        return False
    return True


def key_of(update: Update, what: str) -> str:
    """An idempotency key for what this message asks: the same message acts once."""
    message = update.effective_message
    chat = update.effective_chat
    return f"{what}:{chat.id if chat else 0}:{message.message_id if message else update.update_id}"


def number(text: str) -> int | None:
    """A selection's or candidate's number as typed ("3" or "#3")."""
    text = text.lstrip("#")
    return int(text) if text.isdigit() and len(text) < 10 else None
