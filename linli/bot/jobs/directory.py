"""The directory on the scheduler: "did the service happen?" asked once after an introduction.

A day after two neighbours are introduced, a requester who has not said whether the service
happened is asked, with the same buttons as the introduction. Each ask is claimed in the
database (`directory_followups`) before it is sent, so a restart or two ticks at once never
ask twice; the claim is given back only when the message surely did not leave (a network
error that is not a timeout, a flood wait).

Providers' notices of new requests are not a job: they are claimed (`directory_notices`,
once a day per provider) in the same unit of work as the request, and their messages are
recorded in the outbox in that transaction, so they too leave exactly once.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram.error import NetworkError, RetryAfter, TimedOut

from linli.bot.common import chat_of, locale_of, text
from linli.bot.context import LinliContext
from linli.bot.jobs.tick import Tick
from linli.bot.views import directory as views
from linli.core.directory import FOLLOWUP_AFTER_HOURS
from linli.storage import directory as directory_db
from linli.storage import members as members_db

log = logging.getLogger(__name__)


async def ask_followups(context: LinliContext) -> None:
    """Introductions a day old with no answer: the requester is asked whether it happened."""
    services = context.services
    now = services.now()
    before = now - timedelta(hours=FOLLOWUP_AFTER_HOURS)
    for match in await directory_db.due_followups(services.db, before):
        if not await directory_db.claim_followup(services.db, match.id, now):
            continue  # another tick took it
        requester = await members_db.get_member(services.db, match.requester_id)
        chat = (
            None if requester is None or requester.blocked else await chat_of(services, requester)
        )
        if requester is None or chat is None:
            continue  # claimed all the same: nobody to ask, and it is not asked again
        locale = locale_of(requester, services)
        body = text(context, locale, "directory/followup", match=match)
        try:
            await context.bot.send_message(
                chat, body, reply_markup=views.happened_markup(context, locale, match)
            )
        except (RetryAfter, NetworkError) as exc:
            if not isinstance(exc, TimedOut):  # a timeout may have arrived: not sent again
                await directory_db.release_followup(services.db, match.id)
        except Exception:
            log.warning("directory follow-up for match %s not delivered", match.id)


TICKS: list[Tick] = [ask_followups]
