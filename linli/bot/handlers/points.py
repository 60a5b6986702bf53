"""/points (balance, standing, history) and organizers' /award and /deduct."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from linli.bot import callbacks
from linli.bot.commands import CommandSpec
from linli.bot.common import (
    answer,
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
from linli.core.members import Member
from linli.core.outcomes import Refused, RefusedError
from linli.core.points import Period, Rule, parse_by_hand, period_range
from linli.core.rankings import Scope, Where
from linli.storage import members as members_db
from linli.storage import points as points_db
from linli.storage import rankings as rankings_db

F = "pt"


async def points_view(context: LinliContext, member: Member, offset: int) -> dict[str, Any]:
    """Balance, all-time standing in the member's building, and one page of entries."""
    services = context.services
    size = services.config.points.history_size
    standing = None
    if member.building_id:
        days = period_range(Period.ALL, services.now(), services.config.tz)
        where = Where(Scope.BUILDING, member.building_id)
        standing = await rankings_db.member_standing(services.db, member.id, days, where)
    return {
        "balance": await points_db.balance(services.db, member.id),
        "standing": standing,
        "entries": await points_db.latest_entries(services.db, member.id, size, offset),
        "total": await points_db.count_entries(services.db, member.id),
        "offset": offset,
        "size": size,
    }


def _pages(context: LinliContext, locale: str, view: dict[str, Any]) -> InlineKeyboardMarkup | None:
    offset, size, total = view["offset"], view["size"], view["total"]
    row = []
    if offset > 0:
        row.append(
            (label(context, locale, "points.newer"), callbacks.pack(F, "pg", max(0, offset - size)))
        )
    if offset + size < total:
        row.append((label(context, locale, "points.older"), callbacks.pack(F, "pg", offset + size)))
    return keyboard([row]) if row else None


async def on_points(update: Update, context: LinliContext) -> None:
    """/points: my balance, my place in my building, and my latest entries."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    view = await points_view(context, actor.member, 0)
    # In a group, paging buttons would let anyone swap the card for their own ledger.
    markup = _pages(context, actor.locale, view) if is_private(update) else None
    await reply(
        update, context, actor.locale, "points/balance", markup, member=actor.member, **view
    )


async def on_page(update: Update, context: LinliContext) -> None:
    """Older/newer entries under /points (always the presser's own ledger)."""
    query = update.callback_query
    actor = await load_actor(update, context)
    if query is None or actor is None:
        return
    parsed = callbacks.unpack(query.data, F, int)
    if parsed is None or parsed[0] != "pg" or not 0 <= parsed[1] <= 1_000_000:
        await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return
    view = await points_view(context, actor.member, parsed[1])
    await answer(update, context, actor.locale)
    body = text(context, actor.locale, "points/balance", member=actor.member, **view)
    await edit(query, body, _pages(context, actor.locale, view))


async def on_award(update: Update, context: LinliContext) -> None:
    """/award <member> <points> <reason>: an organizer credits points (audited)."""
    await _by_hand(update, context, Rule.AWARD)


async def on_deduct(update: Update, context: LinliContext) -> None:
    """/deduct <member> <points> <reason>: an organizer removes points (audited, never below 0)."""
    await _by_hand(update, context, Rule.DEDUCT)


async def _by_hand(update: Update, context: LinliContext, rule: Rule) -> None:
    actor, message, services = (
        await load_actor(update, context),
        update.effective_message,
        context.services,
    )
    if actor is None or message is None:
        return
    rules = services.config.points.earn_rules(services.config.tz)
    parsed: Any = (
        parse_by_hand(context.args or [], rules.award_max)
        if actor.is_organizer
        else Refused("organizers_only")
    )
    target = (
        None
        if isinstance(parsed, Refused)
        else await members_db.find_member(services.db, parsed[0])
    )
    if not isinstance(parsed, Refused) and (target is None or target.forgotten):
        parsed = Refused("unknown_member", {"who": parsed[0][:40]})
    if isinstance(parsed, Refused) or target is None:
        await refuse(update, context, actor.locale, parsed, "points")
        return
    post = points_db.award if rule is Rule.AWARD else points_db.deduct
    try:
        async with services.db.transaction() as tx:
            entry = await post(
                tx,
                member_id=target.id,
                amount=parsed[1],
                reason=parsed[2],
                actor_id=actor.member.id,
                key=f"{rule.value}:{message.chat_id}:{message.message_id}",
                rules=rules,
                now=services.now(),
            )
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, "points")
        return
    balance = await points_db.balance(services.db, target.id)
    shown: dict[str, Any] = {"entry": entry, "moved": abs(entry.amount), "balance": balance}
    await reply(update, context, actor.locale, "points/by_hand_done", target=target, **shown)
    await notify(context, target, "points/by_hand_notice", **shown)


HANDLERS: list[BaseHandler[Any, Any, Any]] = [
    CommandHandler("points", on_points),
    CommandHandler("award", on_award),
    CommandHandler("deduct", on_deduct),
    CallbackQueryHandler(on_page, pattern=callbacks.pattern(F)),
]
COMMANDS: list[CommandSpec] = [
    CommandSpec("points", "points", private=True, group=True),
    CommandSpec("award", "points", role=Role.ORGANIZER),
    CommandSpec("deduct", "points", role=Role.ORGANIZER),
]
