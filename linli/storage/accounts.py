"""Members' accounts on a platform: who ('telegram', '<user id>') is, and how to reach a member.

Core knows members by their own id only; the platform's id for a person lives here, one
account per platform per member, so another platform's adapter can sit beside Telegram's.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from linli.core.clock import to_iso
from linli.storage.db import Database, Tx

TELEGRAM = "telegram"
_CHUNK = 500  # member ids per query (far below SQLite's limit on parameters)


async def member_id_for(db: Database | Tx, platform: str, external_id: str) -> int | None:
    """The member this account belongs to, if any."""
    found = await db.scalar(
        "SELECT member_id FROM accounts WHERE platform = ? AND external_id = ?",
        (platform, external_id),
    )
    return None if found is None else int(found)


async def external_id_of(db: Database | Tx, platform: str, member_id: int) -> str | None:
    """The member's id on the platform (None: no account there, e.g. forgotten)."""
    found = await db.scalar(
        "SELECT external_id FROM accounts WHERE platform = ? AND member_id = ?",
        (platform, member_id),
    )
    return None if found is None else str(found)


async def external_ids(
    db: Database | Tx, platform: str, member_ids: Collection[int] | None = None
) -> dict[int, str]:
    """member id -> id on the platform, for these members (those with an account), or for
    every member with one when `member_ids` is None."""
    if member_ids is None:
        rows = await db.fetchall(
            "SELECT member_id, external_id FROM accounts WHERE platform = ?", (platform,)
        )
        return {r["member_id"]: r["external_id"] for r in rows}
    found: dict[int, str] = {}
    wanted = list(dict.fromkeys(member_ids))
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        rows = await db.fetchall(
            "SELECT member_id, external_id FROM accounts WHERE platform = ?"
            f" AND member_id IN ({','.join('?' * len(chunk))})",
            (platform, *chunk),
        )
        found.update((r["member_id"], r["external_id"]) for r in rows)
    return found


async def add_account(
    tx: Tx, platform: str, external_id: str, member_id: int, now: datetime
) -> None:
    await tx.execute(
        "INSERT INTO accounts (platform, external_id, member_id, created_at) VALUES (?, ?, ?, ?)",
        (platform, external_id, member_id, to_iso(now)),
    )


async def delete_accounts(tx: Tx, member_id: int) -> None:
    """Every account of the member (/forgetme: nothing links the row to a person any more)."""
    await tx.execute("DELETE FROM accounts WHERE member_id = ?", (member_id,))


# --- Telegram's ids are integers; the table keeps every platform's as text ----------------


async def telegram_id_of(db: Database | Tx, member_id: int) -> int | None:
    """The member's Telegram user id (their private chat's id), None when they have none."""
    found = await external_id_of(db, TELEGRAM, member_id)
    return None if found is None else int(found)


async def telegram_ids(
    db: Database | Tx, member_ids: Collection[int] | None = None
) -> dict[int, int]:
    """member id -> Telegram user id, for these members (or all) that have one."""
    return {m: int(t) for m, t in (await external_ids(db, TELEGRAM, member_ids)).items()}
