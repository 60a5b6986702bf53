"""Hazard reports (随手拍): categories, codes, duplicates, the triage state machine, and
what is due (escalations of unacknowledged urgent reports, "is it fixed?" follow-ups)."""

from __future__ import annotations

import hashlib
import math
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from linli.core.community import Community
from linli.core.members import Member, can_triage_building
from linli.core.outcomes import Refused

MAX_PHOTOS = 3
ADDRESS_MAX_CHARS = 200
NOTE_MAX_CHARS = 500
EARTH_RADIUS_M = 6_371_008.8
_CODE_RE = re.compile(r"^\s*[Hh]\s*-?\s*(\d{1,9})\s*$")
_CODE_IN_TEXT_RE = re.compile(r"\b[Hh]-?(\d{1,9})\b")
# No 0/O or 1/I/L: a follow-up code is read off a phone screen and typed back.
_FOLLOWUP_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_FOLLOWUP_LEN = 12


class Status(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    REJECTED = "rejected"

    @property
    def is_open(self) -> bool:
        return self in OPEN_STATUSES


OPEN_STATUSES = frozenset({Status.NEW, Status.ACKNOWLEDGED, Status.IN_PROGRESS})


class Action(StrEnum):
    """What a triager can do from the card's buttons (short: they travel in callback data)."""

    ACK = "ack"
    WORK = "work"
    RESOLVE = "res"
    REJECT = "rej"


ACTION_TARGET: dict[Action, Status] = {
    Action.ACK: Status.ACKNOWLEDGED,
    Action.WORK: Status.IN_PROGRESS,
    Action.RESOLVE: Status.RESOLVED,
    Action.REJECT: Status.REJECTED,
}

# Which buttons a card in each status offers; anything else is refused when pressed.
ALLOWED: dict[Status, tuple[Action, ...]] = {
    Status.NEW: (Action.ACK, Action.WORK, Action.RESOLVE, Action.REJECT),
    Status.ACKNOWLEDGED: (Action.WORK, Action.RESOLVE, Action.REJECT),
    Status.IN_PROGRESS: (Action.RESOLVE, Action.REJECT),
    Status.RESOLVED: (),
    Status.REJECTED: (),
}


@dataclass(frozen=True, slots=True)
class Category:
    key: str
    zh: str
    en: str
    urgent: bool = False

    def name(self, locale: str) -> str:
        return self.zh if locale.startswith("zh") else self.en


@dataclass(frozen=True, slots=True)
class Report:
    id: int
    category: str
    description: str
    status: Status
    anonymous: bool
    reporter_id: int | None  # always None for an anonymous report
    urgent: bool
    created_at: datetime
    updated_at: datetime
    lat: float | None = None
    lon: float | None = None
    address: str = ""
    building_id: str | None = None
    photos: tuple[str, ...] = ()
    supporters: int = 0
    duplicate_of: int | None = None
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    escalations: int = 0
    followup_sent_at: datetime | None = None
    status_note: str = ""

    @property
    def code(self) -> str:
        return format_code(self.id)

    @property
    def is_open(self) -> bool:
        return self.status.is_open


@dataclass(frozen=True, slots=True)
class ReportChange:
    """One change in a report's life: who (None for the reporter or anonymous), when, a note."""

    report_id: int
    status: str  # a Status value, or "reopened" / "fixed"
    actor_name: str | None
    note: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NewReport:
    """What the reporter confirmed, before it has an id."""

    category: str
    description: str
    anonymous: bool
    urgent: bool
    lat: float | None = None
    lon: float | None = None
    address: str = ""
    building_id: str | None = None
    photos: tuple[str, ...] = field(default_factory=tuple)


def format_code(report_id: int) -> str:
    return f"H-{report_id:04d}"


def parse_code(text: str) -> int | None:
    """ "H-0042", "h42", "H 42" -> 42; anything else -> None."""
    match = _CODE_RE.match(text or "")
    if not match:
        return None
    value = int(match.group(1))
    return value if value > 0 else None


def code_in_note(note: str) -> int | None:
    """The first report code mentioned in a note ("duplicate of H-0012") or None."""
    match = _CODE_IN_TEXT_RE.search(note or "")
    return int(match.group(1)) if match and int(match.group(1)) > 0 else None


def category_by_key(categories: tuple[Category, ...], key: str) -> Category | None:
    return next((c for c in categories if c.key == key), None)


def clean_description(text: str | None, limit: int) -> str | Refused:
    """The description as typed (whitespace tidied), or why it is refused (nothing is kept)."""
    body = (text or "").strip()
    if not body:
        return Refused("description_empty")
    if len(body) > limit:
        return Refused("description_too_long", {"limit": limit, "length": len(body)})
    return body


def clean_address(text: str | None) -> str | Refused:
    body = " ".join((text or "").split())
    if not body:
        return Refused("address_empty")
    if len(body) > ADDRESS_MAX_CHARS:
        return Refused("address_too_long", {"limit": ADDRESS_MAX_CHARS})
    return body


def clean_note(text: str | None) -> str | Refused:
    body = (text or "").strip()
    if len(body) > NOTE_MAX_CHARS:
        return Refused("note_too_long", {"limit": NOTE_MAX_CHARS})
    return body


def match_building(text: str, community: Community) -> str | None:
    """A typed address that names a building ("heyuan/1", "和苑小区1号楼", "1号楼" if unique)."""
    typed = "".join(text.split()).lower()
    for suffix in ("号楼", "栋", "楼", "幢"):
        typed = typed.removesuffix(suffix)
    found: list[str] = []
    for compound in community.compounds:
        for building in compound.buildings:
            forms = {
                building.id.lower(),
                f"{compound.name}{building.name}".lower(),
                f"{compound.id}{building.name}".lower(),
                f"{compound.name.removesuffix('小区')}{building.name}".lower(),
            }
            if typed in forms:
                return building.id
            if typed in {building.name.lower(), f"building{building.name}".lower()}:
                found.append(building.id)
    return found[0] if len(found) == 1 else None


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def is_possible_duplicate(existing: Report, new: NewReport, radius_m: float) -> bool:
    """An open report of the same category in the same building or within `radius_m`."""
    if not existing.is_open or existing.category != new.category:
        return False
    if new.building_id is not None and existing.building_id == new.building_id:
        return True
    if None in (existing.lat, existing.lon, new.lat, new.lon):
        return False
    assert existing.lat is not None and existing.lon is not None
    assert new.lat is not None and new.lon is not None
    return haversine_m(existing.lat, existing.lon, new.lat, new.lon) <= radius_m


def possible_duplicates(
    open_reports: list[Report], new: NewReport, radius_m: float, limit: int = 5
) -> list[Report]:
    return [r for r in open_reports if is_possible_duplicate(r, new, radius_m)][:limit]


def may_report(recent_count: int, per_hour: int) -> Refused | None:
    """A member may file `per_hour` reports in any hour."""
    if recent_count >= per_hour:
        return Refused("too_many_reports", {"limit": per_hour})
    return None


HOUR = timedelta(hours=1)


class ReportQuota:
    """The hourly limit, one home for both kinds of report: when each sender filed their
    reports of the last hour, named and anonymous counted together.

    Whoever keeps it keeps it in memory only: written down, it would link an anonymous
    report to its sender. A sender it does not know yet (after a start) is `seed`ed with
    their named reports of the last hour, which are on disk anyway."""

    def __init__(self) -> None:
        self._sent: dict[int, list[datetime]] = {}

    def knows(self, sender: int) -> bool:
        return sender in self._sent

    def seed(self, sender: int, times: Iterable[datetime]) -> None:
        self._sent.setdefault(sender, []).extend(times)

    def check(self, sender: int, now: datetime, per_hour: int) -> Refused | None:
        """Why this sender may not file one more report now, or None."""
        recent = [t for t in self._sent.get(sender, []) if now - t < HOUR]
        if recent:
            self._sent[sender] = recent
        else:  # forgotten: a later check seeds it again (from nothing but named reports)
            self._sent.pop(sender, None)
        return may_report(len(recent), per_hour)

    def record(self, sender: int, now: datetime) -> None:
        self._sent.setdefault(sender, []).append(now)


def decide_triage(report: Report, action: Action) -> Status | Refused:
    """The new status, or why this button no longer applies to the report."""
    if action not in ALLOWED[report.status]:
        return Refused("not_allowed_now", {"code": report.code, "status": report.status.value})
    return ACTION_TARGET[action]


def may_triage(member: Member, report: Report | None, action: Action) -> Refused | None:
    """Why this member may not press this button of this report's card now, or None."""
    if report is None:
        return Refused("unknown_report")
    if not can_triage_building(member, report.building_id):
        return Refused("not_triager", {"code": report.code})
    outcome = decide_triage(report, action)
    return outcome if isinstance(outcome, Refused) else None


def verification_awards(report: Report) -> list[tuple[str, str]]:
    """(points rule, idempotency key) credited to the reporter when the report is verified."""
    awards = [("verified_report", f"hazard:{report.id}:ack")]
    if report.urgent:
        awards.append(("urgent_bonus", f"hazard:{report.id}:ack:urgent"))
    return awards


@dataclass(frozen=True, slots=True)
class TriageNote:
    """The private flow a card's button starts: which report, which action, awaiting a note."""

    report_id: int
    action: Action

    def to_data(self) -> dict[str, Any]:
        return {"report_id": self.report_id, "action": self.action.value}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> TriageNote:
        # "rid"/"act": how a note asked for before an upgrade was kept
        return cls(
            int(data.get("report_id", data.get("rid", 0))),
            Action(data.get("action", data.get("act"))),
        )


def triage_note(action: Action, text: str | None) -> str | Refused:
    """The note kept with a triage: optional, but a rejection must say why."""
    note = clean_note(text)
    if isinstance(note, Refused):
        return note
    if action is Action.REJECT and not note:
        return Refused("reason_needed")
    return note


def duplicate_of(action: Action, note: str) -> int | None:
    """A rejection that names another report ("duplicate of H-0012") points at it."""
    return code_in_note(note) if action is Action.REJECT else None


def visible_changes(history: list[ReportChange]) -> list[ReportChange]:
    """What a card or a follow-up shows of a report's life: not its filing, nor each "me too"."""
    return [e for e in history if e.status not in ("new", "supported")]


def earns_points(before: Status, after: Status, anonymous: bool) -> bool:
    """Leaving `new` for anything but a rejection verifies the report (credited once, by key)."""
    return not anonymous and before is Status.NEW and after is not Status.REJECTED


def escalation_due(report: Report, now: datetime, after_minutes: int, max_escalations: int) -> bool:
    """Urgent and still unacknowledged: escalation n is due n*after minutes after the report."""
    if not report.urgent or report.status is not Status.NEW:
        return False
    if report.escalations >= max_escalations:
        return False
    due_at = report.created_at + timedelta(minutes=after_minutes * (report.escalations + 1))
    return now >= due_at


def followup_due(report: Report, now: datetime, days: int) -> bool:
    """A named report resolved `days` ago, whose reporter has not been asked yet."""
    if days <= 0 or report.status is not Status.RESOLVED or report.anonymous:
        return False
    if report.reporter_id is None or report.followup_sent_at is not None:
        return False
    return report.resolved_at is not None and now >= report.resolved_at + timedelta(days=days)


def new_followup_code() -> str:
    """A secret the anonymous sender keeps; only its hash is stored."""
    raw = "".join(secrets.choice(_FOLLOWUP_ALPHABET) for _ in range(_FOLLOWUP_LEN))
    return "-".join(raw[i : i + 4] for i in range(0, _FOLLOWUP_LEN, 4))


def normalize_followup_code(text: str) -> str | None:
    raw = "".join(ch for ch in (text or "").upper() if ch.isalnum())
    if len(raw) != _FOLLOWUP_LEN or any(ch not in _FOLLOWUP_ALPHABET for ch in raw):
        return None
    return "-".join(raw[i : i + 4] for i in range(0, _FOLLOWUP_LEN, 4))


def followup_hash(code: str) -> str:
    """What the database keeps of a follow-up code (60 random bits; a plain hash is enough)."""
    return hashlib.sha256(("linli-followup:" + code).encode()).hexdigest()


# --- The report flow's steps, and where "Back" goes from each.

STEPS_FULL = ("category", "description", "photos", "location", "duplicates", "anonymous", "confirm")
# A photo sent with no command: category, location, then send (description optional).
STEPS_PHOTO_FIRST = ("category", "location", "duplicates", "confirm")


# Which step shows each report-flow button; pressed at any other step, the button is stale.
BUTTON_STEP: dict[str, str] = {
    "cat": "category",
    "done": "photos",
    "same": "duplicates",
    "new": "duplicates",
    "anon": "anonymous",
    "send": "confirm",
    "desc": "confirm",
}


def button_fits(action: str, step: str) -> bool:
    """Buttons not tied to one step (back, cancel) fit any step."""
    expected = BUTTON_STEP.get(action)
    return expected is None or expected == step


def next_step(step: str, photo_first: bool, had_duplicates: bool = False) -> str | None:
    """Where the flow goes once `step` is answered; None after the last one. The duplicates
    step is skipped if there were none."""
    steps = STEPS_PHOTO_FIRST if photo_first else STEPS_FULL
    if step not in steps:
        # photo-first: a description added from the confirm screen goes back there
        return {"description": "confirm", "photos": "location"}.get(step)
    for following in steps[steps.index(step) + 1 :]:
        if following != "duplicates" or had_duplicates:
            return following
    return None


def previous_step(step: str, photo_first: bool, had_duplicates: bool) -> str | None:
    """Where Back goes; None at the first step. The duplicates step is skipped if there were none."""
    steps = STEPS_PHOTO_FIRST if photo_first else STEPS_FULL
    if step not in steps:
        # photo-first members may open description/photos from the confirm screen
        return "confirm" if photo_first and step in ("description", "photos") else None
    index = steps.index(step)
    while index > 0:
        index -= 1
        if steps[index] == "duplicates" and not had_duplicates:
            continue
        return steps[index]
    return None


# The draft of a report was first kept under these short keys; a resident in the middle of
# a report when the bot was upgraded still has them (read, never written).
_OLD_DRAFT_KEYS = {
    "category": "cat",
    "description": "desc",
    "address": "addr",
    "building_id": "bld",
    "anonymous": "anon",
    "photo_first": "pf",
    "duplicates": "dups",
}


@dataclass(slots=True)
class ReportDraft:
    """What a resident has given so far in /report or a photo-first report (kept as JSON
    between messages; the step it is at is kept beside it)."""

    category: str = ""
    urgent: bool = False
    description: str = ""
    photos: list[str] = field(default_factory=list)
    lat: float | None = None
    lon: float | None = None
    address: str = ""
    building_id: str | None = None
    anonymous: bool | None = None  # None until chosen (photo-first chooses when sending)
    photo_first: bool = False
    duplicates: list[int] = field(default_factory=list)  # open reports that look the same

    def to_data(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "urgent": self.urgent,
            "description": self.description,
            "photos": list(self.photos),
            "lat": self.lat,
            "lon": self.lon,
            "address": self.address,
            "building_id": self.building_id,
            "anonymous": self.anonymous,
            "photo_first": self.photo_first,
            "duplicates": list(self.duplicates),
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> ReportDraft:
        def get(key: str, default: Any = None) -> Any:
            old = _OLD_DRAFT_KEYS.get(key, key)
            return data.get(key, data.get(old, default))

        lat, lon, anonymous, building = get("lat"), get("lon"), get("anonymous"), get("building_id")
        return cls(
            category=str(get("category") or ""),
            urgent=bool(get("urgent")),
            description=str(get("description") or ""),
            photos=[str(p) for p in get("photos") or []],
            lat=float(lat) if lat is not None else None,
            lon=float(lon) if lon is not None else None,
            address=str(get("address") or ""),
            building_id=str(building) if building else None,
            anonymous=bool(anonymous) if anonymous is not None else None,
            photo_first=bool(get("photo_first")),
            duplicates=[int(i) for i in get("duplicates") or []],
        )

    def choose(self, category: Category) -> None:
        self.category, self.urgent = category.key, category.urgent

    def add_photo(self, file_id: str) -> bool:
        """Keep one more photo; False (nothing kept) if there are already MAX_PHOTOS."""
        if len(self.photos) >= MAX_PHOTOS:
            return False
        self.photos.append(file_id)
        return True

    @property
    def photos_full(self) -> bool:
        return len(self.photos) >= MAX_PHOTOS

    def located(self, lat: float, lon: float) -> None:
        self.lat, self.lon = lat, lon

    def in_building(self, building_id: str) -> None:
        self.building_id, self.address = building_id, ""

    def at_address(self, address: str, building_id: str | None) -> None:
        self.address, self.building_id = address, building_id

    def next_step(self, answered: str) -> str | None:
        """Where the flow goes once the step `answered` is done (None: nowhere)."""
        return next_step(answered, self.photo_first, bool(self.duplicates))

    def previous_step(self, step: str) -> str | None:
        """Where Back goes from `step` (None: it is the first)."""
        return previous_step(step, self.photo_first, bool(self.duplicates))

    def new_report(self, *, anonymous: bool) -> NewReport:
        return NewReport(
            category=self.category or "other",
            description=self.description,
            anonymous=anonymous,
            urgent=self.urgent,
            lat=self.lat,
            lon=self.lon,
            address=self.address,
            building_id=self.building_id,
            photos=tuple(self.photos),
        )


# --- /reports filters: "/reports new fire heyuan/1" (any order, each optional).


@dataclass(frozen=True, slots=True)
class ReportFilter:
    statuses: tuple[Status, ...] = tuple(sorted(OPEN_STATUSES, key=list(Status).index))
    category: str | None = None
    building_id: str | None = None

    def encode(self) -> str:
        """Short enough for callback data: "new,acknowledged|fire|heyuan/1" with "" for none."""
        return "|".join(
            [",".join(s.value for s in self.statuses), self.category or "", self.building_id or ""]
        )

    @classmethod
    def decode(cls, text: str) -> ReportFilter | None:
        parts = text.split("|")
        if len(parts) != 3:
            return None
        try:
            statuses = tuple(Status(s) for s in parts[0].split(",") if s)
        except ValueError:
            return None
        return cls(statuses or tuple(Status), parts[1] or None, parts[2] or None)


def scoped_filter(
    wanted: ReportFilter, *, organizer: bool, leads: str | None
) -> ReportFilter | Refused:
    """What /reports shows: organizers what they ask for, the leader of building `leads`
    only that building's reports, anyone else nothing."""
    if organizer:
        return wanted
    if leads is None:
        return Refused("organizers_only")
    return ReportFilter(wanted.statuses, wanted.category, leads)


_STATUS_WORDS: dict[str, tuple[Status, ...]] = {
    "open": tuple(sorted(OPEN_STATUSES, key=list(Status).index)),
    "all": tuple(Status),
    "closed": (Status.RESOLVED, Status.REJECTED),
    **{s.value: (s,) for s in Status},
    "ack": (Status.ACKNOWLEDGED,),
    "progress": (Status.IN_PROGRESS,),
}


def parse_filter(
    args: list[str], category_keys: tuple[str, ...], community: Community
) -> ReportFilter | Refused:
    """Words after /reports: a status (open, all, closed, new, acknowledged, in_progress,
    resolved, rejected), a category key, a building ("heyuan/1", "和苑1号楼")."""
    result = ReportFilter()
    for word in args:
        key = word.strip().lower()
        if key in _STATUS_WORDS:
            result = ReportFilter(_STATUS_WORDS[key], result.category, result.building_id)
        elif key in category_keys:
            result = ReportFilter(result.statuses, key, result.building_id)
        elif (building := match_building(word, community)) is not None:
            result = ReportFilter(result.statuses, result.category, building)
        else:
            return Refused("bad_filter", {"word": word[:40]})
    return result
