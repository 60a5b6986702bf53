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


def place_parts(where: Where, community: Community, locale: str) -> dict[str, str]:
    """Names for templates, in the reader's language: community, compound and building (""
    where the board is wider)."""
    parts = {"community": community.title(locale), "compound": "", "building": ""}
    if where.scope is Scope.COMPOUND:
        compound = community.compound(where.target)
        parts["compound"] = compound.title(locale) if compound else where.target
    elif where.scope is Scope.BUILDING:
        building = community.building(where.target)
        if building is not None:
            compound = community.compound(building.compound_id)
            parts["compound"] = compound.title(locale) if compound else building.compound_id
            parts["building"] = building.name
    return parts


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


def encode_where(where: Where, community: Community) -> str:
    """A short code for callback data: "m", "c<compound>", "b<compound>.<building>" (indexes)."""
    for ci, compound in enumerate(community.compounds):
        if where.scope is Scope.COMPOUND and compound.id == where.target:
            return f"c{ci}"
        for bi, building in enumerate(compound.buildings):
            if where.scope is Scope.BUILDING and building.id == where.target:
                return f"b{ci}.{bi}"
    return "m"


def decode_where(code: str, community: Community) -> Where | None:
    """The board a button names, or None for anything that is not one (forged, stale)."""
    if code == "m":
        return Where(Scope.COMMUNITY)
    kind, parts = code[:1], code[1:].split(".")
    if not all(p.isdigit() and len(p) < 4 for p in parts):
        return None
    numbers = [int(p) for p in parts]
    if kind == "c" and len(numbers) == 1 and numbers[0] < len(community.compounds):
        return Where(Scope.COMPOUND, community.compounds[numbers[0]].id)
    if kind == "b" and len(numbers) == 2 and numbers[0] < len(community.compounds):
        buildings = community.compounds[numbers[0]].buildings
        if numbers[1] < len(buildings):
            return Where(Scope.BUILDING, buildings[numbers[1]].id)
    return None


def choices_for(home: Member | None, binding: Binding | None, community: Community) -> list[Where]:
    """The boards offered as buttons: around the viewer's home (private) or the group's node."""
    found: list[Where] = []
    if binding is not None and binding.kind in (NodeKind.BUILDING, NodeKind.COMPOUND):
        start = where_for_binding(binding)
        if start is not None and start.scope is Scope.BUILDING:
            building = community.building(start.target)
            found.append(start)
            if building is not None:
                found.append(Where(Scope.COMPOUND, building.compound_id))
        elif start is not None:
            found.append(start)
    elif binding is None and home is not None:
        for scope in (Scope.BUILDING, Scope.COMPOUND):
            where = where_for_member(home, scope, community)
            if where is not None:
                found.append(where)
    found.append(Where(Scope.COMMUNITY))
    return found


def parse_rank_args(args: list[str]) -> tuple[Period | None, Scope | None, bool] | str:
    """`/rank [week|month|all] [building|compound|community] [homes]` -> choices; or
    "optout"/"optin"/"usage"."""
    period: Period | None = None
    scope: Scope | None = None
    homes = False
    words = {"本周": "week", "本月": "month", "总榜": "all", "楼栋": "building", "小区": "compound",
             "社区": "community", "家庭": "homes", "households": "homes"}  # fmt: skip
    for raw in args:
        word = words.get(raw, raw.lower())
        if word in ("optout", "optin") and len(args) == 1:
            return word
        if word in {p.value for p in Period}:
            period = Period(word)
        elif word in {s.value for s in Scope}:
            scope = Scope(word)
        elif word == "homes":
            homes = True
        else:
            return "usage"
    return period, scope, homes
