"""Scheduled work for polls: closing, results, outcome statements, reminders, card refreshes.

Every step asks the database what is due now and records what it did, so a restart or
downtime loses nothing and a second run sends nothing twice.
"""

from __future__ import annotations

import logging
from datetime import datetime

from linli.bot.common import locale_of, notify
from linli.bot.context import LinliContext
from linli.bot.jobs.tick import Tick
from linli.bot.views import polls as views
from linli.bot.views import proposals as proposal_views
from linli.core.polls import Poll, close_due, member_eligible, reminder_due, voter_key
from linli.storage import polls as polls_db
from linli.storage import proposals as proposals_db

log = logging.getLogger(__name__)


async def close_polls(context: LinliContext) -> None:
    """Close every poll whose time has come, counting who was eligible at that moment."""
    services = context.services
    now = services.now()
    for poll in await polls_db.due_to_close(services.db, now):
        if close_due(poll, now):
            count = await polls_db.count_eligible_now(
                services.db, poll.settings, services.community
            )
            if await polls_db.close_poll(services.db, poll.id, count, now):
                log.info("poll %s closed", poll.id)


async def post_cards(context: LinliContext) -> None:
    """Cards whose posting was interrupted (a restart mid-way) reach the remaining groups."""
    for poll in await polls_db.posts_pending(context.services.db, "card"):
        await views.deliver(context, poll, "card")


async def post_results(context: LinliContext) -> None:
    """Each closed poll's result, once to each of the audience's groups and the organizers."""
    for poll in await polls_db.posts_pending(context.services.db, "result"):
        await views.deliver(context, poll, "result")


async def post_outcomes(context: LinliContext) -> None:
    for poll in await polls_db.posts_pending(context.services.db, "outcome"):
        await views.deliver(context, poll, "outcome")


async def send_reminders(context: LinliContext) -> None:
    """Once, `reminder_hours` before closing: a private nudge to eligible members who have not voted."""
    services = context.services
    hours = services.config.polls.reminder_hours
    if hours <= 0:
        return
    now = services.now()
    for poll in await polls_db.reminders_pending(services.db):
        if reminder_due(poll, now, hours):
            await _remind(context, poll, now)
            await polls_db.finish_reminders(services.db, poll.id, now)


async def _remind(context: LinliContext, poll: Poll, now: datetime) -> None:
    """Each eligible member who has not voted (nor their household) hears once."""
    services = context.services
    voted = await polls_db.voter_keys(services.db, poll)
    for member in await polls_db.eligible_members(services.db, poll.settings, services.community):
        if member_eligible(poll.settings, member, services.community) is not None:
            continue
        if voter_key(poll, member) in voted:
            continue
        # Claimed before sending: a crash in between skips one reminder, never repeats one.
        if not await polls_db.claim_reminder(services.db, poll.id, member.id, now):
            continue
        markup = views.reminder_markup(context, locale_of(member, services), poll)
        await notify(context, member, "polls/reminder", markup, poll=poll)


async def refresh_cards(context: LinliContext) -> None:
    """Cards show the latest turnout (and counts): refreshed at most once per tick per poll,
    which keeps edits well inside Telegram's per-group limits however busy the vote."""
    services = context.services
    locale = services.config.community.default_locale
    dirty = await polls_db.dirty_polls(services.db)
    if any(poll.settings.secret for poll in dirty):
        # Each secret vote checkpoints the WAL itself; this catches one a reader held back.
        await polls_db.seal(services.db)
    for poll in dirty:
        await polls_db.clear_dirty(services.db, poll.id)
        current = await polls_db.get_poll(services.db, poll.id)
        if current is None:
            continue
        await views.refresh_cards(context, locale, current)


async def announce_ready_proposals(context: LinliContext) -> None:
    """A proposal that reached its co-signatures while the organizers' notice failed (or the
    bot stopped right then) is announced now."""
    for proposal in await proposals_db.ready_unannounced(context.services.db):
        await proposal_views.post_ready_notice(context, proposal)


TICKS: list[Tick] = [
    announce_ready_proposals,
    close_polls,
    post_cards,
    refresh_cards,
    post_results,
    post_outcomes,
    send_reminders,
]
