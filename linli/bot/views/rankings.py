"""Leaderboard cards: the board for a period and place, its names, and its switching buttons."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardMarkup

from linli.bot.buttons import button, pack
from linli.bot.common import keyboard, label
from linli.bot.context import LinliContext
from linli.core.community import Community
from linli.core.members import Member
from linli.core.points import Period, period_range
from linli.core.rankings import Board, Scope, Where, encode_where, place_parts
from linli.storage import rankings as rankings_db


@button("rk", "v")
@dataclass(frozen=True, slots=True)
class Show:
    """The board of `period` ("week", "month", "all") at `where` (core.rankings.encode_where),
    of members, or of households."""

    period: str
    where: str
    households: bool


async def load_board(
    context: LinliContext, period: Period, where: Where, homes: bool, viewer: Member | None
) -> Board:
    services = context.services
    days = period_range(period, services.now(), services.config.tz)
    size = services.config.rankings.size
    if homes:
        household = viewer.household_id if viewer else None
        lines = await rankings_db.household_board(services.db, days, where, size, household)
    else:
        lines = await rankings_db.member_board(
            services.db, days, where, size, viewer.id if viewer else None
        )
    return Board(period, days, where, lines, homes)


def board_values(board: Board, community: Community, locale: str) -> dict[str, Any]:
    """What rankings/board.html.j2 needs, with the places named in the reader's language."""
    names = {
        b.id: place_parts(Where(Scope.BUILDING, b.id), community, locale)
        for b in community.all_buildings()
    }
    return {
        "board": board,
        "place": place_parts(board.where, community, locale),
        "buildings": names,
    }


def board_markup(
    context: LinliContext, locale: str, board: Board, choices: list[Where]
) -> InlineKeyboardMarkup:
    """A row of periods, a row of places (the shown ones marked) and the households switch."""
    community = context.services.community
    here = encode_where(board.where, community)
    homes = board.households

    def mark(on: bool, name: str) -> str:
        return ("• " if on else "") + name

    periods = [(mark(p is board.period, label(context, locale, f"rankings.{p.value}")),
                pack(Show(p.value, here, homes))) for p in Period]  # fmt: skip
    places = [(mark(w == board.where, label(context, locale, f"rankings.{w.scope.value}")),
               pack(Show(board.period.value, encode_where(w, community), homes)))
              for w in choices]  # fmt: skip
    toggle = label(context, locale, "rankings.members" if homes else "rankings.households")
    return keyboard([periods, places, [(toggle, pack(Show(board.period.value, here, not homes)))]])
