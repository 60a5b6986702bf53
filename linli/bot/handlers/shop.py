"""/shop (catalogue, redeem, pickup code), /pickup and /shopadmin for organizers."""

from __future__ import annotations

import contextlib
import secrets
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from linli.bot import callbacks
from linli.bot.commands import CommandSpec
from linli.bot.common import (
    Actor,
    answer,
    deep_link,
    edit,
    is_private,
    keyboard,
    label,
    load_actor,
    notify,
    refuse,
    reply,
    text,
)
from linli.bot.context import LinliContext
from linli.core.community import Role
from linli.core.outcomes import Refused, RefusedError
from linli.core.shop import Order, can_close, can_redeem, normalise_code, parse_admin
from linli.storage import members as members_db
from linli.storage import points as points_db
from linli.storage import shop as shop_db

F = "sh"
_SEEDED = "shop_seeded"


async def ensure_catalogue(context: LinliContext) -> None:
    """Create the config's items once per process (new keys only; chat edits are kept)."""
    data = context.application.bot_data
    if data.get(_SEEDED):
        return
    services = context.services
    seeds = [shop_db.SeedItem(**item.model_dump()) for item in services.config.shop.items]
    await shop_db.seed_items(services.db, seeds, services.now())
    data[_SEEDED] = True


async def on_shop(update: Update, context: LinliContext) -> None:
    """/shop: the catalogue with a redeem button per item, and my open orders."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    if not is_private(update):
        link = keyboard_link(context, actor.locale)
        await reply(update, context, actor.locale, "shop/private_only", link)
        return
    await ensure_catalogue(context)
    db = context.services.db
    items = await shop_db.list_items(db)
    orders = [o for o in await shop_db.member_orders(db, actor.member.id) if o.open]
    rows = [
        [(label(context, actor.locale, "shop.redeem", name=i.title(actor.locale), price=i.price),
          callbacks.pack(F, "rd", i.id))]
        for i in items if i.available
    ]  # fmt: skip
    balance = await points_db.balance(db, actor.member.id)
    await reply(
        update, context, actor.locale, "shop/catalogue", keyboard(rows) if rows else None,
        items=items, orders=orders, balance=balance,
    )  # fmt: skip


def keyboard_link(context: LinliContext, locale: str) -> InlineKeyboardMarkup:
    button = InlineKeyboardButton(
        label(context, locale, "shop.open_private"), url=deep_link(context)
    )
    return InlineKeyboardMarkup([[button]])


async def on_button(update: Update, context: LinliContext) -> None:
    """Every shop button: redeem -> confirm -> order; hand over / cancel an order."""
    query = update.callback_query
    actor = await load_actor(update, context)
    if query is None or actor is None:
        return
    action = callbacks.action_of(query.data, F)
    handler = _BUTTONS.get(action or "")
    if handler is None:
        await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return
    await handler(update, context, actor)


async def _ask_confirm(update: Update, context: LinliContext, actor: Actor) -> None:
    parsed = callbacks.unpack(update.callback_query.data if update.callback_query else None, F, int)
    if parsed is None:
        await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return
    db = context.services.db
    item = await shop_db.get_item(db, parsed[1])
    balance = await points_db.balance(db, actor.member.id)
    refused = can_redeem(item, balance)
    if refused is not None or item is None:
        await refuse(update, context, actor.locale, refused or Refused("item_unavailable"), "shop")
        return
    token = secrets.token_hex(4)  # one confirmation, one order, however often it is tapped
    markup = keyboard([[
        (label(context, actor.locale, "shop.confirm"), callbacks.pack(F, "ok", item.id, item.price, token)),
        (label(context, actor.locale, "shop.back"), callbacks.pack(F, "no")),
    ]])  # fmt: skip
    await answer(update, context, actor.locale)
    await reply(update, context, actor.locale, "shop/confirm", markup, item=item, balance=balance)


async def _redeem(update: Update, context: LinliContext, actor: Actor) -> None:
    query = update.callback_query
    parsed = callbacks.unpack(query.data if query else None, F, int, int, str)
    if query is None or parsed is None:
        await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return
    _, item_id, price, token = parsed
    services = context.services
    try:
        redemption = await shop_db.redeem(
            services.db, member_id=actor.member.id, item_id=item_id, price=price,
            key=f"redeem:{actor.member.id}:{token}", now=services.now(), tz=services.config.tz,
        )  # fmt: skip
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, "shop")
        return
    order = redemption.order
    if not redemption.new:
        # A second tap on the same confirmation: the first tap showed the order on this card
        # and told the organizers; another card edit would be refused as unchanged.
        await answer(update, context, actor.locale, "shop/already_redeemed", order=order)
        return
    balance = await points_db.balance(services.db, actor.member.id)
    await answer(update, context, actor.locale)
    await edit(query, text(context, actor.locale, "shop/redeemed", order=order, balance=balance),
               _order_markup(context, actor.locale, order, organizer=False))  # fmt: skip
    await _tell_organizers(context, order, actor)


async def _tell_organizers(context: LinliContext, order: Order, actor: Actor) -> None:
    group = context.services.config.organizers.group_chat_id
    if group is None:
        return
    locale = context.services.config.community.default_locale
    body = text(context, locale, "shop/new_order", order=order, member=actor.member)
    # If the group can't be reached the order still stands; organizers find it with /pickup.
    with contextlib.suppress(TelegramError):
        await context.bot.send_message(
            group, body, reply_markup=_order_markup(context, locale, order, organizer=True)
        )


def _order_markup(
    context: LinliContext, locale: str, order: Order, *, organizer: bool
) -> InlineKeyboardMarkup | None:
    if not order.open:
        return None
    row = [(label(context, locale, "shop.cancel_order"), callbacks.pack(F, "cx", order.id))]
    if organizer:
        row.insert(0, (label(context, locale, "shop.hand_over"), callbacks.pack(F, "ho", order.id)))
    return keyboard([row])


async def _close(update: Update, context: LinliContext, actor: Actor) -> None:
    query = update.callback_query
    parsed = callbacks.unpack(query.data if query else None, F, int)
    if query is None or parsed is None:
        await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return
    action, order_id = parsed
    services = context.services
    order = await shop_db.get_order(services.db, order_id)
    refused = can_close(
        order, actor.member.id, actor.is_organizer, "cancel" if action == "cx" else "hand_over"
    )
    try:
        if refused is not None:
            raise RefusedError(refused)
        if action == "ho":
            order = await shop_db.hand_over(services.db, order_id, actor.member.id, services.now())
        else:
            order = await shop_db.cancel(
                services.db, order_id, actor.member.id, services.now(), services.config.tz
            )
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, "shop")
        return
    await answer(update, context, actor.locale)
    await edit(query, text(context, actor.locale, "shop/order_card", order=order, by_me=True))
    if order.member_id != actor.member.id:
        member = await members_db.get_member(services.db, order.member_id)
        if member is not None:
            await notify(context, member, "shop/order_closed_notice", order=order)


async def _dismiss(update: Update, context: LinliContext, actor: Actor) -> None:
    query = update.callback_query
    await answer(update, context, actor.locale)
    if query is not None:
        await edit(query, text(context, actor.locale, "shop/dismissed"))


_BUTTONS = {"rd": _ask_confirm, "ok": _redeem, "ho": _close, "cx": _close, "no": _dismiss}


async def on_pickup(update: Update, context: LinliContext) -> None:
    """/pickup [code] (organizers): the held orders, or one order's card with its buttons."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    if not actor.is_organizer:
        await refuse(update, context, actor.locale, Refused("organizers_only"), "shop")
        return
    db = context.services.db
    if not context.args:
        orders = await shop_db.held_orders(db, limit=30)
        await reply(
            update,
            context,
            actor.locale,
            "shop/held_orders",
            orders=orders,
            total=await shop_db.count_held(db),
        )
        return
    code = normalise_code(" ".join(context.args))
    order = await shop_db.get_order_by_code(db, code) if code else None
    if order is None:
        await refuse(
            update,
            context,
            actor.locale,
            Refused("unknown_order", {"code": context.args[0][:20]}),
            "shop",
        )
        return
    member = await members_db.get_member(db, order.member_id)
    await reply(update, context, actor.locale, "shop/order_card", _order_markup(context, actor.locale, order, organizer=True),
                order=order, by_me=False, member=member)  # fmt: skip


async def on_shopadmin(update: Update, context: LinliContext) -> None:
    """/shopadmin [action key ...] (organizers): list every item, or change one."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    if not actor.is_organizer:
        await refuse(update, context, actor.locale, Refused("organizers_only"), "shop")
        return
    await ensure_catalogue(context)
    services = context.services
    if context.args:
        edit_ = parse_admin(list(context.args))
        try:
            if isinstance(edit_, Refused):
                raise RefusedError(edit_)
            item = await shop_db.apply_edit(services.db, edit_, actor.member.id, services.now())
        except RefusedError as exc:
            await refuse(update, context, actor.locale, exc.refused, "shop")
            return
        await reply(
            update, context, actor.locale, "shop/item_saved", item=item, action=edit_.action
        )
        return
    items = await shop_db.list_items(services.db, active_only=False)
    await reply(
        update,
        context,
        actor.locale,
        "shop/admin",
        items=items,
        held=await shop_db.count_held(services.db),
    )


HANDLERS: list[BaseHandler[Any, Any, Any]] = [
    CommandHandler("shop", on_shop),
    CommandHandler("pickup", on_pickup),
    CommandHandler("shopadmin", on_shopadmin),
    CallbackQueryHandler(on_button, pattern=callbacks.pattern(F)),
]
COMMANDS: list[CommandSpec] = [
    CommandSpec("shop", "shop"),
    CommandSpec("pickup", "shop", role=Role.ORGANIZER),
    CommandSpec("shopadmin", "shop", role=Role.ORGANIZER),
]
