"""The time bank (时间银行): hours of service, a ledger apart from points.

A member logs a service they gave to a neighbour; the neighbour (or an organizer)
confirms it, and the hours move from the receiver — or from the community pool when
the community runs one — to the giver. Balances may go below zero, down to a floor.
Hours are kept as whole minutes so sums are exact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

from linli.core.outcomes import Refused

WHAT_MAX_CHARS = 200
_HOURS_RE = re.compile(r"^(\d{1,3})(?:[.,](\d{1,2}))?\s*(h|小时|hours?)?$", re.IGNORECASE)


class LogStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class ServiceLog:
    id: int
    giver_id: int
    receiver_id: int
    minutes: int
    what: str
    from_pool: bool
    status: LogStatus
    created_at: datetime
    decided_at: datetime | None = None
    decided_by: int | None = None

    @property
    def code(self) -> str:
        return f"T-{self.id:04d}"

    @property
    def pending(self) -> bool:
        return self.status is LogStatus.PENDING


@dataclass(frozen=True, slots=True)
class HoursEntry:
    """One movement of hours on a member's account, with the service it came from."""

    log_id: int
    minutes: int  # + received for service given, - paid for service received
    what: str
    other_id: int | None  # the neighbour on the other side; None = the community pool
    created_at: datetime


def parse_hours(raw: str, max_hours: float) -> int | Refused:
    """Hours as typed ("1.5", "2", "0,5", "2h", "1.5小时") -> whole minutes."""
    match = _HOURS_RE.match(raw.strip())
    if match is None:
        return Refused("hours_not_number", {"raw": raw[:20]})
    try:
        hours = Decimal(f"{match.group(1)}.{match.group(2) or 0}")
    except InvalidOperation:  # pragma: no cover - the regex admits only digits
        return Refused("hours_not_number", {"raw": raw[:20]})
    minutes = int((hours * 60).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if minutes <= 0:
        return Refused("hours_not_positive")
    if hours > Decimal(str(max_hours)):
        return Refused("hours_too_many", {"max": format_hours(round(max_hours * 60))})
    return minutes


def format_hours(minutes: int) -> str:
    """Minutes as hours for people: 90 -> "1.5", 60 -> "1", 20 -> "0.33", -30 -> "-0.5"."""
    hours = (Decimal(minutes) / 60).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    text = f"{hours:f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def clean_what(raw: str) -> str | Refused:
    what = " ".join(raw.split())
    if not what:
        return Refused("what_required")
    if len(what) > WHAT_MAX_CHARS:
        return Refused("what_too_long", {"max": WHAT_MAX_CHARS})
    return what


def can_log(giver_id: int, receiver_id: int, receiver_known: bool) -> Refused | None:
    if not receiver_known:
        return Refused("unknown_member")
    if giver_id == receiver_id:
        return Refused("self_service")
    return None


def can_decide(log: ServiceLog | None, actor_id: int, is_organizer: bool) -> Refused | None:
    """The receiver or an organizer confirms or declines; never the giver for their own log."""
    if log is None:
        return Refused("unknown_log")
    if not log.pending:
        return Refused("log_closed", {"status": log.status.value, "code": log.code})
    if actor_id == log.giver_id:
        return Refused("own_log")
    if actor_id != log.receiver_id and not is_organizer:
        return Refused("not_receiver")
    return None


def can_withdraw(log: ServiceLog | None, actor_id: int) -> Refused | None:
    """The giver may take back a log nobody has confirmed yet."""
    if log is None:
        return Refused("unknown_log")
    if actor_id != log.giver_id:
        return Refused("not_giver")
    if not log.pending:
        return Refused("log_closed", {"status": log.status.value, "code": log.code})
    return None


def within_floor(balance_minutes: int, paying: int, floor_minutes: int) -> bool:
    """May a member pay `paying` minutes without going below -floor?"""
    return balance_minutes - paying >= -floor_minutes


def volunteer_points(minutes: int, points_per_hour: int) -> int:
    """Points for a confirmed service, pro rata, rounded half up."""
    value = (Decimal(minutes) * points_per_hour / 60).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(value)


def parse_log(args: list[str], max_hours: float) -> tuple[str, int, str] | Refused:
    """`/hours log <neighbour> <hours> <what...>` (after "log") -> (member ref, minutes, what)."""
    if len(args) < 2:
        return Refused("log_usage")
    minutes = parse_hours(args[1], max_hours)
    if isinstance(minutes, Refused):
        return minutes
    what = clean_what(" ".join(args[2:]))
    if isinstance(what, Refused):
        return what
    return args[0], minutes, what


def parse_log_code(raw: str) -> int | None:
    """A service log named as "T-0007", "t7" or "7"."""
    text = raw.strip().upper().removeprefix("T").removeprefix("-")
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None
