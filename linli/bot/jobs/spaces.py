"""Shared spaces on the scheduler: reminders, no-shows released, an emergency's planned end.

Each is claimed in the database before it is sent (a reminder's `reminded_at`, a notice's
row in `space_notices`), so a restart or two ticks at once never send one twice; a claim
is given back only when the message surely did not leave (a network error, a flood wait).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram.error import NetworkError, RetryAfter, TimedOut

from linli.bot.common import chat_of, locale_of, text
from linli.bot.context import LinliContext
from linli.bot.jobs.tick import Tick
from linli.bot.views import spaces as views
from linli.storage import groups as groups_db
from linli.storage import members as members_db
from linli.storage import spaces as spaces_db

log = logging.getLogger(__name__)


async def send_reminders(context: LinliContext) -> None:
    """A private reminder before each confirmed booking, once."""
    await views.ensure_spaces(context)  # the config's spaces exist from the first tick on
    services = context.services
    spaces = {s.id: s for s in await spaces_db.list_spaces(services.db, active_only=False)}
    longest = max((s.rules.reminder_minutes for s in spaces.values()), default=0)
    now = services.now()
    for booking in await spaces_db.due_reminders(services.db, now, timedelta(minutes=longest)):
        space = spaces.get(booking.space_id)
        if space is None or booking.starts_at - now > timedelta(
            minutes=space.rules.reminder_minutes
        ):
            continue
        member = await members_db.get_member(services.db, booking.member_id or 0)
        chat = await chat_of(services, member)
        if member is None or chat is None:
            continue
        if not await spaces_db.claim_reminder(services.db, booking.id, now):
            continue
        body = text(
            context, locale_of(member, services), "spaces/reminder", booking=booking, space=space
        )
        try:
            await context.bot.send_message(chat, body)
        except (RetryAfter, NetworkError) as exc:
            if isinstance(exc, TimedOut):
                continue  # it may have arrived: not sent again
            await spaces_db.release_reminder(services.db, booking.id)
        except Exception:
            log.warning("space reminder for booking %s not delivered", booking.id)


async def release_no_shows(context: LinliContext) -> None:
    """Bookings not checked in within their grace: released, the booker told."""
    services = context.services
    spaces = await spaces_db.list_spaces(services.db, active_only=False)
    grace = {s.id: s.rules.checkin_grace_minutes for s in spaces}
    for booking in await spaces_db.release_no_shows(services.db, services.now(), grace):
        member = await members_db.get_member(services.db, booking.member_id or 0)
        chat = await chat_of(services, member)
        if member is None or chat is None:
            continue
        body = text(context, locale_of(member, services), "spaces/no_show", booking=booking)
        try:
            await context.bot.send_message(chat, body)
        except Exception:  # released either way; the note is not worth a retry
            log.info("no-show note for booking %s not delivered", booking.id)


async def post_emergency_ends(context: LinliContext) -> None:
    """An emergency reaching its planned end: the audience's groups hear the space is open again."""
    services = context.services
    now = services.now()
    locale = services.config.community.default_locale
    for emergency in await spaces_db.due_end_notices(services.db, now):
        space = await spaces_db.get_space(services.db, emergency.space_id)
        if space is None or not await spaces_db.claim_notice(
            services.db, emergency.id, "end", 0, now
        ):
            continue
        groups = await groups_db.groups_for_audience(
            services.db, space.audience, services.community
        )
        for group in groups:
            if not await spaces_db.claim_notice(
                services.db, emergency.id, "end", group.chat_id, now
            ):
                continue
            body = text(context, locale, "spaces/emergency_over", space=space, emergency=emergency)
            try:
                await context.bot.send_message(group.chat_id, body)
            except (RetryAfter, NetworkError) as exc:
                if not isinstance(exc, TimedOut):
                    await spaces_db.release_notice(services.db, emergency.id, "end", group.chat_id)
                    await spaces_db.release_notice(services.db, emergency.id, "end", 0)
                continue
            except Exception:
                log.warning("emergency end notice to %s refused", group.chat_id)
                await spaces_db.mark_notice(
                    services.db, emergency.id, "end", group.chat_id, "failed"
                )
                continue
            await spaces_db.mark_notice(services.db, emergency.id, "end", group.chat_id, "sent")
        await spaces_db.mark_notice(services.db, emergency.id, "end", 0, "sent")


TICKS: list[Tick] = [send_reminders, release_no_shows, post_emergency_ends]
