"""The weekly digest for the organizers: which week is due, and what it says.

A digest covers the seven community-local days that end when its posting day begins:
posted on Monday, it covers Monday to Sunday of the week before (the ISO week); posted on
another weekday, the seven days before that day. Consecutive digests cover the days in
between without a gap or an overlap, whatever weekday is configured. A digest is named by
the ISO week of its first day ("2026-W48"): that name is the key that makes it once a week.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from linli.core.points import week_start_at
from linli.core.spaces import SpaceWeek

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_EVENTS_LISTED = 10  # the message lists this many events and polls, then "and N more"
MAX_POLLS_LISTED = 10


@dataclass(frozen=True, slots=True)
class DigestWeek:
    """The days a digest covers, as local dates and as UTC instants (how times are stored)."""

    label: str  # "2026-W48": the ISO week of the first day; the digests table's key
    first_day: date
    last_day: date  # inclusive
    start: datetime  # local midnight starting first_day, in UTC
    end: datetime  # local midnight after last_day, in UTC (exclusive)


def parse_time(text: str) -> time:
    """ "09:00" -> time(9, 0) (the config validated the format)."""
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def weekday_number(name: str) -> int:
    return WEEKDAYS.index(name)


def week_before(posting_day: date, tz: ZoneInfo) -> DigestWeek:
    """The seven local days before `posting_day`."""
    first = posting_day - timedelta(days=7)
    year, week, _ = first.isocalendar()
    start = datetime.combine(first, time(0), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(posting_day, time(0), tzinfo=tz).astimezone(UTC)
    return DigestWeek(f"{year}-W{week:02d}", first, posting_day - timedelta(days=1), start, end)


def due_week(
    now: datetime, tz: ZoneInfo, weekday: int, at: time, catch_up_hours: int
) -> DigestWeek | None:
    """The digest due at `now`: the latest posting time not after `now`, unless it is more
    than `catch_up_hours` ago (the bot was down too long: that week is skipped, not posted
    days late)."""
    due = week_start_at(now, tz, weekday, at)
    if now - due > timedelta(hours=catch_up_hours):
        return None
    return week_before(due.date(), tz)


# --- What a digest says -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HazardLine:
    """One category's reports: new this week, resolved / rejected this week, open now."""

    category: str
    new: int = 0
    resolved: int = 0
    rejected: int = 0
    still_open: int = 0

    @property
    def active(self) -> bool:
        return bool(self.new or self.resolved or self.rejected or self.still_open)


@dataclass(frozen=True, slots=True)
class EventLine:
    """An event held this week: confirmed sign-ups and check-ins."""

    event_id: int
    title: str
    kind: str
    starts_at: datetime
    signed_up: int
    checked_in: int


@dataclass(frozen=True, slots=True)
class PollLine:
    """A poll closed this week and whether it passed."""

    poll_id: int
    title: str
    passed: bool
    turnout: int
    eligible: int


@dataclass(frozen=True, slots=True)
class Digest:
    week: DigestWeek
    hazards: tuple[HazardLine, ...] = ()
    events: tuple[EventLine, ...] = ()
    points_issued: int = 0
    points_redeemed: int = 0
    members_joined: int = 0
    members_verified: int = 0
    members_total: int = 0
    polls: tuple[PollLine, ...] = field(default_factory=tuple)
    fund_in: int = 0  # fen into the community fund this week
    fund_out: int = 0  # fen paid out of it
    fund_balance: int = 0  # its balance when the digest is made
    stories: tuple[str, ...] = ()  # titles of the stories posted this week (recognition)
    honours: tuple[str, ...] = ()  # titles of the selections closed this week
    spaces: tuple[SpaceWeek, ...] = ()  # one line per shared space

    @property
    def hazard_totals(self) -> HazardLine:
        return HazardLine(
            "",
            sum(h.new for h in self.hazards),
            sum(h.resolved for h in self.hazards),
            sum(h.rejected for h in self.hazards),
            sum(h.still_open for h in self.hazards),
        )

    @property
    def signed_up(self) -> int:
        return sum(e.signed_up for e in self.events)

    @property
    def checked_in(self) -> int:
        return sum(e.checked_in for e in self.events)

    @property
    def attendance_pct(self) -> int | None:
        """Checked in as a share of signed up; None when nobody signed up."""
        return round(100 * self.checked_in / self.signed_up) if self.signed_up else None

    @property
    def polls_passed(self) -> int:
        return sum(1 for p in self.polls if p.passed)

    @property
    def polls_failed(self) -> int:
        return len(self.polls) - self.polls_passed

    @property
    def quiet(self) -> bool:
        """Nothing happened at all (the digest still goes out: a quiet week is news too)."""
        return not (
            any(h.new or h.resolved or h.rejected for h in self.hazards)
            or self.events
            or self.points_issued
            or self.points_redeemed
            or self.members_joined
            or self.members_verified
            or self.polls
            or self.fund_in
            or self.fund_out
            or self.stories
            or self.honours
            or any(s.booked_minutes or s.no_shows or s.emergency_minutes for s in self.spaces)
        )


def order_hazards(lines: Iterable[HazardLine], configured: Sequence[str]) -> tuple[HazardLine, ...]:
    """Categories in the config's order (then any no longer configured), quiet ones left out."""
    position = {key: i for i, key in enumerate(configured)}
    active = [line for line in lines if line.active]
    return tuple(
        sorted(active, key=lambda h: (position.get(h.category, len(position)), h.category))
    )


def hours_text(minutes: int) -> str:
    """Minutes as hours for a digest line: "3", "1.5" (one decimal only when needed)."""
    return str(minutes // 60) if minutes % 60 == 0 else f"{minutes / 60:.1f}"


def number_width(*values: int) -> int:
    """Characters the widest number needs: the text's columns line up on a phone."""
    return max((len(str(v)) for v in values), default=1)
