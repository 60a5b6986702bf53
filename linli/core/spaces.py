"""Shared spaces (公共空间): the booking rules, and the emergency switch (平急两用).

A space has opening hours per weekday, a slot grid, a shortest and longest booking, a
notice (how soon ahead at the latest) and a window (how far ahead at most), an audience
(who may book), a quota per household per week and a price in points (0 = free). Each
rule is a pure function answering None (fine) or a `Refused`; `decide_booking` runs them
all in order, and storage runs it inside the one transaction that writes the booking, so
two bookings of one space never overlap and no household goes over its quota.

Times are instants (aware datetimes); opening hours and the week of a quota are read in
the community's time zone. A booking is the half-open interval [start, end).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar
from icalendar import Event as IcsEvent

from linli.core.clock import from_iso, to_iso
from linli.core.community import Community
from linli.core.members import Audience, Member
from linli.core.outcomes import Refused

# Nothing is booked for longer than a day, so an overlap looks back at most this far.
LONGEST_BOOKING = timedelta(hours=24)
PURPOSE_MAX = 80
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud at the door
CODE_PREFIX = "B-"
DOOR_CODE_LENGTH = 6
RECURRING_WEEKS_MAX = 26
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Preset emergency uses; any other text is taken as the label itself.
EMERGENCY_USES = ("shelter", "vaccination", "supplies")


class Approval(StrEnum):
    NONE = "none"
    ORGANIZER = "organizer"
    OPERATOR = "operator"


class Status(StrEnum):
    PENDING = "pending"  # waiting for approval; holds its slot
    CONFIRMED = "confirmed"
    CHECKED_IN = "checked_in"
    CANCELLED = "cancelled"  # by the booker, an organizer, or an emergency
    DECLINED = "declined"
    NO_SHOW = "no_show"  # not checked in within the grace: released


HOLDING = (Status.PENDING, Status.CONFIRMED, Status.CHECKED_IN)


@dataclass(frozen=True, slots=True)
class Hours:
    """Opening hours of one weekday, as minutes after local midnight: [opens, closes)."""

    opens: int
    closes: int

    def label(self) -> str:
        return f"{_hhmm(self.opens)}–{_hhmm(self.closes)}"


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


_HOURS_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")


def parse_hours(text: str) -> Hours | None:
    """ "08:30-21:00" (24:00 allowed as a close) -> Hours, else None ("" or "closed": None)."""
    found = _HOURS_RE.match(text.strip())
    if not found:
        return None
    h1, m1, h2, m2 = (int(g) for g in found.groups())
    opens, closes = h1 * 60 + m1, h2 * 60 + m2
    if closes > 24 * 60 or closes <= opens:
        return None
    return Hours(opens, closes)


@dataclass(frozen=True, slots=True)
class Rules:
    """How a space may be booked."""

    hours: tuple[Hours | None, ...]  # mon..sun; None = closed that day
    slot_minutes: int = 30
    min_minutes: int = 30
    max_minutes: int = 120
    notice_minutes: int = 120
    window_days: int = 14
    quota_minutes: int = 0  # per household per week (Monday to Sunday, local); 0 = none
    checkin_grace_minutes: int = 15
    cancel_hours: int = 2  # a points-priced booking cancelled this early gets its points back
    no_show_limit: int = 3  # no-shows in 30 days that suspend booking (0 = never)
    suspend_days: int = 14
    reminder_minutes: int = 60  # before the start (0 = no reminder)

    def hours_on(self, day: date) -> Hours | None:
        return self.hours[day.weekday()]

    @property
    def quota_hours(self) -> int:
        return self.quota_minutes // 60


@dataclass(frozen=True, slots=True)
class Space:
    id: int
    key: str
    name: str
    name_en: str
    place: str
    kind: str
    capacity: int
    rules: Rules
    audience: Audience
    approval: Approval
    price: int
    operator_id: int | None  # the operator's member id (None: none, or not a member yet)
    door_code: str
    active: bool = True

    def title(self, locale: str) -> str:
        return self.name_en if locale == "en" and self.name_en else self.name


@dataclass(frozen=True, slots=True)
class Booking:
    id: int
    code: str
    space_id: int
    member_id: int | None
    household: str
    starts_at: datetime
    ends_at: datetime
    purpose: str
    status: Status
    price: int
    created_at: datetime
    series_id: int | None = None
    reason: str = ""
    space_name: str = ""
    space_name_en: str = ""

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    @property
    def holding(self) -> bool:
        return self.status in HOLDING

    def space_title(self, locale: str) -> str:
        return self.space_name_en if locale == "en" and self.space_name_en else self.space_name


@dataclass(frozen=True, slots=True)
class Emergency:
    id: int
    space_id: int
    use: str  # a preset key (shelter, vaccination, supplies) or a label as typed
    reason: str
    starts_at: datetime
    ends_at: datetime | None  # None: until switched back
    ended_at: datetime | None = None

    def covers(self, start: datetime, end: datetime) -> bool:
        """Does this emergency overlap [start, end)?"""
        finish = self.until
        return self.starts_at < end and (finish is None or start < finish)

    @property
    def until(self) -> datetime | None:
        """When it stops: the earlier of its planned end and the switch back."""
        ends = [t for t in (self.ends_at, self.ended_at) if t is not None]
        return min(ends) if ends else None


@dataclass(frozen=True, slots=True)
class Slot:
    """A request: this space, from `start` for `minutes`."""

    start: datetime
    minutes: int

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.minutes)


def household_key(member: Member) -> str:
    """Who a quota counts: the household, or the member alone without one."""
    return f"h:{member.household_id}" if member.household_id is not None else f"m:{member.id}"


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """Half-open intervals [a_start, a_end) and [b_start, b_end) share an instant."""
    return a_start < b_end and b_start < a_end


def check_grid(rules: Rules, slot: Slot, tz: ZoneInfo) -> Refused | None:
    """On the slot grid, within the shortest and longest length, inside opening hours."""
    local = slot.start.astimezone(tz)
    minute_of_day = local.hour * 60 + local.minute
    if local.second or local.microsecond or minute_of_day % rules.slot_minutes:
        return Refused("off_grid", {"slot": rules.slot_minutes})
    if slot.minutes % rules.slot_minutes or slot.minutes <= 0:
        return Refused("off_grid", {"slot": rules.slot_minutes})
    if slot.minutes < rules.min_minutes:
        return Refused("too_short", {"minutes": rules.min_minutes})
    if slot.minutes > rules.max_minutes:
        return Refused("too_long", {"minutes": rules.max_minutes})
    hours = rules.hours_on(local.date())
    if hours is None or not (
        hours.opens <= minute_of_day and minute_of_day + slot.minutes <= hours.closes
    ):
        return Refused("closed", {"hours": hours.label() if hours else ""})
    return None


def check_timing(rules: Rules, slot: Slot, now: datetime) -> Refused | None:
    """Not in the past, at least `notice` ahead, at most `window` ahead."""
    if slot.start <= now:
        return Refused("in_past")
    if slot.start < now + timedelta(minutes=rules.notice_minutes):
        return Refused("notice", {"minutes": rules.notice_minutes})
    if slot.start > now + timedelta(days=rules.window_days):
        return Refused("window", {"days": rules.window_days})
    return None


def check_overlap(slot: Slot, taken: Iterable[tuple[datetime, datetime]]) -> Refused | None:
    """Free of every booking that holds the space."""
    for start, end in taken:
        if overlaps(slot.start, slot.end, start, end):
            return Refused("taken")
    return None


def check_emergency(slot: Slot, emergencies: Iterable[Emergency]) -> Refused | None:
    for e in emergencies:
        if e.covers(slot.start, slot.end):
            return Refused("emergency", {"use": e.use})
    return None


def week_bounds(when: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The local Monday-to-Sunday week holding `when`, as instants [start, end)."""
    day = when.astimezone(tz).date()
    monday = day - timedelta(days=day.weekday())
    start = datetime.combine(monday, time(0), tzinfo=tz)
    return start, datetime.combine(monday + timedelta(days=7), time(0), tzinfo=tz)


def check_quota(rules: Rules, slot: Slot, used_minutes: int) -> Refused | None:
    """The household's booked minutes that week, with this one, within the quota."""
    if rules.quota_minutes and used_minutes + slot.minutes > rules.quota_minutes:
        left = max(0, rules.quota_minutes - used_minutes)
        return Refused("quota", {"hours": rules.quota_minutes / 60, "left": left})
    return None


def check_no_shows(rules: Rules, no_shows: Sequence[datetime], now: datetime) -> Refused | None:
    """`no_show_limit` no-shows within 30 days suspend booking until `suspend_days` after the last."""
    recent = sorted(t for t in no_shows if t > now - timedelta(days=30))
    if not rules.no_show_limit or len(recent) < rules.no_show_limit:
        return None
    until = recent[-1] + timedelta(days=rules.suspend_days)
    return Refused("suspended", {"until": until}) if until > now else None


def may_book(space: Space, member: Member, community: Community) -> Refused | None:
    if not space.active:
        return Refused("unknown_space")
    if member.is_organizer:
        return None
    if not space.audience.includes(member, community):
        return Refused("not_for_you")
    return None


@dataclass(frozen=True, slots=True)
class Facts:
    """What the database says at the moment of booking (read inside the transaction)."""

    taken: tuple[tuple[datetime, datetime], ...]
    emergencies: tuple[Emergency, ...]
    used_minutes: int
    no_shows: tuple[datetime, ...]


def decide_booking(
    space: Space, slot: Slot, facts: Facts, now: datetime, tz: ZoneInfo, *, staff: bool = False
) -> Refused | None:
    """Every rule, in the order a person would want to hear them; None = book it.
    Staff (organizers, the space's operator) skip notice, window, quota and suspension."""
    for refused in (
        check_grid(space.rules, slot, tz),
        Refused("in_past") if staff and slot.start <= now else None,
        None if staff else check_timing(space.rules, slot, now),
        check_emergency(slot, facts.emergencies),
        check_overlap(slot, facts.taken),
        None if staff else check_quota(space.rules, slot, facts.used_minutes),
        None if staff else check_no_shows(space.rules, facts.no_shows, now),
    ):
        if refused is not None:
            return refused
    return None


def initial_status(space: Space, *, staff: bool) -> Status:
    return Status.CONFIRMED if staff or space.approval is Approval.NONE else Status.PENDING


def new_booking_code(attempt: int = 0) -> str:
    """B- and 4 characters (923,521 codes); a crowded space of codes (10 misses) grows to 5,
    then 6, so a busy community's millionth booking still gets one."""
    length = 4 + min(2, attempt // 10)
    return CODE_PREFIX + "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def new_door_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(DOOR_CODE_LENGTH))


def normalize_code(raw: str) -> str | None:
    """A booking code ("b-4k7q", "4K7Q"; "B-4K7QZ" once codes grew) as B-XXXX, a door code
    as XXXXXX; else None."""
    spaced = re.sub(r"\s", "", raw).upper()
    grown = spaced.removeprefix(CODE_PREFIX)
    if spaced.startswith(CODE_PREFIX) and len(grown) in (5, 6):
        return CODE_PREFIX + grown if all(c in CODE_ALPHABET for c in grown) else None
    text = re.sub(r"[\s\-]", "", raw).upper()
    if len(text) == 5 and text.startswith("B"):
        text = text[1:]
    if len(text) == 4 and all(c in CODE_ALPHABET for c in text):
        return CODE_PREFIX + text
    if len(text) == DOOR_CODE_LENGTH and all(c in CODE_ALPHABET for c in text):
        return text
    return None


def refund_due(booking: Booking, rules: Rules, now: datetime) -> bool:
    """A cancellation gives points back before the deadline (and always for a pending hold)."""
    if booking.price <= 0:
        return False
    return booking.status is Status.PENDING or now <= booking.starts_at - timedelta(
        hours=rules.cancel_hours
    )


def checkin_window(booking: Booking, rules: Rules) -> tuple[datetime, datetime]:
    """From 15 minutes before the start to the end of the grace (later: a no-show)."""
    return (
        booking.starts_at - timedelta(minutes=15),
        booking.starts_at + timedelta(minutes=rules.checkin_grace_minutes),
    )


def can_check_in(booking: Booking, rules: Rules, now: datetime) -> Refused | None:
    if booking.status is Status.CHECKED_IN:
        return Refused("already_checked_in", {"code": booking.code})
    if booking.status is not Status.CONFIRMED:
        return Refused("not_confirmed", {"code": booking.code, "status": booking.status.value})
    opens, closes = checkin_window(booking, rules)
    if now < opens:
        return Refused("checkin_not_open", {"opens": opens})
    if now > closes:
        return Refused("checkin_closed")
    return None


# --- Free starts and lengths (what the buttons offer) -----------------------------------


def day_starts(
    space: Space, day: date, facts: Facts, now: datetime, tz: ZoneInfo, *, staff: bool = False
) -> list[datetime]:
    """The slot starts on a local day where at least the shortest booking fits."""
    hours = space.rules.hours_on(day)
    if hours is None:
        return []
    out = []
    step = space.rules.slot_minutes
    for minute in range(hours.opens, hours.closes, step):
        start = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz)
        slot = Slot(start, space.rules.min_minutes)
        if decide_booking(space, slot, facts, now, tz, staff=staff) is None:
            out.append(start)
    return out


def lengths_at(
    space: Space, start: datetime, facts: Facts, now: datetime, tz: ZoneInfo, *, staff: bool = False
) -> list[int]:
    """The lengths (minutes) bookable from `start`, shortest first."""
    rules = space.rules
    return [
        m
        for m in range(rules.min_minutes, rules.max_minutes + 1, rules.slot_minutes)
        if decide_booking(space, Slot(start, m), facts, now, tz, staff=staff) is None
    ]


# --- The week picture's cells -------------------------------------------------------------


class Cell(StrEnum):
    FREE = "free"
    BOOKED = "booked"
    CLOSED = "closed"
    EMERGENCY = "emergency"
    PAST = "past"


@dataclass(frozen=True, slots=True)
class WeekGrid:
    """Days (rows) by hours (columns) of one space, from `first_day` for 7 days."""

    first_day: date
    first_hour: int
    last_hour: int  # exclusive
    cells: tuple[tuple[Cell, ...], ...]  # [day][hour - first_hour]


def week_grid(
    space: Space,
    first_day: date,
    taken: Sequence[tuple[datetime, datetime]],
    emergencies: Sequence[Emergency],
    now: datetime,
    tz: ZoneInfo,
) -> WeekGrid:
    """What each hour of the coming week is, for the picture: an hour is booked if any
    booking touches it, emergency if an emergency does, closed outside opening hours."""
    open_days = [h for h in space.rules.hours if h is not None]
    first_hour = min((h.opens // 60 for h in open_days), default=8)
    last_hour = max((-(-h.closes // 60) for h in open_days), default=20)
    rows = []
    for offset in range(7):
        day = first_day + timedelta(days=offset)
        hours = space.rules.hours_on(day)
        row = []
        for hour in range(first_hour, last_hour):
            start = datetime.combine(day, time(hour), tzinfo=tz)
            end = start + timedelta(hours=1)
            minute = hour * 60
            if any(e.covers(start, end) for e in emergencies):
                row.append(Cell.EMERGENCY)
            elif hours is None or minute + 60 <= hours.opens or minute >= hours.closes:
                row.append(Cell.CLOSED)
            elif any(overlaps(start, end, s, e) for s, e in taken):
                row.append(Cell.BOOKED)
            elif end <= now:
                row.append(Cell.PAST)
            else:
                row.append(Cell.FREE)
        rows.append(tuple(row))
    return WeekGrid(first_day, first_hour, last_hour, tuple(rows))


# --- Recurring bookings -------------------------------------------------------------------


def weekly(first: Slot, weeks: int) -> list[Slot]:
    """The same local weekday and time for `weeks` weeks (a local time: DST-safe)."""
    return [Slot(first.start + timedelta(weeks=i), first.minutes) for i in range(weeks)]


# --- The emergency switch's command -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Switch:
    """`/emergency <target> <use> [from=...] [until=...] <reason>`, or `<target> off`."""

    target: str  # a space key, "kind:<kind>" or "all"
    use: str = ""
    reason: str = ""
    starts_at: datetime | None = None  # None: now
    ends_at: datetime | None = None  # None: until switched back
    off: bool = False


_WHEN_RE = re.compile(r"^(from|until)=(\d{4}-\d{2}-\d{2})[T ]?(\d{2}:\d{2})?$")


def parse_switch(args: Sequence[str], now: datetime, tz: ZoneInfo) -> Switch | Refused:
    if len(args) < 2:
        return Refused("emergency_usage")
    target = args[0].strip()
    if args[1].lower() in ("off", "关闭", "解除"):
        return Switch(target, off=True)
    use = args[1].strip()[:30]
    starts: datetime | None = None
    ends: datetime | None = None
    words: list[str] = []
    for word in args[2:]:
        found = _WHEN_RE.match(word)
        if not found:
            words.append(word)
            continue
        try:
            day = date.fromisoformat(found.group(2))
            clock = time.fromisoformat(found.group(3)) if found.group(3) else time(0)
        except ValueError:
            return Refused("emergency_bad_time", {"text": word[:40]})
        when = datetime.combine(day, clock, tzinfo=tz)
        if found.group(1) == "from":
            starts = when
        else:
            ends = when
    reason = " ".join(words).strip()[:200]
    if not reason:
        return Refused("emergency_reason")
    start = starts or now
    if ends is not None and ends <= max(start, now):
        return Refused("emergency_bad_time", {"text": "until"})
    return Switch(target, use, reason, starts, ends)


def targets(switch_target: str, spaces: Sequence[Space]) -> list[Space]:
    """The spaces a switch names: one key, every space of a kind, or all."""
    if switch_target == "all":
        return [s for s in spaces if s.active]
    if switch_target.startswith("kind:"):
        kind = switch_target.removeprefix("kind:")
        return [s for s in spaces if s.active and s.kind == kind]
    return [s for s in spaces if s.key == switch_target]


# --- Admin edits (/spaceadmin <key> <field> <value>) --------------------------------------

EDITABLE = ("name", "name_en", "place", "capacity", "price", "approval", "slot", "min", "max",
            "notice", "window", "quota", "hours", "on", "off")  # fmt: skip


@dataclass(frozen=True, slots=True)
class SpaceEdit:
    key: str
    field: str
    value: Any = None


def parse_edit(args: Sequence[str]) -> SpaceEdit | Refused:
    """One change: text fields, whole numbers, approval, `hours <day> 08:00-21:00|closed`."""
    if len(args) < 2 or args[1] not in EDITABLE:
        return Refused("admin_usage", {"fields": ", ".join(EDITABLE)})
    key, name, rest = args[0], args[1], list(args[2:])
    if name in ("on", "off"):
        return SpaceEdit(key, "active", name == "on")
    if name in ("name", "name_en", "place"):
        value = " ".join(rest).strip()[:64]
        return SpaceEdit(key, name, value) if value else Refused("admin_usage", {"fields": name})
    if name == "approval":
        try:
            return SpaceEdit(key, name, Approval(rest[0] if rest else ""))
        except ValueError:
            return Refused("admin_bad_value", {"field": name})
    if name == "hours":
        if len(rest) != 2 or rest[0] not in WEEKDAYS:
            return Refused("admin_bad_value", {"field": name})
        hours = None if rest[1] == "closed" else parse_hours(rest[1])
        if hours is None and rest[1] != "closed":
            return Refused("admin_bad_value", {"field": name})
        return SpaceEdit(key, name, (WEEKDAYS.index(rest[0]), hours))
    limits = {"capacity": (0, 10_000), "price": (0, 100_000), "slot": (5, 240), "min": (5, 1440),
              "max": (5, 1440), "notice": (0, 10_080), "window": (1, 365), "quota": (0, 168)}  # fmt: skip
    low, high = limits[name]
    if len(rest) != 1 or not rest[0].isdigit() or not low <= int(rest[0]) <= high:
        return Refused("admin_bad_value", {"field": name, "min": low, "max": high})
    return SpaceEdit(key, name, int(rest[0]))


def rules_valid(rules: Rules) -> Refused | None:
    """Lengths on the grid, the shortest no longer than the longest."""
    slot = rules.slot_minutes
    if (
        rules.min_minutes % slot
        or rules.max_minutes % slot
        or rules.min_minutes > rules.max_minutes
    ):
        return Refused("admin_bad_rules", {"slot": slot})
    if rules.max_minutes * 60 > LONGEST_BOOKING.total_seconds():
        return Refused("admin_bad_rules", {"slot": slot})
    return None


# --- Rules as stored (JSON in one column: they change together) ---------------------------


def rules_to_data(rules: Rules) -> dict[str, Any]:
    return {
        "hours": [[h.opens, h.closes] if h else None for h in rules.hours],
        "slot": rules.slot_minutes, "min": rules.min_minutes, "max": rules.max_minutes,
        "notice": rules.notice_minutes, "window": rules.window_days, "quota": rules.quota_minutes,
        "grace": rules.checkin_grace_minutes, "cancel": rules.cancel_hours,
        "no_shows": rules.no_show_limit, "suspend": rules.suspend_days,
        "remind": rules.reminder_minutes,
    }  # fmt: skip


def rules_from_data(data: Mapping[str, Any]) -> Rules:
    hours = tuple(Hours(int(h[0]), int(h[1])) if h else None for h in data["hours"])
    return Rules(
        hours=hours, slot_minutes=int(data["slot"]), min_minutes=int(data["min"]),
        max_minutes=int(data["max"]), notice_minutes=int(data["notice"]),
        window_days=int(data["window"]), quota_minutes=int(data["quota"]),
        checkin_grace_minutes=int(data["grace"]), cancel_hours=int(data["cancel"]),
        no_show_limit=int(data["no_shows"]), suspend_days=int(data["suspend"]),
        reminder_minutes=int(data.get("remind", 60)),
    )  # fmt: skip


# --- The booking flow's draft -------------------------------------------------------------


@dataclass(slots=True)
class BookingDraft:
    """A booking chosen on the buttons, waiting for its one-line purpose and the confirm tap."""

    space_id: int
    start: datetime
    minutes: int
    purpose: str = ""
    token: str = field(default_factory=lambda: secrets.token_hex(4))
    weeks: int = 1  # organizers and operators: a weekly series

    def to_data(self) -> dict[str, Any]:
        return {"space_id": self.space_id, "start": to_iso(self.start), "minutes": self.minutes,
                "purpose": self.purpose, "token": self.token, "weeks": self.weeks}  # fmt: skip

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> BookingDraft:
        return cls(
            space_id=int(data["space_id"]), start=from_iso(str(data["start"])),
            minutes=int(data["minutes"]), purpose=str(data.get("purpose", "")),
            token=str(data.get("token") or secrets.token_hex(4)), weeks=int(data.get("weeks", 1)),
        )  # fmt: skip

    @property
    def slot(self) -> Slot:
        return Slot(self.start, self.minutes)


@dataclass(slots=True)
class DeclineDraft:
    """A decline waiting for its typed reason."""

    booking_id: int

    def to_data(self) -> dict[str, Any]:
        return {"booking_id": self.booking_id}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> DeclineDraft:
        return cls(booking_id=int(data["booking_id"]))


def clean_purpose(text: str) -> str | Refused:
    line = " ".join(text.split())
    if not line:
        return Refused("purpose_empty")
    if len(line) > PURPOSE_MAX:
        return Refused("purpose_long", {"max": PURPOSE_MAX})
    return line


def parse_weeks(text: str) -> int | Refused:
    raw = text.strip()
    if not raw.isdigit() or not 1 <= int(raw) <= RECURRING_WEEKS_MAX:
        return Refused("bad_weeks", {"max": RECURRING_WEEKS_MAX})
    return int(raw)


# --- Digest -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SpaceWeek:
    """One space's week for the digest."""

    key: str
    name: str
    name_en: str
    booked_minutes: int
    open_minutes: int
    no_shows: int
    emergency_minutes: int

    @property
    def occupancy_pct(self) -> int:
        return round(100 * self.booked_minutes / self.open_minutes) if self.open_minutes else 0


def open_minutes(rules: Rules, first_day: date, days: int = 7) -> int:
    total = 0
    for offset in range(days):
        hours = rules.hours_on(first_day + timedelta(days=offset))
        total += (hours.closes - hours.opens) if hours else 0
    return total


def clipped_minutes(start: datetime, end: datetime | None, lo: datetime, hi: datetime) -> int:
    """Minutes of [start, end) inside [lo, hi) (an open end counts to `hi`)."""
    finish = min(end or hi, hi)
    begin = max(start, lo)
    return max(0, int((finish - begin).total_seconds() // 60))


# --- Calendar file ------------------------------------------------------------------------


def to_ics(booking: Booking, place: str, tz: ZoneInfo, *, calendar_name: str) -> bytes:
    """An RFC 5545 calendar with this one booking (stable UID: importing again updates it)."""
    calendar = Calendar.new(prodid="-//Linli//spaces//EN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", calendar_name)
    item = IcsEvent.new(
        uid=f"booking-{booking.id}@linli",
        summary=f"{booking.space_name} · {booking.purpose}",
        start=booking.starts_at.astimezone(tz),
        end=booking.ends_at.astimezone(tz),
        location=place or None,
        description=booking.code,
        stamp=booking.created_at,
    )
    item.add("status", "CONFIRMED" if booking.holding else "CANCELLED")
    calendar.add_component(item)
    calendar.add_missing_timezones()
    data: bytes = calendar.to_ical()
    return data


def is_staff(space: Space, member_id: int, organizer: bool) -> bool:
    """Organizers, and the space's own operator (for this space only)."""
    return organizer or space.operator_id == member_id


def may_cancel(
    booking: Booking | None, space: Space | None, member_id: int, organizer: bool
) -> Refused | None:
    """The booker, or staff of the booking's space, may cancel it."""
    if booking is None or space is None:
        return Refused("not_yours")
    if booking.member_id != member_id and not is_staff(space, member_id, organizer):
        return Refused("not_yours")
    return None
