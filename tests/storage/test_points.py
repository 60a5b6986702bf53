"""The points ledger against a real, migrated SQLite database."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linli.core.outcomes import RefusedError
from linli.core.points import EarnRules
from linli.storage import members as members_db
from linli.storage import points as points_db
from linli.storage.db import Database

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
RULES = EarnRules(
    amounts={"verified_report": 10, "urgent_bonus": 5, "attendance": 5, "referral": 20},
    daily_caps={"verified_report": 25},
    tz=SH,
    award_max=100,
)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "t.sqlite3")
    yield database
    await database.close()


async def new_member(db: Database, telegram_id: int) -> int:
    member = await members_db.ensure_member(db, telegram_id, f"M{telegram_id}", None, NOW)
    return member.id


async def earn(db: Database, member: int, rule: str, key: str, when: datetime = NOW) -> int:
    async with db.transaction() as tx:
        return await points_db.earn(
            tx, member_id=member, rule=rule, reference="H-0001", key=key, rules=RULES, now=when
        )


async def test_earn_credits_the_rule_amount_once_per_key(db: Database) -> None:
    alice = await new_member(db, 1)
    assert await earn(db, alice, "verified_report", "hazard:1:ack") == 10
    assert await earn(db, alice, "verified_report", "hazard:1:ack") == 10  # the first result
    assert await points_db.balance(db, alice) == 10
    entries = await points_db.latest_entries(db, alice)
    assert [(e.amount, e.rule, e.reference) for e in entries] == [(10, "verified_report", "H-0001")]


async def test_daily_cap_per_rule_in_local_days(db: Database) -> None:
    alice = await new_member(db, 1)
    credited = [await earn(db, alice, "verified_report", f"h{i}") for i in range(4)]
    assert credited == [10, 10, 5, 0]
    # A capped attempt is remembered: repeating its key still credits nothing.
    assert await earn(db, alice, "verified_report", "h3") == 0
    # Other rules are not capped by it.
    assert await earn(db, alice, "attendance", "e1") == 5
    # 16:00 UTC is midnight in Shanghai: a new day, a new cap.
    next_day = datetime(2026, 11, 26, 16, 0, tzinfo=UTC)
    assert await earn(db, alice, "verified_report", "h4", next_day) == 10
    assert await points_db.balance(db, alice) == 40
    assert await points_db.ledger_sum(db, alice) == 40


async def test_earn_joins_the_callers_transaction(db: Database) -> None:
    alice = await new_member(db, 1)
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            await points_db.earn(
                tx,
                member_id=alice,
                rule="attendance",
                reference="ev:1",
                key="ev:1:1",
                rules=RULES,
                now=NOW,
            )
            raise RuntimeError("the caller's own write failed")
    assert await points_db.balance(db, alice) == 0
    assert await points_db.entry_by_key(db, "ev:1:1") is None


async def test_earn_with_explicit_amount_and_unknown_rule(db: Database) -> None:
    alice = await new_member(db, 1)
    async with db.transaction() as tx:
        got = await points_db.earn(
            tx,
            member_id=alice,
            rule="volunteer_hour",
            reference="T-1",
            key="tb:1",
            rules=RULES,
            now=NOW,
            amount=15,
        )
    assert got == 15
    with pytest.raises(ValueError):
        async with db.transaction() as tx:
            await points_db.earn(
                tx, member_id=alice, rule="redeem", reference="", key="x", rules=RULES, now=NOW
            )


async def test_award_and_deduct_are_audited_and_never_go_below_zero(db: Database) -> None:
    alice, org = await new_member(db, 1), await new_member(db, 2)
    async with db.transaction() as tx:
        await points_db.award(
            tx,
            member_id=alice,
            amount=30,
            reason="cleaned the stairwell",
            actor_id=org,
            key="award:1",
            rules=RULES,
            now=NOW,
        )
    with pytest.raises(RefusedError) as refused:
        async with db.transaction() as tx:
            await points_db.deduct(
                tx,
                member_id=alice,
                amount=31,
                reason="oops",
                actor_id=org,
                key="deduct:1",
                rules=RULES,
                now=NOW,
            )
    assert refused.value.refused.reason == "not_enough_points"
    assert refused.value.refused.detail == {"balance": 30, "need": 31}
    for bad_amount, reason in ((0, "amount_not_positive"), (101, "amount_too_big")):
        with pytest.raises(RefusedError) as refused:
            async with db.transaction() as tx:
                await points_db.award(
                    tx,
                    member_id=alice,
                    amount=bad_amount,
                    reason="x",
                    actor_id=org,
                    key=f"award:bad{bad_amount}",
                    rules=RULES,
                    now=NOW,
                )
        assert refused.value.refused.reason == reason
    with pytest.raises(RefusedError) as refused:
        async with db.transaction() as tx:
            await points_db.award(
                tx,
                member_id=alice,
                amount=5,
                reason="  ",
                actor_id=org,
                key="award:noreason",
                rules=RULES,
                now=NOW,
            )
    assert refused.value.refused.reason == "reason_required"
    async with db.transaction() as tx:
        entry = await points_db.deduct(
            tx,
            member_id=alice,
            amount=30,
            reason="returned",
            actor_id=org,
            key="deduct:2",
            rules=RULES,
            now=NOW,
        )
    assert entry.amount == -30
    assert await points_db.balance(db, alice) == 0
    audit = await db.fetchall("SELECT actor_id, action, detail FROM audit_log ORDER BY id")
    assert [tuple(r) for r in audit] == [
        (org, "points_award", "30 cleaned the stairwell"),
        (org, "points_deduct", "-30 returned"),
    ]


async def test_spend_refuses_without_enough_points_and_refund_returns_once(db: Database) -> None:
    alice = await new_member(db, 1)
    await earn(db, alice, "referral", "ref:1")
    with pytest.raises(RefusedError):
        async with db.transaction() as tx:
            await points_db.spend(
                tx, member_id=alice, amount=21, reference="S-1", key="sp:1", now=NOW, tz=SH
            )
    async with db.transaction() as tx:
        await points_db.spend(
            tx, member_id=alice, amount=20, reference="S-1", key="sp:2", now=NOW, tz=SH
        )
    assert await points_db.balance(db, alice) == 0
    for _ in range(2):
        async with db.transaction() as tx:
            await points_db.refund(
                tx, member_id=alice, amount=20, reference="S-1", key="rf:2", now=NOW, tz=SH
            )
    assert await points_db.balance(db, alice) == 20
    # Spending is not a deed: the ranking score keeps what was earned.
    assert await db.scalar("SELECT score FROM points_balances WHERE member_id = ?", (alice,)) == 20


async def test_the_balance_can_never_be_written_negative(db: Database) -> None:
    """The CHECK constraint is the last line of defence behind the code's own check."""
    alice = await new_member(db, 1)
    await earn(db, alice, "attendance", "e")
    with pytest.raises(Exception, match="CHECK"):
        await db.write("UPDATE points_balances SET balance = -1 WHERE member_id = ?", (alice,))


async def test_export_ledger(db: Database) -> None:
    alice = await new_member(db, 1)
    await earn(db, alice, "attendance", "old", NOW - timedelta(days=10))
    await earn(db, alice, "referral", "new")
    headers, rows = await points_db.export_ledger(db, NOW - timedelta(days=1))
    assert headers[:3] == ["id", "created_at", "day"]
    assert len(rows) == 1
    row = dict(zip(headers, rows[0], strict=True))
    assert (row["member"], row["amount"], row["rule"], row["key"]) == ("M1", 20, "referral", "new")
    _, everything = await points_db.export_ledger(db, None)
    assert len(everything) == 2


# --- Property: any sequence of operations keeps balance == sum(entries) >= 0.

ops = st.lists(
    st.tuples(
        st.sampled_from(["earn", "award", "deduct", "spend", "refund", "repeat"]),
        st.integers(0, 2),  # which member
        st.integers(1, 60),  # amount
        st.integers(0, 48),  # hours later
    ),
    max_size=40,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops)
def test_property_balances_equal_sums_and_never_negative(
    sequence: list[tuple[str, int, int, int]],
) -> None:
    asyncio.run(_run_sequence(sequence))


async def _run_sequence(sequence: list[tuple[str, int, int, int]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = await Database.open(Path(folder) / "p.sqlite3")
        try:
            members = [await new_member(db, i + 1) for i in range(3)]
            expected = dict.fromkeys(members, 0)
            spent: list[tuple[int, int, str]] = []
            keys: list[str] = []
            for i, (op, who, amount, hours) in enumerate(sequence):
                member = members[who]
                when = NOW + timedelta(hours=hours)
                key = keys[amount % len(keys)] if op == "repeat" and keys else f"k{i}"
                before = await points_db.balance(db, member)
                try:
                    async with db.transaction() as tx:
                        if op in ("earn", "repeat"):
                            await points_db.earn(
                                tx,
                                member_id=member,
                                rule="verified_report",
                                reference="",
                                key=key,
                                rules=RULES,
                                now=when,
                                amount=amount,
                            )
                        elif op == "award":
                            await points_db.award(
                                tx,
                                member_id=member,
                                amount=amount,
                                reason="r",
                                actor_id=members[0],
                                key=key,
                                rules=RULES,
                                now=when,
                            )
                        elif op == "deduct":
                            await points_db.deduct(
                                tx,
                                member_id=member,
                                amount=amount,
                                reason="r",
                                actor_id=members[0],
                                key=key,
                                rules=RULES,
                                now=when,
                            )
                        elif op == "spend":
                            await points_db.spend(
                                tx,
                                member_id=member,
                                amount=amount,
                                reference="",
                                key=key,
                                now=when,
                                tz=SH,
                            )
                            spent.append((member, amount, key))
                        elif op == "refund" and spent:
                            m, a, k = spent.pop(0)
                            await points_db.refund(
                                tx,
                                member_id=m,
                                amount=a,
                                reference="",
                                key=f"refund:{k}",
                                now=when,
                                tz=SH,
                            )
                    keys.append(key)
                except RefusedError as exc:
                    assert exc.refused.reason == "not_enough_points"
                    assert op in ("deduct", "spend")
                    assert before < amount
                for m in members:
                    kept = await points_db.balance(db, m)
                    assert kept == await points_db.ledger_sum(db, m)
                    assert kept >= 0
                    expected[m] = kept
            assert await points_db.inconsistent_balances(db) == []
        finally:
            await db.close()
