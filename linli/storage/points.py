"""The points ledger: append-only entries, the balance kept beside them, never negative.

Every write joins the caller's transaction (`tx`), so a feature awards points in the
same BEGIN IMMEDIATE as the state change that earns them: both happen or neither. Each
entry carries a unique idempotency key; posting a key again changes nothing and returns
what the first post did (like TigerBeetle's transfers).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from linli.core.clock import from_iso, to_iso
from linli.core.outcomes import Refused, RefusedError
from linli.core.points import (
    AMOUNT_MAX,
    EARN_RULES,
    SCORED_RULES,
    EarnRules,
    Entry,
    Period,
    Rule,
    decide_earn,
    local_day,
    period_labels,
)
from linli.storage.audit import audit
from linli.storage.db import Database, Row, Tx

ALL_TIME = Period.ALL.value  # household_period's all-time row ("all")


def _entry(row: Row) -> Entry:
    return Entry(
        id=row["id"],
        member_id=row["member_id"],
        amount=row["amount"],
        rule=row["rule"],
        reason=row["reason"],
        reference=row["reference"],
        key=row["key"],
        actor_id=row["actor_id"],
        created_at=from_iso(row["created_at"]),
    )


async def entry_by_key(db: Database | Tx, key: str) -> Entry | None:
    row = await db.fetchone("SELECT * FROM points_ledger WHERE key = ?", (key,))
    return _entry(row) if row else None


async def _post(
    tx: Tx,
    *,
    member_id: int,
    amount: int,
    rule: str,
    key: str,
    day: str,
    now: datetime,
    reason: str = "",
    reference: str = "",
    actor_id: int | None = None,
) -> Entry:
    """Append one entry and move the balance (and the score) with it, refusing below zero."""
    if abs(amount) > AMOUNT_MAX:
        raise RefusedError(Refused("amount_too_big", {"max": AMOUNT_MAX}))
    await tx.execute(
        "INSERT OR IGNORE INTO points_balances (member_id, balance, score) VALUES (?, 0, 0)",
        (member_id,),
    )
    scored = amount if rule in SCORED_RULES else 0
    moved = await tx.rowcount(
        "UPDATE points_balances SET balance = balance + ?, score = score + ?,"
        " entries = entries + ? WHERE member_id = ? AND balance + ? >= 0",
        (amount, scored, int(amount != 0), member_id, amount),
    )
    if moved != 1:
        have = await tx.scalar(
            "SELECT balance FROM points_balances WHERE member_id = ?", (member_id,)
        )
        raise RefusedError(Refused("not_enough_points", {"balance": have or 0, "need": -amount}))
    entry_id = await tx.execute(
        "INSERT INTO points_ledger (member_id, amount, rule, reason, reference, key, actor_id,"
        " day, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (member_id, amount, rule, reason, reference, key, actor_id, day, to_iso(now)),
    )
    if scored:
        await tx.execute(
            "INSERT INTO points_daily (member_id, day, score) VALUES (?, ?, ?)"
            " ON CONFLICT (member_id, day) DO UPDATE SET score = score + excluded.score",
            (member_id, day, scored),
        )
        for period in period_labels(day):
            await tx.execute(
                "INSERT INTO points_period (period, member_id, score) VALUES (?, ?, ?)"
                " ON CONFLICT (period, member_id) DO UPDATE SET score = score + excluded.score",
                (period, member_id, scored),
            )
        # The member's household's week, month and all-time scores move with theirs.
        await tx.execute(
            "INSERT INTO household_period (period, household_id, score)"
            " SELECT p.period, m.household_id, ? FROM members m,"
            " (SELECT ? AS period UNION ALL SELECT ? UNION ALL SELECT ?) p"
            " WHERE m.id = ? AND m.household_id IS NOT NULL"
            " ON CONFLICT (period, household_id) DO UPDATE SET score = score + excluded.score",
            (scored, *period_labels(day), ALL_TIME, member_id),
        )
    return Entry(entry_id, member_id, amount, rule, reason, reference, key, actor_id, now)


async def move_household_scores(
    tx: Tx, member_id: int, old_household: int | None, new_household: int | None
) -> None:
    """Move a member's week, month and all-time scores from the household they leave to the
    one they join (either may be None), inside the caller's transaction: a household's
    score stays the sum of its current members'. Call it with the member's row changed or
    not; the scores read are the member's own."""
    if old_household == new_household:
        return
    for household, sign in ((old_household, -1), (new_household, 1)):
        if household is None:
            continue
        # (A WHERE clause keeps SQLite's parser from reading ON CONFLICT as a join's ON.)
        await tx.execute(
            "INSERT INTO household_period (period, household_id, score)"
            " SELECT period, ?, ? * score FROM points_period WHERE member_id = ? AND score <> 0"
            " UNION ALL SELECT ?, ?, ? * score FROM points_balances"
            " WHERE member_id = ? AND score <> 0"
            " ON CONFLICT (period, household_id) DO UPDATE SET score = score + excluded.score",
            (household, sign, member_id, ALL_TIME, household, sign, member_id),
        )


async def earn(
    tx: Tx,
    *,
    member_id: int,
    rule: str,
    reference: str,
    key: str,
    rules: EarnRules,
    now: datetime,
    amount: int | None = None,
) -> int:
    """Credit an earn rule's points (or `amount`) within today's cap; returns the points credited.

    Joins the caller's transaction. A repeated `key` changes nothing and returns what the
    first call credited. 0 means the daily cap was reached (the attempt is still recorded).
    """
    if rule not in EARN_RULES:
        raise ValueError(f"not an earn rule: {rule!r}")
    existing = await entry_by_key(tx, key)
    if existing is not None:
        return existing.amount
    day = rules.day_of(now)
    earned_today = 0
    if rules.cap_for(rule) is not None:
        earned_today = int(
            await tx.scalar(
                "SELECT COALESCE(SUM(amount), 0) FROM points_ledger"
                " WHERE member_id = ? AND rule = ? AND day = ?",
                (member_id, rule, day),
            )
        )
    credited = decide_earn(rules, rule, amount, earned_today)
    await _post(
        tx,
        member_id=member_id,
        amount=credited,
        rule=rule,
        key=key,
        day=day,
        now=now,
        reference=reference,
    )
    return credited


async def award(
    tx: Tx,
    *,
    member_id: int,
    amount: int,
    reason: str,
    actor_id: int,
    key: str,
    rules: EarnRules,
    now: datetime,
) -> Entry:
    """An organizer's award (1..award_max, a reason), audited. A repeated key returns the first."""
    return await _by_hand(tx, Rule.AWARD, member_id, amount, reason, actor_id, key, rules, now)


async def deduct(
    tx: Tx,
    *,
    member_id: int,
    amount: int,
    reason: str,
    actor_id: int,
    key: str,
    rules: EarnRules,
    now: datetime,
) -> Entry:
    """An organizer's deduction, audited; refused (RefusedError) if it would go below zero."""
    return await _by_hand(tx, Rule.DEDUCT, member_id, amount, reason, actor_id, key, rules, now)


async def _by_hand(
    tx: Tx,
    rule: Rule,
    member_id: int,
    amount: int,
    reason: str,
    actor_id: int,
    key: str,
    rules: EarnRules,
    now: datetime,
) -> Entry:
    existing = await entry_by_key(tx, key)
    if existing is not None:
        return existing
    if amount <= 0:
        raise RefusedError(Refused("amount_not_positive"))
    if amount > rules.award_max:
        raise RefusedError(Refused("amount_too_big", {"max": rules.award_max}))
    if not reason.strip():
        raise RefusedError(Refused("reason_required"))
    signed = amount if rule is Rule.AWARD else -amount
    entry = await _post(
        tx,
        member_id=member_id,
        amount=signed,
        rule=rule,
        key=key,
        day=rules.day_of(now),
        now=now,
        reason=reason,
        actor_id=actor_id,
    )
    await audit(
        tx, actor_id, f"points_{rule.value}", f"member:{member_id}", f"{signed} {reason}", now
    )
    return entry


async def spend(
    tx: Tx,
    *,
    member_id: int,
    amount: int,
    reference: str,
    key: str,
    now: datetime,
    tz: ZoneInfo,
    rule: str = Rule.REDEEM,
) -> Entry:
    """Hold or spend `amount` points (the shop); RefusedError("not_enough_points") below zero."""
    existing = await entry_by_key(tx, key)
    if existing is not None:
        return existing
    if amount <= 0:
        raise ValueError("spend a positive amount")
    return await _post(
        tx,
        member_id=member_id,
        amount=-amount,
        rule=rule,
        key=key,
        day=local_day(now, tz),
        now=now,
        reference=reference,
    )


async def refund(
    tx: Tx,
    *,
    member_id: int,
    amount: int,
    reference: str,
    key: str,
    now: datetime,
    tz: ZoneInfo,
    actor_id: int | None = None,
) -> Entry:
    """Give back points spent (a cancelled order); a repeated key returns the first refund."""
    existing = await entry_by_key(tx, key)
    if existing is not None:
        return existing
    if amount <= 0:
        raise ValueError("refund a positive amount")
    return await _post(
        tx,
        member_id=member_id,
        amount=amount,
        rule=Rule.REFUND,
        key=key,
        day=local_day(now, tz),
        now=now,
        reference=reference,
        actor_id=actor_id,
    )


# --- Reading.


async def balance(db: Database | Tx, member_id: int) -> int:
    value = await db.scalar("SELECT balance FROM points_balances WHERE member_id = ?", (member_id,))
    return int(value or 0)


async def ledger_sum(db: Database | Tx, member_id: int) -> int:
    """The balance the slow, certain way (tests and the consistency check)."""
    value = await db.scalar(
        "SELECT COALESCE(SUM(amount), 0) FROM points_ledger WHERE member_id = ?", (member_id,)
    )
    return int(value)


async def latest_entries(
    db: Database | Tx, member_id: int, limit: int = 10, offset: int = 0
) -> list[Entry]:
    rows = await db.fetchall(
        "SELECT * FROM points_ledger WHERE member_id = ? AND amount <> 0"
        " ORDER BY id DESC LIMIT ? OFFSET ?",
        (member_id, limit, offset),
    )
    return [_entry(r) for r in rows]


async def count_entries(db: Database | Tx, member_id: int) -> int:
    """Entries with a non-zero amount, kept beside the balance (counting a busy member's
    ledger grew with their history; bench/)."""
    value = await db.scalar("SELECT entries FROM points_balances WHERE member_id = ?", (member_id,))
    return int(value or 0)


async def inconsistent_balances(db: Database | Tx) -> list[int]:
    """Members whose kept balance differs from the sum of their entries (should be none)."""
    rows = await db.fetchall(
        "SELECT b.member_id FROM points_balances b LEFT JOIN ("
        " SELECT member_id, SUM(amount) AS total FROM points_ledger GROUP BY member_id) l"
        " ON l.member_id = b.member_id WHERE b.balance <> COALESCE(l.total, 0)"
    )
    return [r[0] for r in rows]


async def issued_and_redeemed(
    db: Database | Tx, since: datetime, until: datetime
) -> tuple[int, int]:
    """Points issued (earned and awarded) and redeemed (net of refunds) in a time window."""
    row = await db.fetchone(
        "SELECT COALESCE(SUM(CASE WHEN amount > 0 AND rule NOT IN ('refund') THEN amount END), 0),"
        " COALESCE(SUM(CASE WHEN rule IN ('redeem', 'refund') THEN -amount END), 0)"
        " FROM points_ledger WHERE created_at >= ? AND created_at < ?",
        (to_iso(since), to_iso(until)),
    )
    assert row is not None
    return int(row[0]), int(row[1])


async def export_ledger(
    db: Database | Tx, since: datetime | None
) -> tuple[list[str], list[list[object]]]:
    """Every ledger entry since `since` (all when None), for CSV/XLSX exports."""
    rows = await db.fetchall(
        "SELECT l.id, l.created_at, l.day, l.member_id, m.name, h.building_id, h.unit,"
        " l.amount, l.rule, l.reason, l.reference, l.actor_id, l.key"
        " FROM points_ledger l JOIN members m ON m.id = l.member_id"
        " LEFT JOIN households h ON h.id = m.household_id"
        " WHERE l.created_at >= ? ORDER BY l.id",
        (to_iso(since) if since else "",),
    )
    headers = [
        "id",
        "created_at",
        "day",
        "member_id",
        "member",
        "building",
        "unit",
        "amount",
        "rule",
        "reason",
        "reference",
        "actor_id",
        "key",
    ]
    return headers, [list(r) for r in rows]


__all__ = [
    "award",
    "balance",
    "deduct",
    "earn",
    "entry_by_key",
    "export_ledger",
    "latest_entries",
    "local_day",
    "refund",
    "spend",
]
