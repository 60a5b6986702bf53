"""The outbox: Bot API calls an action committed to making, recorded in its transaction.

A row is written by whatever handled an update, in the same transaction as its effect
(linli/bot/outbox.py does it for every message sent after the first write), and delivered
after the commit, or after a restart. States: pending -> sending (its request is leaving)
-> sent | failed | unknown (it was on the wire when the process died, and is a new message,
so it is not sent again).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from linli.core.clock import to_iso
from linli.storage.db import Database, Row, Tx

# Calls that change a message already there: making one twice shows the same thing, so an
# edit in flight at a crash is simply made again.
REPEATABLE = frozenset(
    {
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
        "editMessageMedia",
        "deleteMessage",
        "pinChatMessage",
        "unpinChatMessage",
    }
)
MAX_ATTEMPTS = 8


@dataclass(frozen=True, slots=True)
class Recorded:
    """One recorded call, ready to make again."""

    id: int
    chat_id: int | None
    method: str
    params: dict[str, Any]
    attempts: int


def _recorded(row: Row) -> Recorded:
    return Recorded(
        id=row["id"],
        chat_id=row["chat_id"],
        method=row["method"],
        params=json.loads(row["payload"]) if row["payload"] else {},
        attempts=row["attempts"],
    )


async def record(
    tx: Tx, chat_id: int | None, method: str, params: dict[str, Any], now: datetime
) -> int:
    """Write one call into the open transaction; returns its id."""
    return await tx.execute(
        "INSERT INTO outbox (chat_id, method, payload, created_at) VALUES (?, ?, ?, ?)",
        (chat_id, method, json.dumps(params, ensure_ascii=False), to_iso(now)),
    )


async def claim(db: Database, row_id: int, now: datetime) -> bool:
    """Take a pending row for sending, right as its request leaves; False if it was taken
    already (another sender) or is not due."""
    changed = await db.write(
        "UPDATE outbox SET state = 'sending', attempts = attempts + 1, not_before = NULL"
        " WHERE id = ? AND state = 'pending' AND (not_before IS NULL OR not_before <= ?)",
        (row_id, to_iso(now)),
    )
    return changed > 0


# Once a row is done, what it said and to whom are wiped (the outbox is no archive of
# people's messages); only the number Telegram gave the message stays, for later edits.
async def sent(db: Database, row_id: int, message_id: int | None, now: datetime) -> None:
    await db.write(
        "UPDATE outbox SET state = 'sent', sent_at = ?, message_id = ?, error = NULL,"
        " payload = '', chat_id = NULL WHERE id = ?",
        (to_iso(now), message_id, row_id),
    )


async def failed(db: Database, row_id: int, error: str, *, state: str = "failed") -> None:
    """A final no (blocked, chat gone, refused) or `unknown` (may have arrived): never again."""
    await db.write(
        "UPDATE outbox SET state = ?, error = ?, payload = '', chat_id = NULL WHERE id = ?",
        (state, error[:300], row_id),
    )


async def retry_later(db: Database, row_id: int, not_before: datetime, error: str) -> None:
    """It surely did not arrive (a flood wait, no connection): pending again, from then on;
    after too many tries it is given up."""
    await db.write(
        "UPDATE outbox SET state = CASE WHEN attempts >= ? THEN 'failed' ELSE 'pending' END,"
        " not_before = ?, error = ? WHERE id = ?",
        (MAX_ATTEMPTS, to_iso(not_before), error[:300], row_id),
    )


async def due(db: Database, now: datetime, limit: int = 200) -> list[int]:
    """Pending rows whose time has come, oldest first."""
    rows = await db.fetchall(
        "SELECT id FROM outbox WHERE state = 'pending'"
        " AND (not_before IS NULL OR not_before <= ?) ORDER BY id LIMIT ?",
        (to_iso(now), limit),
    )
    return [row["id"] for row in rows]


async def recover(db: Database) -> tuple[int, int]:
    """At start: rows left `sending` by a process that died were on the wire. Edits are made
    again; new messages become `unknown` (never twice). Returns (again, unknown)."""
    async with db.transaction() as tx:
        unknown = await tx.execute(
            "UPDATE outbox SET state = 'unknown', error = 'in flight at a restart'"
            f" WHERE state = 'sending' AND method NOT IN ({_marks(REPEATABLE)})",
            tuple(REPEATABLE),
        )
        again = await tx.execute("UPDATE outbox SET state = 'pending' WHERE state = 'sending'")
    return again, unknown


async def message_ids(db: Database, row_ids: Iterable[int]) -> dict[int, int | None]:
    """The message Telegram made for each recorded send (None while not sent)."""
    wanted = sorted(set(row_ids))
    if not wanted:
        return {}
    rows = await db.fetchall(
        f"SELECT id, message_id FROM outbox WHERE id IN ({_marks(wanted)})", tuple(wanted)
    )
    return {row["id"]: row["message_id"] for row in rows}


async def counts(db: Database) -> dict[str, int]:
    rows = await db.fetchall("SELECT state, count(*) AS n FROM outbox GROUP BY state")
    return {row["state"]: row["n"] for row in rows}


async def prune(db: Database, now: datetime, keep: timedelta = timedelta(days=14)) -> int:
    """Old finished rows that numbered no message; a sent message's number stays, as cards
    posted long ago are still edited through it."""
    return await db.write(
        "DELETE FROM outbox WHERE state IN ('sent', 'failed', 'unknown')"
        " AND created_at < ? AND message_id IS NULL",
        (to_iso(now - keep),),
    )


def _marks(values: Iterable[Any]) -> str:
    return ", ".join("?" for _ in values)


async def get(db: Database, row_id: int) -> Recorded | None:
    """A row still to send (pending), or None."""
    row = await db.fetchone("SELECT * FROM outbox WHERE id = ? AND state = 'pending'", (row_id,))
    return None if row is None else _recorded(row)
