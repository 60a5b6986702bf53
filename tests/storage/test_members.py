"""Members, households, roles, groups, drafts: against a fresh migrated database."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from linli.core.community import Binding, NodeKind, Role
from linli.storage import drafts as drafts_db
from linli.storage import groups as groups_db
from linli.storage import members as members_db
from linli.storage.db import Database, load_migrations

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path: Path) -> Database:
    database = await Database.open(tmp_path / "t.sqlite3")
    yield database  # type: ignore[misc]
    await database.close()


async def test_migrations_are_recorded_with_their_description(db: Database) -> None:
    rows = await db.fetchall("SELECT version, name, description FROM schema_migrations")
    assert [r["version"] for r in rows] == [m.version for m in load_migrations()]
    assert rows[0]["description"].startswith("Members, households")
    assert await db.migrate() == []  # nothing twice
    assert await db.scalar("PRAGMA journal_mode") == "wal"
    assert await db.scalar("PRAGMA foreign_keys") == 1


async def test_member_is_created_once_and_keeps_name_fresh(db: Database) -> None:
    first = await members_db.ensure_member(db, 501, "王芳", "wangfang", NOW)
    again = await members_db.ensure_member(db, 501, "王芳芳", "wangfang", NOW)
    assert first.id == again.id and again.name == "王芳芳"
    assert await db.scalar("SELECT count(*) FROM members") == 1


async def test_concurrent_first_contact_creates_one_member(db: Database) -> None:
    made = await asyncio.gather(
        *(members_db.ensure_member(db, 777, "Li", None, NOW) for _ in range(20))
    )
    assert len({m.id for m in made}) == 1


async def test_household_is_shared_and_a_move_clears_verification(db: Database) -> None:
    a = await members_db.ensure_member(db, 1, "A", None, NOW)
    b = await members_db.ensure_member(db, 2, "B", None, NOW)
    a = await members_db.set_home(db, a.id, "heyuan/1", "3-201", NOW)
    b = await members_db.set_home(db, b.id, "heyuan/1", "3-201", NOW)
    assert a.household_id == b.household_id and Role.RESIDENT in a.roles
    assert await members_db.set_verified(db, a.id, None, NOW) is True
    assert await members_db.set_verified(db, a.id, None, NOW) is False  # once
    same = await members_db.set_home(db, a.id, "heyuan/1", "3-201", NOW)
    assert same.verified is True
    moved = await members_db.set_home(db, a.id, "heyuan/2", "1-101", NOW)
    assert moved.verified is False


async def test_roles_are_granted_once_and_audited(db: Database) -> None:
    org = await members_db.ensure_member(db, 1000, "Org", None, NOW)
    m = await members_db.ensure_member(db, 3, "C", "cc", NOW)
    assert await members_db.grant_role(db, m.id, Role.VOLUNTEER, org.id, NOW) is True
    assert await members_db.grant_role(db, m.id, Role.VOLUNTEER, org.id, NOW) is False
    found = await members_db.find_member(db, "@CC")
    assert found is not None and found.has(Role.VOLUNTEER)
    assert await members_db.revoke_role(db, m.id, Role.VOLUNTEER, org.id, NOW) is True
    actions = [r["action"] for r in await db.fetchall("SELECT action FROM audit_log ORDER BY id")]
    assert actions == ["grant", "revoke"]


async def test_find_member_by_each_reference(db: Database) -> None:
    m = await members_db.ensure_member(db, 4242, "D", "dee", NOW)
    for ref in ("@dee", "dee", "4242", f"#{m.id}"):
        found = await members_db.find_member(db, ref)
        assert found is not None and found.id == m.id, ref
    assert await members_db.find_member(db, "@nobody") is None
    assert await members_db.find_member(db, "") is None


async def test_forget_removes_personal_data_but_keeps_the_row(db: Database) -> None:
    m = await members_db.ensure_member(db, 9, "张三", "zhangsan", NOW)
    await members_db.set_home(db, m.id, "heyuan/1", "1-101", NOW)
    await members_db.forget(db, m.id, NOW)
    row = await db.fetchone("SELECT * FROM members WHERE id = ?", (m.id,))
    assert row is not None
    assert row["name"] == "" and row["username"] is None
    assert await db.scalar("SELECT count(*) FROM accounts WHERE member_id = ?", (m.id,)) == 0
    assert row["household_id"] is None and row["forgotten_at"] is not None
    assert await members_db.get_member_by_telegram(db, 9) is None


async def test_groups_bind_and_follow_the_audience(db: Database) -> None:
    from linli.bot.config import load_config
    from linli.core.members import Audience

    community = load_config(Path(__file__).resolve().parents[2] / "config.example.toml").structure()
    org = await members_db.ensure_member(db, 1000, "Org", None, NOW)
    await groups_db.bind_group(
        db, -1, "Community", Binding(-1, NodeKind.COMMUNITY, ""), org.id, NOW
    )
    await groups_db.bind_group(
        db, -2, "Heyuan", Binding(-2, NodeKind.COMPOUND, "heyuan"), org.id, NOW
    )
    await groups_db.bind_group(
        db, -3, "B1", Binding(-3, NodeKind.BUILDING, "heyuan/1"), org.id, NOW
    )
    await groups_db.bind_group(
        db, -4, "Lihu A", Binding(-4, NodeKind.BUILDING, "lihu/A"), org.id, NOW
    )
    await groups_db.bind_group(db, -5, "Vols", Binding(-5, NodeKind.ROLE, "volunteer"), org.id, NOW)

    async def chats(audience: Audience) -> list[int]:
        return sorted(
            g.chat_id for g in await groups_db.groups_for_audience(db, audience, community)
        )

    assert await chats(Audience(NodeKind.BUILDING, "heyuan/1")) == [-3, -2, -1]
    assert await chats(Audience(NodeKind.COMPOUND, "heyuan")) == [-2, -1]
    assert await chats(Audience(NodeKind.COMMUNITY)) == [-1]
    assert await chats(Audience(NodeKind.ROLE, "volunteer")) == [-5]
    await groups_db.deactivate_group(db, -3, NOW)
    assert await chats(Audience(NodeKind.BUILDING, "heyuan/1")) == [-2, -1]


async def test_draft_round_trip_and_clear(db: Database) -> None:
    draft = drafts_db.Draft(55, "join", "unit", {"building": "heyuan/1"})
    await drafts_db.put_draft(db, draft, NOW)
    loaded = await drafts_db.get_draft(db, 55)
    assert loaded == draft
    assert await drafts_db.clear_draft(db, 55, "report") is False
    assert await drafts_db.clear_draft(db, 55) is True
    assert await drafts_db.get_draft(db, 55) is None


async def test_a_failed_transaction_changes_nothing(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO members (name, referral_code, created_at) VALUES ('x', 'r', 't')"
            )
            raise RuntimeError("boom")
    assert await db.scalar("SELECT count(*) FROM members") == 0


async def test_config_organizers_are_recorded_and_dropped_with_the_config(db: Database) -> None:
    a = await members_db.ensure_member(db, 1000, "A", None, NOW)
    b = await members_db.ensure_member(db, 1001, "B", None, NOW)
    c = await members_db.ensure_member(db, 1002, "C", None, NOW)
    await members_db.grant_role(db, c.id, Role.ORGANIZER, a.id, NOW)  # granted in chat
    await members_db.sync_config_organizers(db, [1000, 1001], NOW)
    ids = {m.id for m in await members_db.members_with_role(db, Role.ORGANIZER)}
    assert ids == {a.id, b.id, c.id}
    await members_db.sync_config_organizers(db, [1000], NOW)  # B left the config file
    ids = {m.id for m in await members_db.members_with_role(db, Role.ORGANIZER)}
    assert ids == {a.id, c.id}  # C's role came from /grant and stays
    await members_db.sync_config_organizers(db, [], NOW)
    ids = {m.id for m in await members_db.members_with_role(db, Role.ORGANIZER)}
    assert ids == {c.id}
    assert b.id != c.id


async def test_an_ignored_insert_reports_no_new_row(db: Database) -> None:
    first = await db.write(
        "INSERT OR IGNORE INTO households (building_id, unit, created_at) VALUES ('b', '1', 't')"
    )
    again = await db.write(
        "INSERT OR IGNORE INTO households (building_id, unit, created_at) VALUES ('b', '1', 't')"
    )
    assert first > 0 and again == 0
