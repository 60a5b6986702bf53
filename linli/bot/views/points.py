"""The /points card: balance, standing and one page of the ledger, with its paging buttons."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardMarkup

from linli.bot.buttons import button, pack
from linli.bot.common import keyboard, label
from linli.bot.context import LinliContext
from linli.core.members import Member
from linli.core.points import Period, period_range
from linli.core.rankings import Scope, Where
from linli.storage import points as points_db
from linli.storage import rankings as rankings_db

MAX_OFFSET = 1_000_000


@button("pt", "pg")
@dataclass(frozen=True, slots=True)
class Page:
    """Older or newer entries, from `offset` (always the presser's own ledger)."""

    offset: int


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


def pages_markup(
    context: LinliContext, locale: str, view: dict[str, Any]
) -> InlineKeyboardMarkup | None:
    """Newer / older, where there are any."""
    offset, size, total = view["offset"], view["size"], view["total"]
    row = []
    if offset > 0:
        row.append((label(context, locale, "points.newer"), pack(Page(max(0, offset - size)))))
    if offset + size < total:
        row.append((label(context, locale, "points.older"), pack(Page(offset + size))))
    return keyboard([row]) if row else None
