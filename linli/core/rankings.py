"""Leaderboards: who did most for the neighbourhood, by period and by place.

Scores come from the points ledger's deeds (earns, awards, deductions), not from the
balance: spending points in the shop does not move anyone down. A member who opted
out stays on the board (the places stay honest) but under the name "a neighbour".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from linli.core.community import Binding, Community, NodeKind
from linli.core.members import Member
from linli.core.points import DayRange, Period, period_range, places


class Scope(StrEnum):
    BUILDING = "building"
    COMPOUND = "compound"
    COMMUNITY = "community"


@dataclass(frozen=True, slots=True)
class Where:
    """Which members a board counts: everyone, one compound, or one building."""

    scope: Scope
    target: str = ""  # compound id or building id; "" for the community


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a leaderboard."""

    place: int
    score: int
    name: str  # "" when hidden (opted out, forgotten, or a household with an opted-out member)
    hidden: bool
    mine: bool = False
    building_id: str | None = None  # household boards: the household's building and unit
    unit: str | None = None


@dataclass(frozen=True, slots=True)
class Board:
    period: Period
    days: DayRange
    where: Where
    lines: tuple[Line, ...]
    households: bool = False


def where_for_member(member: Member, scope: Scope, community: Community) -> Where | None:
    """The member's own building or compound; None if they have no home for that scope."""
    if scope is Scope.COMMUNITY:
        return Where(Scope.COMMUNITY)
    building = community.building(member.building_id) if member.building_id else None
    if building is None:
        return None
    if scope is Scope.BUILDING:
        return Where(Scope.BUILDING, building.id)
    return Where(Scope.COMPOUND, building.compound_id)


def where_for_binding(binding: Binding) -> Where | None:
    """The board a bound group gets each week; role teams get the community's."""
    if binding.kind is NodeKind.BUILDING:
        return Where(Scope.BUILDING, binding.target)
    if binding.kind is NodeKind.COMPOUND:
        return Where(Scope.COMPOUND, binding.target)
    return Where(Scope.COMMUNITY)


def place_name(where: Where, community: Community) -> str:
    if where.scope is Scope.COMMUNITY:
        return community.name
    if where.scope is Scope.COMPOUND:
        compound = community.compound(where.target)
        return compound.name if compound else where.target
    building = community.building(where.target)
    if building is None:
        return where.target
    compound = community.compound(building.compound_id)
    return f"{compound.name if compound else building.compound_id} {building.name}"


def days_for(period: Period, now: datetime, tz: ZoneInfo) -> DayRange:
    return period_range(period, now, tz)


def make_lines(
    rows: list[tuple[int, int, str, bool]], viewer_key: int | None = None
) -> tuple[Line, ...]:
    """(key, score, name, hidden) sorted high to low -> numbered lines (ties share a place)."""
    numbers = places([score for _, score, _, _ in rows])
    return tuple(
        Line(place, score, "" if hidden else name, hidden, key == viewer_key)
        for place, (key, score, name, hidden) in zip(numbers, rows, strict=True)
    )
