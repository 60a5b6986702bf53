"""Space bookings against a real database: contention, quotas, points, emergencies, no-shows."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from linli.core.community import Building, Community, Compound, NodeKind
from linli.core.members import Audience, Member
from linli.core.outcomes import RefusedError
from linli.core.points import EarnRules
from linli.core.spaces import Approval, Hours, Rules, Slot, Status
from linli.storage import members as members_db
from linli.storage import points as points_db
from linli.storage import spaces as spaces_db
from linli.storage.db import Database

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # Thursday 10:00 in Shanghai
OPEN = Hours(9 * 60, 21 * 60)
RULES = Rules(hours=(OPEN,) * 7, min_minutes=60, max_minutes=180, quota_minutes=180)
COMMUNITY = Community(
    "和平社区", (Compound("heyuan", "和苑", (Building("heyuan/1", "heyuan", "1"),)),)
)
ROOM = spaces_db.SeedSpace("room", "活动室", "Activity room", "3号楼", "hall", 40, RULES,
                           Audience(NodeKind.COMMUNITY), Approval.NONE, 0, None)  # fmt: skip
PAID = spaces_db.SeedSpace("paid", "阅览室", "Reading room", "A座", "room", 10, RULES,
                           Audience(NodeKind.COMMUNITY), Approval.NONE, 5, None)  # fmt: skip
RULES_PTS = EarnRules(amounts={}, daily_caps={}, tz=SH, award_max=1000)


def local(day: int, hour: int) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=SH)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "t.sqlite3")
    await spaces_db.seed_spaces(database, [ROOM, PAID], NOW)
    yield database
    await database.close()


async def resident(db: Database, tid: int, unit: str = "101", points: int = 0) -> Member:
    member = await members_db.ensure_member(db, tid, f"M{tid}", None, NOW)
    await members_db.set_home(db, member.id, "heyuan/1", unit, NOW)
    if points:
        async with db.transaction() as tx:
            await points_db.award(tx, member_id=member.id, amount=points, reason="seed",
                                  actor_id=member.id, key=f"seed{tid}",
                                  rules=RULES_PTS, now=NOW)  # fmt: skip
    found = await members_db.get_member(db, member.id)
    assert found is not None
    return found


async def space_id(db: Database, key: str) -> int:
    space = await spaces_db.get_space_by_key(db, key)
    assert space is not None
    return space.id


async def book(db: Database, member: Member, key: str, start: datetime, minutes: int,
               token: str) -> spaces_db.Booked:  # fmt: skip
    return await spaces_db.book(
        db, space_id=await space_id(db, key), member=member, slot=Slot(start, minutes),
        purpose="练习", key=f"book:{member.id}:{token}", now=NOW, tz=SH, community=COMMUNITY,
    )  # fmt: skip


async def test_fifty_residents_tapping_one_slot_give_exactly_one_booking(db: Database) -> None:
    people = [await resident(db, 3000 + i, unit=str(100 + i)) for i in range(50)]
    results = await asyncio.gather(
        *(book(db, p, "room", local(27, 19), 120, "t") for p in people), return_exceptions=True
    )
    booked = [r for r in results if isinstance(r, spaces_db.Booked)]
    refused = [r for r in results if isinstance(r, RefusedError)]
    assert len(booked) == 1 and len(refused) == 49
    assert {r.refused.reason for r in refused} == {"taken"}
    rows = await spaces_db.bookings_between(db, local(27, 0), local(28, 0))
    assert len(rows) == 1


async def test_overlapping_lengths_refused_adjacent_fine_and_double_tap_books_once(
    db: Database,
) -> None:
    a, b = await resident(db, 1, "101"), await resident(db, 2, "102")
    first = await book(db, a, "room", local(27, 18), 120, "x")
    again = await book(db, a, "room", local(27, 18), 120, "x")
    assert first.new and not again.new and again.booking.id == first.booking.id
    with pytest.raises(RefusedError) as exc:
        await book(db, b, "room", local(27, 19), 60, "y")
    assert exc.value.refused.reason == "taken"
    assert (await book(db, b, "room", local(27, 20), 60, "y")).new


async def test_quota_counts_the_household_in_its_week(db: Database) -> None:
    a, same_home = await resident(db, 1, "101"), await resident(db, 2, "101")
    await book(db, a, "room", local(27, 9), 120, "1")
    with pytest.raises(RefusedError) as exc:
        await book(db, same_home, "room", local(28, 9), 120, "2")
    assert exc.value.refused.reason == "quota"
    # The next week (from Monday 30 November) starts afresh.
    assert (await spaces_db.book(
        db, space_id=await space_id(db, "room"), member=same_home, slot=Slot(local(30, 9), 120),
        purpose="x", key="k3", now=local(28, 20), tz=SH, community=COMMUNITY,
    )).new  # fmt: skip


async def test_points_held_at_booking_returned_before_the_deadline_kept_after(db: Database) -> None:
    a = await resident(db, 1, points=20)
    made = await book(db, a, "paid", local(27, 19), 60, "1")
    assert await points_db.balance(db, a.id) == 15
    cancelled = await spaces_db.cancel(db, made.booking.id, a.id, NOW, SH)
    assert cancelled.refunded == 5 and await points_db.balance(db, a.id) == 20
    late = await book(db, a, "paid", local(26, 13), 60, "2")
    outcome = await spaces_db.cancel(db, late.booking.id, a.id, local(26, 12), SH)
    assert outcome.refunded == 0 and await points_db.balance(db, a.id) == 15
    assert not await points_db.inconsistent_balances(db)


async def test_emergency_cancels_overlapping_bookings_returns_points_and_refuses_new(
    db: Database,
) -> None:
    a, b = await resident(db, 1, "101", points=10), await resident(db, 2, "102", points=10)
    inside = await book(db, a, "paid", local(27, 19), 60, "1")
    paid = await spaces_db.get_space_by_key(db, "paid")
    assert paid is not None
    org = await resident(db, 50, "150")
    switched = await spaces_db.switch_on(
        db, [paid], "shelter", "寒潮", NOW, local(28, 9), org.id, NOW, SH
    )
    assert [c.booking.id for c in switched[0].cancelled] == [inside.booking.id]
    assert await points_db.balance(db, a.id) == 10
    with pytest.raises(RefusedError) as exc:
        await book(db, b, "paid", local(27, 19), 60, "3")
    assert exc.value.refused.reason == "emergency"
    assert (await book(db, b, "paid", local(28, 10), 60, "4")).new
    assert await spaces_db.due_end_notices(db, local(28, 9)) == [switched[0].emergency]
    await spaces_db.switch_off(db, [paid], org.id, local(27, 20))
    assert await spaces_db.due_end_notices(db, local(28, 9)) == []


async def test_no_show_released_after_grace_and_counted(db: Database) -> None:
    a = await resident(db, 1)
    made = await book(db, a, "room", local(26, 13), 60, "1")
    grace = {made.booking.space_id: 15}
    assert await spaces_db.release_no_shows(db, local(26, 13) + timedelta(minutes=10), grace) == []
    released = await spaces_db.release_no_shows(db, local(26, 13) + timedelta(minutes=16), grace)
    assert [r.status for r in released] == [Status.NO_SHOW]
    assert await spaces_db.no_show_count(db, made.booking.household, local(26, 14)) == 1
    # The slot is free again.
    b = await resident(db, 2, "102")
    assert (await spaces_db.book(
        db, space_id=made.booking.space_id, member=b, slot=Slot(local(26, 13) + timedelta(minutes=30), 60),
        purpose="x", key="k", now=local(26, 13), tz=SH, community=COMMUNITY, staff=True,
    )).new  # fmt: skip


async def test_series_books_each_free_week_and_lists_the_taken_one(db: Database) -> None:
    a, b = await resident(db, 1, "101"), await resident(db, 2, "102")
    await book(db, b, "room", local(27, 19) + timedelta(weeks=1), 60, "1")
    staff = await resident(db, 9, "109")
    result = await spaces_db.book_series(
        db, space_id=await space_id(db, "room"), member=staff,
        slots=[Slot(local(27, 19) + timedelta(weeks=i), 120) for i in range(3)],
        purpose="舞蹈队", key="series:1", now=NOW, tz=SH, community=COMMUNITY,
    )  # fmt: skip
    assert len(result.booked) == 2 and [r.reason for _, r in result.refused] == ["taken"]
    assert a.id != staff.id


async def test_the_digest_figures_per_space(db: Database) -> None:
    a, b = await resident(db, 1, "101"), await resident(db, 2, "102")
    used = await book(db, a, "room", local(26, 13), 120, "1")
    await spaces_db.check_in(db, used.booking.id, a.id, local(26, 13))
    missed = await book(db, b, "room", local(27, 10), 60, "2")
    await spaces_db.release_no_shows(db, local(27, 11), {missed.booking.space_id: 15})
    await book(db, b, "room", local(30, 10), 60, "3")  # the next week: not counted
    paid = await spaces_db.get_space_by_key(db, "paid")
    assert paid is not None
    await spaces_db.switch_on(db, [paid], "shelter", "寒潮", local(28, 9), local(28, 14), a.id,
                              NOW, SH)  # fmt: skip
    lo, hi = local(23, 0), local(30, 0)
    room, shelter = await spaces_db.space_weeks(db, lo, hi, lo.date())
    assert (room.key, room.booked_minutes, room.no_shows, room.emergency_minutes) == (
        "room", 120, 1, 0)  # fmt: skip
    assert room.open_minutes == 7 * 12 * 60 and room.occupancy_pct == 2
    assert (shelter.key, shelter.booked_minutes, shelter.emergency_minutes) == ("paid", 0, 300)
