"""The time bank's buttons: confirm or decline a logged service, withdraw one."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardMarkup

from linli.bot.buttons import button, pack
from linli.bot.common import keyboard, label
from linli.bot.context import LinliContext
from linli.core.timebank import ServiceLog
from linli.storage import members as members_db


@button("tb", "ok")
@dataclass(frozen=True, slots=True)
class Confirm:
    """The receiver (or an organizer) confirms the service: hours move, points are earned."""

    log_id: int


@button("tb", "no")
@dataclass(frozen=True, slots=True)
class Decline:
    """The receiver (or an organizer) declines it."""

    log_id: int


@button("tb", "wd")
@dataclass(frozen=True, slots=True)
class Withdraw:
    """The giver takes it back while it waits."""

    log_id: int


def decide_markup(context: LinliContext, locale: str, log: ServiceLog) -> InlineKeyboardMarkup:
    return keyboard([[
        (label(context, locale, "timebank.confirm"), pack(Confirm(log.id))),
        (label(context, locale, "timebank.decline"), pack(Decline(log.id))),
    ]])  # fmt: skip


def withdraw_markup(context: LinliContext, locale: str, log: ServiceLog) -> InlineKeyboardMarkup:
    return keyboard([[(label(context, locale, "timebank.withdraw"), pack(Withdraw(log.id)))]])


def pending_markup(
    context: LinliContext, locale: str, waiting: list[ServiceLog]
) -> InlineKeyboardMarkup | None:
    """A confirm button per service waiting for this member's confirmation."""
    rows = [[(label(context, locale, "timebank.confirm_code", code=p.code), pack(Confirm(p.id)))]
            for p in waiting]  # fmt: skip
    return keyboard(rows) if rows else None


async def names(context: LinliContext, ids: set[int | None]) -> dict[int, str]:
    """The members' names, by id ("" for a member without one)."""
    found = {}
    for member_id in ids:
        if member_id is not None:
            member = await members_db.get_member(context.services.db, member_id)
            found[member_id] = member.name if member and member.name else ""
    return found
