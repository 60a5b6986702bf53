"""The rewards shop's rules: items, orders and their pickup codes, and organizers' edits.

Redeeming holds the member's points and one unit of stock together; an organizer hands
the reward over (the order is done) or cancels it (points and stock go back). A member
may also cancel their own order while it is still held.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from linli.core.outcomes import Refused

# No 0/O, 1/I/L: a pickup code is read aloud at a counter.
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_PREFIX = "S-"
NAME_MAX_CHARS = 64
DESCRIPTION_MAX_CHARS = 300
PRICE_MAX = 100_000
STOCK_MAX = 1_000_000


class OrderStatus(StrEnum):
    HELD = "held"
    HANDED_OVER = "handed_over"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Item:
    id: int
    key: str
    name: str
    name_en: str
    description: str
    price: int
    stock: int
    active: bool
    description_en: str = ""

    def title(self, locale: str) -> str:
        return self.name_en if locale == "en" and self.name_en else self.name

    def about(self, locale: str) -> str:
        """The description in the reader's language (Chinese when there is no English one)."""
        return self.description_en if locale == "en" and self.description_en else self.description

    @property
    def available(self) -> bool:
        return self.active and self.stock > 0


@dataclass(frozen=True, slots=True)
class Order:
    id: int
    code: str
    item_id: int
    item_name: str
    item_name_en: str
    member_id: int
    price: int
    status: OrderStatus
    created_at: datetime
    closed_at: datetime | None = None
    closed_by: int | None = None

    def item_title(self, locale: str) -> str:
        return self.item_name_en if locale == "en" and self.item_name_en else self.item_name

    @property
    def open(self) -> bool:
        return self.status is OrderStatus.HELD


@dataclass(frozen=True, slots=True)
class Redemption:
    """A redeem's result: the order, and whether this call made it (False: a second tap on the
    same confirmation found the first one's order, which was already announced)."""

    order: Order
    new: bool


def new_pickup_code() -> str:
    return CODE_PREFIX + "".join(secrets.choice(_CODE_ALPHABET) for _ in range(5))


def normalise_code(raw: str) -> str | None:
    """A pickup code as typed ("s-7k3fq", "7K3FQ", "S 7K3FQ"), or None if it cannot be one."""
    text = raw.strip().upper().replace(" ", "").replace("-", "")
    text = text.removeprefix("S")
    if len(text) != 5 or any(c not in _CODE_ALPHABET for c in text):
        return None
    return CODE_PREFIX + text


def can_redeem(item: Item | None, balance: int) -> Refused | None:
    """Why this member cannot redeem this item now (stock and balance are rechecked on write)."""
    if item is None or not item.active:
        return Refused("item_unavailable")
    if item.stock <= 0:
        return Refused("out_of_stock", {"item": item.name, "item_en": item.name_en})
    if balance < item.price:
        return Refused("not_enough_points", {"balance": balance, "need": item.price})
    return None


def can_close(
    order: Order | None, actor_id: int, is_organizer: bool, action: str
) -> Refused | None:
    """Organizers hand over or cancel any held order; a member may cancel their own."""
    if order is None:
        return Refused("unknown_order")
    if not is_organizer and not (action == "cancel" and order.member_id == actor_id):
        return Refused("not_organizer")
    if not order.open:
        return Refused("order_closed", {"status": order.status.value, "code": order.code})
    return None


# --- /shopadmin: organizers edit the catalogue with short typed commands.


@dataclass(frozen=True, slots=True)
class ItemEdit:
    """One change to the catalogue: `field` of item `key` becomes `value` ("add" creates it)."""

    action: str  # add | price | stock | name | name_en | desc | desc_en | on | off
    key: str
    price: int = 0
    stock: int = 0
    text: str = ""


ADMIN_ACTIONS = ("add", "price", "stock", "name", "name_en", "desc", "desc_en", "on", "off")


def _whole(raw: str, maximum: int, *, allow_zero: bool) -> int | Refused:
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        return Refused("bad_number", {"raw": raw[:20]})
    value = int(raw)
    if value > maximum or (value == 0 and not allow_zero):
        return Refused("number_out_of_range", {"min": 0 if allow_zero else 1, "max": maximum})
    return value


def _key(raw: str) -> str | Refused:
    key = raw.strip().lower()
    if not key or len(key) > 32 or not all(c.isascii() and (c.isalnum() or c in "_-") for c in key):
        return Refused("bad_key")
    return key


def parse_admin(args: list[str]) -> ItemEdit | Refused:
    """`add <key> <price> <stock> <name>`, `price <key> <n>`, `stock <key> <n>`,
    `name|name_en|desc|desc_en <key> <text>`, `on <key>`, `off <key>`."""
    if not args or args[0].lower() not in ADMIN_ACTIONS:
        return Refused("admin_usage")
    action = args[0].lower()
    if len(args) < 2:
        return Refused("admin_usage")
    key = _key(args[1])
    if isinstance(key, Refused):
        return key
    rest = args[2:]
    if action in ("on", "off"):
        return ItemEdit(action, key) if not rest else Refused("admin_usage")
    if action in ("price", "stock"):
        if len(rest) != 1:
            return Refused("admin_usage")
        value = _whole(
            rest[0], PRICE_MAX if action == "price" else STOCK_MAX, allow_zero=action == "stock"
        )
        if isinstance(value, Refused):
            return value
        return (
            ItemEdit(action, key, price=value)
            if action == "price"
            else ItemEdit(action, key, stock=value)
        )
    if action == "add":
        if len(rest) < 3:
            return Refused("admin_usage")
        price = _whole(rest[0], PRICE_MAX, allow_zero=False)
        if isinstance(price, Refused):
            return price
        stock = _whole(rest[1], STOCK_MAX, allow_zero=True)
        if isinstance(stock, Refused):
            return stock
        name = _text(" ".join(rest[2:]), NAME_MAX_CHARS)
        if isinstance(name, Refused):
            return name
        return ItemEdit(action, key, price=price, stock=stock, text=name)
    limit = DESCRIPTION_MAX_CHARS if action == "desc" else NAME_MAX_CHARS
    value_text = _text(" ".join(rest), limit, allow_empty=action != "name")
    if isinstance(value_text, Refused):
        return value_text
    return ItemEdit(action, key, text=value_text)


def _text(raw: str, limit: int, *, allow_empty: bool = False) -> str | Refused:
    text = " ".join(raw.split())
    if not text and not allow_empty:
        return Refused("text_required")
    if len(text) > limit:
        return Refused("text_too_long", {"max": limit})
    return text
