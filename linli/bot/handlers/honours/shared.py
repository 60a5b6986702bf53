"""What recognition's handlers share: its button router, who may do what, keys."""

from __future__ import annotations

from telegram import Update

from linli.bot import common
from linli.bot.buttons import Router
from linli.bot.common import Actor
from linli.bot.context import LinliContext

ROUTER = Router("ho")
Args = list[str]


async def organizer_or_refuse(update: Update, context: LinliContext, actor: Actor) -> bool:
    """Organizers only, checked at the moment of the action."""
    return await common.organizer_or_refuse(update, context, actor, "honours")


def number(text: str) -> int | None:
    """A selection's or candidate's number as typed ("3" or "#3")."""
    text = text.lstrip("#")
    return int(text) if text.isdigit() and len(text) < 10 else None
