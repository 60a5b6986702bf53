"""Which Telegram updates were fully handled, so a redelivered one changes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

from linli.core.clock import to_iso
from linli.storage.db import Database


async def was_handled(db: Database, update_id: int) -> bool:
    return (
        await db.scalar("SELECT 1 FROM processed_updates WHERE update_id = ?", (update_id,))
        is not None
    )


async def highest_handled(db: Database) -> int:
    """The highest update id recorded as handled (-1 if none)."""
    value = await db.scalar("SELECT max(update_id) FROM processed_updates")
    return -1 if value is None else int(value)


_MARK = "INSERT OR IGNORE INTO processed_updates (update_id, handled_at) VALUES (?, ?)"


def mark_with_its_writes(db: Database, update_id: int, now: datetime) -> None:
    """Record the update as handled in the same transaction as the first thing handling it
    writes: a crash can then leave neither or both, never the effect without the mark."""
    db.drop_riders()
    db.ride_along(_MARK, (update_id, to_iso(now)))


def settle_mark(db: Database) -> bool:
    """After the update: if handling it wrote nothing, its mark is written with the next
    write of anyone, or by the scheduler's next tick (True then)."""
    return db.defer_riders() > 0


async def prune_handled(db: Database, now: datetime, keep: timedelta = timedelta(days=2)) -> int:
    """Telegram redelivers for at most a day; older ids need not be kept."""
    return await db.write(
        "DELETE FROM processed_updates WHERE handled_at < ?", (to_iso(now - keep),)
    )
