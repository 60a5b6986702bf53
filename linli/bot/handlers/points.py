"""/points (balance, standing, history) and organizers' /award and /deduct."""

from __future__ import annotations

from typing import Any

from telegram import Message, Update
from telegram.ext import BaseHandler, CommandHandler

from linli.bot.buttons import Router
from linli.bot.commands import CommandSpec
from linli.bot.common import (
    Actor,
    answer,
    edit,
    is_private,
    load_actor,
    notify,
    refuse,
    reply,
    text,
)
from linli.bot.context import LinliContext
from linli.bot.views import points as views
from linli.core.community import Role
from linli.core.members import Member
from linli.core.outcomes import Refused, RefusedError
from linli.core.points import Entry, Rule, parse_by_hand
from linli.storage import members as members_db
from linli.storage import points as points_db

FEATURE = "points"


async def on_points(update: Update, context: LinliContext) -> None:
    """/points: my balance, my place in my building, and my latest entries."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    view = await views.points_view(context, actor.member, 0)
    # In a group, paging buttons would let anyone swap the card for their own ledger.
    markup = views.pages_markup(context, actor.locale, view) if is_private(update) else None
    await reply(
        update, context, actor.locale, "points/balance", markup, member=actor.member, **view
    )


ROUTER = Router("pt")


@ROUTER.on(views.Page)
async def on_page(update: Update, context: LinliContext, actor: Actor, pressed: views.Page) -> None:
    """Older/newer entries under /points (always the presser's own ledger)."""
    if not 0 <= pressed.offset <= views.MAX_OFFSET or update.callback_query is None:
        await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return
    view = await views.points_view(context, actor.member, pressed.offset)
    await answer(update, context, actor.locale)
    body = text(context, actor.locale, "points/balance", member=actor.member, **view)
    await edit(update.callback_query, body, views.pages_markup(context, actor.locale, view))


async def on_award(update: Update, context: LinliContext) -> None:
    """/award <member> <points> <reason>: an organizer credits points (audited)."""
    await _by_hand(update, context, Rule.AWARD)


async def on_deduct(update: Update, context: LinliContext) -> None:
    """/deduct <member> <points> <reason>: an organizer removes points (audited, never below 0)."""
    await _by_hand(update, context, Rule.DEDUCT)


async def _by_hand(update: Update, context: LinliContext, rule: Rule) -> None:
    actor, message = await load_actor(update, context), update.effective_message
    if actor is None or message is None:
        return
    found = await _who_and_how_much(context, actor)
    if isinstance(found, Refused):
        await refuse(update, context, actor.locale, found, FEATURE)
        return
    target, amount, reason = found
    try:
        entry = await _post(context, actor, rule, message, target, amount, reason)
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, FEATURE)
        return
    balance = await points_db.balance(context.services.db, target.id)
    shown: dict[str, Any] = {"entry": entry, "moved": abs(entry.amount), "balance": balance}
    await reply(update, context, actor.locale, "points/by_hand_done", target=target, **shown)
    await notify(context, target, "points/by_hand_notice", **shown)


async def _who_and_how_much(
    context: LinliContext, actor: Actor
) -> tuple[Member, int, str] | Refused:
    """/award's and /deduct's arguments: the member (who has a Telegram account), the points
    and the reason; only organizers may."""
    if not actor.is_organizer:
        return Refused("organizers_only")
    rules = context.services.config.points.earn_rules(context.services.config.tz)
    parsed = parse_by_hand(context.args or [], rules.award_max)
    if isinstance(parsed, Refused):
        return parsed
    who, amount, reason = parsed
    target = await members_db.find_member(context.services.db, who)
    if target is None or target.forgotten:
        return Refused("unknown_member", {"who": who[:40]})
    return target, amount, reason


async def _post(
    context: LinliContext, actor: Actor, rule: Rule, message: Message, target: Member,
    amount: int, reason: str,
) -> Entry:  # fmt: skip
    services = context.services
    post = points_db.award if rule is Rule.AWARD else points_db.deduct
    async with services.db.transaction() as tx:
        return await post(
            tx, member_id=target.id, amount=amount, reason=reason, actor_id=actor.member.id,
            key=f"{rule.value}:{message.chat_id}:{message.message_id}",
            rules=services.config.points.earn_rules(services.config.tz), now=services.now(),
        )  # fmt: skip


HANDLERS: list[BaseHandler[Any, Any, Any]] = [
    CommandHandler("points", on_points),
    CommandHandler("award", on_award),
    CommandHandler("deduct", on_deduct),
    ROUTER.handler(),
]
COMMANDS: list[CommandSpec] = [
    CommandSpec("points", "points", private=True, group=True),
    CommandSpec("award", "points", role=Role.ORGANIZER),
    CommandSpec("deduct", "points", role=Role.ORGANIZER),
]
