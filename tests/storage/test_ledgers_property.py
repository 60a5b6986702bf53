"""Property: any sequence of awards, deductions, redemptions, hand-overs, cancellations and
time-bank transfers keeps every balance equal to the sum of its entries and never negative,
never oversells, and keeps the hours ledger balanced (members + pool == 0)."""

from __future__ import annotations

import asyncio
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linli.core.outcomes import RefusedError
from linli.core.points import EarnRules
from linli.storage import members as members_db
from linli.storage import points as points_db
from linli.storage import shop as shop_db
from linli.storage import timebank as tb_db
from linli.storage.db import Database

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
RULES = EarnRules(
    amounts={"volunteer_hour": 10}, daily_caps={"volunteer_hour": 30}, tz=SH, award_max=100
)
ITEMS = [
    shop_db.SeedItem("a", "A", "", "", 15, 2, True),
    shop_db.SeedItem("b", "B", "", "", 40, 3, True),
]
STOCK = {"a": 2, "b": 3}
FLOOR = 120

op = st.one_of(
    st.tuples(st.just("award"), st.integers(0, 2), st.integers(1, 60)),
    st.tuples(st.just("deduct"), st.integers(0, 2), st.integers(1, 60)),
    st.tuples(st.just("redeem"), st.integers(0, 2), st.integers(0, 1)),
    st.tuples(st.just("cancel"), st.integers(0, 2), st.integers(0, 20)),
    st.tuples(st.just("hand_over"), st.integers(0, 2), st.integers(0, 20)),
    st.tuples(st.just("transfer"), st.integers(0, 2), st.integers(1, 180)),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(op, max_size=30), st.booleans())
def test_random_operations_keep_the_books(ops: list[tuple[str, int, int]], pool: bool) -> None:
    asyncio.run(_run(ops, pool))


async def _run(ops: list[tuple[str, int, int]], pool: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = await Database.open(Path(folder) / "p.sqlite3")
        try:
            await shop_db.seed_items(db, ITEMS, NOW)
            people = [
                (await members_db.ensure_member(db, i, f"M{i}", None, NOW)).id for i in (1, 2, 3)
            ]
            items = {i.key: i.id for i in await shop_db.list_items(db)}
            for step, (kind, who, n) in enumerate(ops):
                member, when = people[who], NOW + timedelta(hours=step)
                before = await points_db.balance(db, member)
                try:
                    await _apply(db, kind, member, people, items, n, step, when, pool)
                except RefusedError as exc:
                    if exc.refused.reason == "not_enough_points":
                        assert kind in ("deduct", "redeem")
                        assert await points_db.balance(db, member) == before
                await _check(db, people, items, pool)
        finally:
            await db.close()


async def _apply(
    db: Database,
    kind: str,
    member: int,
    people: list[int],
    items: dict[str, int],
    n: int,
    step: int,
    when: datetime,
    pool: bool,
) -> None:
    if kind in ("award", "deduct"):
        post = points_db.award if kind == "award" else points_db.deduct
        async with db.transaction() as tx:
            await post(
                tx, member_id=member, amount=n, reason="r", actor_id=people[0], key=f"h{step}",
                rules=RULES, now=when,
            )  # fmt: skip
    elif kind == "redeem":
        item = await shop_db.get_item(db, items["ab"[n]])
        assert item is not None
        await shop_db.redeem(
            db, member_id=member, item_id=item.id, price=item.price, key=f"r{step}", now=when, tz=SH
        )
    elif kind in ("cancel", "hand_over"):
        if kind == "cancel":
            await shop_db.cancel(db, n + 1, member, when, SH)
        else:
            await shop_db.hand_over(db, n + 1, member, when)
    else:
        receiver = people[(people.index(member) + 1) % 3]
        log = await tb_db.log_service(
            db, giver_id=member, receiver_id=receiver, minutes=n, what="w", from_pool=pool, now=when
        )
        await tb_db.confirm(
            db, log.id, actor_id=receiver, is_organizer=False, floor_minutes=FLOOR, rules=RULES,
            now=when,
        )  # fmt: skip


async def _check(db: Database, people: list[int], items: dict[str, int], pool: bool) -> None:
    for member in people:
        kept = await points_db.balance(db, member)
        assert kept == await points_db.ledger_sum(db, member)
        assert kept >= 0
        minutes = await tb_db.balance_minutes(db, member)
        assert minutes == await tb_db.entries_sum(db, member)
        if not pool:
            assert minutes >= -FLOOR
    hours_total = sum([await tb_db.balance_minutes(db, m) for m in people])
    assert hours_total + await tb_db.pool_balance(db) == 0
    for key, item_id in items.items():
        item = await shop_db.get_item(db, item_id)
        assert item is not None and item.stock >= 0
        taken = await db.scalar(
            "SELECT COUNT(*) FROM shop_orders WHERE item_id = ? AND status != 'cancelled'",
            (item_id,),
        )
        assert item.stock + taken == STOCK[key]
    # What the shop took from the ledger is exactly the price of the orders not cancelled.
    kept = await db.scalar(
        "SELECT COALESCE(SUM(price), 0) FROM shop_orders WHERE status != 'cancelled'"
    )
    net = await db.scalar(
        "SELECT COALESCE(SUM(amount), 0) FROM points_ledger WHERE rule IN ('redeem', 'refund')"
    )
    assert net == -kept
    refunds = await db.scalar(
        "SELECT COUNT(*) FROM points_ledger WHERE rule = 'refund' GROUP BY reference HAVING COUNT(*) > 1"
    )
    assert refunds is None  # never refunded twice
    assert await points_db.inconsistent_balances(db) == []
