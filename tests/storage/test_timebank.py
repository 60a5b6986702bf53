"""The time bank against a real database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from linli.core.outcomes import RefusedError
from linli.core.points import EarnRules
from linli.core.timebank import LogStatus
from linli.storage import members as members_db
from linli.storage import points as points_db
from linli.storage import timebank as tb_db
from linli.storage.db import Database

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
RULES = EarnRules(amounts={"volunteer_hour": 10}, daily_caps={"volunteer_hour": 40}, tz=SH)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "t.sqlite3")
    yield database
    await database.close()


async def people(db: Database, n: int) -> list[int]:
    return [(await members_db.ensure_member(db, i, f"M{i}", None, NOW)).id for i in range(1, n + 1)]


async def test_confirm_moves_hours_and_credits_points_once(db: Database) -> None:
    giver, receiver = await people(db, 2)
    log = await tb_db.log_service(
        db, giver_id=giver, receiver_id=receiver, minutes=90, what="买菜", from_pool=False, now=NOW
    )
    assert log.status is LogStatus.PENDING and log.code == f"T-{log.id:04d}"
    done, points = await tb_db.confirm(
        db, log.id, actor_id=receiver, is_organizer=False, floor_minutes=600, rules=RULES, now=NOW
    )
    assert done.status is LogStatus.CONFIRMED and points == 15
    assert await tb_db.balance_minutes(db, giver) == 90
    assert await tb_db.balance_minutes(db, receiver) == -90
    assert str(await tb_db.balance(db, receiver)) == "-1.5"  # hours, as /me shows them
    assert await points_db.balance(db, giver) == 15
    with pytest.raises(RefusedError) as refused:
        await tb_db.confirm(
            db,
            log.id,
            actor_id=receiver,
            is_organizer=False,
            floor_minutes=600,
            rules=RULES,
            now=NOW,
        )
    assert refused.value.refused.reason == "log_closed"
    assert await tb_db.balance_minutes(db, giver) == 90
    assert await points_db.balance(db, giver) == 15
    history = await tb_db.history(db, receiver)
    assert [(h.minutes, h.what, h.other_id) for h in history] == [(-90, "买菜", giver)]


async def test_floor_refuses_and_pool_pays(db: Database) -> None:
    giver, receiver, org = await people(db, 3)
    log = await tb_db.log_service(
        db,
        giver_id=giver,
        receiver_id=receiver,
        minutes=120,
        what="repair",
        from_pool=False,
        now=NOW,
    )
    with pytest.raises(RefusedError) as refused:
        await tb_db.confirm(
            db, log.id, actor_id=org, is_organizer=True, floor_minutes=60, rules=RULES, now=NOW
        )
    assert refused.value.refused.reason == "below_floor"
    assert refused.value.refused.detail == {"balance": "0", "floor": "1"}
    assert (await tb_db.get_log(db, log.id)).status is LogStatus.PENDING  # type: ignore[union-attr]
    pooled = await tb_db.log_service(
        db,
        giver_id=giver,
        receiver_id=receiver,
        minutes=120,
        what="repair",
        from_pool=True,
        now=NOW,
    )
    await tb_db.confirm(
        db, pooled.id, actor_id=org, is_organizer=True, floor_minutes=60, rules=RULES, now=NOW
    )
    assert await tb_db.balance_minutes(db, receiver) == 0
    assert await tb_db.balance_minutes(db, giver) == 120
    assert await tb_db.pool_balance(db) == -120
    assert [h.other_id for h in await tb_db.history(db, giver)] == [None]
    audit = await db.fetchall("SELECT actor_id, action FROM audit_log")
    assert [tuple(r) for r in audit] == [(org, "timebank_confirm")]


async def test_decline_withdraw_and_who_may(db: Database) -> None:
    giver, receiver, stranger = await people(db, 3)
    log = await tb_db.log_service(
        db, giver_id=giver, receiver_id=receiver, minutes=30, what="x", from_pool=False, now=NOW
    )
    for actor, reason in ((stranger, "not_receiver"), (giver, "own_log")):
        with pytest.raises(RefusedError) as refused:
            await tb_db.decline(db, log.id, actor_id=actor, is_organizer=False, now=NOW)
        assert refused.value.refused.reason == reason
    with pytest.raises(RefusedError) as refused:
        await tb_db.withdraw(db, log.id, actor_id=receiver, now=NOW)
    assert refused.value.refused.reason == "not_giver"
    declined = await tb_db.decline(db, log.id, actor_id=receiver, is_organizer=False, now=NOW)
    assert declined.status is LogStatus.DECLINED
    with pytest.raises(RefusedError):
        await tb_db.withdraw(db, log.id, actor_id=giver, now=NOW)
    assert (
        await tb_db.balance_minutes(db, giver) == 0
        and await tb_db.balance_minutes(db, receiver) == 0
    )


async def test_export_hours(db: Database) -> None:
    giver, receiver = await people(db, 2)
    await tb_db.log_service(
        db,
        giver_id=giver,
        receiver_id=receiver,
        minutes=45,
        what="陪护",
        from_pool=False,
        now=NOW - timedelta(days=3),
    )
    headers, rows = await tb_db.export_hours(db, NOW - timedelta(days=7))
    row = dict(zip(headers, rows[0], strict=True))
    assert (row["giver"], row["receiver"], row["minutes"], row["hours"], row["what"]) == (
        "M1", "M2", 45, 0.75, "陪护",
    )  # fmt: skip
    assert (await tb_db.export_hours(db, NOW))[1] == []
