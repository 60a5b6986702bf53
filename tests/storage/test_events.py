"""Event storage against a fresh database: seats under concurrency, waitlist, notices, claims."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from linli.core.community import Building, Community, Compound, NodeKind
from linli.core.events import (
    Confirmed,
    EventDraft,
    EventKind,
    SignupStatus,
    Waitlisted,
    occurrences,
)
from linli.core.members import Audience
from linli.core.outcomes import Refused
from linli.storage import events as events_db
from linli.storage.db import Database
from tests.support.event_people import resident

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
START = datetime(2026, 12, 5, 6, 0, tzinfo=UTC)
COMMUNITY = Community(
    "和平社区",
    (
        Compound("heyuan", "和苑", (Building("heyuan/1", "heyuan", "1"),)),
        Compound("lihu", "丽湖", (Building("lihu/A", "lihu", "A"),)),
    ),
)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "t.sqlite3")
    yield database
    await database.close()


def draft(capacity: int = 2, audience: Audience | None = None, **changes: object) -> EventDraft:
    d = EventDraft(
        kind=EventKind.LECTURE,
        title="防诈骗讲座",
        place="活动室",
        starts_at=START,
        ends_at=START + timedelta(hours=2),
        capacity=capacity,
        points=10,
        audience=audience or Audience(NodeKind.COMMUNITY),
    )
    for key, value in changes.items():
        setattr(d, key, value)
    return d


async def make_event(db: Database, **kwargs: object) -> int:
    d = draft(**kwargs)  # type: ignore[arg-type]
    organizer = await resident(db, 1000, NOW, name="组织者")
    events, created = await events_db.create_events(db, d, occurrences(d, NOW), organizer.id, NOW)
    assert created
    return events[0].id


async def test_create_is_idempotent_per_draft(db: Database) -> None:
    d = draft()
    d.kind, d.weeks = EventKind.CARE, 3
    plan = occurrences(d, NOW)
    organizer = await resident(db, 1000, NOW)
    first, created = await events_db.create_events(db, d, plan, organizer.id, NOW)
    again, created_again = await events_db.create_events(db, d, plan, organizer.id, NOW)
    assert created and not created_again
    assert [e.id for e in first] == [e.id for e in again]
    assert len(first) == 3 and len({e.checkin_code for e in first}) == 3
    assert await db.scalar("SELECT count(*) FROM events") == 3


async def test_200_concurrent_signups_for_20_seats(db: Database) -> None:
    event_id = await make_event(db, capacity=20)
    people = [await resident(db, 5000 + i, NOW, unit=str(i)) for i in range(200)]
    outcomes = await asyncio.gather(
        *(events_db.sign_up(db, event_id, p.id, COMMUNITY, NOW) for p in people)
    )
    results = [o for o, _ in outcomes]
    assert results[:20] == [Confirmed()] * 20
    assert results[20:] == [Waitlisted(i) for i in range(1, 181)]
    listed = await events_db.attendees(db, event_id)
    confirmed = [a.member_id for a in listed if a.signup.status is SignupStatus.CONFIRMED]
    waiting = [a.member_id for a in listed if a.signup.status is SignupStatus.WAITLISTED]
    assert confirmed == [p.id for p in people[:20]]
    assert waiting == [p.id for p in people[20:]]
    assert await events_db.seats(db, event_id) == events_db.Seats(20, 180)
    # Everyone taps again at once: nothing changes, nobody is in twice.
    again = await asyncio.gather(
        *(events_db.sign_up(db, event_id, p.id, COMMUNITY, NOW) for p in people)
    )
    assert {o.reason for o, _ in again if isinstance(o, Refused)} == {
        "already_confirmed",
        "already_waitlisted",
    }
    assert await db.scalar("SELECT count(*) FROM event_signups") == 200
    assert await events_db.waitlist_position(db, event_id, people[57].id) == 38


async def test_cancel_promotes_the_first_waiting_and_queues_a_notice(db: Database) -> None:
    event_id = await make_event(db, capacity=1)
    a, b, c = [await resident(db, 6000 + i, NOW, unit=str(i)) for i in range(3)]
    for m in (a, b, c):
        await events_db.sign_up(db, event_id, m.id, COMMUNITY, NOW)
    assert await events_db.waitlist_position(db, event_id, c.id) == 2
    result = await events_db.cancel_signup(db, event_id, a.id, NOW + timedelta(hours=1))
    assert isinstance(result, events_db.SignupCancelled)
    assert result.was is SignupStatus.CONFIRMED and result.promoted == (b.id,)
    signup_b = await events_db.get_signup(db, event_id, b.id)
    assert signup_b is not None and signup_b.status is SignupStatus.CONFIRMED
    assert await events_db.waitlist_position(db, event_id, c.id) == 1
    notices = await events_db.pending_notices(db)
    assert [(n.member_id, n.kind) for n in notices] == [(b.id, "promoted")]
    # Cancelling twice is refused and changes nothing.
    assert await events_db.cancel_signup(db, event_id, a.id, NOW) == Refused("not_signed_up")
    # Signing up again goes to the back of the line.
    outcome, _ = await events_db.sign_up(db, event_id, a.id, COMMUNITY, NOW)
    assert outcome == Waitlisted(2)
    # A waiting member leaving promotes nobody.
    result = await events_db.cancel_signup(db, event_id, c.id, NOW)
    assert isinstance(result, events_db.SignupCancelled) and result.promoted == ()
    assert await events_db.waitlist_position(db, event_id, a.id) == 1


async def test_refusals_change_nothing(db: Database) -> None:
    event_id = await make_event(db, capacity=5, audience=Audience(NodeKind.COMPOUND, "lihu"))
    outsider = await resident(db, 7001, NOW)
    insider = await resident(db, 7002, NOW, building="lihu/A")
    newcomer = await resident(db, 7003, NOW, building="lihu/A", joined=False)
    assert (await events_db.sign_up(db, event_id, outsider.id, COMMUNITY, NOW))[0] == Refused(
        "not_in_audience"
    )
    assert (await events_db.sign_up(db, event_id, newcomer.id, COMMUNITY, NOW))[0] == Refused(
        "not_joined"
    )
    assert (await events_db.sign_up(db, 999, insider.id, COMMUNITY, NOW))[0] == Refused(
        "unknown_event"
    )
    assert (await events_db.sign_up(db, event_id, insider.id, COMMUNITY, START))[0] == Refused(
        "started"
    )
    assert await db.scalar("SELECT count(*) FROM event_signups") == 0
    await events_db.sign_up(db, event_id, insider.id, COMMUNITY, NOW)
    cancelled = await events_db.cancel_event(db, event_id, 1, NOW)
    assert isinstance(cancelled, events_db.Changed) and cancelled.told == 1
    late = await resident(db, 7004, NOW, building="lihu/A")
    assert (await events_db.sign_up(db, event_id, late.id, COMMUNITY, NOW))[0] == Refused(
        "event_cancelled"
    )
    assert await events_db.cancel_event(db, event_id, 1, NOW) == Refused("event_cancelled")
    assert await db.scalar("SELECT count(*) FROM event_signups") == 1
    assert [n.kind for n in await events_db.pending_notices(db)] == ["cancelled"]


async def test_reschedule_tells_everyone_and_restarts_reminders(db: Database) -> None:
    event_id = await make_event(db, capacity=1)
    a, b = [await resident(db, 8000 + i, NOW, unit=str(i)) for i in range(2)]
    for m in (a, b):
        await events_db.sign_up(db, event_id, m.id, COMMUNITY, NOW)
    assert await events_db.claim_reminders(db, event_id, a.id, [1440], NOW)
    later = START + timedelta(days=1)
    changed = await events_db.reschedule_event(
        db, event_id, later, later + timedelta(hours=1), later, 1, NOW
    )
    assert isinstance(changed, events_db.Changed)
    assert changed.told == 2 and changed.event.version == 1
    assert changed.event.starts_at == later and changed.event.rescheduled_at == NOW
    assert await db.scalar("SELECT count(*) FROM event_reminders") == 0
    moved = await events_db.move_event(db, event_id, "三楼会议室", 1, NOW)
    assert isinstance(moved, events_db.Changed) and moved.event.place == "三楼会议室"
    assert await events_db.move_event(db, event_id, "三楼会议室", 1, NOW) == Refused("unchanged")
    kinds = [(n.member_id, n.kind) for n in await events_db.pending_notices(db)]
    assert kinds == [(a.id, "rescheduled"), (b.id, "rescheduled"), (a.id, "moved"), (b.id, "moved")]


async def test_reminder_claims_are_exactly_once(db: Database) -> None:
    event_id = await make_event(db, capacity=0)
    a = await resident(db, 9001, NOW)
    await events_db.sign_up(db, event_id, a.id, COMMUNITY, NOW)
    now = START - timedelta(hours=23)
    (candidate,) = await events_db.reminder_candidates(db, now, timedelta(hours=24))
    assert candidate.member_id == a.id and candidate.sent == frozenset()
    assert await events_db.claim_reminders(db, event_id, a.id, [1440], now)
    assert not await events_db.claim_reminders(db, event_id, a.id, [1440], now)
    (candidate,) = await events_db.reminder_candidates(db, now, timedelta(hours=24))
    assert candidate.sent == frozenset({1440})
    await events_db.release_reminder(db, event_id, a.id, 1440)
    assert await events_db.claim_reminders(db, event_id, a.id, [1440], now)
    # A member who gave up the seat is not reminded.
    await events_db.cancel_signup(db, event_id, a.id, now)
    assert not await events_db.claim_reminders(db, event_id, a.id, [60], now)
    assert await events_db.reminder_candidates(db, now, timedelta(hours=24)) == []


async def test_cards_are_posted_once_and_edits_spaced(db: Database) -> None:
    event_id = await make_event(db)
    (due,) = await events_db.events_to_publish(db, NOW)
    assert due.id == event_id
    assert await events_db.claim_card(db, event_id, -100, NOW)
    assert not await events_db.claim_card(db, event_id, -100, NOW)
    await events_db.set_card_posted(db, event_id, -100, 55, "h1", NOW)
    await events_db.mark_published(db, event_id, NOW)
    assert await events_db.events_to_publish(db, NOW) == []
    a = await resident(db, 9101, NOW)
    await events_db.sign_up(db, event_id, a.id, COMMUNITY, NOW)
    gap = timedelta(seconds=5)
    assert await events_db.cards_due_for_edit(db, NOW + timedelta(seconds=2), gap) == []
    (card,) = await events_db.cards_due_for_edit(db, NOW + gap, gap)
    assert card.message_id == 55 and card.text_hash == "h1"
    assert await events_db.claim_card_edit(db, card, NOW + gap, gap)
    assert not await events_db.claim_card_edit(db, card, NOW + gap, gap)
    assert await events_db.cards_due_for_edit(db, NOW + gap * 3, gap) == []


async def test_series_publishes_each_week_ahead(db: Database) -> None:
    d = draft()
    d.kind, d.weeks = EventKind.CARE, 3
    organizer = await resident(db, 1000, NOW)
    await events_db.create_events(db, d, occurrences(d, NOW), organizer.id, NOW)
    assert len(await events_db.events_to_publish(db, NOW)) == 1
    assert len(await events_db.upcoming_events(db, NOW)) == 1
    week_later = START + timedelta(days=1)
    # The first has started; the second is a week ahead, so due; the third is not yet.
    assert [e.occurrence for e in await events_db.events_to_publish(db, week_later)] == [1]


async def test_export_signups(db: Database) -> None:
    event_id = await make_event(db, capacity=1)
    a, b = [await resident(db, 9200 + i, NOW, unit=f"2-{i}") for i in range(2)]
    for m in (a, b):
        await events_db.sign_up(db, event_id, m.id, COMMUNITY, NOW)
    headers, rows = await events_db.export_signups(db, NOW)
    assert headers[:3] == ["event_id", "kind", "title"]
    assert [(r[6], r[10]) for r in rows] == [(a.id, "confirmed"), (b.id, "waitlisted")]
    assert rows[0][9] == "2-0"
    assert (await events_db.export_signups(db, START + timedelta(days=1)))[1] == []
