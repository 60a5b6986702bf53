"""Housekeeping: forget update ids older than Telegram would ever redeliver."""

from __future__ import annotations

from linli.bot.context import LinliContext
from linli.bot.jobs import Tick
from linli.storage import updates as updates_db


async def prune_updates(context: LinliContext) -> None:
    await updates_db.prune_handled(context.services.db, context.services.now())


TICKS: list[Tick] = [prune_updates]
