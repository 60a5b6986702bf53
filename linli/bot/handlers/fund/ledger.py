"""Organizers' bookings: income split by rule, expenses with a receipt and a second
organizer's approval, rejections and corrections."""

from __future__ import annotations

from typing import Any

from telegram import Update

from linli.bot.common import Actor, answer, edit_card, message_key, notify, refuse, reply
from linli.bot.context import LinliContext
from linli.bot.handlers.fund.shared import (
    ROUTER,
    Args,
    organizer_or_refuse,
    post_photo,
    render,
    values,
)
from linli.bot.views import fund as views
from linli.core.fund import Expense, clean_text, parse_amount
from linli.core.outcomes import Refused, RefusedError, checked
from linli.storage import fund as fund_db
from linli.storage import members as members_db


async def on_income(update: Update, context: LinliContext, actor: Actor, args: Args) -> None:
    """/fund income <amount> <kind> <purpose>: one entry per account, by the kind's rule."""
    if not await organizer_or_refuse(update, context, actor):
        return
    services = context.services
    splits = services.config.fund.splits
    try:
        if len(args) < 3:
            raise RefusedError(Refused("income_usage", {"kinds": ", ".join(splits)}))
        amount, purpose = checked(parse_amount(args[0])), checked(clean_text(" ".join(args[2:])))
        if args[1] not in splits:
            raise RefusedError(
                Refused("unknown_kind", {"kind": args[1][:30], "kinds": ", ".join(splits)})
            )
        booked = await fund_db.record_income(
            services.db, amount=amount, income_kind=args[1], rule=splits[args[1]], purpose=purpose,
            actor_id=actor.member.id, key=message_key(update, "income"), now=services.now(),
            tz=services.config.tz,
        )  # fmt: skip
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, "fund")
        return
    await reply(update, context, actor.locale, "fund/income_booked",
                **values(context, actor.locale, txn=booked.txn))  # fmt: skip


async def on_expense_text(update: Update, context: LinliContext, actor: Actor, args: Args) -> None:
    """/fund expense without a photo: the receipt is needed, say how to send it."""
    if await organizer_or_refuse(update, context, actor):
        await refuse(update, context, actor.locale, Refused("receipt_needed"), "fund")


async def on_expense(
    update: Update, context: LinliContext, actor: Actor, args: Args, receipt: str
) -> None:
    """A receipt photo captioned /fund expense <amount> <purpose>: a pending expense."""
    if not await organizer_or_refuse(update, context, actor):
        return
    services = context.services
    try:
        if len(args) < 2:
            raise RefusedError(Refused("receipt_needed"))
        amount, purpose = checked(parse_amount(args[0])), checked(clean_text(" ".join(args[1:])))
        expense, new = await fund_db.record_expense(
            services.db, amount=amount, purpose=purpose, receipt=receipt, actor_id=actor.member.id,
            key=message_key(update, "expense"), now=services.now(),
        )  # fmt: skip
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, "fund")
        return
    await reply(update, context, actor.locale, "fund/expense_recorded", expense=expense)
    if new:
        await _tell_organizers(context, expense, actor.member.name)


async def _tell_organizers(context: LinliContext, expense: Expense, by: str) -> None:
    config = context.services.config
    group = config.organizers.group_chat_id
    if group is None or expense.receipt is None:
        return
    locale = config.community.default_locale
    caption = render(context, locale, "fund/expense_card", expense=expense, by=by)
    await post_photo(context, group, expense.receipt, caption,
                     views.expense_markup(context, locale, expense))  # fmt: skip


async def on_approve_command(
    update: Update, context: LinliContext, actor: Actor, args: Args
) -> None:
    """/fund approve <expense>."""
    if not args or not args[0].lstrip("#").isdigit():
        await refuse(update, context, actor.locale, Refused("approve_usage"), "fund")
        return
    await _approve(update, context, actor, int(args[0].lstrip("#")))


@ROUTER.on(views.Approve)
async def on_approve_button(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Approve
) -> None:
    """Approve on the expense's card in the organizers' group."""
    await _approve(update, context, actor, pressed.expense_id)


async def _approve(update: Update, context: LinliContext, actor: Actor, expense_id: int) -> None:
    if not await organizer_or_refuse(update, context, actor):
        return
    services = context.services
    try:
        expense, txn = await fund_db.approve_expense(
            services.db, expense_id, actor.member.id, services.now(), services.config.tz
        )
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, "fund")
        return
    await answer(update, context, actor.locale)
    shown = render(context, actor.locale, "fund/expense_approved", expense=expense, txn=txn,
                   by=actor.member.name)  # fmt: skip
    if update.callback_query is not None:
        await edit_card(update, shown)
    else:
        await reply(update, context, actor.locale, "fund/expense_approved",
                    **values(context, actor.locale, expense=expense, txn=txn, by=actor.member.name))  # fmt: skip
    await _tell_recorder(context, expense, "fund/expense_approved", txn=txn, by=actor.member.name)


async def _tell_recorder(
    context: LinliContext, expense: Expense, template: str, **extra: Any
) -> None:
    if expense.recorded_by is None:
        return
    recorder = await members_db.get_member(context.services.db, expense.recorded_by)
    if recorder is not None:
        await notify(context, recorder, template, expense=expense, **extra)


async def on_reject(update: Update, context: LinliContext, actor: Actor, args: Args) -> None:
    """/fund reject <expense> <reason>: the money it reserved is free again."""
    if not await organizer_or_refuse(update, context, actor):
        return
    services = context.services
    try:
        if len(args) < 2 or not args[0].lstrip("#").isdigit():
            raise RefusedError(Refused("reject_usage"))
        reason = checked(clean_text(" ".join(args[1:])))
        expense = await fund_db.reject_expense(
            services.db, int(args[0].lstrip("#")), actor.member.id, reason, services.now()
        )
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, "fund")
        return
    await reply(update, context, actor.locale, "fund/expense_rejected", expense=expense)
    if expense.recorded_by != actor.member.id:
        await _tell_recorder(context, expense, "fund/expense_rejected")


async def on_correct(update: Update, context: LinliContext, actor: Actor, args: Args) -> None:
    """/fund correct <booking> <reason>: the reversing booking, with its reason."""
    if not await organizer_or_refuse(update, context, actor):
        return
    services = context.services
    try:
        if len(args) < 2 or not args[0].lstrip("#").isdigit():
            raise RefusedError(Refused("correct_usage"))
        reason = checked(clean_text(" ".join(args[1:])))
        booked = await fund_db.correct(
            services.db, int(args[0].lstrip("#")), reason, actor.member.id,
            message_key(update, "correct"), services.now(), services.config.tz,
        )  # fmt: skip
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, "fund")
        return
    await reply(update, context, actor.locale, "fund/corrected",
                **values(context, actor.locale, txn=booked.txn))  # fmt: skip
