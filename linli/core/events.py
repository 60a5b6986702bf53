"""Events (lectures, drills, care services, activities): the rules, with no platform in sight.

Everything here takes `now` (aware UTC) and the community time zone as arguments, so the
rules are tested with a fixed clock: what an organizer may type, who may sign up, who is
confirmed and who waits, which reminder is due, when check-in is open, and the .ics file.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar
from icalendar import Event as IcsEvent

from linli.core.clock import from_iso, to_iso
from linli.core.community import Community, NodeKind, Role
from linli.core.members import Audience, Member
from linli.core.outcomes import Refused

# Limits an organizer's input is held to (each refusal names its limit).
TITLE_MAX = 80
DESCRIPTION_MAX = 1000
PLACE_MAX = 120
CAPACITY_MAX = 5000
POINTS_MAX = 1000
REPEAT_WEEKS_MAX = 12
DURATION_MAX = timedelta(days=7)
AHEAD_MAX = timedelta(days=366)
# Later occurrences of a weekly series are posted to the groups this long before they start,
# so a 12-week series does not flood the groups with 12 cards on day one.
SERIES_PUBLISH_AHEAD = timedelta(days=7)

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud at the venue
CODE_LENGTH = 6


class EventKind(StrEnum):
    LECTURE = "lecture"
    DRILL = "drill"
    CARE = "care"  # elder / child care services (一老一小); may repeat weekly
    ACTIVITY = "activity"


class EventStatus(StrEnum):
    OPEN = "open"
    CANCELLED = "cancelled"


class SignupStatus(StrEnum):
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    kind: EventKind
    title: str
    description: str
    place: str
    starts_at: datetime
    ends_at: datetime
    deadline: datetime  # sign-ups close at this instant (at the latest the start)
    capacity: int  # 0 = unlimited
    points: int  # awarded for attendance (check-in)
    audience: Audience
    status: EventStatus
    checkin_code: str
    created_by: int | None
    created_at: datetime
    version: int = 0  # bumped by every edit or cancellation (the .ics SEQUENCE)
    rescheduled_at: datetime | None = None
    series: str | None = None
    occurrence: int = 0
    publish_at: datetime | None = None

    @property
    def cancelled(self) -> bool:
        return self.status is EventStatus.CANCELLED

    @property
    def unlimited(self) -> bool:
        return self.capacity == 0

    def seats_left(self, confirmed: int) -> int | None:
        """Free seats, or None when the event has no limit."""
        return None if self.unlimited else max(0, self.capacity - confirmed)


@dataclass(frozen=True, slots=True)
class Signup:
    event_id: int
    member_id: int
    status: SignupStatus
    seq: int  # first-come order within the event
    signed_up_at: datetime
    confirmed_at: datetime | None = None
    checked_in_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Seats:
    """How full an event is."""

    confirmed: int = 0
    waitlisted: int = 0


@dataclass(frozen=True, slots=True)
class Confirmed:
    """The member has a seat."""


@dataclass(frozen=True, slots=True)
class Waitlisted:
    """No seat left: the member waits, `position` in line (1 = next)."""

    position: int


SignupOutcome = Confirmed | Waitlisted | Refused


# --- Who may sign up, and what they get -------------------------------------------------


def check_audience(event: Event, member: Member, community: Community) -> Refused | None:
    """Only members who finished joining and are in the event's audience may sign up."""
    if not member.joined or member.forgotten:
        return Refused("not_joined")
    if not event.audience.includes(member, community):
        return Refused("not_in_audience")
    return None


def decide_signup(
    event: Event,
    confirmed_count: int,
    existing: Signup | None,
    now: datetime,
    *,
    waitlisted_count: int = 0,
) -> SignupOutcome:
    """A seat while seats remain, then the waitlist; never after the deadline or the start."""
    if event.cancelled:
        return Refused("event_cancelled")
    if now >= event.starts_at:
        return Refused("started")
    if now > event.deadline:
        return Refused("deadline_passed", {"deadline": event.deadline})
    if existing is not None and existing.status is SignupStatus.CONFIRMED:
        return Refused("already_confirmed")
    if existing is not None and existing.status is SignupStatus.WAITLISTED:
        return Refused("already_waitlisted")
    if event.unlimited or confirmed_count < event.capacity:
        return Confirmed()
    return Waitlisted(waitlisted_count + 1)


def decide_cancel_signup(event: Event, existing: Signup | None, now: datetime) -> Refused | None:
    """A member may give up a seat or a place in line until the event starts."""
    if existing is None or existing.status is SignupStatus.CANCELLED:
        return Refused("not_signed_up")
    if event.cancelled:
        return Refused("event_cancelled")
    if now >= event.starts_at:
        return Refused("started")
    return None


def seats_to_fill(event: Event, confirmed_count: int, now: datetime) -> int:
    """How many waitlisted members move up now (after a cancellation)."""
    if event.cancelled or now >= event.starts_at or event.unlimited:
        return 0
    return max(0, event.capacity - confirmed_count)


def may_manage(member: Member, event: Event | None = None) -> bool:
    """Creating, editing, cancelling events and seeing attendee lists: organizers only."""
    return member.is_organizer


def decide_edit(event: Event, now: datetime) -> Refused | None:
    if event.cancelled:
        return Refused("event_cancelled")
    if now >= event.ends_at:
        return Refused("ended")
    return None


# --- Check-in ----------------------------------------------------------------------------


def signup_state(signup: Signup | None) -> str:
    """How a member stands with an event: none, confirmed, waitlisted, cancelled, checked_in."""
    if signup is None:
        return "none"
    if signup.checked_in_at is not None:
        return "checked_in"
    return signup.status.value


def detail_buttons(event: Event, state: str, manage: bool) -> list[list[str]]:
    """The buttons under an event's details, named by what they do, in rows: sign up or
    cancel (not once checked in, nor on a cancelled event), the calendar, and for those who
    manage it the attendees, the check-in code and (unless cancelled) the changes."""
    rows: list[list[str]] = []
    if not event.cancelled:
        if state in ("none", SignupStatus.CANCELLED.value):
            rows.append(["signup"])
        elif state != "checked_in":
            rows.append(["cancel_signup"])
    rows.append(["calendar"])
    if manage:
        rows.append(["attendees", "checkin_qr"])
        if not event.cancelled:
            rows.append(["edit_time", "edit_place", "cancel_event"])
    return rows


def new_checkin_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


_CODE_RE = re.compile(rf"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")


def normalize_code(text: str) -> str | None:
    """A check-in code as typed ("abc 234", "ABC-234"), or None if it cannot be one."""
    code = re.sub(r"[\s\-]", "", text).upper()
    return code if _CODE_RE.match(code) else None


def checkin_window(event: Event, opens_before: timedelta) -> tuple[datetime, datetime]:
    return event.starts_at - opens_before, event.ends_at


def decide_checkin(
    event: Event, signup: Signup | None, now: datetime, opens_before: timedelta
) -> Refused | None:
    """Check-in is open from `opens_before` the start to the end, for confirmed members, once."""
    if event.cancelled:
        return Refused("event_cancelled")
    opens, closes = checkin_window(event, opens_before)
    if now < opens:
        return Refused("checkin_not_open", {"opens": opens})
    if now > closes:
        return Refused("checkin_closed")
    if signup is None or signup.status is SignupStatus.CANCELLED:
        return Refused("not_signed_up")
    if signup.status is SignupStatus.WAITLISTED:
        return Refused("checkin_waitlisted")
    if signup.checked_in_at is not None:
        return Refused("already_checked_in")
    return None


def attendance_key(event_id: int, member_id: int) -> str:
    """The ledger's idempotency key for attending an event: points once, whatever happens."""
    return f"event:{event_id}:attend:{member_id}"


# --- Reminders ---------------------------------------------------------------------------


def reminder_due(
    starts_at: datetime,
    since: datetime,
    offsets: Iterable[timedelta],
    sent: Iterable[int],
    now: datetime,
) -> tuple[int | None, list[int]]:
    """Which reminder to send now: (offset in minutes to send or None, offsets to mark done).

    An offset is due once its moment (`starts_at - offset`) has come and the event has not
    started. Offsets whose moment passed before `since` (the member signed up, or the event
    was moved, after it) are never due. When several are due at once (the bot was down),
    only the one nearest the start is sent; all of them are marked done.
    """
    if now >= starts_at:
        return None, []
    done = set(sent)
    due = [
        int(o.total_seconds() // 60)
        for o in offsets
        if starts_at - o <= now
        and starts_at - o >= since
        and int(o.total_seconds() // 60) not in done
    ]
    if not due:
        return None, []
    return min(due), sorted(due)


# --- What organizers type -----------------------------------------------------------------

_DATE = (
    r"(?:(?P<{p}y>\d{{4}})\s*[-/.年]\s*)?"
    r"(?P<{p}m>\d{{1,2}})\s*[-/.月]\s*(?P<{p}d>\d{{1,2}})\s*[日号]?"
)
_TIME = (
    r"(?P<{p}H>\d{{1,2}})\s*"
    r"(?:[:：]\s*(?P<{p}M>\d{{2}})|点\s*(?:(?P<{p}half>半)|(?P<{p}M2>\d{{1,2}})\s*分?)?)"
)
_WHEN_RE = re.compile(rf"\s*{_DATE.format(p='a')}\s*[T\s]?\s*{_TIME.format(p='a')}\s*", re.I)
_TIME_RE = re.compile(rf"\s*{_TIME.format(p='b')}\s*")
_RANGE_SEP = re.compile(r"\s*(?:-|~|～|–|—|至|到|to)\s*", re.I)

WHEN_EXAMPLE = "2026-12-05 14:00"
SPAN_EXAMPLE = "12-05 14:00-16:00"


def _time_of(match: re.Match[str], p: str) -> time | None:
    hour = int(match.group(f"{p}H"))
    minute_text = match.group(f"{p}M") or match.group(f"{p}M2")
    minute = 30 if match.group(f"{p}half") else int(minute_text or 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def _date_of(match: re.Match[str], tz: ZoneInfo, now: datetime) -> date | None:
    today = now.astimezone(tz).date()
    month, day = int(match.group("am")), int(match.group("ad"))
    year_text = match.group("ay")
    try:
        if year_text:
            return date(int(year_text), month, day)
        candidate = date(today.year, month, day) if _valid(today.year, month, day) else None
        # A date without a year is the next one to come (today counts as to come).
        if candidate is None or candidate < today:
            for year in (today.year + 1, today.year + 2, today.year + 3, today.year + 4):
                if _valid(year, month, day):
                    return date(year, month, day)
            return None
        return candidate
    except ValueError:
        return None


def _valid(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _local(day: date, at: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def parse_when(text: str, tz: ZoneInfo, now: datetime) -> datetime | Refused:
    """A moment typed in the community time zone ("2026-12-05 14:00", "12-05 14:00",
    "12月5日 14点半"), as aware UTC; a date without a year is the next one to come."""
    match = _WHEN_RE.fullmatch(text[:100])
    if match is None:
        return Refused("bad_datetime", {"example": WHEN_EXAMPLE})
    day, at = _date_of(match, tz, now), _time_of(match, "a")
    if day is None or at is None:
        return Refused("bad_date", {"text": text.strip()[:40]})
    return _local(day, at, tz)


def parse_span(text: str, tz: ZoneInfo, now: datetime) -> tuple[datetime, datetime] | Refused:
    """Start and end: "12-05 14:00-16:00" (same day) or "12-05 14:00 - 12-06 10:00"."""
    text = text[:100]
    match = _WHEN_RE.match(text)
    if match is None:
        return Refused("bad_span", {"example": SPAN_EXAMPLE})
    day, at = _date_of(match, tz, now), _time_of(match, "a")
    if day is None or at is None:
        return Refused("bad_date", {"text": text.strip()[:40]})
    start = _local(day, at, tz)
    rest = text[match.end() :]
    sep = _RANGE_SEP.match(rest)
    if sep is None:
        return Refused("bad_span", {"example": SPAN_EXAMPLE})
    rest = rest[sep.end() :]
    end_time = _TIME_RE.fullmatch(rest)
    if end_time is not None:
        at_end = _time_of(end_time, "b")
        if at_end is None:
            return Refused("bad_date", {"text": rest.strip()[:40]})
        return start, _local(day, at_end, tz)
    end = parse_when(rest, tz, now)
    if isinstance(end, Refused):
        return Refused("bad_span", {"example": SPAN_EXAMPLE})
    return start, end


def clean_text(text: str, field_name: str, limit: int, *, required: bool = True) -> str | Refused:
    """Trimmed text within `limit` characters (empty allowed only when not required)."""
    value = text.strip()
    if not value and required:
        return Refused("empty", {"field": field_name})
    if len(value) > limit:
        return Refused("too_long", {"field": field_name, "limit": limit, "length": len(value)})
    return value


def clean_line(text: str, field_name: str, limit: int) -> str | Refused:
    """One line (a title, a place): whitespace runs become one space."""
    return clean_text(" ".join(text.split()), field_name, limit)


def parse_count(text: str, field_name: str, low: int, high: int) -> int | Refused:
    value = text.strip()
    if not re.fullmatch(r"[+-]?\d{1,12}", value):
        return Refused("not_a_number", {"field": field_name, "min": low, "max": high})
    number = int(value)
    if number < low or number > high:
        return Refused("out_of_range", {"field": field_name, "min": low, "max": high})
    return number


def validate_times(
    start: datetime, end: datetime, deadline: datetime, now: datetime
) -> Refused | None:
    if end <= start:
        return Refused("end_before_start")
    if end - start > DURATION_MAX:
        return Refused("too_long_event", {"days": DURATION_MAX.days})
    if start <= now:
        return Refused("start_in_past")
    if start - now > AHEAD_MAX:
        return Refused("too_far_ahead", {"days": AHEAD_MAX.days})
    if deadline > start:
        return Refused("deadline_after_start")
    if deadline <= now:
        return Refused("deadline_past")
    return None


@dataclass(slots=True)
class EventDraft:
    """What an organizer has typed so far in /newevent (kept as JSON between messages)."""

    token: str = field(default_factory=lambda: secrets.token_hex(6))
    kind: EventKind | None = None
    title: str = ""
    description: str = ""
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    deadline: datetime | None = None  # None = sign-ups close at the start
    place: str = ""
    capacity: int = 0
    points: int = 0
    audience: Audience | None = None
    weeks: int = 1

    def to_data(self) -> dict[str, Any]:
        def iso(when: datetime | None) -> str | None:
            return to_iso(when) if when else None

        return {
            "token": self.token,
            "kind": self.kind.value if self.kind else None,
            "title": self.title,
            "description": self.description,
            "starts_at": iso(self.starts_at),
            "ends_at": iso(self.ends_at),
            "deadline": iso(self.deadline),
            "place": self.place,
            "capacity": self.capacity,
            "points": self.points,
            "audience": self.audience.encode() if self.audience else None,
            "weeks": self.weeks,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> EventDraft:
        def when(key: str) -> datetime | None:
            value = data.get(key)
            return from_iso(value) if isinstance(value, str) else None

        kind, audience = data.get("kind"), data.get("audience")
        return cls(
            token=str(data.get("token") or secrets.token_hex(6)),
            kind=EventKind(kind) if kind else None,
            title=str(data.get("title", "")),
            description=str(data.get("description", "")),
            starts_at=when("starts_at"),
            ends_at=when("ends_at"),
            deadline=when("deadline"),
            place=str(data.get("place", "")),
            capacity=int(data.get("capacity", 0)),
            points=int(data.get("points", 0)),
            audience=Audience.decode(audience) if audience else None,
            weeks=int(data.get("weeks", 1)),
        )

    @property
    def effective_deadline(self) -> datetime | None:
        return self.deadline or self.starts_at

    def preview(self, now: datetime) -> Event:
        """The event as it will look once published (a complete draft; no id yet)."""
        assert self.kind and self.audience and self.starts_at and self.ends_at
        deadline = self.effective_deadline
        assert deadline is not None
        return Event(
            0, self.kind, self.title, self.description, self.place, self.starts_at,
            self.ends_at, deadline, self.capacity, self.points, self.audience,
            EventStatus.OPEN, "", None, now,
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One event to create from a draft (a weekly series makes several)."""

    index: int
    starts_at: datetime
    ends_at: datetime
    deadline: datetime
    publish_at: datetime


def validate_draft(draft: EventDraft, now: datetime) -> Refused | None:
    """Everything needed, within limits, and still in the future (checked again at publishing)."""
    if draft.kind is None or draft.audience is None or not draft.title or not draft.place:
        return Refused("incomplete")
    if draft.starts_at is None or draft.ends_at is None:
        return Refused("incomplete")
    if not 0 <= draft.capacity <= CAPACITY_MAX:
        return Refused("out_of_range", {"field": "capacity", "min": 0, "max": CAPACITY_MAX})
    if not 0 <= draft.points <= POINTS_MAX:
        return Refused("out_of_range", {"field": "points", "min": 0, "max": POINTS_MAX})
    if not 1 <= draft.weeks <= REPEAT_WEEKS_MAX or (
        draft.weeks > 1 and draft.kind is not EventKind.CARE
    ):
        return Refused("out_of_range", {"field": "weeks", "min": 1, "max": REPEAT_WEEKS_MAX})
    deadline = draft.effective_deadline
    assert deadline is not None
    return validate_times(draft.starts_at, draft.ends_at, deadline, now)


def occurrences(draft: EventDraft, now: datetime) -> list[Occurrence]:
    """The events a (valid) draft creates: one, or one per week of a repeating care service."""
    assert draft.starts_at is not None and draft.ends_at is not None
    deadline = draft.effective_deadline
    assert deadline is not None
    out: list[Occurrence] = []
    for index in range(draft.weeks):
        shift = timedelta(weeks=index)
        start = draft.starts_at + shift
        publish = now if index == 0 else max(now, start - SERIES_PUBLISH_AHEAD)
        out.append(Occurrence(index, start, draft.ends_at + shift, deadline + shift, publish))
    return out


def reschedule(
    event: Event, start: datetime, end: datetime, now: datetime
) -> tuple[datetime, datetime, datetime] | Refused:
    """New (start, end, deadline) for a moved event; the deadline keeps its lead on the start."""
    deadline = min(
        start, max(now + timedelta(minutes=1), event.deadline + (start - event.starts_at))
    )
    refused = validate_times(start, end, deadline, now)
    return refused if refused is not None else (start, end, deadline)


# --- An organizer changes an event: a one-step flow ---------------------------------------

EDIT_TIME = "edit_time"  # the steps (the question asked), kept as the draft's step
EDIT_PLACE = "edit_place"


@dataclass(frozen=True, slots=True)
class EventEdit:
    """Which event an organizer is changing (kept as JSON while they type)."""

    event_id: int

    def to_data(self) -> dict[str, Any]:
        return {"event_id": self.event_id}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> EventEdit:
        return cls(int(data.get("event_id", 0)))


@dataclass(frozen=True, slots=True)
class NewPlace:
    place: str


@dataclass(frozen=True, slots=True)
class NewTimes:
    starts_at: datetime
    ends_at: datetime
    deadline: datetime


def plan_edit(
    event: Event, step: str, typed: str, tz: ZoneInfo, now: datetime
) -> NewPlace | NewTimes | Refused:
    """What the organizer's answer to "edit_place" / "edit_time" changes, or why not."""
    if step == EDIT_PLACE:
        place = clean_line(typed, "place", PLACE_MAX)
        return place if isinstance(place, Refused) else NewPlace(place)
    span = parse_span(typed, tz, now)
    if isinstance(span, Refused):
        return span
    planned = reschedule(event, span[0], span[1], now)
    return planned if isinstance(planned, Refused) else NewTimes(*planned)


# --- Calendar file ------------------------------------------------------------------------


def to_ics(event: Event, tz: ZoneInfo, *, calendar_name: str, host: str = "linli") -> bytes:
    """An RFC 5545 calendar with this one event, in the community's time zone (with VTIMEZONE).

    The UID is stable per event and SEQUENCE grows with each edit, so importing the file
    again after a change updates the entry instead of adding a second one.
    """
    calendar = Calendar.new(prodid="-//Linli//events//EN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", calendar_name)
    calendar.add("x-wr-timezone", tz.key)
    item = IcsEvent.new(
        uid=f"event-{event.id}@{host}",
        summary=event.title,
        start=event.starts_at.astimezone(tz),
        end=event.ends_at.astimezone(tz),
        location=event.place,
        description=event.description or None,
        stamp=event.rescheduled_at or event.created_at,
    )
    item.add("sequence", event.version)
    item.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
    calendar.add_component(item)
    calendar.add_missing_timezones()
    data: bytes = calendar.to_ical()
    return data


def ics_filename(event: Event) -> str:
    return f"event-{event.id}.ics"


def offsets_from_minutes(minutes: Sequence[int]) -> list[timedelta]:
    return [timedelta(minutes=m) for m in minutes]


# --- The /newevent steps ------------------------------------------------------------------

SKIP = "-"  # typed (or the Skip button) for an optional step


class Step(StrEnum):
    """The /newevent steps, in the order they are asked (kept as the draft's step)."""

    KIND = "kind"
    TITLE = "title"
    DESCRIPTION = "description"
    WHEN = "when"
    PLACE = "place"
    CAPACITY = "capacity"
    DEADLINE = "deadline"
    POINTS = "points"
    AUDIENCE = "audience"
    WEEKS = "weeks"
    PREVIEW = "preview"


_ORDER = tuple(Step)

# The limit each question names (the steps not listed have none); "edit_place" is the
# one-step flow that moves an event.
STEP_LIMITS: dict[str, int] = {
    Step.TITLE: TITLE_MAX,
    Step.DESCRIPTION: DESCRIPTION_MAX,
    Step.PLACE: PLACE_MAX,
    Step.CAPACITY: CAPACITY_MAX,
    Step.POINTS: POINTS_MAX,
    Step.WEEKS: REPEAT_WEEKS_MAX,
    "edit_place": PLACE_MAX,
}

# Whom /newevent can address by role (organizers see every event anyway).
AUDIENCE_ROLES = (
    Role.VOLUNTEER,
    Role.BUILDING_LEADER,
    Role.GRID_WORKER,
    Role.MOBILE_REPORTER,
    Role.PARTY_MEMBER,
    Role.RESIDENT,
)


def parse_kind(value: str) -> EventKind | None:
    return next((k for k in EventKind if k.value == value), None)


def audience_allowed(audience: Audience, community: Community) -> bool:
    """An audience a /newevent button may set: the whole community, or a compound, building
    or role that exists (a forged button names anything)."""
    if audience.kind is NodeKind.COMMUNITY:
        return audience.target == ""
    if audience.kind is NodeKind.COMPOUND:
        return community.compound(audience.target) is not None
    if audience.kind is NodeKind.BUILDING:
        return community.building(audience.target) is not None
    return audience.target in {r.value for r in AUDIENCE_ROLES}


def next_step(draft: EventDraft, step: str) -> Step:
    """The step after `step`; only a care service asks how many weeks it repeats."""
    following = _ORDER[_ORDER.index(Step(step)) + 1] if step in _ORDER[:-1] else Step.PREVIEW
    if following is Step.WEEKS and draft.kind is not EventKind.CARE:
        return Step.PREVIEW
    return following


# What each typed step does with the answer: set it on the draft, or say why not.
Answer = Callable[[EventDraft, str, ZoneInfo, datetime], Refused | None]


def _title(draft: EventDraft, text: str, tz: ZoneInfo, now: datetime) -> Refused | None:
    value = clean_line(text, "title", TITLE_MAX)
    if isinstance(value, Refused):
        return value
    draft.title = value
    return None


def _description(draft: EventDraft, text: str, tz: ZoneInfo, now: datetime) -> Refused | None:
    value = "" if text.strip() == SKIP else clean_text(text, "description", DESCRIPTION_MAX)
    if isinstance(value, Refused):
        return value
    draft.description = value
    return None


def _when(draft: EventDraft, text: str, tz: ZoneInfo, now: datetime) -> Refused | None:
    span = parse_span(text, tz, now)
    if isinstance(span, Refused):
        return span
    refused = validate_times(span[0], span[1], span[0], now)
    if refused is not None:
        return refused
    draft.starts_at, draft.ends_at = span
    if draft.deadline is not None and draft.deadline > span[0]:
        draft.deadline = None  # a deadline after the new start: sign-ups close at the start
    return None


def _place(draft: EventDraft, text: str, tz: ZoneInfo, now: datetime) -> Refused | None:
    value = clean_line(text, "place", PLACE_MAX)
    if isinstance(value, Refused):
        return value
    draft.place = value
    return None


def _count(step: Step, low: int, high: int) -> Answer:
    def answer(draft: EventDraft, text: str, tz: ZoneInfo, now: datetime) -> Refused | None:
        number = parse_count(text, step.value, low, high)
        if isinstance(number, Refused):
            return number
        setattr(draft, step.value, number)
        return None

    return answer


def _deadline(draft: EventDraft, text: str, tz: ZoneInfo, now: datetime) -> Refused | None:
    assert draft.starts_at is not None and draft.ends_at is not None
    skipping = text.strip() == SKIP
    deadline = draft.starts_at if skipping else parse_when(text, tz, now)
    if isinstance(deadline, Refused):
        return deadline
    refused = validate_times(draft.starts_at, draft.ends_at, deadline, now)
    if refused is not None:
        return refused
    draft.deadline = None if skipping else deadline
    return None


_ANSWERS: dict[Step, Answer] = {
    Step.TITLE: _title,
    Step.DESCRIPTION: _description,
    Step.WHEN: _when,
    Step.PLACE: _place,
    Step.CAPACITY: _count(Step.CAPACITY, 0, CAPACITY_MAX),
    Step.DEADLINE: _deadline,
    Step.POINTS: _count(Step.POINTS, 0, POINTS_MAX),
    Step.WEEKS: _count(Step.WEEKS, 1, REPEAT_WEEKS_MAX),
}
SKIPPABLE = (Step.DESCRIPTION, Step.DEADLINE)


def apply_text(
    draft: EventDraft, step: str, text: str, tz: ZoneInfo, now: datetime
) -> Refused | None:
    """Put what the organizer typed for `step` into the draft, or say why not (nothing changes)."""
    answer = _ANSWERS.get(Step(step)) if step in _ORDER else None
    return Refused("use_buttons") if answer is None else answer(draft, text, tz, now)


@dataclass(slots=True)
class NewEvent:
    """The /newevent flow as a state machine: the step it is at and the draft so far.

    Each answer (typed, or a button: a kind, an audience, Skip) is checked against the
    step; an accepted one fills the draft and moves to the next step, a refused one
    changes nothing. An answer for another step (an old button) is refused as "no_draft".
    """

    step: Step = Step.KIND
    draft: EventDraft = field(default_factory=EventDraft)

    @classmethod
    def resume(cls, step: str, data: Mapping[str, Any]) -> NewEvent | None:
        """The flow saved at `step` with `data`; None for a step it does not have."""
        return cls(Step(step), EventDraft.from_data(data)) if step in _ORDER else None

    def at(self, *steps: Step) -> Refused | None:
        """Refused ("no_draft") unless the flow is at one of `steps`."""
        return None if self.step in steps else Refused("no_draft")

    def type(self, text: str, tz: ZoneInfo, now: datetime) -> Refused | None:
        """A typed answer to the current step ("use_buttons" where buttons answer)."""
        return self._then_next(apply_text(self.draft, self.step, text, tz, now))

    def skip(self, tz: ZoneInfo, now: datetime) -> Refused | None:
        """The Skip button of an optional step."""
        refused = self.at(*SKIPPABLE)
        return refused or self.type(SKIP, tz, now)

    def choose_kind(self, value: str) -> Refused | None:
        kind = parse_kind(value)
        if (refused := self.at(Step.KIND)) is not None or kind is None:
            return refused or Refused("use_buttons")
        self.draft.kind = kind
        return self._then_next(None)

    def choose_audience(self, kind: str, target: str, community: Community) -> Refused | None:
        if (refused := self.at(Step.AUDIENCE)) is not None:
            return refused
        if kind not in {k.value for k in NodeKind}:
            return Refused("use_buttons")
        audience = Audience(NodeKind(kind), target)
        if not audience_allowed(audience, community):
            return Refused("use_buttons")
        self.draft.audience = audience
        return self._then_next(None)

    def ready(self, now: datetime) -> Refused | None:
        """At the preview, with everything still valid: it may be published."""
        return self.at(Step.PREVIEW) or validate_draft(self.draft, now)

    def _then_next(self, refused: Refused | None) -> Refused | None:
        if refused is None:
            self.step = next_step(self.draft, self.step)
        return refused
