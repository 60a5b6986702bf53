"""Events, sign-ups, the cards in the groups, reminders and notices owed to members.

Every read-then-write (a seat, a promotion, a check-in, a reminder claim) runs in one
`BEGIN IMMEDIATE` transaction, so concurrent taps can neither overbook an event nor send
anything twice.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from linli.core.clock import from_iso, to_iso
from linli.core.community import Community
from linli.core.events import (
    Confirmed,
    Event,
    EventDraft,
    EventKind,
    EventStatus,
    Occurrence,
    Seats,
    Signup,
    SignupOutcome,
    SignupStatus,
    attendance_key,
    check_audience,
    decide_cancel_signup,
    decide_checkin,
    decide_edit,
    decide_signup,
    new_checkin_code,
    seats_to_fill,
)
from linli.core.members import Audience
from linli.core.outcomes import Refused, RefusedError
from linli.storage import members as members_db
from linli.storage import points as points_db  # the points feature's ledger, for check-in points
from linli.storage.audit import audit
from linli.storage.db import Database, Row, Tx

# --- Rows ------------------------------------------------------------------------------


def _when(value: str | None) -> datetime | None:
    return from_iso(value) if value else None


def event_from_row(row: Row) -> Event:
    return Event(
        id=row["id"],
        kind=EventKind(row["kind"]),
        title=row["title"],
        description=row["description"],
        place=row["place"],
        starts_at=from_iso(row["starts_at"]),
        ends_at=from_iso(row["ends_at"]),
        deadline=from_iso(row["deadline"]),
        capacity=row["capacity"],
        points=row["points"],
        audience=Audience.decode(row["audience"]),
        status=EventStatus(row["status"]),
        checkin_code=row["checkin_code"],
        created_by=row["created_by"],
        created_at=from_iso(row["created_at"]),
        version=row["version"],
        rescheduled_at=_when(row["rescheduled_at"]),
        series=row["series"],
        occurrence=row["occurrence"],
        publish_at=from_iso(row["publish_at"]),
    )


def signup_from_row(row: Row) -> Signup:
    return Signup(
        event_id=row["event_id"],
        member_id=row["member_id"],
        status=SignupStatus(row["status"]),
        seq=row["seq"],
        signed_up_at=from_iso(row["signed_up_at"]),
        confirmed_at=_when(row["confirmed_at"]),
        checked_in_at=_when(row["checked_in_at"]),
    )


# --- Creating and reading events --------------------------------------------------------


async def create_events(
    db: Database, draft: EventDraft, plan: Sequence[Occurrence], by: int, now: datetime
) -> tuple[list[Event], bool]:
    """The events of a previewed draft, created once: (events, True if this call created them)."""
    assert draft.kind is not None and draft.audience is not None
    async with db.transaction() as tx:
        existing = await tx.fetchall(
            "SELECT * FROM events WHERE series = ? ORDER BY occurrence", (draft.token,)
        )
        if existing:
            return [event_from_row(r) for r in existing], False
        for occurrence in plan:
            code = await _unused_code(tx)
            await tx.execute(
                "INSERT INTO events (kind, title, description, place, starts_at, ends_at,"
                " deadline, capacity, points, audience, checkin_code, series, occurrence,"
                " publish_at, created_by, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    draft.kind.value,
                    draft.title,
                    draft.description,
                    draft.place,
                    to_iso(occurrence.starts_at),
                    to_iso(occurrence.ends_at),
                    to_iso(occurrence.deadline),
                    draft.capacity,
                    draft.points,
                    draft.audience.encode(),
                    code,
                    draft.token,
                    occurrence.index,
                    to_iso(occurrence.publish_at),
                    by,
                    to_iso(now),
                ),
            )
        await audit(
            tx, by, "event_create", f"series:{draft.token}", f"{len(plan)} x {draft.title}", now
        )
        rows = await tx.fetchall(
            "SELECT * FROM events WHERE series = ? ORDER BY occurrence", (draft.token,)
        )
    return [event_from_row(r) for r in rows], True


async def _unused_code(tx: Tx) -> str:
    while True:
        code = new_checkin_code()
        if not await tx.scalar("SELECT 1 FROM events WHERE checkin_code = ?", (code,)):
            return code


async def get_event(db: Database | Tx, event_id: int) -> Event | None:
    row = await db.fetchone("SELECT * FROM events WHERE id = ?", (event_id,))
    return event_from_row(row) if row else None


async def event_by_code(db: Database | Tx, code: str) -> Event | None:
    row = await db.fetchone("SELECT * FROM events WHERE checkin_code = ?", (code,))
    return event_from_row(row) if row else None


async def seats(db: Database | Tx, event_id: int) -> Seats:
    row = await db.fetchone(
        "SELECT coalesce(sum(status = 'confirmed'), 0) AS c,"
        " coalesce(sum(status = 'waitlisted'), 0) AS w FROM event_signups WHERE event_id = ?",
        (event_id,),
    )
    return Seats(row["c"], row["w"]) if row else Seats()


async def get_signup(db: Database | Tx, event_id: int, member_id: int) -> Signup | None:
    row = await db.fetchone(
        "SELECT * FROM event_signups WHERE event_id = ? AND member_id = ?", (event_id, member_id)
    )
    return signup_from_row(row) if row else None


async def waitlist_position(db: Database | Tx, event_id: int, member_id: int) -> int | None:
    """1 for the next in line; None if the member is not waiting."""
    row = await db.fetchone(
        "SELECT (SELECT count(*) FROM event_signups o WHERE o.event_id = s.event_id"
        " AND o.status = 'waitlisted' AND o.seq <= s.seq) AS position"
        " FROM event_signups s"
        " WHERE s.event_id = ? AND s.member_id = ? AND s.status = 'waitlisted'",
        (event_id, member_id),
    )
    return int(row["position"]) if row else None


@dataclass(frozen=True, slots=True)
class Listed:
    """An event in a list, with how full it is."""

    event: Event
    seats: Seats


async def upcoming_events(db: Database, now: datetime, limit: int = 50) -> list[Listed]:
    """Open, published events that have not started, soonest first."""
    rows = await db.fetchall(
        "SELECT e.*, (SELECT count(*) FROM event_signups s WHERE s.event_id = e.id"
        "   AND s.status = 'confirmed') AS n_confirmed,"
        " (SELECT count(*) FROM event_signups s WHERE s.event_id = e.id"
        "   AND s.status = 'waitlisted') AS n_waiting"
        " FROM events e WHERE e.status = 'open' AND e.starts_at > ? AND e.publish_at <= ?"
        " ORDER BY e.starts_at, e.id LIMIT ?",
        (to_iso(now), to_iso(now), limit),
    )
    return [Listed(event_from_row(r), Seats(r["n_confirmed"], r["n_waiting"])) for r in rows]


@dataclass(frozen=True, slots=True)
class MyEvent:
    event: Event
    signup: Signup
    position: int | None  # in the waitlist


async def member_events(db: Database, member_id: int, now: datetime) -> list[MyEvent]:
    """The member's sign-ups (confirmed or waiting) for events that have not ended."""
    rows = await db.fetchall(
        "SELECT e.*, s.status AS s_status, s.seq AS s_seq, s.signed_up_at AS s_signed_up_at,"
        " s.confirmed_at AS s_confirmed_at, s.checked_in_at AS s_checked_in_at,"
        " (SELECT count(*) FROM event_signups o WHERE o.event_id = s.event_id"
        "  AND o.status = 'waitlisted' AND o.seq <= s.seq) AS position"
        " FROM event_signups s JOIN events e ON e.id = s.event_id"
        " WHERE s.member_id = ? AND s.status IN ('confirmed', 'waitlisted') AND e.ends_at > ?"
        " ORDER BY e.starts_at, e.id",
        (member_id, to_iso(now)),
    )
    out: list[MyEvent] = []
    for r in rows:
        signup = Signup(
            event_id=r["id"],
            member_id=member_id,
            status=SignupStatus(r["s_status"]),
            seq=r["s_seq"],
            signed_up_at=from_iso(r["s_signed_up_at"]),
            confirmed_at=_when(r["s_confirmed_at"]),
            checked_in_at=_when(r["s_checked_in_at"]),
        )
        waiting = signup.status is SignupStatus.WAITLISTED
        out.append(MyEvent(event_from_row(r), signup, r["position"] if waiting else None))
    return out


@dataclass(frozen=True, slots=True)
class Attendee:
    member_id: int
    name: str  # "" once the member used /forgetme
    username: str | None
    unit: str | None
    building_id: str | None
    signup: Signup


async def attendees(db: Database, event_id: int) -> list[Attendee]:
    """Confirmed members then the waitlist, each in first-come order."""
    rows = await db.fetchall(
        "SELECT s.*, m.name, m.username, m.building_id, h.unit FROM event_signups s"
        " JOIN members m ON m.id = s.member_id LEFT JOIN households h ON h.id = m.household_id"
        " WHERE s.event_id = ? AND s.status IN ('confirmed', 'waitlisted')"
        " ORDER BY s.status = 'waitlisted', s.seq",
        (event_id,),
    )
    return [
        Attendee(
            r["member_id"],
            r["name"],
            r["username"],
            r["unit"],
            r["building_id"],
            signup_from_row(r),
        )
        for r in rows
    ]


# --- Signing up and giving up a seat ----------------------------------------------------


async def _event_in(tx: Tx, event_id: int) -> Event:
    event = await get_event(tx, event_id)
    if event is None:
        raise RefusedError(Refused("unknown_event"))
    return event


async def _mark_cards_dirty(tx: Tx, event_id: int) -> None:
    await tx.execute("UPDATE event_cards SET dirty = 1 WHERE event_id = ?", (event_id,))


async def sign_up(
    db: Database, event_id: int, member_id: int, community: Community, now: datetime
) -> tuple[SignupOutcome, Event | None]:
    """A seat, a place in line, or why not; decided and written in one transaction."""
    try:
        async with db.transaction() as tx:
            event = await _event_in(tx, event_id)
            member = await members_db.get_member(tx, member_id)
            if member is None:
                raise RefusedError(Refused("not_joined"))
            refused = check_audience(event, member, community)
            if refused is not None:
                return refused, event
            existing = await get_signup(tx, event_id, member_id)
            tally = await seats(tx, event_id)
            outcome = decide_signup(
                event, tally.confirmed, existing, now, waitlisted_count=tally.waitlisted
            )
            if isinstance(outcome, Refused):
                return outcome, event
            status = (
                SignupStatus.CONFIRMED
                if isinstance(outcome, Confirmed)
                else SignupStatus.WAITLISTED
            )
            seq = await tx.scalar(
                "SELECT coalesce(max(seq), 0) + 1 FROM event_signups WHERE event_id = ?",
                (event_id,),
            )
            confirmed_at = to_iso(now) if status is SignupStatus.CONFIRMED else None
            await tx.execute(
                "INSERT INTO event_signups (event_id, member_id, status, seq, signed_up_at,"
                " confirmed_at) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (event_id, member_id) DO UPDATE SET status = excluded.status,"
                " seq = excluded.seq, signed_up_at = excluded.signed_up_at,"
                " confirmed_at = excluded.confirmed_at, cancelled_at = NULL",
                (event_id, member_id, status.value, seq, to_iso(now), confirmed_at),
            )
            await _mark_cards_dirty(tx, event_id)
            return outcome, event
    except RefusedError as exc:
        return exc.refused, None


@dataclass(frozen=True, slots=True)
class SignupCancelled:
    event: Event
    was: SignupStatus
    promoted: tuple[int, ...]  # member ids moved up from the waitlist (notices queued)


async def cancel_signup(
    db: Database, event_id: int, member_id: int, now: datetime
) -> SignupCancelled | Refused:
    """Give up a seat or a place in line; the first waiting members move up at once."""
    try:
        async with db.transaction() as tx:
            event = await _event_in(tx, event_id)
            existing = await get_signup(tx, event_id, member_id)
            refused = decide_cancel_signup(event, existing, now)
            if refused is not None:
                return refused
            assert existing is not None
            await tx.execute(
                "UPDATE event_signups SET status = 'cancelled', cancelled_at = ?"
                " WHERE event_id = ? AND member_id = ?",
                (to_iso(now), event_id, member_id),
            )
            promoted = await _promote(tx, event, now)
            await _mark_cards_dirty(tx, event_id)
            return SignupCancelled(event, existing.status, promoted)
    except RefusedError as exc:
        return exc.refused


async def _promote(tx: Tx, event: Event, now: datetime) -> tuple[int, ...]:
    tally = await seats(tx, event.id)
    free = seats_to_fill(event, tally.confirmed, now)
    if free <= 0:
        return ()
    rows = await tx.fetchall(
        "SELECT member_id FROM event_signups WHERE event_id = ? AND status = 'waitlisted'"
        " ORDER BY seq LIMIT ?",
        (event.id, free),
    )
    promoted = tuple(int(r["member_id"]) for r in rows)
    for member_id in promoted:
        await tx.execute(
            "UPDATE event_signups SET status = 'confirmed', confirmed_at = ?"
            " WHERE event_id = ? AND member_id = ?",
            (to_iso(now), event.id, member_id),
        )
        await _queue_notice(tx, event.id, member_id, "promoted", {}, now)
    return promoted


# --- Organizers: edit and cancel --------------------------------------------------------


async def _signed_up_ids(tx: Tx, event_id: int) -> list[int]:
    rows = await tx.fetchall(
        "SELECT member_id FROM event_signups WHERE event_id = ?"
        " AND status IN ('confirmed', 'waitlisted') ORDER BY seq",
        (event_id,),
    )
    return [int(r["member_id"]) for r in rows]


async def _queue_notice(
    tx: Tx, event_id: int, member_id: int, kind: str, detail: dict[str, Any], now: datetime
) -> None:
    await tx.execute(
        "INSERT INTO event_notices (event_id, member_id, kind, detail, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (event_id, member_id, kind, json.dumps(detail, ensure_ascii=False), to_iso(now)),
    )


@dataclass(frozen=True, slots=True)
class Changed:
    event: Event
    told: int  # members who will be told


async def reschedule_event(
    db: Database,
    event_id: int,
    start: datetime,
    end: datetime,
    deadline: datetime,
    by: int,
    now: datetime,
) -> Changed | Refused:
    """Move an event in time; everyone signed up is told, and reminders start afresh."""
    try:
        async with db.transaction() as tx:
            event = await _event_in(tx, event_id)
            refused = decide_edit(event, now)
            if refused is not None:
                return refused
            if (start, end) == (event.starts_at, event.ends_at):
                return Refused("unchanged")
            await tx.execute(
                "UPDATE events SET starts_at = ?, ends_at = ?, deadline = ?, rescheduled_at = ?,"
                " version = version + 1 WHERE id = ?",
                (to_iso(start), to_iso(end), to_iso(deadline), to_iso(now), event_id),
            )
            # Reminders are due again relative to the new start (core.reminder_due skips
            # the ones whose moment passed before the move).
            await tx.execute("DELETE FROM event_reminders WHERE event_id = ?", (event_id,))
            before = {"starts_at": to_iso(event.starts_at), "ends_at": to_iso(event.ends_at)}
            told = await _notify_all(tx, event_id, "rescheduled", before, now)
            await _mark_cards_dirty(tx, event_id)
            await audit(
                tx,
                by,
                "event_reschedule",
                f"event:{event_id}",
                f"{to_iso(start)} - {to_iso(end)}",
                now,
            )
            updated = await _event_in(tx, event_id)
            return Changed(updated, told)
    except RefusedError as exc:
        return exc.refused


async def move_event(
    db: Database, event_id: int, place: str, by: int, now: datetime
) -> Changed | Refused:
    """Change where an event takes place; everyone signed up is told."""
    try:
        async with db.transaction() as tx:
            event = await _event_in(tx, event_id)
            refused = decide_edit(event, now)
            if refused is not None:
                return refused
            if place == event.place:
                return Refused("unchanged")
            await tx.execute(
                "UPDATE events SET place = ?, version = version + 1 WHERE id = ?",
                (place, event_id),
            )
            told = await _notify_all(tx, event_id, "moved", {"place": event.place}, now)
            await _mark_cards_dirty(tx, event_id)
            await audit(tx, by, "event_move", f"event:{event_id}", place, now)
            return Changed(await _event_in(tx, event_id), told)
    except RefusedError as exc:
        return exc.refused


async def cancel_event(db: Database, event_id: int, by: int, now: datetime) -> Changed | Refused:
    """Cancel an event; everyone signed up (confirmed or waiting) is told."""
    try:
        async with db.transaction() as tx:
            event = await _event_in(tx, event_id)
            refused = decide_edit(event, now)
            if refused is not None:
                return refused
            await tx.execute(
                "UPDATE events SET status = 'cancelled', cancelled_at = ?, version = version + 1"
                " WHERE id = ?",
                (to_iso(now), event_id),
            )
            told = await _notify_all(tx, event_id, "cancelled", {}, now)
            await _mark_cards_dirty(tx, event_id)
            await audit(tx, by, "event_cancel", f"event:{event_id}", event.title, now)
            return Changed(await _event_in(tx, event_id), told)
    except RefusedError as exc:
        return exc.refused


async def _notify_all(
    tx: Tx, event_id: int, kind: str, detail: dict[str, Any], now: datetime
) -> int:
    ids = await _signed_up_ids(tx, event_id)
    for member_id in ids:
        await _queue_notice(tx, event_id, member_id, kind, detail, now)
    return len(ids)


# --- Check-in ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckedIn:
    event: Event
    points: int  # credited by this check-in (0 when the event gives none or a cap was hit)


async def check_in(
    db: Database,
    code: str,
    member_id: int,
    now: datetime,
    opens_before: timedelta,
    rules: Any,
) -> CheckedIn | Refused:
    """Mark attendance by the venue's code and credit the event's points, exactly once."""
    try:
        async with db.transaction() as tx:
            event = await event_by_code(tx, code)
            if event is None:
                return Refused("unknown_code")
            signup = await get_signup(tx, event.id, member_id)
            refused = decide_checkin(event, signup, now, opens_before)
            if refused is not None:
                return refused
            await tx.execute(
                "UPDATE event_signups SET checked_in_at = ? WHERE event_id = ? AND member_id = ?"
                " AND checked_in_at IS NULL",
                (to_iso(now), event.id, member_id),
            )
            credited = 0
            if event.points > 0:
                credited = await points_db.earn(
                    tx,
                    member_id=member_id,
                    rule="attendance",
                    reference=f"E-{event.id}",
                    key=attendance_key(event.id, member_id),
                    rules=rules,
                    now=now,
                    amount=event.points,
                )
            return CheckedIn(event, credited)
    except RefusedError as exc:
        return exc.refused


# --- Cards in the groups ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Card:
    event_id: int
    chat_id: int
    message_id: int | None
    text_hash: str


def _card(row: Row) -> Card:
    return Card(row["event_id"], row["chat_id"], row["message_id"], row["text_hash"])


async def events_to_publish(db: Database, now: datetime) -> list[Event]:
    """Open events whose cards are due in the groups and were not posted yet."""
    rows = await db.fetchall(
        "SELECT * FROM events WHERE published_at IS NULL AND status = 'open'"
        " AND publish_at <= ? AND starts_at > ? ORDER BY publish_at, id",
        (to_iso(now), to_iso(now)),
    )
    return [event_from_row(r) for r in rows]


async def claim_card(db: Database, event_id: int, chat_id: int, now: datetime) -> bool:
    """Reserve the card for one group before posting it, so it is posted once."""
    async with db.transaction() as tx:
        changed = await tx.rowcount(
            "INSERT OR IGNORE INTO event_cards (event_id, chat_id, posted_at) VALUES (?, ?, ?)",
            (event_id, chat_id, to_iso(now)),
        )
    return changed == 1


async def set_card_posted(
    db: Database, event_id: int, chat_id: int, message_id: int, text_hash: str, now: datetime
) -> None:
    await db.write(
        "UPDATE event_cards SET message_id = ?, text_hash = ?, last_edit_at = ?"
        " WHERE event_id = ? AND chat_id = ?",
        (message_id, text_hash, to_iso(now), event_id, chat_id),
    )


async def release_card(db: Database, event_id: int, chat_id: int) -> None:
    """Posting failed for a passing reason: let the next attempt try again."""
    await db.write(
        "DELETE FROM event_cards WHERE event_id = ? AND chat_id = ? AND message_id IS NULL",
        (event_id, chat_id),
    )


async def mark_published(db: Database, event_id: int, now: datetime) -> None:
    await db.write(
        "UPDATE events SET published_at = coalesce(published_at, ?) WHERE id = ?",
        (to_iso(now), event_id),
    )


async def cards_due_for_edit(
    db: Database, now: datetime, min_interval: timedelta, event_id: int | None = None
) -> list[Card]:
    """Posted cards whose event changed and whose last edit is at least `min_interval` old."""
    sql = (
        "SELECT * FROM event_cards WHERE dirty = 1 AND message_id IS NOT NULL"
        " AND (last_edit_at IS NULL OR last_edit_at <= ?)"
    )
    params: list[Any] = [to_iso(now - min_interval)]
    if event_id is not None:
        sql += " AND event_id = ?"
        params.append(event_id)
    return [_card(r) for r in await db.fetchall(sql + " ORDER BY event_id, chat_id", params)]


async def claim_card_edit(db: Database, card: Card, now: datetime, min_interval: timedelta) -> bool:
    """Take the right to edit this card now (one editor at a time, spaced by `min_interval`)."""
    changed = await db.write(
        "UPDATE event_cards SET dirty = 0, last_edit_at = ? WHERE event_id = ? AND chat_id = ?"
        " AND dirty = 1 AND (last_edit_at IS NULL OR last_edit_at <= ?)",
        (to_iso(now), card.event_id, card.chat_id, to_iso(now - min_interval)),
    )
    return changed == 1


async def set_card_hash(db: Database, card: Card, text_hash: str) -> None:
    await db.write(
        "UPDATE event_cards SET text_hash = ? WHERE event_id = ? AND chat_id = ?",
        (text_hash, card.event_id, card.chat_id),
    )


async def cards_of(db: Database, event_id: int) -> list[Card]:
    rows = await db.fetchall(
        "SELECT * FROM event_cards WHERE event_id = ? ORDER BY chat_id", (event_id,)
    )
    return [_card(r) for r in rows]


# --- Reminders --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReminderCandidate:
    event: Event
    member_id: int
    confirmed_at: datetime
    sent: frozenset[int]  # offsets (minutes) already claimed


async def reminder_candidates(
    db: Database, now: datetime, horizon: timedelta
) -> list[ReminderCandidate]:
    """Confirmed members of open events starting within `horizon` from now."""
    rows = await db.fetchall(
        "SELECT e.*, s.member_id AS s_member_id, s.confirmed_at AS s_confirmed_at,"
        " s.signed_up_at AS s_signed_up_at,"
        " (SELECT group_concat(r.offset_minutes) FROM event_reminders r"
        "  WHERE r.event_id = e.id AND r.member_id = s.member_id) AS sent"
        " FROM events e JOIN event_signups s ON s.event_id = e.id"
        " WHERE e.status = 'open' AND e.starts_at > ? AND e.starts_at <= ?"
        " AND s.status = 'confirmed' ORDER BY e.starts_at, e.id, s.seq",
        (to_iso(now), to_iso(now + horizon)),
    )
    out: list[ReminderCandidate] = []
    for r in rows:
        sent = frozenset(int(x) for x in (r["sent"] or "").split(",") if x)
        confirmed = from_iso(r["s_confirmed_at"] or r["s_signed_up_at"])
        out.append(ReminderCandidate(event_from_row(r), r["s_member_id"], confirmed, sent))
    return out


async def claim_reminders(
    db: Database, event_id: int, member_id: int, offsets: Sequence[int], now: datetime
) -> bool:
    """Record these reminders as done; True if none of them was claimed before (send it)."""
    async with db.transaction() as tx:
        still = await tx.scalar(
            "SELECT 1 FROM event_signups s JOIN events e ON e.id = s.event_id"
            " WHERE s.event_id = ? AND s.member_id = ? AND s.status = 'confirmed'"
            " AND e.status = 'open'",
            (event_id, member_id),
        )
        if not still:
            return False
        inserted = 0
        for offset in offsets:
            inserted += await tx.rowcount(
                "INSERT OR IGNORE INTO event_reminders (event_id, member_id, offset_minutes,"
                " claimed_at) VALUES (?, ?, ?, ?)",
                (event_id, member_id, offset, to_iso(now)),
            )
    return inserted == len(offsets) and inserted > 0


async def release_reminder(db: Database, event_id: int, member_id: int, offset: int) -> None:
    """Sending failed for a passing reason (network): the next tick tries again."""
    await db.write(
        "DELETE FROM event_reminders WHERE event_id = ? AND member_id = ? AND offset_minutes = ?",
        (event_id, member_id, offset),
    )


# --- Notices owed to members ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Notice:
    id: int
    event_id: int
    member_id: int
    kind: str
    detail: dict[str, Any]


async def pending_notices(db: Database, limit: int = 200) -> list[Notice]:
    rows = await db.fetchall(
        "SELECT * FROM event_notices WHERE sent_at IS NULL ORDER BY id LIMIT ?", (limit,)
    )
    return [
        Notice(r["id"], r["event_id"], r["member_id"], r["kind"], json.loads(r["detail"]))
        for r in rows
    ]


async def claim_notice(db: Database, notice_id: int, now: datetime) -> bool:
    changed = await db.write(
        "UPDATE event_notices SET sent_at = ? WHERE id = ? AND sent_at IS NULL",
        (to_iso(now), notice_id),
    )
    return changed == 1


async def release_notice(db: Database, notice_id: int) -> None:
    await db.write("UPDATE event_notices SET sent_at = NULL WHERE id = ?", (notice_id,))


# --- Export -----------------------------------------------------------------------------


async def export_signups(db: Database, since: datetime | None) -> tuple[list[str], list[list[Any]]]:
    """Sign-ups for events starting from `since` (all when None), for the exports helper."""
    rows = await db.fetchall(
        "SELECT e.id AS event_id, e.kind, e.title, e.starts_at, e.place, e.status AS event_status,"
        " s.member_id, m.name, h.unit, m.building_id, s.status, s.signed_up_at, s.confirmed_at,"
        " s.cancelled_at, s.checked_in_at"
        " FROM event_signups s JOIN events e ON e.id = s.event_id"
        " JOIN members m ON m.id = s.member_id LEFT JOIN households h ON h.id = m.household_id"
        " WHERE e.starts_at >= ? ORDER BY e.starts_at, e.id, s.seq",
        (to_iso(since) if since else "",),
    )
    headers = [
        "event_id",
        "kind",
        "title",
        "starts_at",
        "place",
        "event_status",
        "member_id",
        "name",
        "building",
        "unit",
        "status",
        "signed_up_at",
        "confirmed_at",
        "cancelled_at",
        "checked_in_at",
    ]
    out = [
        [
            r["event_id"],
            r["kind"],
            r["title"],
            r["starts_at"],
            r["place"],
            r["event_status"],
            r["member_id"],
            r["name"],
            r["building_id"],
            r["unit"],
            r["status"],
            r["signed_up_at"],
            r["confirmed_at"],
            r["cancelled_at"],
            r["checked_in_at"],
        ]
        for r in rows
    ]
    return headers, out
