"""Housekeeping: deliver what the outbox still holds (after a restart, a flood wait or a
network error), forget update ids older than Telegram would ever redeliver, old outbox
texts, and drafts abandoned long ago (they may hold what a member typed and never sent);
and, if enabled, the daily backup."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from datetime import timedelta
from pathlib import Path

from linli.bot import outbox
from linli.bot.config import Config
from linli.bot.context import LinliContext
from linli.bot.jobs.tick import Tick
from linli.core.broadcasts import backup_due, backups_to_delete
from linli.storage import backup as backup_db
from linli.storage import digest as digest_db
from linli.storage import drafts as drafts_db
from linli.storage import outbox as outbox_db
from linli.storage import updates as updates_db

log = logging.getLogger(__name__)

DRAFT_KEEP = timedelta(days=7)


async def deliver_outbox(context: LinliContext) -> None:
    services = context.services
    await outbox.deliver_due(context.bot, services.db, services.now)


async def prune_updates(context: LinliContext) -> None:
    await updates_db.prune_handled(context.services.db, context.services.now())
    await outbox_db.prune(context.services.db, context.services.now())


async def prune_drafts(context: LinliContext) -> None:
    await drafts_db.prune_drafts(context.services.db, context.services.now() - DRAFT_KEEP)


async def daily_backup(context: LinliContext) -> None:
    """If enabled: once a day, at the configured time, a consistent copy; keep the last N."""
    services = context.services
    settings = services.config.broadcasts
    if not settings.backup_enabled:
        return
    now = services.now()
    last = await digest_db.last_backup_day(services.db)
    day = backup_due(now.astimezone(services.config.tz), settings.backup_time, last)
    if day is None:
        return
    folder = _backup_folder(services.config)
    target = folder / f"linli-daily-{day}.sqlite3"
    if await digest_db.claim_backup(services.db, day, str(target), now):
        await _back_up(context, day, target)


def _backup_folder(config: Config) -> Path:
    folder = Path(config.broadcasts.backup_dir)
    if not folder.is_absolute() and config.source:
        folder = Path(config.source).parent / folder
    return folder


async def _back_up(context: LinliContext, day: str, target: Path) -> None:
    """Copy (claimed for `day`), record the result, and delete the copies past the last N."""
    db, folder = context.services.db, target.parent
    try:
        await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
        size = await backup_db.backup(db, target)
    except (OSError, RuntimeError, sqlite3.Error) as exc:
        log.error("daily backup to %s failed: %s", target, exc)
        await digest_db.finish_backup(db, day, ok=False, size=None, detail=str(exc))
        return
    await digest_db.finish_backup(db, day, ok=True, size=size, detail="")
    names = await asyncio.to_thread(lambda: [p.name for p in folder.iterdir()])
    for name in backups_to_delete(names, context.services.config.broadcasts.backup_keep):
        await asyncio.to_thread((folder / name).unlink, missing_ok=True)


TICKS: list[Tick] = [deliver_outbox, prune_updates, prune_drafts, daily_backup]
