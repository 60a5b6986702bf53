"""Broadcast storage: created once, claimed, recorded, resumed without sending twice."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from linli.core.broadcasts import INTERRUPTED, Counts, DeliveryStatus, Mode, Target
from linli.core.community import Building, Community, Compound, NodeKind, Role
from linli.core.members import Audience
from linli.core.outcomes import Refused
from linli.storage import broadcasts as bc_db
from linli.storage.broadcasts import Broadcast, Delivery, Recipient, Result
from linli.storage.db import Database
from tests.support.broadcasts import bound_group, resident

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
COMMUNITY = Community(
    "和平社区",
    (
        Compound(
            "heyuan",
            "和苑",
            (Building("heyuan/1", "heyuan", "1"), Building("heyuan/2", "heyuan", "2")),
        ),
        Compound("lihu", "丽湖", (Building("lihu/A", "lihu", "A"),)),
    ),
)


@pytest.fixture
async def db(tmp_path: Path) -> Database:
    database = await Database.open(tmp_path / "t.sqlite3")
    yield database  # type: ignore[misc]
    await database.close()


async def test_recipients_for_groups_and_members(db: Database) -> None:
    await bound_group(db, -1, "社区群", NodeKind.COMMUNITY, "", NOW)
    await bound_group(db, -2, "和苑群", NodeKind.COMPOUND, "heyuan", NOW)
    await bound_group(db, -3, "和苑1号楼", NodeKind.BUILDING, "heyuan/1", NOW)
    await bound_group(db, -4, "丽湖A", NodeKind.BUILDING, "lihu/A", NOW)
    await bound_group(db, -5, "志愿者群", NodeKind.ROLE, "volunteer", NOW)
    a = await resident(db, 11, "heyuan/1", NOW)
    b = await resident(db, 12, "lihu/A", NOW, Role.VOLUNTEER)
    await resident(db, 13, "heyuan/2", NOW, joined=False)

    async def chats(target: Target) -> list[int]:
        return sorted(r.chat_id for r in await bc_db.recipients(db, target, COMMUNITY))

    # the community reaches every node's group (not the teams'); a compound its buildings'
    assert await chats(Target(Mode.GROUPS, Audience(NodeKind.COMMUNITY))) == [-4, -3, -2, -1]
    assert await chats(Target(Mode.GROUPS, Audience(NodeKind.COMPOUND, "heyuan"))) == [-3, -2, -1]
    assert await chats(Target(Mode.GROUPS, Audience(NodeKind.COMPOUND, "lihu"))) == [-4, -1]
    assert await chats(Target(Mode.GROUPS, Audience(NodeKind.BUILDING, "heyuan/1"))) == [-3, -2, -1]
    assert await chats(Target(Mode.GROUPS, Audience(NodeKind.ROLE, "volunteer"))) == [-5]
    assert await chats(Target(Mode.MEMBERS, Audience(NodeKind.COMMUNITY))) == [11, 12]
    assert await chats(Target(Mode.MEMBERS, Audience(NodeKind.COMMUNITY), Role.VOLUNTEER)) == [12]
    assert await chats(Target(Mode.MEMBERS, Audience(NodeKind.COMPOUND, "heyuan"))) == [11]
    members = await bc_db.recipients(
        db, Target(Mode.MEMBERS, Audience(NodeKind.COMMUNITY)), COMMUNITY
    )
    assert {r.member_id for r in members} == {a.id, b.id}


async def _create(db: Database, key: str = "k1", n: int = 5) -> Broadcast:
    organizer = await resident(db, 1000, None, NOW, Role.ORGANIZER, name="王主任")
    created = await bc_db.create_broadcast(
        db,
        key=key,
        created_by=organizer.id,
        locale="zh-CN",
        target=Target(Mode.MEMBERS, Audience(NodeKind.COMMUNITY)),
        text="<b>停水</b>",
        photo=None,
        recipients=[Recipient(100 + i, None) for i in range(n)],
        now=NOW,
    )
    assert isinstance(created, Broadcast)
    return created


async def test_create_once_per_key_and_never_for_nobody(db: Database) -> None:
    created = await _create(db)
    assert created.counts == Counts(pending=5)
    assert created.creator_name == "王主任" and created.status == "sending"
    again = await bc_db.create_broadcast(
        db,
        key="k1",
        created_by=created.created_by,
        locale="en",
        target=created.target,
        text="x",
        photo=None,
        recipients=[Recipient(1, None)],
        now=NOW,
    )
    assert again == Refused("already_confirmed", {"id": created.id})
    nobody = await bc_db.create_broadcast(
        db,
        key="k2",
        created_by=created.created_by,
        locale="en",
        target=created.target,
        text="x",
        photo=None,
        recipients=[],
        now=NOW,
    )
    assert nobody == Refused("nobody")
    assert await bc_db.count_broadcasts(db) == 1
    assert await bc_db.find_by_key(db, "k1") == created.id
    audit = await db.fetchall("SELECT action, subject FROM audit_log WHERE action = 'broadcast'")
    assert [tuple(r) for r in audit] == [("broadcast", f"broadcast:{created.id}")]


async def _claim(db: Database, broadcast_id: int, after: int, limit: int) -> list[Delivery]:
    rows = await bc_db.next_pending(db, broadcast_id, after, limit, NOW)
    for row in rows:
        assert await bc_db.claim(db, row.id, NOW)
        assert not await bc_db.claim(db, row.id, NOW)  # claimed once only
    return rows


async def test_claim_record_resume_and_finish(db: Database) -> None:
    b = await _create(db)
    first = await _claim(db, b.id, 0, 2)
    assert [d.chat_id for d in first] == [100, 101]
    # reading on from the last row never hands out the same rows
    second = await _claim(db, b.id, first[-1].id, 2)
    assert [d.chat_id for d in second] == [102, 103]
    await bc_db.record_results(
        db,
        [
            Result(first[0].id, DeliveryStatus.SENT, message_id=7),
            Result(first[1].id, DeliveryStatus.BLOCKED, "Forbidden: bot was blocked by the user"),
            Result(second[0].id, DeliveryStatus.PENDING),  # a 429 not waited out: back in the queue
        ],
        NOW,
    )
    assert await bc_db.counts(db, b.id) == Counts(pending=2, sending=1, sent=1, blocked=1)
    assert not await bc_db.finish(db, b.id, NOW)
    # the bot stops with second[1] in flight: after the restart it is failed, never resent
    assert await bc_db.interrupt_in_flight(db, b.id, NOW) == 1
    assert await bc_db.sending_broadcasts(db) == [b.id]
    rest = await _claim(db, b.id, 0, 10)
    assert sorted(d.chat_id for d in rest) == [102, 104]
    await bc_db.record_results(
        db, [Result(d.id, DeliveryStatus.SENT, message_id=1) for d in rest], NOW
    )
    # a result for a row that is no longer in flight changes nothing
    await bc_db.record_results(db, [Result(second[1].id, DeliveryStatus.SENT, message_id=9)], NOW)
    assert await bc_db.counts(db, b.id) == Counts(sent=3, blocked=1, failed=1)
    assert await bc_db.finish(db, b.id, NOW)
    assert not await bc_db.finish(db, b.id, NOW)
    done = await bc_db.get_broadcast(db, b.id)
    assert done is not None and done.status == "done" and done.finished_at == NOW
    problems = await bc_db.problems(db, b.id, limit=10)
    assert [(p.chat_id, p.status, p.reason) for p in problems] == [
        (101, DeliveryStatus.BLOCKED, "Forbidden: bot was blocked by the user"),
        (103, DeliveryStatus.FAILED, INTERRUPTED),
    ]
    assert await bc_db.delivered_chats(db, b.id) == [100, 102, 104]
    assert await bc_db.sending_broadcasts(db) == []


async def test_audit_log_newest_first(db: Database) -> None:
    first = await _create(db, "a", 1)
    second = await _create(db, "b", 2)
    listed = await bc_db.list_broadcasts(db, limit=10)
    assert [b.id for b in listed] == [second.id, first.id]
    assert [b.counts.total for b in listed] == [2, 1]
    assert [b.id for b in await bc_db.list_broadcasts(db, limit=1, offset=1)] == [first.id]
