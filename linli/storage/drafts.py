"""Multi-step flows in progress, one per private chat, kept across restarts."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from linli.core.clock import to_iso
from linli.storage.db import Database, Tx


@dataclass(slots=True)
class Draft:
    user_id: int
    flow: str
    step: str
    data: dict[str, Any] = field(default_factory=dict)


async def get_draft(db: Database, user_id: int) -> Draft | None:
    row = await db.fetchone("SELECT * FROM drafts WHERE user_id = ?", (user_id,))
    if row is None:
        return None
    return Draft(row["user_id"], row["flow"], row["step"], json.loads(row["data"]))


async def put_draft(db: Database, draft: Draft, now: datetime) -> None:
    await db.write(
        "INSERT INTO drafts (user_id, flow, step, data, updated_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (user_id) DO UPDATE SET flow = excluded.flow, step = excluded.step,"
        " data = excluded.data, updated_at = excluded.updated_at",
        (
            draft.user_id,
            draft.flow,
            draft.step,
            json.dumps(draft.data, ensure_ascii=False),
            to_iso(now),
        ),
    )


async def clear_draft(db: Database, user_id: int, flow: str | None = None) -> bool:
    """End the user's flow (only if it is `flow`, when given); True if one was ended."""
    if flow is None:
        return await db.write("DELETE FROM drafts WHERE user_id = ?", (user_id,)) == 1
    return await db.write("DELETE FROM drafts WHERE user_id = ? AND flow = ?", (user_id, flow)) == 1


async def end_draft(tx: Tx, draft: Draft) -> bool:
    """Inside the caller's transaction, delete this draft (its user's, if still the same
    flow): a flow's last step saves what it made and ends itself at once. True if it was
    there."""
    return (
        await tx.rowcount(
            "DELETE FROM drafts WHERE user_id = ? AND flow = ?", (draft.user_id, draft.flow)
        )
        == 1
    )


async def prune_drafts(db: Database, before: datetime) -> int:
    """Delete flows untouched since `before`; returns how many."""
    return await db.write("DELETE FROM drafts WHERE updated_at < ?", (to_iso(before),))
