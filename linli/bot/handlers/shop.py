"""/shop (catalogue, redeem, pickup code), /pickup and /shopadmin for organizers."""

from __future__ import annotations

import secrets
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler

from linli.bot.buttons import Router
from linli.bot.commands import CommandSpec
from linli.bot.common import (
    Actor,
    answer,
    edit_card,
    is_private,
    load_actor,
    load_organizer,
    notify,
    post,
    refuse,
    reply,
    text,
)
from linli.bot.context import LinliContext
from linli.bot.views import shop as views
from linli.core.community import Role
from linli.core.outcomes import Refused, RefusedError
from linli.core.shop import Order, can_close, can_redeem, normalise_code, parse_admin
from linli.storage import members as members_db
from linli.storage import points as points_db
from linli.storage import shop as shop_db

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
        await reply(update, context, actor.locale, "shop/private_only",
                    views.private_link(context, actor.locale))  # fmt: skip
        return
    await ensure_catalogue(context)
    db = context.services.db
    items = await shop_db.list_items(db)
    orders = [o for o in await shop_db.member_orders(db, actor.member.id) if o.open]
    balance = await points_db.balance(db, actor.member.id)
    await reply(update, context, actor.locale, "shop/catalogue",
                views.catalogue_markup(context, actor.locale, items),
                items=items, orders=orders, balance=balance)  # fmt: skip


ROUTER = Router("sh")


@ROUTER.on(views.Choose)
async def on_choose(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Choose
) -> None:
    """An item pressed in the catalogue: ask to confirm, with the balance after."""
    db = context.services.db
    item = await shop_db.get_item(db, pressed.item_id)
    balance = await points_db.balance(db, actor.member.id)
    refused = can_redeem(item, balance)
    if refused is not None or item is None:
        await refuse(update, context, actor.locale, refused or Refused("item_unavailable"), "shop")
        return
    token = secrets.token_hex(4)  # one confirmation, one order, however often it is tapped
    await answer(update, context, actor.locale)
    await reply(update, context, actor.locale, "shop/confirm",
                views.confirm_markup(context, actor.locale, item, token),
                item=item, balance=balance)  # fmt: skip


@ROUTER.on(views.Confirm)
async def on_confirm(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Confirm
) -> None:
    """Redeem: points and stock held, a pickup code; the organizers hear of it once."""
    services = context.services
    try:
        redemption = await shop_db.redeem(
            services.db, member_id=actor.member.id, item_id=pressed.item_id, price=pressed.price,
            key=f"redeem:{actor.member.id}:{pressed.token}", now=services.now(), tz=services.config.tz,
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
    await edit_card(update, text(context, actor.locale, "shop/redeemed", order=order, balance=balance),
                    views.order_markup(context, actor.locale, order, organizer=False))  # fmt: skip
    await _tell_organizers(context, order, actor)


async def _tell_organizers(context: LinliContext, order: Order, actor: Actor) -> None:
    group = context.services.config.organizers.group_chat_id
    if group is None:
        return
    locale = context.services.config.community.default_locale
    # If the group can't be reached the order still stands; organizers find it with /pickup.
    await post(context, group, locale, "shop/new_order",
               views.order_markup(context, locale, order, organizer=True),
               order=order, member=actor.member)  # fmt: skip


@ROUTER.on(views.HandOver)
async def on_hand_over(
    update: Update, context: LinliContext, actor: Actor, pressed: views.HandOver
) -> None:
    """An organizer hands the goods over."""
    await _close(update, context, actor, pressed.order_id, "hand_over")


@ROUTER.on(views.CancelOrder)
async def on_cancel(
    update: Update, context: LinliContext, actor: Actor, pressed: views.CancelOrder
) -> None:
    """The member, or an organizer, cancels an open order."""
    await _close(update, context, actor, pressed.order_id, "cancel")


async def _close(
    update: Update, context: LinliContext, actor: Actor, order_id: int, how: str
) -> None:
    services = context.services
    order = await shop_db.get_order(services.db, order_id)
    try:
        if (refused := can_close(order, actor.member.id, actor.is_organizer, how)) is not None:
            raise RefusedError(refused)
        if how == "hand_over":
            order = await shop_db.hand_over(services.db, order_id, actor.member.id, services.now())
        else:
            order = await shop_db.cancel(
                services.db, order_id, actor.member.id, services.now(), services.config.tz
            )
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, "shop")
        return
    await answer(update, context, actor.locale)
    await edit_card(update, text(context, actor.locale, "shop/order_card", order=order, by_me=True))
    if order.member_id != actor.member.id:
        member = await members_db.get_member(services.db, order.member_id)
        if member is not None:
            await notify(context, member, "shop/order_closed_notice", order=order)


@ROUTER.on(views.Back)
async def on_back(update: Update, context: LinliContext, actor: Actor, pressed: views.Back) -> None:
    """Not now: the confirmation says so."""
    await answer(update, context, actor.locale)
    await edit_card(update, text(context, actor.locale, "shop/dismissed"))


async def on_pickup(update: Update, context: LinliContext) -> None:
    """/pickup [code] (organizers): the held orders, or one order's card with its buttons."""
    if (actor := await load_organizer(update, context, "shop")) is None:
        return
    db = context.services.db
    if not context.args:
        await reply(update, context, actor.locale, "shop/held_orders",
                    orders=await shop_db.held_orders(db, limit=30), total=await shop_db.count_held(db))  # fmt: skip
        return
    code = normalise_code(" ".join(context.args))
    order = await shop_db.get_order_by_code(db, code) if code else None
    if order is None:
        unknown = Refused("unknown_order", {"code": context.args[0][:20]})
        await refuse(update, context, actor.locale, unknown, "shop")
        return
    await reply(update, context, actor.locale, "shop/order_card", views.order_markup(context, actor.locale, order, organizer=True),
                order=order, by_me=False, member=await members_db.get_member(db, order.member_id))  # fmt: skip


async def on_shopadmin(update: Update, context: LinliContext) -> None:
    """/shopadmin [action key ...] (organizers): list every item, or change one."""
    if (actor := await load_organizer(update, context, "shop")) is None:
        return
    await ensure_catalogue(context)
    db = context.services.db
    if not context.args:
        await reply(update, context, actor.locale, "shop/admin",
                    items=await shop_db.list_items(db, active_only=False), held=await shop_db.count_held(db))  # fmt: skip
        return
    edit_ = parse_admin(list(context.args))
    try:
        if isinstance(edit_, Refused):
            raise RefusedError(edit_)
        item = await shop_db.apply_edit(db, edit_, actor.member.id, context.services.now())
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, "shop")
        return
    await reply(update, context, actor.locale, "shop/item_saved", item=item, action=edit_.action)


HANDLERS: list[BaseHandler[Any, Any, Any]] = [
    CommandHandler("shop", on_shop),
    CommandHandler("pickup", on_pickup),
    CommandHandler("shopadmin", on_shopadmin),
    ROUTER.handler(),
]
COMMANDS: list[CommandSpec] = [
    CommandSpec("shop", "shop"),
    CommandSpec("pickup", "shop", role=Role.ORGANIZER),
    CommandSpec("shopadmin", "shop", role=Role.ORGANIZER),
]
