"""/polls (the open votes I may take part in) and /outcome (an organizer's statement on a result).

Closing polls and posting their results are the scheduler's (linli/bot/jobs/polls.py, through
`views.polls.deliver`).
"""

from __future__ import annotations

from typing import Any

from telegram import Update

from linli.bot.common import Actor, load_actor, refuse, reply
from linli.bot.context import LinliContext
from linli.bot.views import polls as views
from linli.core.outcomes import Refused
from linli.core.polls import eligible, parse_outcome
from linli.storage import polls as polls_db

LIST_LIMIT = 12  # 12 titles of at most 200 characters fit one message


async def on_polls(update: Update, context: LinliContext) -> None:
    """/polls: the open polls this member may vote in, those not yet voted in marked."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    rows = (await _votable(context, actor))[:LIST_LIMIT]
    await reply(update, context, actor.locale, "polls/list", views.list_markup(rows), rows=rows)


async def _votable(context: LinliContext, actor: Actor) -> list[dict[str, Any]]:
    """Each open poll the member may vote in now, and whether they (or their household) did."""
    services = context.services
    rows: list[dict[str, Any]] = []
    for poll in await polls_db.open_polls(services.db):
        if not poll.is_open(services.now()):
            continue
        if eligible(poll, actor.member, services.community) is not None:
            continue
        mine = await polls_db.my_vote(services.db, poll, actor.member)
        rows.append({"poll": poll, "voted": mine is not None})
    return rows


async def on_outcome(update: Update, context: LinliContext) -> None:
    """/outcome <poll> <statement>: an organizer's outcome statement, posted where the result was."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    message, services = update.effective_message, context.services
    text = message.text or "" if message else ""
    parsed = parse_outcome(text) if actor.is_organizer else Refused("organizers_only")
    poll = (
        parsed
        if isinstance(parsed, Refused)
        else await polls_db.set_outcome(services.db, *parsed, actor.member.id, services.now())
    )
    if isinstance(poll, Refused):
        await refuse(update, context, actor.locale, poll, "polls")
        return
    sent = await views.deliver(context, poll, "outcome")
    await reply(update, context, actor.locale, "polls/outcome_posted", poll=poll, groups=sent)
