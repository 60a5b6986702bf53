"""The rewards catalogue and orders: points and stock held together, returned together."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from linli.core.clock import from_iso, to_iso
from linli.core.outcomes import Refused, RefusedError
from linli.core.shop import Item, ItemEdit, Order, OrderStatus, Redemption, new_pickup_code
from linli.storage import points as points_db
from linli.storage.audit import audit
from linli.storage.db import Database, Row, Tx


@dataclass(frozen=True, slots=True)
class SeedItem:
    key: str
    name: str
    name_en: str
    description: str
    price: int
    stock: int
    active: bool
    description_en: str = ""


def _item(row: Row) -> Item:
    return Item(
        id=row["id"],
        key=row["key"],
        name=row["name"],
        name_en=row["name_en"],
        description=row["description"],
        price=row["price"],
        stock=row["stock"],
        active=bool(row["active"]),
        description_en=row["description_en"],
    )


_ORDER = (
    "SELECT o.*, i.name AS item_name, i.name_en AS item_name_en"
    " FROM shop_orders o JOIN shop_items i ON i.id = o.item_id"
)


def _order(row: Row) -> Order:
    return Order(
        id=row["id"],
        code=row["code"],
        item_id=row["item_id"],
        item_name=row["item_name"],
        item_name_en=row["item_name_en"],
        member_id=row["member_id"],
        price=row["price"],
        status=OrderStatus(row["status"]),
        created_at=from_iso(row["created_at"]),
        closed_at=from_iso(row["closed_at"]) if row["closed_at"] else None,
        closed_by=row["closed_by"],
    )


async def seed_items(db: Database, items: Iterable[SeedItem], now: datetime) -> int:
    """Create the config's items whose key is new; edits made in the chat are kept."""
    created = 0
    async with db.transaction() as tx:
        for item in items:
            created += await tx.rowcount(
                "INSERT OR IGNORE INTO shop_items (key, name, name_en, description,"
                " description_en, price, stock, active, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    item.key,
                    item.name,
                    item.name_en,
                    item.description,
                    item.description_en,
                    item.price,
                    item.stock,
                    int(item.active),
                    to_iso(now),
                    to_iso(now),
                ),
            )
    return created


async def list_items(db: Database | Tx, *, active_only: bool = True) -> list[Item]:
    where = " WHERE active = 1" if active_only else ""
    rows = await db.fetchall(f"SELECT * FROM shop_items{where} ORDER BY price, id")
    return [_item(r) for r in rows]


async def get_item(db: Database | Tx, item_id: int) -> Item | None:
    row = await db.fetchone("SELECT * FROM shop_items WHERE id = ?", (item_id,))
    return _item(row) if row else None


async def get_item_by_key(db: Database | Tx, key: str) -> Item | None:
    row = await db.fetchone("SELECT * FROM shop_items WHERE key = ?", (key,))
    return _item(row) if row else None


async def redeem(
    db: Database,
    *,
    member_id: int,
    item_id: int,
    price: int,
    key: str,
    now: datetime,
    tz: ZoneInfo,
) -> Redemption:
    """Hold `price` points and one unit of stock; the pickup code is the order's.

    `price` is what the member saw and confirmed: a changed price is refused, not charged.
    A repeated `key` (two taps on one confirmation) returns the first order, with `new` False.
    """
    async with db.transaction() as tx:
        row = await tx.fetchone(_ORDER + " WHERE o.key = ?", (key,))
        if row is not None:
            return Redemption(_order(row), new=False)
        item = await get_item(tx, item_id)
        if item is None or not item.active:
            raise RefusedError(Refused("item_unavailable"))
        if item.price != price:
            raise RefusedError(Refused("price_changed", {"price": item.price}))
        taken = await tx.rowcount(
            "UPDATE shop_items SET stock = stock - 1, updated_at = ?"
            " WHERE id = ? AND stock > 0 AND active = 1",
            (to_iso(now), item_id),
        )
        if taken != 1:
            raise RefusedError(
                Refused("out_of_stock", {"item": item.name, "item_en": item.name_en})
            )
        order_id = await _insert_order(tx, item_id, member_id, price, key, now)
        code = await tx.scalar("SELECT code FROM shop_orders WHERE id = ?", (order_id,))
        # Raises RefusedError("not_enough_points") and rolls the stock back with it.
        await points_db.spend(
            tx,
            member_id=member_id,
            amount=price,
            reference=str(code),
            key=f"shop:{order_id}:hold",
            now=now,
            tz=tz,
        )
        row = await tx.fetchone(_ORDER + " WHERE o.id = ?", (order_id,))
    assert row is not None
    return Redemption(_order(row), new=True)


async def _insert_order(
    tx: Tx, item_id: int, member_id: int, price: int, key: str, now: datetime
) -> int:
    for _ in range(20):
        try:
            return await tx.execute(
                "INSERT INTO shop_orders (code, item_id, member_id, price, status, key, created_at)"
                " VALUES (?, ?, ?, ?, 'held', ?, ?)",
                (new_pickup_code(), item_id, member_id, price, key, to_iso(now)),
            )
        except sqlite3.IntegrityError as exc:
            if "shop_orders.code" not in str(exc):
                raise
    raise RuntimeError("could not find a free pickup code")


async def get_order(db: Database | Tx, order_id: int) -> Order | None:
    row = await db.fetchone(_ORDER + " WHERE o.id = ?", (order_id,))
    return _order(row) if row else None


async def get_order_by_code(db: Database | Tx, code: str) -> Order | None:
    row = await db.fetchone(_ORDER + " WHERE o.code = ?", (code,))
    return _order(row) if row else None


async def hand_over(db: Database, order_id: int, actor_id: int, now: datetime) -> Order:
    """The reward left the counter: the held points are spent for good."""
    async with db.transaction() as tx:
        await _close(tx, order_id, OrderStatus.HANDED_OVER, actor_id, now)
        await audit(tx, actor_id, "shop_hand_over", f"order:{order_id}", "", now)
        row = await tx.fetchone(_ORDER + " WHERE o.id = ?", (order_id,))
    assert row is not None
    return _order(row)


async def cancel(db: Database, order_id: int, actor_id: int, now: datetime, tz: ZoneInfo) -> Order:
    """Cancel a held order: its points and its unit of stock come back, once."""
    async with db.transaction() as tx:
        order = await _close(tx, order_id, OrderStatus.CANCELLED, actor_id, now)
        await tx.execute(
            "UPDATE shop_items SET stock = stock + 1, updated_at = ? WHERE id = ?",
            (to_iso(now), order.item_id),
        )
        await points_db.refund(
            tx,
            member_id=order.member_id,
            amount=order.price,
            reference=order.code,
            key=f"shop:{order_id}:refund",
            now=now,
            tz=tz,
            actor_id=actor_id,
        )
        await audit(tx, actor_id, "shop_cancel", f"order:{order_id}", order.code, now)
        row = await tx.fetchone(_ORDER + " WHERE o.id = ?", (order_id,))
    assert row is not None
    return _order(row)


async def _close(tx: Tx, order_id: int, status: OrderStatus, actor_id: int, now: datetime) -> Order:
    changed = await tx.rowcount(
        "UPDATE shop_orders SET status = ?, closed_at = ?, closed_by = ?"
        " WHERE id = ? AND status = 'held'",
        (status.value, to_iso(now), actor_id, order_id),
    )
    order = await get_order(tx, order_id)
    if order is None:
        raise RefusedError(Refused("unknown_order"))
    if changed != 1:
        raise RefusedError(
            Refused("order_closed", {"status": order.status.value, "code": order.code})
        )
    return order


async def member_orders(db: Database | Tx, member_id: int, limit: int = 10) -> list[Order]:
    rows = await db.fetchall(
        _ORDER + " WHERE o.member_id = ? ORDER BY o.id DESC LIMIT ?", (member_id, limit)
    )
    return [_order(r) for r in rows]


async def held_orders(db: Database | Tx, limit: int = 20, offset: int = 0) -> list[Order]:
    rows = await db.fetchall(
        _ORDER + " WHERE o.status = 'held' ORDER BY o.id LIMIT ? OFFSET ?", (limit, offset)
    )
    return [_order(r) for r in rows]


async def count_held(db: Database | Tx) -> int:
    return int(await db.scalar("SELECT COUNT(*) FROM shop_orders WHERE status = 'held'"))


async def apply_edit(db: Database, edit: ItemEdit, actor_id: int, now: datetime) -> Item:
    """Apply one /shopadmin change, audited; refuses an unknown key or a duplicate add."""
    async with db.transaction() as tx:
        existing = await get_item_by_key(tx, edit.key)
        if edit.action == "add":
            if existing is not None:
                raise RefusedError(Refused("item_exists", {"key": edit.key}))
            await tx.execute(
                "INSERT INTO shop_items (key, name, name_en, description, price, stock, active,"
                " created_at, updated_at) VALUES (?, ?, '', '', ?, ?, 1, ?, ?)",
                (edit.key, edit.text, edit.price, edit.stock, to_iso(now), to_iso(now)),
            )
        else:
            if existing is None:
                raise RefusedError(Refused("unknown_item", {"key": edit.key}))
            column, value = {
                "price": ("price", edit.price),
                "stock": ("stock", edit.stock),
                "name": ("name", edit.text),
                "name_en": ("name_en", edit.text),
                "desc": ("description", edit.text),
                "desc_en": ("description_en", edit.text),
                "on": ("active", 1),
                "off": ("active", 0),
            }[edit.action]
            await tx.execute(
                f"UPDATE shop_items SET {column} = ?, updated_at = ? WHERE key = ?",
                (value, to_iso(now), edit.key),
            )
        shown = {"price": edit.price, "stock": edit.stock, "on": "", "off": ""}
        detail = f"{edit.action} {shown.get(edit.action, edit.text)}".strip()
        await audit(tx, actor_id, "shop_edit", f"item:{edit.key}", detail, now)
        item = await get_item_by_key(tx, edit.key)
    assert item is not None
    return item
