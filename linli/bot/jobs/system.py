"""Housekeeping: deliver what the outbox still holds (after a restart, a flood wait or a
network error), forget update ids older than Telegram would ever redeliver, old outbox
texts, and drafts abandoned long ago (they may hold what a member typed and never sent)."""

from __future__ import annotations

from datetime import timedelta

from linli.bot import outbox
from linli.bot.context import LinliContext
from linli.bot.jobs import Tick
from linli.storage import drafts as drafts_db
from linli.storage import outbox as outbox_db
from linli.storage import updates as updates_db

DRAFT_KEEP = timedelta(days=7)


async def deliver_outbox(context: LinliContext) -> None:
    services = context.services
    await outbox.deliver_due(context.bot, services.db, services.now)


async def prune_updates(context: LinliContext) -> None:
    await updates_db.prune_handled(context.services.db, context.services.now())
    await outbox_db.prune(context.services.db, context.services.now())


async def prune_drafts(context: LinliContext) -> None:
    await drafts_db.prune_drafts(context.services.db, context.services.now() - DRAFT_KEEP)


TICKS: list[Tick] = [deliver_outbox, prune_updates, prune_drafts]
