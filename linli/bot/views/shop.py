"""The shop's buttons, keyboards and cards."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from linli.bot.buttons import button, pack
from linli.bot.common import deep_link, keyboard, label
from linli.bot.context import LinliContext
from linli.core.shop import Item, Order


@button("sh", "rd")
@dataclass(frozen=True, slots=True)
class Choose:
    """An item in the catalogue: ask to confirm."""

    item_id: int


@button("sh", "ok")
@dataclass(frozen=True, slots=True)
class Confirm:
    """Redeem, at the price shown; `token` makes one order of every tap on this card."""

    item_id: int
    price: int
    token: str


@button("sh", "no")
@dataclass(frozen=True, slots=True)
class Back:
    """Not now."""


@button("sh", "ho")
@dataclass(frozen=True, slots=True)
class HandOver:
    """An organizer hands the goods over."""

    order_id: int


@button("sh", "cx")
@dataclass(frozen=True, slots=True)
class CancelOrder:
    """The member or an organizer cancels an order (points and stock back)."""

    order_id: int


def catalogue_markup(
    context: LinliContext, locale: str, items: list[Item]
) -> InlineKeyboardMarkup | None:
    rows = [
        [(label(context, locale, "shop.redeem", name=i.title(locale), price=i.price),
          pack(Choose(i.id)))]
        for i in items if i.available
    ]  # fmt: skip
    return keyboard(rows) if rows else None


def confirm_markup(
    context: LinliContext, locale: str, item: Item, token: str
) -> InlineKeyboardMarkup:
    return keyboard([[
        (label(context, locale, "shop.confirm"), pack(Confirm(item.id, item.price, token))),
        (label(context, locale, "shop.back"), pack(Back())),
    ]])  # fmt: skip


def order_markup(
    context: LinliContext, locale: str, order: Order, *, organizer: bool
) -> InlineKeyboardMarkup | None:
    """Cancel (and, for organizers, hand over) while the order is open."""
    if not order.open:
        return None
    row = [(label(context, locale, "shop.cancel_order"), pack(CancelOrder(order.id)))]
    if organizer:
        row.insert(0, (label(context, locale, "shop.hand_over"), pack(HandOver(order.id))))
    return keyboard([row])


def private_link(context: LinliContext, locale: str) -> InlineKeyboardMarkup:
    button_ = InlineKeyboardButton(
        label(context, locale, "shop.open_private"), url=deep_link(context)
    )
    return InlineKeyboardMarkup([[button_]])
