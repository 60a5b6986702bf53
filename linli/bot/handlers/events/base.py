"""What every events handler module shares: the one router for the "ev" buttons, and the
checks and sends they all make."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from telegram import InlineKeyboardMarkup, Update

from linli.bot.buttons import Router
from linli.bot.common import Actor, refuse, text
from linli.bot.context import LinliContext
from linli.core.events import Event
from linli.core.outcomes import Refused
from linli.storage import events as events_db

FEATURE = "events"  # templates/<locale>/events/, refusals in events/refused
NEW = "newevent"  # the flows' names (kept in drafts)
EDIT = "eventedit"

ROUTER = Router("ev")


async def say_no(update: Update, context: LinliContext, actor: Actor, reason: str) -> None:
    """Refuse with one of events/refused's reasons (no detail)."""
    await refuse(update, context, actor.locale, Refused(reason), FEATURE)


async def said_no(
    update: Update, context: LinliContext, actor: Actor, refused: Refused | None
) -> bool:
    """Refuse if there is a reason to; whether there was."""
    if refused is not None:
        await refuse(update, context, actor.locale, refused, FEATURE)
    return refused is not None


def opens_before(context: LinliContext) -> timedelta:
    """How long before the start check-in opens."""
    return timedelta(minutes=context.services.config.events.checkin_opens_minutes)


async def send_privately(
    context: LinliContext,
    actor: Actor,
    template: str,
    markup: InlineKeyboardMarkup | None = None,
    **values: Any,
) -> None:
    """A message in the actor's private chat (the button may sit in a group)."""
    body = text(context, actor.locale, template, **values)
    await context.bot.send_message(actor.user.id, body, reply_markup=markup)


async def organizer_event(
    update: Update, context: LinliContext, actor: Actor, event_id: int
) -> Event | None:
    """The event a management button names, if the actor organizes (checked now) and it exists."""
    if not actor.is_organizer:
        await say_no(update, context, actor, "not_organizer")
        return None
    event = await events_db.get_event(context.services.db, event_id)
    if event is None:
        await say_no(update, context, actor, "unknown_event")
    return event
