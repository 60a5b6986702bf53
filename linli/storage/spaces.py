"""Shared spaces: spaces, bookings, series and emergency switches.

A booking is decided inside one BEGIN IMMEDIATE transaction: the facts (bookings holding
the space around the slot, emergencies, the household's week, its no-shows) are read and
`core.spaces.decide_booking` answers before anything is written, so two bookings that hold
one space never overlap, however many residents tap at once. Points held for a priced
booking go through the points ledger in the same transaction (like the shop's orders).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from linli.core.clock import from_iso, to_iso
from linli.core.community import Community
from linli.core.members import Audience, Member
from linli.core.outcomes import Refused, RefusedError
from linli.core.spaces import (
    HOLDING,
    LONGEST_BOOKING,
    Approval,
    Booking,
    Emergency,
    Facts,
    Slot,
    Space,
    SpaceEdit,
    SpaceWeek,
    Status,
    clipped_minutes,
    decide_booking,
    household_key,
    initial_status,
    may_book,
    new_booking_code,
    new_door_code,
    open_minutes,
    refund_due,
    rules_from_data,
    rules_to_data,
    rules_valid,
    week_bounds,
)
from linli.core.spaces import Rules as SpaceRules
from linli.storage import points as points_db
from linli.storage.audit import audit
from linli.storage.db import Database, Row, Tx

_HOLDING_SQL = "status IN ('pending', 'confirmed', 'checked_in')"


@dataclass(frozen=True, slots=True)
class SeedSpace:
    key: str
    name: str
    name_en: str
    place: str
    kind: str
    capacity: int
    rules: SpaceRules
    audience: Audience
    approval: Approval
    price: int
    operator_telegram_id: int | None


@dataclass(frozen=True, slots=True)
class Booked:
    """A booking made (`new`) or found again for the same confirmation."""

    booking: Booking
    new: bool


# The config names a space's operator by Telegram id; core knows them as a member.
_SPACES = (
    "SELECT s.*, (SELECT a.member_id FROM accounts a WHERE a.platform = 'telegram'"
    " AND a.external_id = CAST(s.operator_telegram_id AS TEXT)) AS operator_id FROM spaces s"
)


def _space(row: Row) -> Space:
    return Space(
        id=row["id"], key=row["key"], name=row["name"], name_en=row["name_en"],
        place=row["place"], kind=row["kind"], capacity=row["capacity"],
        rules=rules_from_data(json.loads(row["rules"])), audience=Audience.decode(row["audience"]),
        approval=Approval(row["approval"]), price=row["price"],
        operator_id=row["operator_id"], door_code=row["door_code"],
        active=bool(row["active"]),
    )  # fmt: skip


_BOOKING = (
    "SELECT b.*, s.name AS space_name, s.name_en AS space_name_en"
    " FROM space_bookings b JOIN spaces s ON s.id = b.space_id"
)


def _booking(row: Row) -> Booking:
    return Booking(
        id=row["id"], code=row["code"], space_id=row["space_id"], member_id=row["member_id"],
        household=row["household"], starts_at=from_iso(row["starts_at"]),
        ends_at=from_iso(row["ends_at"]), purpose=row["purpose"], status=Status(row["status"]),
        price=row["price"], created_at=from_iso(row["created_at"]), series_id=row["series_id"],
        reason=row["reason"], space_name=row["space_name"], space_name_en=row["space_name_en"],
    )  # fmt: skip


def _emergency(row: Row) -> Emergency:
    return Emergency(
        id=row["id"], space_id=row["space_id"], use=row["use"], reason=row["reason"],
        starts_at=from_iso(row["starts_at"]),
        ends_at=from_iso(row["ends_at"]) if row["ends_at"] else None,
        ended_at=from_iso(row["ended_at"]) if row["ended_at"] else None,
    )  # fmt: skip


# --- Spaces -------------------------------------------------------------------------------


async def seed_spaces(db: Database, seeds: Iterable[SeedSpace], now: datetime) -> int:
    """Create the config's spaces whose key is new; edits made in the chat are kept."""
    created = 0
    async with db.transaction() as tx:
        for s in seeds:
            if await tx.scalar("SELECT 1 FROM spaces WHERE key = ?", (s.key,)):
                continue
            await tx.execute(
                "INSERT INTO spaces (key, name, name_en, place, kind, capacity, rules, audience,"
                " approval, price, operator_telegram_id, door_code, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (s.key, s.name, s.name_en, s.place, s.kind, s.capacity,
                 json.dumps(rules_to_data(s.rules)), s.audience.encode(), s.approval.value,
                 s.price, s.operator_telegram_id, new_door_code(), to_iso(now), to_iso(now)),
            )  # fmt: skip
            created += 1
    return created


async def list_spaces(db: Database | Tx, *, active_only: bool = True) -> list[Space]:
    where = " WHERE active = 1" if active_only else ""
    return [_space(r) for r in await db.fetchall(f"{_SPACES}{where} ORDER BY id")]


async def get_space(db: Database | Tx, space_id: int) -> Space | None:
    row = await db.fetchone(_SPACES + " WHERE id = ?", (space_id,))
    return _space(row) if row else None


async def get_space_by_key(db: Database | Tx, key: str) -> Space | None:
    row = await db.fetchone(_SPACES + " WHERE key = ?", (key,))
    return _space(row) if row else None


async def get_space_by_door(db: Database | Tx, door_code: str) -> Space | None:
    row = await db.fetchone(_SPACES + " WHERE door_code = ?", (door_code,))
    return _space(row) if row else None


async def apply_edit(db: Database, edit: SpaceEdit, actor_id: int, now: datetime) -> Space:
    """One /spaceadmin change, audited; rules that no longer fit the grid are refused."""
    async with db.transaction() as tx:
        space = await get_space_by_key(tx, edit.key)
        if space is None:
            raise RefusedError(Refused("unknown_space_key", {"key": edit.key[:32]}))
        rules = space.rules
        column, value = edit.field, edit.value
        if edit.field in ("slot", "min", "max", "notice", "window", "quota", "hours"):
            if edit.field == "hours":
                day, hours = edit.value
                rules = replace(rules, hours=tuple(
                    hours if i == day else h for i, h in enumerate(rules.hours)))  # fmt: skip
            else:
                name = {"slot": "slot_minutes", "min": "min_minutes", "max": "max_minutes",
                        "notice": "notice_minutes", "window": "window_days"}.get(edit.field)  # fmt: skip
                amount = edit.value * 60 if edit.field == "quota" else edit.value
                rules = replace(rules, **{name or "quota_minutes": amount})
            if (bad := rules_valid(rules)) is not None:
                raise RefusedError(bad)
            column, value = "rules", json.dumps(rules_to_data(rules))
        elif edit.field == "approval":
            value = edit.value.value
        elif edit.field == "active":
            value = int(edit.value)
        await tx.execute(
            f"UPDATE spaces SET {column} = ?, updated_at = ? WHERE id = ?",
            (value, to_iso(now), space.id),
        )
        await audit(tx, actor_id, "space_edit", f"space:{space.key}", f"{edit.field}", now)
        updated = await get_space(tx, space.id)
    assert updated is not None
    return updated


# --- Reading bookings ---------------------------------------------------------------------


async def taken(
    db: Database | Tx, space_id: int, lo: datetime, hi: datetime
) -> list[tuple[datetime, datetime]]:
    """Intervals of the bookings holding the space that touch [lo, hi). The look-back is
    bounded by the longest booking, so it reads a handful of index entries at any history."""
    rows = await db.fetchall(
        "SELECT starts_at, ends_at FROM space_bookings WHERE space_id = ? AND " + _HOLDING_SQL
        + " AND starts_at > ? AND starts_at < ? AND ends_at > ?",
        (space_id, to_iso(lo - LONGEST_BOOKING), to_iso(hi), to_iso(lo)),
    )  # fmt: skip
    return [(from_iso(r[0]), from_iso(r[1])) for r in rows]


async def emergencies(
    db: Database | Tx, space_id: int, lo: datetime, hi: datetime
) -> list[Emergency]:
    """The space's emergencies overlapping [lo, hi) (ended ones only up to their end)."""
    rows = await db.fetchall(
        "SELECT * FROM space_emergencies WHERE space_id = ? AND starts_at < ?"
        " AND MIN(COALESCE(ends_at, '9'), COALESCE(ended_at, '9')) > ?"
        " ORDER BY starts_at",
        (space_id, to_iso(hi), to_iso(lo)),
    )
    return [_emergency(r) for r in rows]


async def facts(
    db: Database | Tx, space: Space, slot: Slot, household: str, now: datetime, tz: ZoneInfo,
    *, lo: datetime | None = None, hi: datetime | None = None,
) -> Facts:  # fmt: skip
    """What the rules need about a slot (or, with lo/hi, a whole day of slots)."""
    first, last = lo or slot.start, hi or slot.end
    week_start, week_end = week_bounds(slot.start, tz)
    used = await db.scalar(
        "SELECT COALESCE(SUM((julianday(ends_at) - julianday(starts_at)) * 1440), 0)"
        " FROM space_bookings WHERE household = ? AND " + _HOLDING_SQL
        + " AND starts_at >= ? AND starts_at < ? AND space_id = ?",
        (household, to_iso(week_start), to_iso(week_end), space.id),
    )  # fmt: skip
    rows = await db.fetchall(
        "SELECT closed_at FROM space_bookings WHERE household = ? AND status = 'no_show'"
        " AND starts_at > ?",
        (household, to_iso(now - timedelta(days=31))),
    )
    return Facts(
        taken=tuple(await taken(db, space.id, first, last)),
        emergencies=tuple(await emergencies(db, space.id, first, last)),
        used_minutes=round(float(used or 0)),
        no_shows=tuple(from_iso(r[0]) for r in rows if r[0]),
    )


async def get_booking(db: Database | Tx, booking_id: int) -> Booking | None:
    row = await db.fetchone(_BOOKING + " WHERE b.id = ?", (booking_id,))
    return _booking(row) if row else None


async def get_booking_by_code(db: Database | Tx, code: str) -> Booking | None:
    row = await db.fetchone(_BOOKING + " WHERE b.code = ?", (code,))
    return _booking(row) if row else None


async def get_booking_by_key(db: Database | Tx, key: str) -> Booking | None:
    row = await db.fetchone(_BOOKING + " WHERE b.key = ?", (key,))
    return _booking(row) if row else None


async def member_bookings(
    db: Database | Tx, member_id: int, since: datetime, limit: int = 20
) -> list[Booking]:
    """A member's bookings ending after `since`, soonest first."""
    rows = await db.fetchall(
        _BOOKING + " WHERE b.member_id = ? AND b.starts_at > ? ORDER BY b.starts_at LIMIT ?",
        (member_id, to_iso(since - LONGEST_BOOKING), limit),
    )
    return [b for b in map(_booking, rows) if b.ends_at > since]


async def bookings_between(
    db: Database | Tx, lo: datetime, hi: datetime, space_id: int | None = None
) -> list[Booking]:
    """Bookings holding a space that start in [lo, hi) (all spaces, or one)."""
    where = " AND b.space_id = ?" if space_id is not None else ""
    params: tuple[object, ...] = (to_iso(lo), to_iso(hi))
    rows = await db.fetchall(
        _BOOKING + " WHERE b.status IN ('pending', 'confirmed', 'checked_in')"
        " AND b.starts_at >= ? AND b.starts_at < ?" + where + " ORDER BY b.space_id, b.starts_at",
        params + ((space_id,) if space_id is not None else ()),
    )  # fmt: skip
    return [_booking(r) for r in rows]


async def active_booking_at_door(
    db: Database | Tx, space_id: int, member_id: int, lo: datetime, hi: datetime
) -> Booking | None:
    """The member's booking of this space starting in [lo, hi), confirmed or checked in."""
    row = await db.fetchone(
        _BOOKING + " WHERE b.space_id = ? AND b.member_id = ? AND b.status IN"
        " ('confirmed', 'checked_in') AND b.starts_at >= ? AND b.starts_at <= ?"
        " ORDER BY b.starts_at LIMIT 1",
        (space_id, member_id, to_iso(lo), to_iso(hi)),
    )
    return _booking(row) if row else None


async def no_show_count(db: Database | Tx, household: str, now: datetime) -> int:
    return int(await db.scalar(
        "SELECT COUNT(*) FROM space_bookings WHERE household = ? AND status = 'no_show'"
        " AND starts_at > ?", (household, to_iso(now - timedelta(days=30)))))  # fmt: skip


# --- Booking ------------------------------------------------------------------------------


async def book(
    db: Database,
    *,
    space_id: int,
    member: Member,
    slot: Slot,
    purpose: str,
    key: str,
    now: datetime,
    tz: ZoneInfo,
    community: Community,
    staff: bool = False,
    series_id: int | None = None,
) -> Booked:
    """Book, or raise RefusedError: every rule is checked in this one transaction. A repeated
    `key` (a double tap, a redelivered update) returns the first booking with `new` False."""
    async with db.transaction() as tx:
        return await _book(tx, space_id, member, slot, purpose, key, now, tz, community,
                           staff, series_id)  # fmt: skip


async def _book(
    tx: Tx, space_id: int, member: Member, slot: Slot, purpose: str, key: str, now: datetime,
    tz: ZoneInfo, community: Community, staff: bool, series_id: int | None,
) -> Booked:  # fmt: skip
    existing = await get_booking_by_key(tx, key)
    if existing is not None:
        return Booked(existing, new=False)
    space = await get_space(tx, space_id)
    if space is None:
        raise RefusedError(Refused("unknown_space"))
    if not staff and (refused := may_book(space, member, community)) is not None:
        raise RefusedError(refused)
    household = household_key(member)
    found = await facts(tx, space, slot, household, now, tz)
    if (refused := decide_booking(space, slot, found, now, tz, staff=staff)) is not None:
        raise RefusedError(refused)
    status = initial_status(space, staff=staff)
    price = 0 if staff else space.price
    booking_id = await _insert(tx, space.id, member.id, household, slot, purpose, status,
                               price, key, series_id, now)  # fmt: skip
    booking = await get_booking(tx, booking_id)
    assert booking is not None
    if price:
        # Held now, kept at check-in, given back on a cancellation before the deadline.
        await points_db.spend(
            tx, member_id=member.id, amount=price, reference=booking.code,
            key=f"space:{booking_id}:hold", now=now, tz=tz,
        )  # fmt: skip
    return Booked(booking, new=True)


async def _insert(
    tx: Tx, space_id: int, member_id: int, household: str, slot: Slot, purpose: str,
    status: Status, price: int, key: str, series_id: int | None, now: datetime,
) -> int:  # fmt: skip
    for attempt in range(30):
        try:
            return await tx.execute(
                "INSERT INTO space_bookings (code, space_id, member_id, household, starts_at,"
                " ends_at, purpose, status, price, series_id, key, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (new_booking_code(attempt), space_id, member_id, household, to_iso(slot.start),
                 to_iso(slot.end), purpose, status.value, price, series_id, key, to_iso(now)),
            )  # fmt: skip
        except sqlite3.IntegrityError as exc:
            if "space_bookings.code" not in str(exc):
                raise
    raise RuntimeError("could not find a free booking code")


@dataclass(frozen=True, slots=True)
class SeriesResult:
    series_id: int
    booked: list[Booking]
    refused: list[tuple[Slot, Refused]]


async def book_series(
    db: Database, *, space_id: int, member: Member, slots: Sequence[Slot], purpose: str,
    key: str, now: datetime, tz: ZoneInfo, community: Community,
) -> SeriesResult:  # fmt: skip
    """A weekly series by staff: each free occurrence booked on its own (the taken ones are
    listed, not fatal); a repeated `key` returns the series made the first time."""
    async with db.transaction() as tx:
        found = await tx.scalar("SELECT series_id FROM space_bookings WHERE key LIKE ?",
                                (f"{key}:%",))  # fmt: skip
        if found is not None:
            rows = await tx.fetchall(_BOOKING + " WHERE b.series_id = ? ORDER BY b.starts_at",
                                     (found,))  # fmt: skip
            return SeriesResult(int(found), [_booking(r) for r in rows], [])
        series_id = await tx.execute(
            "INSERT INTO space_series (space_id, member_id, purpose, weeks, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (space_id, member.id, purpose, len(slots), to_iso(now)),
        )
        booked: list[Booking] = []
        refused: list[tuple[Slot, Refused]] = []
        for index, slot in enumerate(slots):
            # One occurrence refused (taken, closed) undoes only itself.
            await tx.execute("SAVEPOINT space_occurrence")
            try:
                made = await _book(tx, space_id, member, slot, purpose, f"{key}:{index}",
                                   now, tz, community, True, series_id)  # fmt: skip
            except RefusedError as exc:
                await tx.execute("ROLLBACK TO space_occurrence")
                refused.append((slot, exc.refused))
            else:
                booked.append(made.booking)
            await tx.execute("RELEASE space_occurrence")
        await audit(tx, member.id, "space_series", f"series:{series_id}",
                    f"{len(booked)} of {len(slots)}", now)  # fmt: skip
    return SeriesResult(series_id, booked, refused)


# --- Changing a booking -------------------------------------------------------------------


async def _close(
    tx: Tx, booking_id: int, status: Status, actor_id: int | None, now: datetime, reason: str,
    allowed: Sequence[Status] = HOLDING,
) -> Booking:  # fmt: skip
    marks = ", ".join("?" for _ in allowed)
    changed = await tx.rowcount(
        f"UPDATE space_bookings SET status = ?, closed_at = ?, decided_by = ?, reason = ?"
        f" WHERE id = ? AND status IN ({marks})",
        (status.value, to_iso(now), actor_id, reason, booking_id, *(s.value for s in allowed)),
    )
    booking = await get_booking(tx, booking_id)
    if booking is None:
        raise RefusedError(Refused("unknown_booking"))
    if changed != 1:
        raise RefusedError(Refused("booking_closed",
                                   {"code": booking.code, "status": booking.status.value}))  # fmt: skip
    return booking


async def _refund(
    tx: Tx, booking: Booking, now: datetime, tz: ZoneInfo, actor_id: int | None
) -> int:
    if booking.member_id is None or booking.price <= 0:
        return 0
    await points_db.refund(
        tx, member_id=booking.member_id, amount=booking.price, reference=booking.code,
        key=f"space:{booking.id}:refund", now=now, tz=tz, actor_id=actor_id,
    )  # fmt: skip
    return booking.price


@dataclass(frozen=True, slots=True)
class Cancelled:
    booking: Booking
    refunded: int


async def cancel(
    db: Database, booking_id: int, actor_id: int, now: datetime, tz: ZoneInfo, reason: str = ""
) -> Cancelled:
    """Cancel a booking that holds its slot: the slot is free; points back before the deadline."""
    async with db.transaction() as tx:
        before = await get_booking(tx, booking_id)
        space = await get_space(tx, before.space_id) if before else None
        booking = await _close(tx, booking_id, Status.CANCELLED, actor_id, now, reason,
                               (Status.PENDING, Status.CONFIRMED))  # fmt: skip
        refunded = 0
        if before is not None and space is not None and refund_due(before, space.rules, now):
            refunded = await _refund(tx, before, now, tz, actor_id)
        await audit(tx, actor_id, "space_cancel", f"booking:{booking_id}", booking.code, now)
    return Cancelled(booking, refunded)


async def decide(
    db: Database, booking_id: int, approve: bool, actor_id: int, now: datetime, tz: ZoneInfo,
    reason: str = "",
) -> Booking:  # fmt: skip
    """Approve a pending booking (it stays on its slot), or decline it (points back)."""
    async with db.transaction() as tx:
        if approve:
            booking = await _close(tx, booking_id, Status.CONFIRMED, actor_id, now, "",
                                   (Status.PENDING,))  # fmt: skip
            await tx.execute("UPDATE space_bookings SET closed_at = NULL, decided_at = ?"
                             " WHERE id = ?", (to_iso(now), booking_id))  # fmt: skip
        else:
            booking = await _close(tx, booking_id, Status.DECLINED, actor_id, now, reason,
                                   (Status.PENDING,))  # fmt: skip
            await _refund(tx, booking, now, tz, actor_id)
        await audit(tx, actor_id, "space_approve" if approve else "space_decline",
                    f"booking:{booking_id}", reason, now)  # fmt: skip
        updated = await get_booking(tx, booking_id)
    assert updated is not None
    return updated


async def check_in(db: Database, booking_id: int, actor_id: int, now: datetime) -> Booking:
    """Mark a confirmed booking used: its held points are paid for good."""
    async with db.transaction() as tx:
        changed = await tx.rowcount(
            "UPDATE space_bookings SET status = 'checked_in', checked_in_at = ?"
            " WHERE id = ? AND status = 'confirmed'",
            (to_iso(now), booking_id),
        )
        booking = await get_booking(tx, booking_id)
        if booking is None:
            raise RefusedError(Refused("unknown_booking"))
        if changed != 1:
            raise RefusedError(Refused("already_checked_in", {"code": booking.code}))
        await audit(tx, actor_id, "space_check_in", f"booking:{booking_id}", booking.code, now)
    return booking


# --- What the scheduler does --------------------------------------------------------------


async def due_reminders(db: Database | Tx, now: datetime, ahead: timedelta) -> list[Booking]:
    """Confirmed bookings starting within `ahead` that nobody was reminded of."""
    rows = await db.fetchall(
        _BOOKING + " WHERE b.status = 'confirmed' AND b.reminded_at IS NULL"
        " AND b.starts_at > ? AND b.starts_at <= ? ORDER BY b.starts_at LIMIT 200",
        (to_iso(now), to_iso(now + ahead)),
    )
    return [_booking(r) for r in rows]


async def claim_reminder(db: Database, booking_id: int, now: datetime) -> bool:
    """Claimed before sending: True for the one tick that may send it."""
    return (
        await db.write(
            "UPDATE space_bookings SET reminded_at = ? WHERE id = ? AND reminded_at IS NULL",
            (to_iso(now), booking_id),
        )
        == 1
    )


async def release_reminder(db: Database, booking_id: int) -> None:
    """The reminder surely did not leave: the next tick may try again."""
    await db.write("UPDATE space_bookings SET reminded_at = NULL WHERE id = ?", (booking_id,))


async def release_no_shows(db: Database, now: datetime, grace: dict[int, int]) -> list[Booking]:
    """Confirmed bookings not checked in within their space's grace: released as no-shows
    (the slot is free; held points are kept). `grace` maps space id to minutes."""
    longest = max(grace.values(), default=0)
    rows = await db.fetchall(
        "SELECT id, space_id, starts_at FROM space_bookings WHERE status = 'confirmed'"
        " AND starts_at <= ? ORDER BY starts_at LIMIT 500",
        (to_iso(now),),
    )
    released = []
    for row in rows:
        minutes = grace.get(row["space_id"], longest)
        if from_iso(row["starts_at"]) + timedelta(minutes=minutes) > now:
            continue
        async with db.transaction() as tx:
            changed = await tx.rowcount(
                "UPDATE space_bookings SET status = 'no_show', closed_at = ?"
                " WHERE id = ? AND status = 'confirmed'",
                (to_iso(now), row["id"]),
            )
            if changed:
                await audit(tx, None, "space_no_show", f"booking:{row['id']}", "", now)
        if changed:
            booking = await get_booking(db, row["id"])
            assert booking is not None
            released.append(booking)
    return released


# --- The emergency switch -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Switched:
    emergency: Emergency
    space: Space
    cancelled: list[Cancelled]


async def switch_on(
    db: Database, spaces: Sequence[Space], use: str, reason: str, starts_at: datetime,
    ends_at: datetime | None, actor_id: int, now: datetime, tz: ZoneInfo,
) -> list[Switched]:  # fmt: skip
    """Each space to emergency use from `starts_at`: every booking overlapping the window is
    cancelled (points back) in the same transaction, audited. A space already in emergency
    use in that window is left as it is (a command sent twice switches once)."""
    out = []
    far = ends_at or now + timedelta(days=3650)
    async with db.transaction() as tx:
        for space in spaces:
            if await emergencies(tx, space.id, starts_at, far):
                continue
            emergency_id = await tx.execute(
                "INSERT INTO space_emergencies (space_id, use, reason, starts_at, ends_at,"
                " created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (space.id, use, reason, to_iso(starts_at), to_iso(ends_at) if ends_at else None,
                 actor_id, to_iso(now)),
            )  # fmt: skip
            rows = await tx.fetchall(
                "SELECT id FROM space_bookings WHERE space_id = ? AND status IN"
                " ('pending', 'confirmed') AND starts_at > ? AND starts_at < ? AND ends_at > ?",
                (space.id, to_iso(starts_at - LONGEST_BOOKING), to_iso(far), to_iso(starts_at)),
            )
            cancelled = []
            for row in rows:
                booking = await _close(tx, row["id"], Status.CANCELLED, actor_id, now,
                                       reason, (Status.PENDING, Status.CONFIRMED))  # fmt: skip
                cancelled.append(Cancelled(booking, await _refund(tx, booking, now, tz, actor_id)))
            await audit(tx, actor_id, "space_emergency_on", f"space:{space.key}",
                        f"{use}: {reason} ({len(cancelled)} cancelled)", now)  # fmt: skip
            made = await tx.fetchone(
                "SELECT * FROM space_emergencies WHERE id = ?", (emergency_id,)
            )
            assert made is not None
            out.append(Switched(_emergency(made), space, cancelled))
    return out


async def switch_off(
    db: Database, spaces: Sequence[Space], actor_id: int, now: datetime
) -> list[tuple[Space, Emergency]]:
    """Switch spaces back: their running (or planned) emergencies end now, audited."""
    out = []
    async with db.transaction() as tx:
        for space in spaces:
            rows = await tx.fetchall(
                "SELECT * FROM space_emergencies WHERE space_id = ? AND ended_at IS NULL"
                " AND (ends_at IS NULL OR ends_at > ?)",
                (space.id, to_iso(now)),
            )
            for row in rows:
                await tx.execute("UPDATE space_emergencies SET ended_at = ? WHERE id = ?",
                                 (to_iso(now), row["id"]))  # fmt: skip
                # Switched back by hand: the scheduler's "open again" is said here instead.
                await tx.execute(
                    "INSERT OR IGNORE INTO space_notices (emergency_id, kind, chat_id, status,"
                    " claimed_at) VALUES (?, 'end', 0, 'sent', ?)", (row["id"], to_iso(now)))  # fmt: skip
                await audit(tx, actor_id, "space_emergency_off", f"space:{space.key}",
                            row["use"], now)  # fmt: skip
                ended = replace(_emergency(row), ended_at=now)
                out.append((space, ended))
    return out


async def due_end_notices(db: Database | Tx, now: datetime) -> list[Emergency]:
    """Emergencies whose planned end has passed and whose "open again" was not claimed."""
    rows = await db.fetchall(
        "SELECT e.* FROM space_emergencies e WHERE e.ended_at IS NULL AND e.ends_at IS NOT NULL"
        " AND e.ends_at <= ? AND NOT EXISTS (SELECT 1 FROM space_notices n"
        " WHERE n.emergency_id = e.id AND n.kind = 'end' AND n.chat_id = 0)",
        (to_iso(now),),
    )
    return [_emergency(r) for r in rows]


async def claim_notice(
    db: Database, emergency_id: int, kind: str, chat_id: int, now: datetime
) -> bool:
    """Claimed before sending (chat 0 stands for "this notice as a whole"): True once."""
    return (
        await db.write(
            "INSERT OR IGNORE INTO space_notices (emergency_id, kind, chat_id, status, claimed_at)"
            " VALUES (?, ?, ?, 'sending', ?)",
            (emergency_id, kind, chat_id, to_iso(now)),
        )
        > 0
    )


async def mark_notice(
    db: Database, emergency_id: int, kind: str, chat_id: int, status: str
) -> None:
    await db.write(
        "UPDATE space_notices SET status = ? WHERE emergency_id = ? AND kind = ? AND chat_id = ?",
        (status, emergency_id, kind, chat_id),
    )


async def release_notice(db: Database, emergency_id: int, kind: str, chat_id: int) -> None:
    await db.write(
        "DELETE FROM space_notices WHERE emergency_id = ? AND kind = ? AND chat_id = ?",
        (emergency_id, kind, chat_id),
    )


# --- Exports and the digest ---------------------------------------------------------------


async def export_bookings(
    db: Database | Tx, since: datetime
) -> tuple[list[str], list[list[object]]]:
    """Every booking made since `since`, for CSV/XLSX exports (household, not names)."""
    rows = await db.fetchall(
        "SELECT b.id, b.code, s.key, b.starts_at, b.ends_at, b.status, b.household,"
        " m.building_id, b.purpose, b.price, b.series_id, b.created_at, b.checked_in_at,"
        " b.closed_at, b.reason"
        " FROM space_bookings b JOIN spaces s ON s.id = b.space_id"
        " LEFT JOIN members m ON m.id = b.member_id WHERE b.created_at >= ? ORDER BY b.id",
        (to_iso(since),),
    )
    headers = ["id", "code", "space", "starts_at", "ends_at", "status", "household", "building",
               "purpose", "price", "series_id", "created_at", "checked_in_at", "closed_at",
               "reason"]  # fmt: skip
    return headers, [list(r) for r in rows]


async def space_weeks(db: Database, lo: datetime, hi: datetime, first_day: date) -> list[SpaceWeek]:
    """Per active space over [lo, hi) (local days from `first_day`): hours booked (held or
    used; not no-shows), occupancy of its opening hours, no-shows and emergency hours."""
    db = db.offloaded()
    out = []
    for space in await list_spaces(db):
        rows = await db.fetchall(
            "SELECT starts_at, ends_at, status FROM space_bookings WHERE space_id = ?"
            " AND starts_at >= ? AND starts_at < ? AND status IN"
            " ('confirmed', 'checked_in', 'no_show')",
            (space.id, to_iso(lo), to_iso(hi)),
        )
        booked = sum(clipped_minutes(from_iso(r[0]), from_iso(r[1]), lo, hi) for r in rows
                     if r[2] != "no_show")  # fmt: skip
        no_shows = sum(1 for r in rows if r[2] == "no_show")
        urgent = sum(clipped_minutes(e.starts_at, e.until, lo, hi)
                     for e in await emergencies(db, space.id, lo, hi))  # fmt: skip
        days = round((hi - lo).total_seconds() / 86400)
        out.append(SpaceWeek(space.key, space.name, space.name_en, booked,
                             open_minutes(space.rules, first_day, days), no_shows, urgent))  # fmt: skip
    return out
