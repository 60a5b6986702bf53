"""The digest's figures on a week written through each feature's storage, and its claims."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from linli.bot.config import HazardsSection
from linli.core.digest import due_week, parse_time
from linli.storage import digest as digest_db
from linli.storage.db import Database
from tests.support.digest_week import DUE, EXPECTED, TZ, WEEK_END, WEEK_START, seed_week

CATEGORIES = [c.key for c in HazardsSection().categories]


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "t.sqlite3")
    yield database
    await database.close()


async def test_the_week_in_figures(db: Database) -> None:
    await seed_week(db)
    week = due_week(DUE, TZ, 0, parse_time("09:00"), 48)
    assert week is not None and (week.start, week.end) == (WEEK_START, WEEK_END)
    digest = await digest_db.weekly_digest(db, week, CATEGORIES)
    # Categories in the config's order; the quiet ones (exit closed last week, gas filed
    # next week) are left out.
    assert [
        (h.category, (h.new, h.resolved, h.rejected, h.still_open)) for h in digest.hazards
    ] == list(EXPECTED.hazards.items())
    assert [(e.title, e.signed_up, e.checked_in) for e in digest.events] == EXPECTED.events
    assert (digest.points_issued, digest.points_redeemed) == (EXPECTED.issued, EXPECTED.redeemed)
    assert (digest.members_joined, digest.members_verified, digest.members_total) == (
        EXPECTED.joined,
        EXPECTED.verified,
        EXPECTED.total,
    )
    assert [(p.title, p.passed) for p in digest.polls] == EXPECTED.polls
    assert digest.polls[0].turnout == 2 and digest.polls[0].eligible == 3
    assert digest.attendance_pct == 67 and not digest.quiet


async def test_the_next_week_sees_only_its_own_days(db: Database) -> None:
    await seed_week(db)
    week = due_week(DUE + timedelta(days=7), TZ, 0, parse_time("09:00"), 48)
    assert week is not None and week.label == "2026-W49"
    digest = await digest_db.weekly_digest(db, week, CATEGORIES)
    # Filed at the first instant of W49: new then; the open ones carry over as open.
    assert [(h.category, h.new, h.still_open) for h in digest.hazards] == [
        ("fire", 0, 2),
        ("gas", 1, 1),
        ("elevator", 0, 1),
    ]
    assert digest.events == () and digest.points_issued == 0
    assert (digest.members_joined, digest.members_verified, digest.members_total) == (1, 1, 5)
    assert [p.title for p in digest.polls] == ["下周的投票"]


async def test_an_empty_database_is_a_quiet_week(db: Database) -> None:
    week = due_week(DUE, TZ, 0, parse_time("09:00"), 48)
    assert week is not None
    digest = await digest_db.weekly_digest(db, week, CATEGORIES)
    assert digest.quiet and digest.hazards == () and digest.members_total == 0


async def test_a_week_is_claimed_once(db: Database) -> None:
    assert await digest_db.digest_status(db, "2026-W48") is None
    assert await digest_db.claim_digest(db, "2026-W48", -1001000, DUE)
    assert not await digest_db.claim_digest(db, "2026-W48", -1001000, DUE)
    assert await digest_db.digest_status(db, "2026-W48") == "sending"
    # A passing failure gives the week back; a sent one stays sent.
    await digest_db.release_digest(db, "2026-W48")
    assert await digest_db.digest_status(db, "2026-W48") is None
    assert await digest_db.claim_digest(db, "2026-W48", -1001000, DUE)
    await digest_db.record_digest(db, "2026-W48", 77, DUE)
    await digest_db.release_digest(db, "2026-W48")
    assert await digest_db.digest_status(db, "2026-W48") == "sent"
    assert not await digest_db.claim_digest(db, "2026-W48", -1001000, DUE)
    assert await db.scalar("SELECT message_id FROM digests WHERE week = '2026-W48'") == 77


async def test_concurrent_claims_give_the_week_to_one(db: Database) -> None:
    import asyncio

    results = await asyncio.gather(
        *(digest_db.claim_digest(db, "2026-W50", -1001000, DUE) for _ in range(10))
    )
    assert sorted(results) == [False] * 9 + [True]


async def test_a_day_is_backed_up_once(db: Database) -> None:
    # An ignored INSERT must not read as a claim (the connection's last rowid is not a count).
    await db.write(
        "INSERT INTO digests (week, status, created_at) VALUES ('2026-W01', 'sent', 'x')"
    )
    assert await digest_db.claim_backup(db, "2026-11-26", "/tmp/a", DUE)
    assert not await digest_db.claim_backup(db, "2026-11-26", "/tmp/a", DUE)
    assert await digest_db.last_backup_day(db) == "2026-11-26"


async def test_a_member_counts_in_the_week_they_joined_not_first_wrote(db: Database) -> None:
    from linli.storage import members as members_db

    first_contact = WEEK_START - timedelta(days=3)
    member = await members_db.ensure_member(db, 4040, "迟到的人", None, first_contact)
    await members_db.mark_joined(db, member.id, None, WEEK_START + timedelta(days=1))
    joined, _, total = await digest_db.member_counts(db, WEEK_START, WEEK_END)
    before, _, _ = await digest_db.member_counts(db, WEEK_START - timedelta(days=7), WEEK_START)
    assert (joined, total, before) == (1, 1, 0)
