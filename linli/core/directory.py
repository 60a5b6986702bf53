"""The neighbourhood directory: neighbours' offers (能人) and requests (求助), introductions,
the 15-minute life circle (一刻钟便民生活圈), rider stations (驿站) and organizations.

Platform-free rules: what an offer may say, who may see and request it, when two people are
introduced, distances and walking order, "open now" from weekly hours, and the row-by-row
check of a places spreadsheet.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from linli.core.community import Building, Community
from linli.core.outcomes import Refused

TITLE_MAX = 60
TEXT_MAX = 500
PRICE_MAX = 40
WHEN_MAX = 80
COMMENT_MAX = 200
REASON_MAX = 200
FOLLOWUP_AFTER_HOURS = 24  # "did it happen?" asked this long after an introduction, once


class Payment(StrEnum):
    PAID = "paid"  # 有偿
    LOW = "low"  # 低偿
    FREE = "free"  # 无偿


class Visibility(StrEnum):
    BUILDING = "building"
    COMPOUND = "compound"
    COMMUNITY = "community"


class OfferStatus(StrEnum):
    PENDING = "pending"  # waiting for an organizer's approval
    ACTIVE = "active"
    PAUSED = "paused"
    WITHDRAWN = "withdrawn"
    TAKEN_DOWN = "taken_down"


class RequestStatus(StrEnum):
    OPEN = "open"
    MATCHED = "matched"
    CLOSED = "closed"


class MatchStatus(StrEnum):
    """One pairing of a provider and a requester.

    From an offer: asked -> accepted | declined. From a request: offered (a neighbour said
    "I can help") -> accepted (the requester chose them) | not_chosen. After acceptance:
    done (the requester confirmed it happened) | not_done.
    """

    ASKED = "asked"
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    NOT_CHOSEN = "not_chosen"
    DONE = "done"
    NOT_DONE = "not_done"


@dataclass(frozen=True, slots=True)
class Offer:
    id: int
    member_id: int
    building_id: str | None
    category: str
    title: str
    description: str
    payment: Payment
    price: str
    available: str
    visibility: Visibility
    status: OfferStatus
    thanks: int
    created_at: datetime
    reason: str = ""

    @property
    def code(self) -> str:
        return f"S-{self.id:04d}"


@dataclass(frozen=True, slots=True)
class HelpRequest:
    id: int
    member_id: int
    building_id: str | None
    category: str
    text: str
    when: str
    status: RequestStatus
    created_at: datetime

    @property
    def code(self) -> str:
        return f"Q-{self.id:04d}"


@dataclass(frozen=True, slots=True)
class Match:
    id: int
    offer_id: int | None
    request_id: int | None
    provider_id: int
    requester_id: int
    status: MatchStatus
    payment: Payment
    what: str  # the offer's title or the request's text, for the time bank's log
    created_at: datetime
    decided_at: datetime | None = None
    log_id: int | None = None
    thanked: bool = False
    comment: str = ""


# --- Texts --------------------------------------------------------------------------------


def clean_text(raw: str, limit: int, *, what: str, multiline: bool = False) -> str | Refused:
    """Text as typed, trimmed; empty or over `limit` characters is refused (reason names `what`)."""
    if multiline:
        lines = [" ".join(line.split()) for line in raw.strip().splitlines()]
        text = "\n".join(line for line in lines if line)
    else:
        text = " ".join(raw.split())
    if not text:
        return Refused("empty", {"what": what})
    if len(text) > limit:
        return Refused("too_long", {"what": what, "max": limit, "got": len(text)})
    return text


def check_price(payment: Payment, price: str) -> str | Refused:
    """A free offer names no price; a paid or low-cost one names one."""
    price = " ".join(price.split())
    if payment is Payment.FREE:
        return Refused("price_on_free") if price else ""
    if not price:
        return Refused("price_required")
    if len(price) > PRICE_MAX:
        return Refused("too_long", {"what": "price", "max": PRICE_MAX, "got": len(price)})
    return price


def parse_payment(raw: str) -> Payment | None:
    words = {
        "paid": Payment.PAID, "有偿": Payment.PAID,
        "low": Payment.LOW, "低偿": Payment.LOW, "low-cost": Payment.LOW,
        "free": Payment.FREE, "无偿": Payment.FREE,
    }  # fmt: skip
    return words.get(raw.strip().lower())


# --- The offer draft (a typed private flow) -----------------------------------------------


class OfferStep(StrEnum):
    CATEGORY = "category"
    TITLE = "title"
    DESCRIPTION = "description"
    PAYMENT = "payment"
    PRICE = "price"
    AVAILABLE = "available"
    VISIBILITY = "visibility"
    CONFIRM = "confirm"


@dataclass(frozen=True, slots=True)
class OfferDraft:
    """What a provider has given so far for a new offer."""

    step: OfferStep = OfferStep.CATEGORY
    category: str = ""
    title: str = ""
    description: str = ""
    payment: Payment | None = None
    price: str = ""
    available: str = ""
    visibility: Visibility | None = None

    def to_data(self) -> dict[str, Any]:
        return {
            "offer_step": self.step.value,
            "category": self.category,
            "title": self.title,
            "description": self.description,
            "payment": self.payment.value if self.payment else None,
            "price": self.price,
            "available": self.available,
            "visibility": self.visibility.value if self.visibility else None,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> OfferDraft:
        payment, visibility = data.get("payment"), data.get("visibility")
        step = str(data.get("offer_step", OfferStep.CATEGORY.value))
        return cls(
            step=OfferStep(step) if step in OfferStep._value2member_map_ else OfferStep.CATEGORY,
            category=str(data.get("category", "")),
            title=str(data.get("title", "")),
            description=str(data.get("description", "")),
            payment=Payment(str(payment)) if payment in Payment._value2member_map_ else None,
            price=str(data.get("price", "")),
            available=str(data.get("available", "")),
            visibility=(
                Visibility(str(visibility)) if visibility in Visibility._value2member_map_ else None
            ),
        )

    def with_category(self, category: str) -> OfferDraft:
        return replace(self, category=category, step=OfferStep.TITLE)

    def with_text(self, raw: str) -> OfferDraft | Refused:
        """The answer to a typed step (title, description, price, when)."""
        if self.step is OfferStep.TITLE:
            title = clean_text(raw, TITLE_MAX, what="title")
            return title if isinstance(title, Refused) else replace(
                self, title=title, step=OfferStep.DESCRIPTION)  # fmt: skip
        if self.step is OfferStep.DESCRIPTION:
            text = clean_text(raw, TEXT_MAX, what="description", multiline=True)
            return text if isinstance(text, Refused) else replace(
                self, description=text, step=OfferStep.PAYMENT)  # fmt: skip
        if self.step is OfferStep.PRICE:
            assert self.payment is not None
            price = check_price(self.payment, raw)
            return price if isinstance(price, Refused) else replace(
                self, price=price, step=OfferStep.AVAILABLE)  # fmt: skip
        if self.step is OfferStep.AVAILABLE:
            when = clean_text(raw, WHEN_MAX, what="available")
            return when if isinstance(when, Refused) else replace(
                self, available=when, step=OfferStep.VISIBILITY)  # fmt: skip
        return Refused("use_buttons")

    def with_payment(self, payment: Payment) -> OfferDraft:
        following = OfferStep.AVAILABLE if payment is Payment.FREE else OfferStep.PRICE
        return replace(self, payment=payment, price="", step=following)

    def with_visibility(self, visibility: Visibility) -> OfferDraft:
        return replace(self, visibility=visibility, step=OfferStep.CONFIRM)

    @property
    def complete(self) -> bool:
        return (
            self.step is OfferStep.CONFIRM
            and bool(self.category and self.title and self.description and self.available)
            and self.payment is not None
            and self.visibility is not None
            and not isinstance(check_price(self.payment, self.price), Refused)
        )


@dataclass(frozen=True, slots=True)
class NeedDraft:
    """A request for help being written: category -> text -> when."""

    category: str
    text: str = ""

    def to_data(self) -> dict[str, Any]:
        return {"category": self.category, "text": self.text}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> NeedDraft:
        return cls(category=str(data.get("category", "")), text=str(data.get("text", "")))

    def answer(self, raw: str) -> NeedDraft | tuple[str, str] | Refused:
        """The text (then ask when), or when: (text, when) ready to post."""
        if not self.text:
            text = clean_text(raw, TEXT_MAX, what="need", multiline=True)
            return text if isinstance(text, Refused) else replace(self, text=text)
        when = clean_text(raw, WHEN_MAX, what="when")
        return when if isinstance(when, Refused) else (self.text, when)


# --- Who sees what --------------------------------------------------------------------------


def visible_to(
    offer_building: str | None,
    visibility: Visibility,
    viewer_building: str | None,
    community: Community,
) -> bool:
    """An offer for the provider's building or compound is seen there only; community-wide by all."""
    if visibility is Visibility.COMMUNITY:
        return True
    if offer_building is None or viewer_building is None:
        return False
    if visibility is Visibility.BUILDING:
        return offer_building == viewer_building
    mine, theirs = community.building(offer_building), community.building(viewer_building)
    return mine is not None and theirs is not None and mine.compound_id == theirs.compound_id


def can_request(
    offer: Offer | None,
    requester_id: int,
    requester_building: str | None,
    community: Community,
) -> Refused | None:
    if offer is None:
        return Refused("unknown_offer")
    if offer.member_id == requester_id:
        return Refused("own_offer")
    if offer.status is not OfferStatus.ACTIVE:
        return Refused("offer_closed")
    if not visible_to(offer.building_id, offer.visibility, requester_building, community):
        return Refused("not_in_scope")
    return None


def can_offer_help(req: HelpRequest | None, helper_id: int) -> Refused | None:
    if req is None:
        return Refused("unknown_request")
    if req.member_id == helper_id:
        return Refused("own_request")
    if req.status is not RequestStatus.OPEN:
        return Refused("request_closed")
    return None


def can_answer(match: Match | None, provider_id: int) -> Refused | None:
    """The provider accepts or declines a request for their offer, once."""
    if match is None or match.provider_id != provider_id:
        return Refused("not_yours")
    if match.status is not MatchStatus.ASKED:
        return Refused("already_answered")
    return None


def can_choose(match: Match | None, requester_id: int) -> Refused | None:
    """The requester picks one of the neighbours who offered help, while the request is open."""
    if match is None or match.requester_id != requester_id:
        return Refused("not_yours")
    if match.status is not MatchStatus.OFFERED:
        return Refused("already_answered")
    return None


def can_confirm(match: Match | None, requester_id: int) -> Refused | None:
    """The requester says whether the service happened, once, after an introduction."""
    if match is None or match.requester_id != requester_id:
        return Refused("not_yours")
    if match.status in (MatchStatus.DONE, MatchStatus.NOT_DONE):
        return Refused("already_confirmed")
    if match.status is not MatchStatus.ACCEPTED:
        return Refused("not_introduced")
    return None


def can_thank(match: Match | None, requester_id: int) -> Refused | None:
    if match is None or match.requester_id != requester_id:
        return Refused("not_yours")
    if match.status is not MatchStatus.DONE:
        return Refused("not_done")
    if match.thanked:
        return Refused("already_thanked")
    return None


def within_rate(recent: int, limit: int) -> Refused | None:
    """Posting and requesting are limited per member per day (0 = no limit)."""
    if limit and recent >= limit:
        return Refused("rate_limited", {"limit": limit})
    return None


# --- Distances ------------------------------------------------------------------------------

EARTH_RADIUS_M = 6_371_008.8
DETOUR = 1.25  # streets are not straight lines: walking is about this much longer
WALK_M_PER_MIN = 80
CIRCLE_M = 1_200  # 15 minutes on foot (一刻钟)
RINGS_M = (500, 1_000)


@dataclass(frozen=True, slots=True)
class Point:
    lat: float
    lon: float


def valid_point(lat: float, lon: float) -> bool:
    return -90 <= lat <= 90 and -180 <= lon <= 180 and not (math.isnan(lat) or math.isnan(lon))


def haversine_m(a: Point, b: Point) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def walking_m(a: Point, b: Point) -> int:
    return round(haversine_m(a, b) * DETOUR)


def walking_minutes(metres: int) -> int:
    return max(1, math.ceil(metres / WALK_M_PER_MIN))


T = TypeVar("T")


def by_walking(origin: Point, items: Iterable[tuple[T, Point]]) -> list[tuple[T, int]]:
    """Items with their walking distance from `origin`, nearest first (ties keep their order)."""
    measured = [(item, walking_m(origin, where)) for item, where in items]
    return sorted(measured, key=lambda pair: pair[1])


def cell_of(lat: float, lon: float) -> int:
    """A grid cell about 1 km across: places are looked up by the cells around a point."""
    return math.floor(lat * 100) * 100_000 + math.floor(lon * 100) % 100_000


def cells_around(point: Point, reach: int = 2) -> list[int]:
    """The cells within `reach` cells of the point (5 x 5 by default: the 15-minute circle)."""
    lat0, lon0 = math.floor(point.lat * 100), math.floor(point.lon * 100)
    return [
        (lat0 + dy) * 100_000 + (lon0 + dx) % 100_000
        for dy in range(-reach, reach + 1)
        for dx in range(-reach, reach + 1)
    ]


def centre(points: Sequence[Point]) -> Point | None:
    if not points:
        return None
    return Point(sum(p.lat for p in points) / len(points), sum(p.lon for p in points) / len(points))


# --- Opening hours --------------------------------------------------------------------------

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)\s*-\s*([01]?\d|2[0-4]):([0-5]\d)$")
Span = tuple[int, int]  # minutes from midnight; close may pass 1440 (open past midnight)


@dataclass(frozen=True, slots=True)
class WeeklyHours:
    """Opening spans per weekday (Monday first); an empty day is closed."""

    days: tuple[tuple[Span, ...], ...] = ((),) * 7

    def is_open(self, local: datetime) -> bool:
        minute = local.hour * 60 + local.minute
        today, yesterday = local.weekday(), (local.weekday() - 1) % 7
        if any(start <= minute < end for start, end in self.days[today]):
            return True
        # A span past midnight yesterday ("22:00-02:00") still runs.
        return any(end > 1440 and minute < end - 1440 for _, end in self.days[yesterday])

    def text(self, weekday: int) -> str:
        return ",".join(format_span(s) for s in self.days[weekday]) or "closed"

    def encode(self) -> str:
        return ";".join(self.text(d) for d in range(7))

    @classmethod
    def decode(cls, raw: str) -> WeeklyHours:
        parts = raw.split(";") if raw else []
        days = []
        for d in range(7):
            parsed = parse_day_hours(parts[d]) if d < len(parts) else ()
            days.append(parsed if isinstance(parsed, tuple) else ())
        return cls(tuple(days))

    @property
    def known(self) -> bool:
        return any(self.days)


def format_span(span: Span) -> str:
    start, end = span
    if (start, end) == (0, 1440):
        return "24h"
    end = end - 1440 if end > 1440 else end
    return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"


def parse_day_hours(raw: str) -> tuple[Span, ...] | Refused:
    """One day's hours: "08:00-21:00", "08:00-12:00,14:00-18:00", "22:00-02:00", "24h",
    "closed" or empty (closed)."""
    text = raw.strip().lower().replace("，", ",").replace("：", ":").replace("—", "-")
    if text in ("", "closed", "休息", "-"):
        return ()
    if text in ("24h", "24小时", "00:00-24:00"):
        return ((0, 1440),)
    spans: list[Span] = []
    for part in text.split(","):
        m = _RANGE.match(part.strip())
        if m is None:
            return Refused("bad_hours", {"value": raw[:30]})
        start = int(m.group(1)) * 60 + int(m.group(2))
        end = int(m.group(3)) * 60 + int(m.group(4))
        if end > 1440 or start == end:
            return Refused("bad_hours", {"value": raw[:30]})
        spans.append((start, end if end > start else end + 1440))
    return tuple(sorted(spans))


def parse_week_hours(raw: str) -> WeeklyHours | Refused:
    """A week's hours as a keeper types them: one day's hours for every day ("08:00-21:00",
    "24h"), or seven separated by ";" (Monday first, "closed" for a closed day)."""
    text = raw.strip().replace("；", ";")
    if not text:
        return Refused("empty", {"what": "hours"})
    parts = [p.strip() for p in text.split(";")] if ";" in text else [text] * 7
    if len(parts) != 7:
        return Refused("bad_week", {"got": len(parts)})
    days = []
    for part in parts:
        parsed = parse_day_hours(part)
        if isinstance(parsed, Refused):
            return parsed
        days.append(parsed)
    return WeeklyHours(tuple(days))


# --- Places, stations -----------------------------------------------------------------------

FACILITIES = ("seats", "water", "charging", "toilet", "microwave")
STATION = "station"  # the category of rider stations (驿站)
NAME_MAX = 60
ADDRESS_MAX = 120
PHONE_MAX = 30
NOTE_MAX = 200


@dataclass(frozen=True, slots=True)
class Place:
    id: int
    name: str
    category: str
    address: str
    lat: float
    lon: float
    hours: WeeklyHours
    phone: str = ""
    note: str = ""
    facilities: tuple[str, ...] = ()
    keeper_account: int | None = None

    @property
    def point(self) -> Point:
        return Point(self.lat, self.lon)

    @property
    def is_station(self) -> bool:
        return self.category == STATION


@dataclass(frozen=True, slots=True)
class NearbyPlace:
    place: Place
    metres: int
    open_now: bool | None  # None: hours unknown

    @property
    def minutes(self) -> int:
        return walking_minutes(self.metres)


def nearby(
    origin: Point, places: Iterable[Place], local_now: datetime, *, limit: int = 10
) -> list[NearbyPlace]:
    """Places by walking distance from `origin`, with whether each is open at `local_now`."""
    ordered = by_walking(origin, ((p, p.point) for p in places))
    return [
        NearbyPlace(p, metres, p.hours.is_open(local_now) if p.hours.known else None)
        for p, metres in ordered[:limit]
    ]


def can_keep(place: Place | None, account: int, is_organizer: bool) -> Refused | None:
    """Only a station's own keeper (or an organizer) changes its details."""
    if place is None or not place.is_station:
        return Refused("unknown_station")
    if not is_organizer and place.keeper_account != account:
        return Refused("not_keeper")
    return None


class KeeperField(StrEnum):
    """What a station's keeper may change besides its facilities (nothing else)."""

    HOURS = "hours"
    NOTE = "note"


@dataclass(frozen=True, slots=True)
class KeeperEdit:
    """A keeper's private flow: the station and the detail being changed."""

    place_id: int
    field: KeeperField

    def to_data(self) -> dict[str, Any]:
        return {"place_id": self.place_id, "field": self.field.value}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> KeeperEdit:
        raw = str(data.get("field", ""))
        known = raw in KeeperField._value2member_map_
        return cls(int(data.get("place_id", 0)), KeeperField(raw) if known else KeeperField.NOTE)

    def answer(self, raw: str) -> WeeklyHours | str | Refused:
        """The new hours, or the new note (empty refused; over NOTE_MAX refused)."""
        if self.field is KeeperField.HOURS:
            return parse_week_hours(raw)
        return clean_text(raw, NOTE_MAX, what="note")


# The columns of a places spreadsheet (import and export), in order.
PLACE_COLUMNS = ("name", "category", "address", "lat", "lon", "phone", "note", "facilities",
                 "keeper", *WEEKDAYS)  # fmt: skip


@dataclass(frozen=True, slots=True)
class PlaceRow:
    """A checked row of a places spreadsheet, ready to store."""

    name: str
    category: str
    address: str
    lat: float
    lon: float
    hours: WeeklyHours
    phone: str = ""
    note: str = ""
    facilities: tuple[str, ...] = ()
    keeper_account: int | None = None


@dataclass(frozen=True, slots=True)
class RowError:
    row: int  # the spreadsheet's row number (the header is row 1)
    reason: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Checked:
    rows: tuple[PlaceRow, ...]
    errors: tuple[RowError, ...]

    @property
    def ok(self) -> bool:
        return not self.errors


def check_header(header: Sequence[str]) -> RowError | None:
    names = [h.strip().lower() for h in header]
    missing = [c for c in ("name", "category", "lat", "lon") if c not in names]
    if missing:
        return RowError(1, "missing_columns", {"columns": ", ".join(missing)})
    unknown = [n for n in names if n and n not in PLACE_COLUMNS]
    if unknown:
        return RowError(1, "unknown_columns", {"columns": ", ".join(unknown)})
    return None


def _number(raw: str) -> float | None:
    try:
        value = float(raw.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def check_place_row(
    values: Mapping[str, str], number: int, categories: Sequence[str]
) -> PlaceRow | RowError:
    """One row: every field checked, the first problem named."""

    def get(key: str) -> str:
        return " ".join(str(values.get(key) or "").split())

    name, category = get("name"), get("category").lower()
    if not name:
        return RowError(number, "empty", {"column": "name"})
    if len(name) > NAME_MAX:
        return RowError(number, "too_long", {"column": "name", "max": NAME_MAX})
    if category not in categories:
        return RowError(number, "unknown_category", {"value": category[:30]})
    lat, lon = _number(get("lat")), _number(get("lon"))
    if lat is None or lon is None or not valid_point(lat, lon):
        return RowError(number, "bad_location", {"lat": get("lat")[:20], "lon": get("lon")[:20]})
    for column, limit in (("address", ADDRESS_MAX), ("phone", PHONE_MAX), ("note", NOTE_MAX)):
        if len(get(column)) > limit:
            return RowError(number, "too_long", {"column": column, "max": limit})
    facilities = tuple(f.strip().lower() for f in re.split(r"[,，\s]+", get("facilities")) if f)
    unknown = [f for f in facilities if f not in FACILITIES]
    if unknown:
        return RowError(number, "unknown_facility", {"value": unknown[0][:20]})
    keeper_raw = get("keeper")
    if keeper_raw and not (keeper_raw.isdigit() and len(keeper_raw) < 16):
        return RowError(number, "bad_keeper", {"value": keeper_raw[:20]})
    days = []
    for day in WEEKDAYS:
        parsed = parse_day_hours(get(day))
        if isinstance(parsed, Refused):
            return RowError(number, "bad_hours", {"column": day, "value": get(day)[:30]})
        days.append(parsed)
    return PlaceRow(
        name=name, category=category, address=get("address"), lat=lat, lon=lon,
        hours=WeeklyHours(tuple(days)), phone=get("phone"), note=get("note"),
        facilities=tuple(dict.fromkeys(facilities)),
        keeper_account=int(keeper_raw) if keeper_raw else None,
    )  # fmt: skip


def check_places(
    header: Sequence[str], rows: Iterable[Sequence[str]], categories: Sequence[str]
) -> Checked:
    """Every row of a spreadsheet checked; all good rows, and every bad row with its reason."""
    bad_header = check_header(header)
    if bad_header is not None:
        return Checked((), (bad_header,))
    names = [h.strip().lower() for h in header]
    good: list[PlaceRow] = []
    errors: list[RowError] = []
    for number, row in enumerate(rows, start=2):
        cells = [str(c) if c is not None else "" for c in row]
        if not any(c.strip() for c in cells):
            continue  # blank lines at the end of a sheet
        values = dict(zip(names, cells, strict=False))
        checked = check_place_row(values, number, categories)
        (errors if isinstance(checked, RowError) else good).append(checked)  # type: ignore[arg-type]
    if not good and not errors:
        errors.append(RowError(1, "no_rows"))
    return Checked(tuple(good), tuple(errors))


def place_cells(place: Place) -> list[str]:
    """A place as a spreadsheet row (the import's columns): export, edit, import again."""
    return [
        place.name, place.category, place.address, f"{place.lat:.6f}", f"{place.lon:.6f}",
        place.phone, place.note, ",".join(place.facilities),
        str(place.keeper_account or ""), *(place.hours.text(d) for d in range(7)),
    ]  # fmt: skip


# --- Organizations --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Organization:
    key: str
    name: str
    kind: str  # party_committee, party_branch, residents_committee, owners_committee,
    # property, volunteer_team, social_org
    parent: str = ""
    name_en: str = ""
    leader: str = ""
    contact: str = ""
    group_link: str = ""
    leader_account: int | None = None

    def title(self, locale: str) -> str:
        return self.name_en if locale == "en" and self.name_en else self.name

    @property
    def joinable(self) -> bool:
        return self.kind == "volunteer_team"


@dataclass(frozen=True, slots=True)
class OrgNode:
    org: Organization
    depth: int


def org_tree(orgs: Sequence[Organization]) -> list[OrgNode]:
    """Depth-first, in the config's order; an unknown parent makes a root."""
    keys = {o.key for o in orgs}
    children: dict[str, list[Organization]] = {}
    for org in orgs:
        parent = org.parent if org.parent in keys and org.parent != org.key else ""
        children.setdefault(parent, []).append(org)
    out: list[OrgNode] = []
    seen: set[str] = set()

    def walk(parent: str, depth: int) -> None:
        for org in children.get(parent, []):
            if org.key in seen:
                continue
            seen.add(org.key)
            out.append(OrgNode(org, depth))
            walk(org.key, depth + 1)

    walk("", 0)
    return out


def can_approve_join(org: Organization | None, account: int, is_organizer: bool) -> bool:
    return org is not None and (is_organizer or org.leader_account == account)


def building_point(community: Community, building_id: str | None) -> Point | None:
    building = community.building(building_id) if building_id else None
    if building is None or building.lat is None or building.lon is None:
        return None
    return Point(building.lat, building.lon)


def community_centre(community: Community) -> Point | None:
    """The middle of the buildings with coordinates (where a rider without a home starts)."""
    points = [building_point(community, b.id) for b in community.all_buildings()]
    return centre([p for p in points if p is not None])


def buildings_nearest_first(community: Community, from_building: str | None) -> list[str]:
    """Every building: the member's own first, then by distance; buildings without
    coordinates after those with, the member's compound first, in the config's order."""
    origin = building_point(community, from_building)
    home = community.building(from_building) if from_building else None

    def key(pair: tuple[int, Building]) -> tuple[int, float, int, int]:
        index, building = pair
        where = building_point(community, building.id)
        far = haversine_m(origin, where) if origin and where else math.inf
        other = 0 if home is not None and building.compound_id == home.compound_id else 1
        return (0 if building.id == from_building else 1, far, other, index)

    return [b.id for _, b in sorted(enumerate(community.all_buildings()), key=key)]
