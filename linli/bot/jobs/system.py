"""Housekeeping: forget update ids older than Telegram would ever redeliver, and drafts
abandoned long ago (they may hold what a member typed and never sent)."""

from __future__ import annotations

from datetime import timedelta

from linli.bot.context import LinliContext
from linli.bot.jobs import Tick
from linli.storage import drafts as drafts_db
from linli.storage import updates as updates_db

DRAFT_KEEP = timedelta(days=7)


async def prune_updates(context: LinliContext) -> None:
    await updates_db.prune_handled(context.services.db, context.services.now())


async def prune_drafts(context: LinliContext) -> None:
    await drafts_db.prune_drafts(context.services.db, context.services.now() - DRAFT_KEEP)


TICKS: list[Tick] = [prune_updates, prune_drafts]
