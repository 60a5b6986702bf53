"""The audit log: who did what to which thing, written in the transaction that did it."""

from __future__ import annotations

from datetime import datetime

from linli.core.clock import to_iso
from linli.storage.db import Tx


async def audit(
    tx: Tx, actor_id: int | None, action: str, subject: str, detail: str, now: datetime
) -> None:
    await tx.execute(
        "INSERT INTO audit_log (actor_id, action, subject, detail, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (actor_id, action, subject, detail, to_iso(now)),
    )
