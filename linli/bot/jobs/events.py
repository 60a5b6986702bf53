"""Scheduled work for events: cards due in the groups, card refreshes, notices, reminders.

Each tick asks the database what is due now and records what it sent, so a restart loses
nothing and a second run sends nothing twice.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram.error import BadRequest, Forbidden

from linli.bot.common import chat_of, locale_of, text
from linli.bot.context import LinliContext
from linli.bot.jobs.tick import Tick
from linli.bot.views.events import deliver_notices, mine_markup, publish_due, refresh_cards
from linli.core.events import reminder_due
from linli.storage import events as events_db
from linli.storage import members as members_db

log = logging.getLogger(__name__)


async def send_due_reminders(context: LinliContext) -> None:
    """Each confirmed member's reminders (default 24 h and 1 h before), each exactly once;
    one missed while the bot was down goes out late only if the event has not started."""
    services = context.services
    now = services.now()
    offsets = [timedelta(minutes=m) for m in services.config.events.reminder_offsets_minutes]
    if not offsets:
        return
    for candidate in await events_db.reminder_candidates(services.db, now, max(offsets)):
        event = candidate.event
        since = max(candidate.confirmed_at, event.rescheduled_at or event.created_at)
        send, mark = reminder_due(event.starts_at, since, offsets, candidate.sent, now)
        if send is None:
            continue
        if not await events_db.claim_reminders(
            services.db, event.id, candidate.member_id, mark, now
        ):
            continue
        member = await members_db.get_member(services.db, candidate.member_id)
        chat = await chat_of(services, member)
        if member is None or chat is None or member.blocked:
            continue  # gone, or blocked the bot: nothing is sent to them
        locale = locale_of(member, services)
        markup = mine_markup(context, locale, event)
        try:
            await context.bot.send_message(
                chat,
                text(context, locale, "events/reminder", event=event, minutes=send),
                reply_markup=markup,
            )
        except (Forbidden, BadRequest) as exc:
            log.info("reminder for event %s not delivered: %s", event.id, exc)
        except Exception:
            # A passing failure (network): let the next tick try this reminder again.
            await events_db.release_reminder(services.db, event.id, candidate.member_id, send)
            raise


TICKS: list[Tick] = [publish_due, deliver_notices, refresh_cards, send_due_reminders]
