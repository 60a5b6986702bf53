"""The shop against a real database: holds, hand-over, cancel, edits, and concurrent taps."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from linli.core.outcomes import RefusedError
from linli.core.points import EarnRules
from linli.core.shop import ItemEdit, Order, OrderStatus
from linli.storage import members as members_db
from linli.storage import points as points_db
from linli.storage import shop as shop_db
from linli.storage.db import Database

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
RULES = EarnRules(amounts={}, daily_caps={}, tz=SH, award_max=1000)
SOAP = shop_db.SeedItem("soap", "洗衣液", "Laundry liquid", "1 L", 30, 5, True)
HAIRCUT = shop_db.SeedItem("haircut", "理发券", "Haircut voucher", "", 50, 2, True)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "t.sqlite3")
    await shop_db.seed_items(database, [SOAP, HAIRCUT], NOW)
    yield database
    await database.close()


async def member_with(db: Database, telegram_id: int, points: int) -> int:
    member = await members_db.ensure_member(db, telegram_id, f"M{telegram_id}", None, NOW)
    if points:
        async with db.transaction() as tx:
            await points_db.award(
                tx,
                member_id=member.id,
                amount=points,
                reason="seed",
                actor_id=member.id,
                key=f"seed:{telegram_id}",
                rules=RULES,
                now=NOW,
            )
    return member.id


async def soap_id(db: Database) -> int:
    item = await shop_db.get_item_by_key(db, "soap")
    assert item is not None
    return item.id


async def redeem(db: Database, member: int, item: int, key: str, price: int = 30) -> Order:
    redemption = await shop_db.redeem(
        db, member_id=member, item_id=item, price=price, key=key, now=NOW, tz=SH
    )
    return redemption.order


async def test_seed_keeps_edits_made_in_the_chat(db: Database) -> None:
    org = await member_with(db, 9, 0)
    await shop_db.apply_edit(db, ItemEdit("price", "soap", price=40), org, NOW)
    assert await shop_db.seed_items(db, [SOAP, HAIRCUT], NOW) == 0
    item = await shop_db.get_item_by_key(db, "soap")
    assert item is not None and item.price == 40
    assert [i.key for i in await shop_db.list_items(db)] == ["soap", "haircut"]


async def test_redeem_holds_points_and_stock_and_gives_a_pickup_code(db: Database) -> None:
    alice, item = await member_with(db, 1, 100), await soap_id(db)
    order = await redeem(db, alice, item, "tap:1")
    assert order.status is OrderStatus.HELD and order.code.startswith("S-") and len(order.code) == 7
    assert await points_db.balance(db, alice) == 70
    assert (await shop_db.get_item(db, item)).stock == 4  # type: ignore[union-attr]
    # The same confirmation tapped twice is one order, and the second call says it is not new.
    again = await shop_db.redeem(
        db, member_id=alice, item_id=item, price=30, key="tap:1", now=NOW, tz=SH
    )
    assert again.order.id == order.id and not again.new
    assert await points_db.balance(db, alice) == 70
    assert (await shop_db.get_item(db, item)).stock == 4  # type: ignore[union-attr]


async def test_redeem_refusals_change_nothing(db: Database) -> None:
    poor, item = await member_with(db, 1, 29), await soap_id(db)
    org = await member_with(db, 9, 0)
    with pytest.raises(RefusedError) as refused:
        await redeem(db, poor, item, "t1")
    assert refused.value.refused.reason == "not_enough_points"
    assert (await shop_db.get_item(db, item)).stock == 5  # type: ignore[union-attr]
    assert await points_db.balance(db, poor) == 29
    with pytest.raises(RefusedError) as refused:
        await redeem(db, poor, item, "t2", price=20)
    assert refused.value.refused.reason == "price_changed"
    with pytest.raises(RefusedError) as refused:
        await redeem(db, poor, 999, "t3")
    assert refused.value.refused.reason == "item_unavailable"
    await shop_db.apply_edit(db, ItemEdit("off", "soap"), org, NOW)
    with pytest.raises(RefusedError) as refused:
        await redeem(db, poor, item, "t4")
    assert refused.value.refused.reason == "item_unavailable"
    assert await db.scalar("SELECT COUNT(*) FROM shop_orders") == 0


async def test_hand_over_and_cancel_close_once(db: Database) -> None:
    alice, item, org = await member_with(db, 1, 100), await soap_id(db), await member_with(db, 9, 0)
    first = await redeem(db, alice, item, "a")
    second = await redeem(db, alice, item, "b")
    done = await shop_db.hand_over(db, first.id, org, NOW)
    assert done.status is OrderStatus.HANDED_OVER and done.closed_by == org
    with pytest.raises(RefusedError) as refused:
        await shop_db.cancel(db, first.id, org, NOW, SH)
    assert refused.value.refused.reason == "order_closed"
    cancelled = await shop_db.cancel(db, second.id, org, NOW, SH)
    assert cancelled.status is OrderStatus.CANCELLED
    with pytest.raises(RefusedError) as refused:
        await shop_db.cancel(db, second.id, org, NOW, SH)
    assert refused.value.refused.reason == "order_closed"
    with pytest.raises(RefusedError) as refused:
        await shop_db.hand_over(db, 12345, org, NOW)
    assert refused.value.refused.reason == "unknown_order"
    assert await points_db.balance(db, alice) == 70  # one soap paid for, one refunded once
    assert (await shop_db.get_item(db, item)).stock == 4  # type: ignore[union-attr]
    assert await points_db.inconsistent_balances(db) == []
    assert [o.code for o in await shop_db.member_orders(db, alice)] == [second.code, first.code]
    assert await shop_db.held_orders(db) == []


async def test_admin_edits(db: Database) -> None:
    org = await member_with(db, 9, 0)
    item = await shop_db.apply_edit(
        db, ItemEdit("add", "rice", price=80, stock=3, text="大米 5kg"), org, NOW
    )
    assert (item.name, item.price, item.stock, item.active) == ("大米 5kg", 80, 3, True)
    with pytest.raises(RefusedError) as refused:
        await shop_db.apply_edit(db, ItemEdit("add", "rice", price=1, stock=1, text="x"), org, NOW)
    assert refused.value.refused.reason == "item_exists"
    with pytest.raises(RefusedError) as refused:
        await shop_db.apply_edit(db, ItemEdit("stock", "nope", stock=1), org, NOW)
    assert refused.value.refused.reason == "unknown_item"
    item = await shop_db.apply_edit(db, ItemEdit("stock", "rice", stock=0), org, NOW)
    assert item.stock == 0 and not item.available
    item = await shop_db.apply_edit(db, ItemEdit("name_en", "rice", text="Rice 5 kg"), org, NOW)
    assert item.title("en") == "Rice 5 kg" and item.title("zh-CN") == "大米 5kg"
    details = await db.fetchall("SELECT detail FROM audit_log WHERE action = 'shop_edit'")
    assert [r[0] for r in details] == ["add 大米 5kg", "stock 0", "name_en Rice 5 kg"]


async def test_100_concurrent_redemptions_of_stock_5_give_exactly_5(db: Database) -> None:
    item = await soap_id(db)
    members = [await member_with(db, 100 + i, 45) for i in range(100)]
    results = await asyncio.gather(
        *(redeem(db, m, item, f"c{m}") for m in members), return_exceptions=True
    )
    orders = [r for r in results if not isinstance(r, BaseException)]
    refusals = [r for r in results if isinstance(r, RefusedError)]
    assert len(orders) == 5
    assert len(refusals) == 95
    assert {r.refused.reason for r in refusals} == {"out_of_stock"}
    assert (await shop_db.get_item(db, item)).stock == 0  # type: ignore[union-attr]
    winners = {o.member_id for o in orders}
    for m in members:
        assert await points_db.balance(db, m) == (15 if m in winners else 45)
    assert await points_db.inconsistent_balances(db) == []
    assert len({o.code for o in orders}) == 5


async def test_concurrent_redemptions_from_two_connections_never_oversell(
    db: Database, tmp_path: Path
) -> None:
    """A second process on the same file (a CLI, a second bot by mistake) is held off by SQLite."""
    other = await Database.open(tmp_path / "t.sqlite3")
    try:
        item = await soap_id(db)
        members = [await member_with(db, 300 + i, 30) for i in range(40)]
        results = await asyncio.gather(
            *(redeem(db if i % 2 else other, m, item, f"x{m}") for i, m in enumerate(members)),
            return_exceptions=True,
        )
        assert sum(not isinstance(r, BaseException) for r in results) == 5
        assert all(isinstance(r, RefusedError) for r in results if isinstance(r, BaseException))
        assert await db.scalar("SELECT COUNT(*) FROM shop_orders") == 5
        assert await db.scalar("SELECT SUM(balance) FROM points_balances") == 40 * 30 - 5 * 30
    finally:
        await other.close()
