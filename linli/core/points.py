"""The points ledger's rules: what each deed earns, daily caps, and what an entry is.

Points are an append-only ledger. A member's balance is the sum of their entries and
never goes below zero. Each entry has a *rule* saying why it exists:

- earn rules, credited by the features (a verified report, an urgent report's bonus,
  attending an event, a confirmed volunteer hour, a verified referral) with the amount
  from the config and a daily cap per rule, counted in the community's time zone;
- ``award`` and ``deduct``: an organizer's hand, with a reason, audited;
- ``redeem`` and ``refund``: the shop holding points for an order, and returning them.

The *score* that rankings use counts what a member did (earn rules, awards, deductions)
and not what they spent: redeeming a reward does not push anyone down the leaderboard.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from linli.core.outcomes import Refused


class Rule(StrEnum):
    VERIFIED_REPORT = "verified_report"
    URGENT_BONUS = "urgent_bonus"
    ATTENDANCE = "attendance"
    VOLUNTEER_HOUR = "volunteer_hour"
    REFERRAL = "referral"
    AWARD = "award"
    DEDUCT = "deduct"
    REDEEM = "redeem"
    REFUND = "refund"


# Rules the features credit through `earn()` (amount from the config, capped per day).
EARN_RULES: tuple[str, ...] = (
    Rule.VERIFIED_REPORT,
    Rule.URGENT_BONUS,
    Rule.ATTENDANCE,
    Rule.VOLUNTEER_HOUR,
    Rule.REFERRAL,
    Rule.AWARD,
)
# Rules that count towards rankings (deeds); redeem/refund only move the balance.
SCORED_RULES: frozenset[str] = frozenset({*EARN_RULES, Rule.DEDUCT})

REASON_MAX_CHARS = 200
AMOUNT_MAX = 1_000_000  # nothing a community does is worth more; keeps sums far from overflow


@dataclass(frozen=True, slots=True)
class EarnRules:
    """How much each rule earns and how much of it one member may earn per local day.

    A cap of 0 means no cap. ``award_max`` bounds one organizer award or deduction.
    """

    amounts: Mapping[str, int]
    daily_caps: Mapping[str, int]
    tz: ZoneInfo
    award_max: int = 1000

    def amount_for(self, rule: str) -> int:
        if rule not in EARN_RULES:
            raise ValueError(f"not an earn rule: {rule!r}")
        return int(self.amounts.get(rule, 0))

    def cap_for(self, rule: str) -> int | None:
        cap = int(self.daily_caps.get(rule, 0))
        return cap if cap > 0 else None

    def day_of(self, now: datetime) -> str:
        """The community-local calendar day of an instant, as YYYY-MM-DD."""
        return local_day(now, self.tz)


def local_day(now: datetime, tz: ZoneInfo) -> str:
    return now.astimezone(tz).date().isoformat()


def decide_earn(rules: EarnRules, rule: str, requested: int | None, earned_today: int) -> int:
    """How many points to credit: the rule's amount (or `requested`), within today's cap."""
    amount = rules.amount_for(rule) if requested is None else requested
    if amount < 0:
        raise ValueError("an earn is never negative; use deduct")
    amount = min(amount, AMOUNT_MAX)
    cap = rules.cap_for(rule)
    if cap is not None:
        amount = max(0, min(amount, cap - earned_today))
    return amount


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the ledger."""

    id: int
    member_id: int
    amount: int
    rule: str
    reason: str
    reference: str
    key: str
    actor_id: int | None
    created_at: datetime


def parse_amount(raw: str, maximum: int) -> int | Refused:
    """A positive whole number of points typed by an organizer, at most `maximum`."""
    text = raw.strip().lstrip("+")
    if not text.isdigit() or not text.isascii():
        return Refused("amount_not_number", {"raw": raw[:20]})
    if len(text) > 9:
        return Refused("amount_too_big", {"max": maximum})
    value = int(text)
    if value <= 0:
        return Refused("amount_not_positive")
    if value > maximum:
        return Refused("amount_too_big", {"max": maximum})
    return value


def clean_reason(raw: str) -> str | Refused:
    reason = " ".join(raw.split())
    if not reason:
        return Refused("reason_required")
    if len(reason) > REASON_MAX_CHARS:
        return Refused("reason_too_long", {"max": REASON_MAX_CHARS})
    return reason


# --- Periods for rankings, in community-local days (YYYY-MM-DD, compared as text).


class Period(StrEnum):
    WEEK = "week"
    MONTH = "month"
    ALL = "all"


@dataclass(frozen=True, slots=True)
class DayRange:
    """Local days from `start` (inclusive) to `end` (exclusive); None = unbounded."""

    start: str | None
    end: str | None
    label: str = ""  # "2026-W48", "2026-11", "all": names the period (weekly posts are keyed by it)


def period_range(period: Period, now: datetime, tz: ZoneInfo) -> DayRange:
    today = now.astimezone(tz).date()
    if period is Period.WEEK:
        start = today - timedelta(days=today.weekday())
        return _week(start)
    if period is Period.MONTH:
        start = today.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
        return DayRange(start.isoformat(), end.isoformat(), f"{start:%Y-%m}")
    return DayRange(None, None, "all")


def previous_week(now: datetime, tz: ZoneInfo) -> DayRange:
    """The last full Monday-to-Sunday week before the current one."""
    today = now.astimezone(tz).date()
    start = today - timedelta(days=today.weekday() + 7)
    return _week(start)


def _week(monday: date) -> DayRange:
    year, week, _ = monday.isocalendar()
    return DayRange(
        monday.isoformat(), (monday + timedelta(days=7)).isoformat(), f"{year}-W{week:02d}"
    )


def period_labels(day: str) -> tuple[str, str]:
    """The labels of the week ("2026-W48") and the month ("2026-11") a local day is in."""
    local = date.fromisoformat(day)
    return _week(local - timedelta(days=local.weekday())).label, day[:7]


def is_whole_period(days: DayRange) -> bool:
    """True if `days` is exactly the week or the month its label names."""
    if days.start is None or days.end is None:
        return False
    week, month = period_labels(days.start)
    if days.label == week:
        return days.end == (date.fromisoformat(days.start) + timedelta(days=7)).isoformat()
    first = date.fromisoformat(days.start)
    next_month = (first + timedelta(days=32)).replace(day=1)
    return days.label == month and first.day == 1 and days.end == next_month.isoformat()


def week_start_at(now: datetime, tz: ZoneInfo, weekday: int, at: time) -> datetime:
    """The most recent local `weekday` at `at` not after `now` (the weekly post's due time)."""
    local = now.astimezone(tz)
    days_back = (local.weekday() - weekday) % 7
    due_day = local.date() - timedelta(days=days_back)
    due = datetime.combine(due_day, at, tzinfo=tz)
    if due > local:
        due -= timedelta(days=7)
    return due


@dataclass(frozen=True, slots=True)
class Standing:
    """One line of a leaderboard: a member (or a household) and their score."""

    place: int
    score: int
    member_id: int | None = None
    name: str = ""
    optout: bool = False
    household_id: int | None = None
    building_id: str | None = None
    unit: str | None = None


def places(scores: list[int]) -> list[int]:
    """Competition ranking (1, 2, 2, 4) for scores sorted from high to low."""
    out: list[int] = []
    for i, score in enumerate(scores):
        out.append(out[-1] if i and scores[i - 1] == score else i + 1)
    return out


def parse_by_hand(args: list[str], maximum: int) -> tuple[str, int, str] | Refused:
    """`/award <member> <points> <reason...>` (and /deduct) -> (member ref, points, reason)."""
    if len(args) < 2:
        return Refused("by_hand_usage")
    amount = parse_amount(args[1], maximum)
    if isinstance(amount, Refused):
        return amount
    reason = clean_reason(" ".join(args[2:]))
    if isinstance(reason, Refused):
        return reason
    return args[0], amount, reason
