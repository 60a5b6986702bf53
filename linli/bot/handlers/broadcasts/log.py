"""Looking back: /broadcasts (the log, newest first, with paging) and /broadcasts <id>."""

from __future__ import annotations

from telegram import Update

from linli.bot.common import Actor, answer, edit, refuse, reply
from linli.bot.context import LinliContext
from linli.bot.handlers.broadcasts.shared import (
    FEATURE,
    ROUTER,
    organizer,
    organizers_only,
    query_of,
    stale,
)
from linli.bot.views import broadcasts as views
from linli.core.outcomes import Refused
from linli.storage import broadcasts as bc_db


async def on_broadcasts(update: Update, context: LinliContext) -> None:
    """/broadcasts: the audit log of past broadcasts, newest first; /broadcasts <id>: one in detail."""
    actor = await organizer(update, context)
    if actor is None:
        return
    if context.args:
        await _detail(update, context, actor, context.args[0])
        return
    body, markup = await views.log_page(context, actor.locale, 0)
    await context.bot.send_message(actor.user.id, body, reply_markup=markup)


async def _detail(update: Update, context: LinliContext, actor: Actor, ref: str) -> None:
    """One broadcast: who it was for, its counts and its first problems."""
    db = context.services.db
    broadcast = await bc_db.get_broadcast(db, int(ref)) if ref.isdigit() and len(ref) < 10 else None
    if broadcast is None:
        await refuse(
            update, context, actor.locale, Refused("not_found", {"ref": ref[:20]}), FEATURE
        )
        return
    problems = await bc_db.problems(db, broadcast.id, limit=views.PROBLEMS_SHOWN)
    await reply(update, context, actor.locale, "broadcasts/detail", b=broadcast, problems=problems,
                **views.audience_values(broadcast, context.services, actor.locale))  # fmt: skip


@ROUTER.on(views.Page)
@organizers_only
async def on_page(update: Update, context: LinliContext, actor: Actor, pressed: views.Page) -> None:
    """Newer or older broadcasts in the log."""
    if pressed.offset < 0:
        await stale(update, context, actor)
        return
    body, markup = await views.log_page(context, actor.locale, pressed.offset)
    await answer(update, context, actor.locale)
    await edit(query_of(update), body, markup)
