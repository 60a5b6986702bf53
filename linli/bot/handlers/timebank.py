"""/hours: the time bank's balance and history, logging a service, and confirming one."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler

from linli.bot.buttons import Router
from linli.bot.commands import CommandSpec
from linli.bot.common import Actor, answer, edit, load_actor, locale_of, notify, refuse, reply, text
from linli.bot.context import LinliContext
from linli.bot.views import timebank as views
from linli.core.members import Member
from linli.core.outcomes import Refused, RefusedError
from linli.core.timebank import ServiceLog, can_log, format_hours, parse_log, parse_log_code
from linli.storage import members as members_db
from linli.storage import timebank as timebank_db

FEATURE = "timebank"


def _floor(context: LinliContext) -> int:
    return round(context.services.config.timebank.floor_hours * 60)


async def on_hours(update: Update, context: LinliContext) -> None:
    """/hours [log ... | confirm T-0007]: my hours, or log / confirm a service."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    args = list(context.args or [])
    if args and args[0].lower() in ("log", "记录"):
        await _log(update, context, actor, args[1:])
    elif args and args[0].lower() in ("confirm", "确认") and len(args) == 2:
        log_id = parse_log_code(args[1])
        await _confirm(update, context, actor, log_id if log_id is not None else 0)
    elif args:
        await refuse(update, context, actor.locale, Refused("usage"), FEATURE)
    else:
        await _balance(update, context, actor)


async def _balance(update: Update, context: LinliContext, actor: Actor) -> None:
    """My hours, my history and what waits for a confirmation (mine to give: with buttons)."""
    db, member = context.services.db, actor.member
    history = await timebank_db.history(db, member.id)
    pending = await timebank_db.pending_for(db, member.id)
    people = {e.other_id for e in history} | {p.giver_id for p in pending}
    names = await views.names(context, people | {p.receiver_id for p in pending})
    markup = views.pending_markup(
        context, actor.locale, [p for p in pending if p.receiver_id == member.id]
    )
    await reply(update, context, actor.locale, "timebank/balance", markup,
                hours=format_hours(await timebank_db.balance_minutes(db, member.id)),
                floor=format_hours(_floor(context)), history=history, pending=pending, names=names,
                me=member.id, fmt=format_hours)  # fmt: skip


async def _log(update: Update, context: LinliContext, actor: Actor, args: list[str]) -> None:
    """/hours log <neighbour> <hours> <what>: the service waits for the receiver's confirmation."""
    services = context.services
    found = await _receiver_and_service(context, actor, args)
    if isinstance(found, Refused):
        await refuse(update, context, actor.locale, found, FEATURE)
        return
    receiver, minutes, what = found
    log = await timebank_db.log_service(
        services.db, giver_id=actor.member.id, receiver_id=receiver.id, minutes=minutes, what=what,
        from_pool=services.config.timebank.from_pool, now=services.now(),
    )  # fmt: skip
    hours = format_hours(log.minutes)
    reached = await notify(context, receiver, "timebank/please_confirm",
                           views.decide_markup(context, locale_of(receiver, services), log),
                           log=log, giver=actor.member, hours=hours)  # fmt: skip
    await reply(update, context, actor.locale, "timebank/logged",
                views.withdraw_markup(context, actor.locale, log),
                log=log, receiver=receiver, hours=hours, reached=reached)  # fmt: skip


async def _receiver_and_service(
    context: LinliContext, actor: Actor, args: list[str]
) -> tuple[Member, int, str] | Refused:
    """The neighbour served (a member with a Telegram account, not me), minutes and what."""
    parsed = parse_log(args, context.services.config.timebank.max_hours)
    if isinstance(parsed, Refused):
        return parsed
    who, minutes, what = parsed
    receiver = await members_db.find_member(context.services.db, who)
    known = receiver is not None and not receiver.forgotten
    refused = can_log(actor.member.id, receiver.id if receiver else 0, known)
    if refused is not None or receiver is None:
        return refused or Refused("log_usage")
    return receiver, minutes, what


ROUTER = Router("tb")


@ROUTER.on(views.Confirm)
async def on_confirm(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Confirm
) -> None:
    """The receiver (or an organizer) confirms: hours move, the giver earns points."""
    await _confirm(update, context, actor, pressed.log_id)


async def _confirm(update: Update, context: LinliContext, actor: Actor, log_id: int) -> None:
    services = context.services
    try:
        log, points = await timebank_db.confirm(
            services.db, log_id, actor_id=actor.member.id, is_organizer=actor.is_organizer,
            floor_minutes=_floor(context), now=services.now(),
            rules=services.config.points.earn_rules(services.config.tz),
        )  # fmt: skip
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, FEATURE)
        return
    await _decided(update, context, actor, log, points, tell_giver=True)


@ROUTER.on(views.Decline)
async def on_decline(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Decline
) -> None:
    """The receiver (or an organizer) declines: nothing moves; the giver hears of it."""
    services = context.services
    try:
        log = await timebank_db.decline(
            services.db, pressed.log_id, actor_id=actor.member.id,
            is_organizer=actor.is_organizer, now=services.now(),
        )  # fmt: skip
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, FEATURE)
        return
    await _decided(update, context, actor, log, 0, tell_giver=True)


@ROUTER.on(views.Withdraw)
async def on_withdraw(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Withdraw
) -> None:
    """The giver takes back a service that still waits."""
    services = context.services
    try:
        log = await timebank_db.withdraw(
            services.db, pressed.log_id, actor_id=actor.member.id, now=services.now()
        )
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, FEATURE)
        return
    await _decided(update, context, actor, log, 0, tell_giver=False)


async def _decided(
    update: Update, context: LinliContext, actor: Actor, log: ServiceLog, points: int,
    *, tell_giver: bool,
) -> None:  # fmt: skip
    """The card (or, after /hours confirm, a reply) says how it ended; the giver hears it."""
    values: dict[str, Any] = {"log": log, "hours": format_hours(log.minutes), "points": points}
    if update.callback_query is not None:
        await answer(update, context, actor.locale)
        await edit(update.callback_query, text(context, actor.locale, "timebank/decided", **values))
    else:
        await reply(update, context, actor.locale, "timebank/decided", **values)
    giver = await members_db.get_member(context.services.db, log.giver_id) if tell_giver else None
    if giver is not None:
        await notify(context, giver, "timebank/decided_notice", **values)


HANDLERS: list[BaseHandler[Any, Any, Any]] = [
    CommandHandler("hours", on_hours),
    ROUTER.handler(),
]
COMMANDS: list[CommandSpec] = [CommandSpec("hours", "timebank")]
