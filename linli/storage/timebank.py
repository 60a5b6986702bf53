"""The time bank's ledger: service logs, and hours moving when one is confirmed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from linli.core.clock import from_iso, to_iso
from linli.core.outcomes import Refused, RefusedError
from linli.core.points import EarnRules, Rule
from linli.core.timebank import (
    HoursEntry,
    LogStatus,
    ServiceLog,
    can_decide,
    can_withdraw,
    format_hours,
    volunteer_points,
    within_floor,
)
from linli.storage import points as points_db
from linli.storage.audit import audit
from linli.storage.db import Database, Row, Tx

Check = Callable[[ServiceLog | None, int, bool], Refused | None]


def _log(row: Row) -> ServiceLog:
    return ServiceLog(
        id=row["id"],
        giver_id=row["giver_id"],
        receiver_id=row["receiver_id"],
        minutes=row["minutes"],
        what=row["what"],
        from_pool=bool(row["from_pool"]),
        status=LogStatus(row["status"]),
        created_at=from_iso(row["created_at"]),
        decided_at=from_iso(row["decided_at"]) if row["decided_at"] else None,
        decided_by=row["decided_by"],
    )


async def log_service(
    db: Database,
    *,
    giver_id: int,
    receiver_id: int,
    minutes: int,
    what: str,
    from_pool: bool,
    now: datetime,
) -> ServiceLog:
    async with db.transaction() as tx:
        return await log_service_in(
            tx, giver_id=giver_id, receiver_id=receiver_id, minutes=minutes, what=what,
            from_pool=from_pool, now=now,
        )  # fmt: skip


async def log_service_in(
    tx: Tx,
    *,
    giver_id: int,
    receiver_id: int,
    minutes: int,
    what: str,
    from_pool: bool,
    now: datetime,
) -> ServiceLog:
    """`log_service` inside the caller's transaction (the directory logs a free service so)."""
    log_id = await tx.execute(
        "INSERT INTO timebank_logs (giver_id, receiver_id, minutes, what, from_pool, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (giver_id, receiver_id, minutes, what, int(from_pool), to_iso(now)),
    )
    log = await get_log(tx, log_id)
    assert log is not None
    return log


async def get_log(db: Database | Tx, log_id: int) -> ServiceLog | None:
    row = await db.fetchone("SELECT * FROM timebank_logs WHERE id = ?", (log_id,))
    return _log(row) if row else None


async def balance(db: Database | Tx, member_id: int) -> Decimal:
    """A member's hours for people ("1.5"), as /me shows them."""
    return Decimal(format_hours(await balance_minutes(db, member_id)))


async def balance_minutes(db: Database | Tx, member_id: int) -> int:
    """A member's hours, in minutes (may be negative down to the floor)."""
    value = await db.scalar(
        "SELECT minutes FROM timebank_balances WHERE member_id = ?", (member_id,)
    )
    return int(value or 0)


async def pool_balance(db: Database | Tx) -> int:
    value = await db.scalar(
        "SELECT COALESCE(SUM(minutes), 0) FROM timebank_entries WHERE member_id IS NULL"
    )
    return int(value)


async def entries_sum(db: Database | Tx, member_id: int) -> int:
    value = await db.scalar(
        "SELECT COALESCE(SUM(minutes), 0) FROM timebank_entries WHERE member_id = ?",
        (member_id,),
    )
    return int(value)


async def _move(tx: Tx, member_id: int | None, minutes: int, log_id: int, now: datetime) -> None:
    await tx.execute(
        "INSERT INTO timebank_entries (member_id, minutes, log_id, created_at) VALUES (?, ?, ?, ?)",
        (member_id, minutes, log_id, to_iso(now)),
    )
    if member_id is not None:
        await tx.execute(
            "INSERT INTO timebank_balances (member_id, minutes) VALUES (?, ?)"
            " ON CONFLICT (member_id) DO UPDATE SET minutes = minutes + excluded.minutes",
            (member_id, minutes),
        )


async def confirm(
    db: Database,
    log_id: int,
    *,
    actor_id: int,
    is_organizer: bool,
    floor_minutes: int,
    rules: EarnRules,
    now: datetime,
) -> tuple[ServiceLog, int]:
    """Move the hours and credit the giver's volunteer points, once; returns (log, points)."""
    async with db.transaction() as tx:
        return await confirm_in(
            tx, log_id, actor_id=actor_id, is_organizer=is_organizer,
            floor_minutes=floor_minutes, rules=rules, now=now,
        )  # fmt: skip


async def confirm_in(
    tx: Tx,
    log_id: int,
    *,
    actor_id: int,
    is_organizer: bool,
    floor_minutes: int,
    rules: EarnRules,
    now: datetime,
) -> tuple[ServiceLog, int]:
    """`confirm` inside the caller's transaction; a refusal raises RefusedError."""
    log = await get_log(tx, log_id)
    refused = can_decide(log, actor_id, is_organizer)
    if refused is not None:
        raise RefusedError(refused)
    assert log is not None
    if not log.from_pool:
        have = await balance_minutes(tx, log.receiver_id)
        if not within_floor(have, log.minutes, floor_minutes):
            raise RefusedError(
                Refused(
                    "below_floor",
                    {"balance": format_hours(have), "floor": format_hours(floor_minutes)},
                )
            )
    await tx.execute(
        "UPDATE timebank_logs SET status = 'confirmed', decided_at = ?, decided_by = ?"
        " WHERE id = ? AND status = 'pending'",
        (to_iso(now), actor_id, log_id),
    )
    await _move(tx, None if log.from_pool else log.receiver_id, -log.minutes, log_id, now)
    await _move(tx, log.giver_id, log.minutes, log_id, now)
    points = await points_db.earn(
        tx,
        member_id=log.giver_id,
        rule=Rule.VOLUNTEER_HOUR,
        reference=log.code,
        key=f"timebank:{log_id}",
        rules=rules,
        now=now,
        amount=volunteer_points(log.minutes, rules.amount_for(Rule.VOLUNTEER_HOUR)),
    )
    if actor_id != log.receiver_id:
        await audit(tx, actor_id, "timebank_confirm", f"log:{log_id}", log.what, now)
    log = await get_log(tx, log_id)
    assert log is not None
    return log, points


async def decline(
    db: Database, log_id: int, *, actor_id: int, is_organizer: bool, now: datetime
) -> ServiceLog:
    return await _end(db, log_id, LogStatus.DECLINED, can_decide, actor_id, is_organizer, now)


async def withdraw(db: Database, log_id: int, *, actor_id: int, now: datetime) -> ServiceLog:
    return await _end(
        db,
        log_id,
        LogStatus.CANCELLED,
        lambda log, a, _o: can_withdraw(log, a),
        actor_id,
        False,
        now,
    )


async def _end(
    db: Database,
    log_id: int,
    status: LogStatus,
    check: Check,
    actor_id: int,
    is_organizer: bool,
    now: datetime,
) -> ServiceLog:
    async with db.transaction() as tx:
        log = await get_log(tx, log_id)
        refused = check(log, actor_id, is_organizer)
        if refused is not None:
            raise RefusedError(refused)
        await tx.execute(
            "UPDATE timebank_logs SET status = ?, decided_at = ?, decided_by = ?"
            " WHERE id = ? AND status = 'pending'",
            (status.value, to_iso(now), actor_id, log_id),
        )
        log = await get_log(tx, log_id)
    assert log is not None
    return log


async def history(db: Database | Tx, member_id: int, limit: int = 10) -> list[HoursEntry]:
    rows = await db.fetchall(
        "SELECT e.log_id, e.minutes, e.created_at, l.what,"
        " CASE WHEN l.giver_id = e.member_id"
        "   THEN CASE WHEN l.from_pool THEN NULL ELSE l.receiver_id END"
        "   ELSE l.giver_id END AS other_id"
        " FROM timebank_entries e JOIN timebank_logs l ON l.id = e.log_id"
        " WHERE e.member_id = ? ORDER BY e.id DESC LIMIT ?",
        (member_id, limit),
    )
    return [
        HoursEntry(r["log_id"], r["minutes"], r["what"], r["other_id"], from_iso(r["created_at"]))
        for r in rows
    ]


async def pending_for(db: Database | Tx, member_id: int, limit: int = 10) -> list[ServiceLog]:
    """Logs waiting on this member: as receiver (to confirm) or as giver (awaiting)."""
    rows = await db.fetchall(
        "SELECT * FROM timebank_logs WHERE status = 'pending'"
        " AND (receiver_id = ? OR giver_id = ?) ORDER BY id DESC LIMIT ?",
        (member_id, member_id, limit),
    )
    return [_log(r) for r in rows]


async def export_hours(
    db: Database | Tx, since: datetime | None
) -> tuple[list[str], list[list[object]]]:
    """Every service log since `since` (all when None), for CSV/XLSX exports."""
    rows = await db.fetchall(
        "SELECT l.id, l.created_at, l.status, l.giver_id, g.name, l.receiver_id, r.name,"
        " l.minutes, ROUND(l.minutes / 60.0, 2), l.what, l.from_pool, l.decided_at, l.decided_by"
        " FROM timebank_logs l JOIN members g ON g.id = l.giver_id"
        " JOIN members r ON r.id = l.receiver_id"
        " WHERE l.created_at >= ? ORDER BY l.id",
        (to_iso(since) if since else "",),
    )
    headers = [
        "id", "created_at", "status", "giver_id", "giver", "receiver_id", "receiver",
        "minutes", "hours", "what", "from_pool", "decided_at", "decided_by",
    ]  # fmt: skip
    return headers, [list(r) for r in rows]
