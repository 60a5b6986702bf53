"""A consistent copy of the live database (`linli backup` and the daily backup job)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from linli.storage.db import Database


def _verify_and_place(partial: Path, target: Path) -> int:
    check = sqlite3.connect(partial)
    try:
        verdict = check.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        check.close()
    if verdict != "ok":
        partial.unlink(missing_ok=True)
        raise RuntimeError(f"the copy failed its integrity check: {verdict}")
    partial.replace(target)
    return target.stat().st_size


async def backup(db: Database, target: Path) -> int:
    """Copy the live database to `target` (written next to it, then renamed: never half a file);
    returns its size. Raises RuntimeError if the copy fails SQLite's integrity check."""
    partial = target.with_name(target.name + ".partial")
    await asyncio.to_thread(partial.unlink, missing_ok=True)
    await db.backup_to(partial)
    return await asyncio.to_thread(_verify_and_place, partial, target)
