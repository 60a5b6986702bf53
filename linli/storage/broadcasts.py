"""Broadcasts and their delivery rows: created once, claimed, recorded, resumed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from linli.core.broadcasts import (
    BLOCKED_BEFORE,
    INTERRUPTED,
    Counts,
    DeliveryStatus,
    Mode,
    Target,
    member_recipients,
    reaches_group,
)
from linli.core.clock import from_iso, to_iso
from linli.core.community import Community, Role
from linli.core.members import Audience
from linli.core.outcomes import Refused, RefusedError
from linli.storage import accounts as accounts_db
from linli.storage import groups as groups_db
from linli.storage import members as members_db
from linli.storage.audit import audit
from linli.storage.db import Database, Row, Tx


@dataclass(frozen=True, slots=True)
class Recipient:
    chat_id: int
    member_id: int | None  # None for a group chat


@dataclass(frozen=True, slots=True)
class Broadcast:
    id: int
    created_by: int
    creator_name: str
    locale: str
    target: Target
    text: str
    photo: str | None
    status: str
    progress_chat_id: int | None
    progress_msg_id: int | None
    progress_text: str | None
    progress_at: datetime | None
    created_at: datetime
    finished_at: datetime | None
    counts: Counts


@dataclass(frozen=True, slots=True)
class Delivery:
    id: int
    broadcast_id: int
    chat_id: int
    member_id: int | None
    attempts: int


@dataclass(frozen=True, slots=True)
class Result:
    """What became of one delivery: sent (with the message id), blocked, failed or released."""

    delivery_id: int
    status: DeliveryStatus
    reason: str | None = None
    message_id: int | None = None


async def recipients(db: Database | Tx, target: Target, community: Community) -> list[Recipient]:
    """Who a broadcast to this target reaches right now (every member is read: off the loop,
    outside a transaction)."""
    if isinstance(db, Database):
        db = db.offloaded()
    if target.mode is Mode.GROUPS:
        groups = await groups_db.bound_groups(db)
        return [
            Recipient(g.chat_id, None)
            for g in groups
            if g.binding is not None and reaches_group(target.audience, g.binding, community)
        ]
    members = await members_db.all_members(db)
    chats = await accounts_db.telegram_ids(db)
    return [
        Recipient(chats[m.id], m.id)
        for m in member_recipients(members, target, community)
        if m.id in chats
    ]


async def create_broadcast(
    db: Database,
    *,
    key: str,
    created_by: int,
    locale: str,
    target: Target,
    text: str,
    photo: str | None,
    recipients: Sequence[Recipient],
    now: datetime,
) -> Broadcast | Refused:
    """Record a confirmed broadcast and a pending delivery row per recipient, once per `key`."""
    if not recipients:
        return Refused("nobody")
    try:
        async with db.transaction() as tx:
            existing = await tx.scalar("SELECT id FROM broadcasts WHERE confirm_key = ?", (key,))
            if existing is not None:
                raise RefusedError(Refused("already_confirmed", {"id": existing}))
            broadcast_id = await tx.execute(
                "INSERT INTO broadcasts (confirm_key, created_by, locale, mode, audience, role, text,"
                " photo, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'sending', ?)",
                (
                    key,
                    created_by,
                    locale,
                    target.mode.value,
                    target.audience.encode(),
                    target.role.value if target.role else None,
                    text,
                    photo,
                    to_iso(now),
                ),
            )
            await tx.executemany(
                "INSERT OR IGNORE INTO broadcast_deliveries"
                " (broadcast_id, chat_id, member_id, status, updated_at)"
                " VALUES (?, ?, ?, 'pending', ?)",
                [(broadcast_id, r.chat_id, r.member_id, to_iso(now)) for r in recipients],
            )
            await audit(
                tx,
                created_by,
                "broadcast",
                f"broadcast:{broadcast_id}",
                f"{target.mode.value} {target.audience.encode()} {len(recipients)}",
                now,
            )
    except RefusedError as exc:
        return exc.refused
    created = await get_broadcast(db, broadcast_id)
    assert created is not None
    return created


_COUNTS = ",\n".join(
    f"(SELECT count(*) FROM broadcast_deliveries d WHERE d.broadcast_id = b.id"
    f" AND d.status = '{status.value}') AS n_{status.value}"
    for status in DeliveryStatus
)
_SELECT = f"""
SELECT b.*, COALESCE(m.name, '') AS creator_name,
{_COUNTS}
FROM broadcasts b LEFT JOIN members m ON m.id = b.created_by
"""


def _broadcast(row: Row) -> Broadcast:
    return Broadcast(
        id=row["id"],
        created_by=row["created_by"],
        creator_name=row["creator_name"],
        locale=row["locale"],
        target=Target(
            Mode(row["mode"]),
            Audience.decode(row["audience"]),
            Role(row["role"]) if row["role"] else None,
        ),
        text=row["text"],
        photo=row["photo"],
        status=row["status"],
        progress_chat_id=row["progress_chat_id"],
        progress_msg_id=row["progress_msg_id"],
        progress_text=row["progress_text"],
        progress_at=from_iso(row["progress_at"]) if row["progress_at"] else None,
        created_at=from_iso(row["created_at"]),
        finished_at=from_iso(row["finished_at"]) if row["finished_at"] else None,
        counts=Counts(
            pending=row["n_pending"],
            sending=row["n_sending"],
            sent=row["n_sent"],
            blocked=row["n_blocked"],
            failed=row["n_failed"],
        ),
    )


async def get_broadcast(db: Database | Tx, broadcast_id: int) -> Broadcast | None:
    row = await db.fetchone(_SELECT + " WHERE b.id = ?", (broadcast_id,))
    return _broadcast(row) if row else None


async def find_by_key(db: Database, key: str) -> int | None:
    """The broadcast a preview's Send button created, if it was pressed before."""
    value = await db.scalar("SELECT id FROM broadcasts WHERE confirm_key = ?", (key,))
    return int(value) if value is not None else None


async def list_broadcasts(db: Database, *, limit: int, offset: int = 0) -> list[Broadcast]:
    """The audit log, newest first."""
    rows = await db.fetchall(_SELECT + " ORDER BY b.id DESC LIMIT ? OFFSET ?", (limit, offset))
    return [_broadcast(r) for r in rows]


async def count_broadcasts(db: Database) -> int:
    return int(await db.scalar("SELECT count(*) FROM broadcasts") or 0)


async def sending_broadcasts(db: Database) -> list[int]:
    """Broadcasts still being delivered (also those a restart interrupted)."""
    rows = await db.fetchall("SELECT id FROM broadcasts WHERE status = 'sending' ORDER BY id")
    return [r["id"] for r in rows]


async def counts(db: Database | Tx, broadcast_id: int) -> Counts:
    rows = await db.fetchall(
        "SELECT status, count(*) AS n FROM broadcast_deliveries WHERE broadcast_id = ?"
        " GROUP BY status",
        (broadcast_id,),
    )
    by = {r["status"]: r["n"] for r in rows}
    return Counts(
        pending=by.get("pending", 0),
        sending=by.get("sending", 0),
        sent=by.get("sent", 0),
        blocked=by.get("blocked", 0),
        failed=by.get("failed", 0),
    )


async def interrupt_in_flight(db: Database, broadcast_id: int, now: datetime) -> int:
    """Rows left `sending` by a stop or crash: they may have arrived, so never send them again.

    Call only when no sender for this broadcast runs in this process.
    """
    return await db.write(
        "UPDATE broadcast_deliveries SET status = 'failed', reason = ?, updated_at = ?"
        " WHERE broadcast_id = ? AND status = 'sending'",
        (INTERRUPTED, to_iso(now), broadcast_id),
    )


async def next_pending(
    db: Database, broadcast_id: int, after_id: int, limit: int, now: datetime
) -> list[Delivery]:
    """Up to `limit` pending rows past `after_id`, in order, still pending (not claimed).

    Rows for members who blocked the bot become `blocked` here, without being sent.
    """
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE broadcast_deliveries SET status = 'blocked', reason = ?, updated_at = ?"
            " WHERE broadcast_id = ? AND status = 'pending' AND member_id IN"
            " (SELECT id FROM members WHERE blocked_at IS NOT NULL)",
            (BLOCKED_BEFORE, to_iso(now), broadcast_id),
        )
        rows = await tx.fetchall(
            "SELECT id, broadcast_id, chat_id, member_id, attempts FROM broadcast_deliveries"
            " WHERE broadcast_id = ? AND status = 'pending' AND id > ? ORDER BY id LIMIT ?",
            (broadcast_id, after_id, limit),
        )
    return [
        Delivery(r["id"], r["broadcast_id"], r["chat_id"], r["member_id"], r["attempts"])
        for r in rows
    ]


async def claim(db: Database, delivery_id: int, now: datetime) -> bool:
    """The row's request is leaving now: pending -> sending (in flight); False if it was not
    pending any more (another sender took it)."""
    changed = await db.write(
        "UPDATE broadcast_deliveries SET status = 'sending', attempts = attempts + 1,"
        " updated_at = ? WHERE id = ? AND status = 'pending'",
        (to_iso(now), delivery_id),
    )
    return changed == 1


async def record_results(db: Database, results: Sequence[Result], now: datetime) -> None:
    """Write what became of claimed rows; PENDING puts a row back (a 429 not yet waited out)."""
    if not results:
        return
    async with db.transaction() as tx:
        await tx.executemany(
            "UPDATE broadcast_deliveries SET status = ?, reason = ?, message_id = ?,"
            " updated_at = ? WHERE id = ? AND status = 'sending'",
            [(r.status.value, r.reason, r.message_id, to_iso(now), r.delivery_id) for r in results],
        )


async def set_progress(
    db: Database,
    broadcast_id: int,
    *,
    text: str,
    now: datetime,
    chat_id: int | None = None,
    message_id: int | None = None,
) -> None:
    """Remember what the progress message shows (and where it is, the first time)."""
    await db.write(
        "UPDATE broadcasts SET progress_text = ?, progress_at = ?,"
        " progress_chat_id = COALESCE(?, progress_chat_id),"
        " progress_msg_id = COALESCE(?, progress_msg_id) WHERE id = ?",
        (text, to_iso(now), chat_id, message_id, broadcast_id),
    )


async def finish(db: Database, broadcast_id: int, now: datetime) -> bool:
    """Mark a broadcast done once nothing is pending or in flight; True only the first time."""
    changed = await db.write(
        "UPDATE broadcasts SET status = 'done', finished_at = ? WHERE id = ? AND status = 'sending'"
        " AND NOT EXISTS (SELECT 1 FROM broadcast_deliveries WHERE broadcast_id = ?"
        " AND status IN ('pending', 'sending'))",
        (to_iso(now), broadcast_id, broadcast_id),
    )
    return changed == 1


@dataclass(frozen=True, slots=True)
class Problem:
    chat_id: int
    name: str  # the member's name or the group's title ("" if unknown)
    status: DeliveryStatus
    reason: str


async def problems(db: Database, broadcast_id: int, *, limit: int) -> list[Problem]:
    """Recipients that were not reached, for the organizer's report."""
    rows = await db.fetchall(
        "SELECT d.chat_id, d.status, COALESCE(d.reason, '') AS reason,"
        " COALESCE(m.name, g.title, '') AS name FROM broadcast_deliveries d"
        " LEFT JOIN members m ON m.id = d.member_id LEFT JOIN groups g ON g.chat_id = d.chat_id"
        " WHERE d.broadcast_id = ? AND d.status IN ('blocked', 'failed') ORDER BY d.id LIMIT ?",
        (broadcast_id, limit),
    )
    return [
        Problem(r["chat_id"], r["name"], DeliveryStatus(r["status"]), r["reason"]) for r in rows
    ]


async def delivered_chats(db: Database, broadcast_id: int) -> list[int]:
    rows = await db.fetchall(
        "SELECT chat_id FROM broadcast_deliveries WHERE broadcast_id = ? AND status = 'sent'"
        " ORDER BY id",
        (broadcast_id,),
    )
    return [r["chat_id"] for r in rows]
