"""/hours: the time bank's balance and history, logging a service, and confirming one."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from linli.bot import callbacks
from linli.bot.commands import CommandSpec
from linli.bot.common import (
    Actor,
    answer,
    edit,
    keyboard,
    label,
    load_actor,
    locale_of,
    notify,
    refuse,
    reply,
    text,
)
from linli.bot.context import LinliContext
from linli.core.members import Member
from linli.core.outcomes import Refused, RefusedError
from linli.core.timebank import ServiceLog, can_log, format_hours, parse_log, parse_log_code
from linli.storage import members as members_db
from linli.storage import timebank as timebank_db

F = "tb"


def _floor(context: LinliContext) -> int:
    return round(context.services.config.timebank.floor_hours * 60)


def decide_markup(context: LinliContext, locale: str, log: ServiceLog) -> InlineKeyboardMarkup:
    return keyboard([[
        (label(context, locale, "timebank.confirm"), callbacks.pack(F, "ok", log.id)),
        (label(context, locale, "timebank.decline"), callbacks.pack(F, "no", log.id)),
    ]])  # fmt: skip


async def _names(context: LinliContext, ids: set[int | None]) -> dict[int, str]:
    found = {}
    for member_id in ids:
        if member_id is not None:
            member = await members_db.get_member(context.services.db, member_id)
            found[member_id] = member.name if member and member.name else ""
    return found


async def on_hours(update: Update, context: LinliContext) -> None:
    """/hours [log ... | confirm T-0007]: my hours, or log / confirm a service."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    args = list(context.args or [])
    if args and args[0].lower() in ("log", "记录"):
        await _log(update, context, actor, args[1:])
        return
    if args and args[0].lower() in ("confirm", "确认") and len(args) == 2:
        log_id = parse_log_code(args[1])
        await _decide(update, context, actor, "ok", log_id if log_id is not None else 0)
        return
    if args:
        await refuse(update, context, actor.locale, Refused("usage"), "timebank")
        return
    db, member = context.services.db, actor.member
    history = await timebank_db.history(db, member.id)
    pending = await timebank_db.pending_for(db, member.id)
    names = await _names(
        context,
        {e.other_id for e in history}
        | {p.giver_id for p in pending}
        | {p.receiver_id for p in pending},
    )
    rows = [[(label(context, actor.locale, "timebank.confirm_code", code=p.code), callbacks.pack(F, "ok", p.id))]
            for p in pending if p.receiver_id == member.id]  # fmt: skip
    await reply(update, context, actor.locale, "timebank/balance", keyboard(rows) if rows else None,
                hours=format_hours(await timebank_db.balance_minutes(db, member.id)),
                floor=format_hours(_floor(context)), history=history, pending=pending, names=names,
                me=member.id, fmt=format_hours)  # fmt: skip


async def _log(update: Update, context: LinliContext, actor: Actor, args: list[str]) -> None:
    services = context.services
    parsed = parse_log(args, services.config.timebank.max_hours)
    receiver = (
        None
        if isinstance(parsed, Refused)
        else await members_db.find_member(services.db, parsed[0])
    )
    refused = (
        parsed
        if isinstance(parsed, Refused)
        else can_log(
            actor.member.id,
            receiver.id if receiver else 0,
            receiver is not None and not receiver.forgotten,
        )
    )
    if refused is not None or isinstance(parsed, Refused) or receiver is None:
        await refuse(update, context, actor.locale, refused or Refused("log_usage"), "timebank")
        return
    log = await timebank_db.log_service(
        services.db, giver_id=actor.member.id, receiver_id=receiver.id, minutes=parsed[1], what=parsed[2],
        from_pool=services.config.timebank.from_pool, now=services.now(),
    )  # fmt: skip
    reached = await notify(context, receiver, "timebank/please_confirm",
                           decide_markup_for(context, receiver, log), log=log, giver=actor.member, hours=format_hours(log.minutes))  # fmt: skip
    withdraw = keyboard(
        [[(label(context, actor.locale, "timebank.withdraw"), callbacks.pack(F, "wd", log.id))]]
    )
    await reply(update, context, actor.locale, "timebank/logged", withdraw, log=log, receiver=receiver,
                hours=format_hours(log.minutes), reached=reached)  # fmt: skip


def decide_markup_for(
    context: LinliContext, member: Member, log: ServiceLog
) -> InlineKeyboardMarkup:
    return decide_markup(context, locale_of(member, context.services), log)


async def on_button(update: Update, context: LinliContext) -> None:
    """Confirm / decline (receiver or organizer) or withdraw (giver) a service log."""
    query = update.callback_query
    actor = await load_actor(update, context)
    if query is None or actor is None:
        return
    parsed = callbacks.unpack(query.data, F, int)
    if parsed is None or parsed[0] not in ("ok", "no", "wd"):
        await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return
    await _decide(update, context, actor, parsed[0], parsed[1])


async def _decide(
    update: Update, context: LinliContext, actor: Actor, action: str, log_id: int
) -> None:
    services, points = context.services, 0
    try:
        if action == "ok":
            rules = services.config.points.earn_rules(services.config.tz)
            log, points = await timebank_db.confirm(
                services.db, log_id, actor_id=actor.member.id, is_organizer=actor.is_organizer,
                floor_minutes=_floor(context), rules=rules, now=services.now(),
            )  # fmt: skip
        elif action == "no":
            log = await timebank_db.decline(services.db, log_id, actor_id=actor.member.id,
                                            is_organizer=actor.is_organizer, now=services.now())  # fmt: skip
        else:
            log = await timebank_db.withdraw(
                services.db, log_id, actor_id=actor.member.id, now=services.now()
            )
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, "timebank")
        return
    values: dict[str, Any] = {"log": log, "hours": format_hours(log.minutes), "points": points}
    if update.callback_query is not None:
        await answer(update, context, actor.locale)
        await edit(update.callback_query, text(context, actor.locale, "timebank/decided", **values))
    else:
        await reply(update, context, actor.locale, "timebank/decided", **values)
    if action != "wd":
        giver = await members_db.get_member(services.db, log.giver_id)
        if giver is not None:
            await notify(context, giver, "timebank/decided_notice", **values)


HANDLERS: list[BaseHandler[Any, Any, Any]] = [
    CommandHandler("hours", on_hours),
    CallbackQueryHandler(on_button, pattern=callbacks.pattern(F)),
]
COMMANDS: list[CommandSpec] = [CommandSpec("hours", "timebank")]
