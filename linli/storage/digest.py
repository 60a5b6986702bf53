"""Bookkeeping for the scheduler's once-a-day and once-a-week work (backups, the digest)."""

from __future__ import annotations

from datetime import datetime

from linli.core.clock import to_iso
from linli.storage.db import Database


async def last_backup_day(db: Database) -> str | None:
    value = await db.scalar("SELECT max(day) FROM backups")
    return str(value) if value is not None else None


async def claim_backup(db: Database, day: str, path: str, now: datetime) -> bool:
    """Claim the day's backup; False if it was already taken (or tried) that day."""
    changed = await db.write(
        "INSERT OR IGNORE INTO backups (day, path, status, created_at) VALUES (?, ?, 'running', ?)",
        (day, path, to_iso(now)),
    )
    return changed > 0


async def finish_backup(db: Database, day: str, *, ok: bool, size: int | None, detail: str) -> None:
    await db.write(
        "UPDATE backups SET status = ?, bytes = ?, detail = ? WHERE day = ?",
        ("done" if ok else "failed", size, detail[:300], day),
    )
