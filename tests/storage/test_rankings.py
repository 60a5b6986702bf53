"""Leaderboards and weekly post claims against a real database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from linli.core.points import EarnRules, Period, period_range
from linli.core.rankings import Scope, Where
from linli.storage import members as members_db
from linli.storage import points as points_db
from linli.storage import rankings as rk_db
from linli.storage.db import Database

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # Thursday
RULES = EarnRules(amounts={"attendance": 5}, daily_caps={}, tz=SH, award_max=1000)
WEEK = period_range(Period.WEEK, NOW, SH)
ALL = period_range(Period.ALL, NOW, SH)
COMMUNITY = Where(Scope.COMMUNITY)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "t.sqlite3")
    yield database
    await database.close()


async def resident(db: Database, tid: int, building: str, unit: str) -> int:
    member = await members_db.ensure_member(db, tid, f"R{tid}", None, NOW)
    await members_db.set_home(db, member.id, building, unit, NOW)
    return member.id


async def give(db: Database, member: int, amount: int, when: datetime = NOW, *, key: str) -> None:
    async with db.transaction() as tx:
        await points_db.earn(
            tx,
            member_id=member,
            rule="attendance",
            reference="",
            key=key,
            rules=RULES,
            now=when,
            amount=amount,
        )


async def test_boards_by_period_and_scope(db: Database) -> None:
    a = await resident(db, 1, "heyuan/1", "101")
    b = await resident(db, 2, "heyuan/2", "201")
    c = await resident(db, 3, "lihu/A", "301")
    d = await resident(db, 4, "heyuan/1", "101")  # a's household
    await give(db, a, 30, key="a")
    await give(db, b, 50, key="b")
    await give(db, c, 30, key="c")
    await give(db, d, 5, key="d")
    await give(db, c, 100, NOW - timedelta(days=10), key="c-old")  # an earlier week: all-time only
    # Spending does not lower a score.
    async with db.transaction() as tx:
        await points_db.spend(tx, member_id=b, amount=40, reference="", key="s", now=NOW, tz=SH)

    week = await rk_db.member_board(db, WEEK, COMMUNITY, 10, viewer_id=c)
    assert [(line.place, line.score, line.name, line.mine) for line in week] == [
        (1, 50, "R2", False), (2, 30, "R1", False), (2, 30, "R3", True), (4, 5, "R4", False),
    ]  # fmt: skip
    alltime = await rk_db.member_board(db, ALL, COMMUNITY, 2)
    assert [(line.score, line.name) for line in alltime] == [(130, "R3"), (50, "R2")]
    heyuan = await rk_db.member_board(db, WEEK, Where(Scope.COMPOUND, "heyuan"), 10)
    assert [line.name for line in heyuan] == ["R2", "R1", "R4"]
    building = await rk_db.member_board(db, WEEK, Where(Scope.BUILDING, "heyuan/1"), 10)
    assert [line.name for line in building] == ["R1", "R4"]
    homes = await rk_db.household_board(db, WEEK, Where(Scope.COMPOUND, "heyuan"), 10)
    assert [(h.score, h.building_id, h.unit) for h in homes] == [
        (50, "heyuan/2", "201"), (35, "heyuan/1", "101"),
    ]  # fmt: skip
    assert await rk_db.member_standing(db, a, WEEK, Where(Scope.BUILDING, "heyuan/1")) == (1, 30, 2)
    assert await rk_db.member_standing(db, d, WEEK, COMMUNITY) == (4, 5, 4)
    newcomer = await resident(db, 5, "lihu/B", "1")
    assert await rk_db.member_standing(db, newcomer, WEEK, COMMUNITY) is None


async def test_opted_out_members_and_their_households_are_hidden(db: Database) -> None:
    a = await resident(db, 1, "heyuan/1", "101")
    b = await resident(db, 2, "heyuan/1", "101")
    await give(db, a, 10, key="a")
    await members_db.set_rank_optout(db, b, True)
    board = await rk_db.member_board(db, WEEK, COMMUNITY, 10)
    assert [(line.name, line.hidden) for line in board] == [("R1", False)]
    await members_db.set_rank_optout(db, a, True)
    board = await rk_db.member_board(db, WEEK, COMMUNITY, 10)
    assert [(line.name, line.hidden, line.score) for line in board] == [("", True, 10)]
    homes = await rk_db.household_board(db, WEEK, COMMUNITY, 10)
    assert [(h.hidden, h.unit) for h in homes] == [(True, None)]


async def test_forgotten_members_are_hidden(db: Database) -> None:
    a = await resident(db, 1, "heyuan/1", "101")
    await give(db, a, 10, key="a")
    await members_db.forget(db, a, NOW)
    board = await rk_db.member_board(db, ALL, COMMUNITY, 10)
    assert [(line.name, line.hidden) for line in board] == [("", True)]


async def test_post_claims_are_once_per_period_and_chat(db: Database) -> None:
    assert await rk_db.claim_post(db, "2026-W48", -100, NOW)
    assert not await rk_db.claim_post(db, "2026-W48", -100, NOW)
    assert await rk_db.claim_post(db, "2026-W48", -200, NOW)
    await rk_db.release_post(db, "2026-W48", -200)  # sending failed
    assert await rk_db.claim_post(db, "2026-W48", -200, NOW)
    await rk_db.record_post(db, "2026-W48", -200, 55)
    await rk_db.release_post(db, "2026-W48", -200)  # a sent post is never released
    assert await rk_db.posted(db, "2026-W48") == {-100, -200}
