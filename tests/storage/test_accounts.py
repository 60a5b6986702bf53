"""Accounts: a member's Telegram account is a row beside the member, and 0011 moved every one
there from members.telegram_id without losing a member, a role or a reference."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from linli.storage import accounts as accounts_db
from linli.storage import db as db_module
from linli.storage import members as members_db
from linli.storage.db import Database, Migration

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
ACCOUNTS = 11


@pytest.fixture
async def db(tmp_path: Path) -> Database:
    database = await Database.open(tmp_path / "t.sqlite3")
    yield database  # type: ignore[misc]
    await database.close()


async def test_a_new_member_gets_a_telegram_account_and_is_found_by_it(db: Database) -> None:
    m = await members_db.ensure_member(db, 501, "王芳", "wangfang", NOW)
    rows = await db.fetchall("SELECT platform, external_id, member_id FROM accounts")
    assert [tuple(r) for r in rows] == [("telegram", "501", m.id)]
    found = await members_db.get_member_by_telegram(db, 501)
    assert found is not None and found.id == m.id
    assert await members_db.get_member_by_account(db, "telegram", "501") == found
    assert await accounts_db.telegram_id_of(db, m.id) == 501
    assert await accounts_db.external_id_of(db, "matrix", m.id) is None
    assert await accounts_db.telegram_ids(db, [m.id, 999]) == {m.id: 501}


async def test_forgetting_deletes_the_account_and_a_return_makes_a_new_member(
    db: Database,
) -> None:
    m = await members_db.ensure_member(db, 9, "张三", None, NOW)
    await members_db.forget(db, m.id, NOW)
    assert await accounts_db.telegram_id_of(db, m.id) is None
    gone = await members_db.get_member(db, m.id)
    assert gone is not None and gone.forgotten
    back = await members_db.ensure_member(db, 9, "张三", None, NOW)
    assert back.id != m.id and not back.forgotten
    assert await accounts_db.telegram_ids(db) == {back.id: 9}


async def test_one_account_per_platform_per_member(db: Database) -> None:
    m = await members_db.ensure_member(db, 7, "A", None, NOW)
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction() as tx:
            await accounts_db.add_account(tx, "telegram", "8", m.id, NOW)
    async with db.transaction() as tx:
        await accounts_db.add_account(tx, "matrix", "@a:example.org", m.id, NOW)
    assert await accounts_db.member_id_for(db, "matrix", "@a:example.org") == m.id


# --- 0011: from members.telegram_id to accounts ----------------------------------------------

OLD_MEMBERS: list[tuple[Any, ...]] = [
    # id, telegram_id, name, building, household, verified_by, referred_by, forgotten, blocked
    (1, 1000, "主任", None, None, None, None, None, None),
    (2, 2001, "王芳", "heyuan/1", 1, 1, None, None, None),
    (3, 2002, "李雷", "heyuan/1", 1, 1, 2, None, "2026-11-01T00:00:00+00:00"),
    (4, None, "", None, None, None, None, "2026-10-01T00:00:00+00:00", None),  # /forgetme
    (5, 7_000_000_001, "Bob", "heyuan/2", 2, None, 2, None, None),
]


async def old_database(path: Path, monkeypatch: pytest.MonkeyPatch, keep: int) -> None:
    """A database at the schema before 0011 (with the migrations numbered below `keep`, and
    the later ones deployed databases already applied), holding members as the code before
    0011 wrote them, with rows in other tables that refer to them."""
    every = db_module.load_migrations()
    monkeypatch.setattr(
        db_module,
        "load_migrations",
        lambda: [m for m in every if m.version != ACCOUNTS and m.version < keep],
    )
    old = await Database.open(path)
    async with old.transaction() as tx:
        for hid, building, unit in ((1, "heyuan/1", "101"), (2, "heyuan/2", "202")):
            await tx.execute(
                "INSERT INTO households (id, building_id, unit, created_at) VALUES (?, ?, ?, ?)",
                (hid, building, unit, "2026-01-01T00:00:00+00:00"),
            )
        for mid, tid, name, building, hid, by, ref, forgotten, blocked in OLD_MEMBERS:
            await tx.execute(
                "INSERT INTO members (id, telegram_id, name, username, locale, language_code,"
                " building_id, household_id, verified, verified_by, verified_at, joined,"
                " joined_at, referral_code, referred_by, rank_optout, private_chat, created_at,"
                " forgotten_at, blocked_at)"
                " VALUES (?, ?, ?, ?, 'en', 'zh-hans', ?, ?, ?, ?, ?, 1, ?, ?, ?, 0, 1, ?, ?, ?)",
                (mid, tid, name, f"u{mid}" if name else None, building, hid, int(by is not None),
                 by, "2026-02-01T00:00:00+00:00" if by else None, "2026-01-02T00:00:00+00:00",
                 f"ref{mid}", ref, f"2026-01-0{mid}T00:00:00+00:00", forgotten, blocked),
            )  # fmt: skip
        # member_roles cascades on delete: a rebuild with foreign keys on would empty it.
        await tx.execute(
            "INSERT INTO member_roles (member_id, role, granted_by, granted_at, from_config)"
            " VALUES (1, 'organizer', NULL, 't', 1), (3, 'building_leader', 1, 't', 0)"
        )
        await tx.execute(
            "INSERT INTO points_ledger (member_id, amount, rule, reason, reference, key,"
            " actor_id, day, created_at) VALUES (2, 5, 'award', '', '', 'k1', 1, '2026-11-01', 't')"
        )
        await tx.execute(
            "INSERT INTO audit_log (actor_id, action, subject, detail, created_at)"
            " VALUES (1, 'grant', 'member:3', 'building_leader', 't')"
        )
    await old.close()
    monkeypatch.setattr(db_module, "load_migrations", lambda: every)


def _rows(path: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(path)
    try:
        return [tuple(r) for r in conn.execute(sql)]
    finally:
        conn.close()


@pytest.mark.parametrize("keep", [ACCOUNTS, 10_000], ids=["just-before", "deployed-later-ones"])
async def test_0011_moves_every_telegram_account_and_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keep: int
) -> None:
    path = tmp_path / "old.sqlite3"
    await old_database(path, monkeypatch, keep)
    columns = "id, name, username, locale, language_code, building_id, household_id, verified,"
    columns += " verified_by, verified_at, joined, joined_at, referral_code, referred_by,"
    columns += " rank_optout, private_chat, created_at, forgotten_at, blocked_at"
    before = _rows(path, f"SELECT {columns} FROM members ORDER BY id")
    roles = _rows(path, "SELECT * FROM member_roles ORDER BY member_id")
    ledger = _rows(path, "SELECT * FROM points_ledger")

    db = await Database.open(path)
    try:
        assert await db.migrate() == []  # opened = migrated
        accounts = await db.fetchall(
            "SELECT platform, external_id, member_id, created_at FROM accounts ORDER BY member_id"
        )
        assert [tuple(a) for a in accounts] == [
            ("telegram", str(tid), mid, f"2026-01-0{mid}T00:00:00+00:00")
            for mid, tid, *_ in OLD_MEMBERS
            if tid is not None
        ]
        for mid, tid, *_ in OLD_MEMBERS:
            if tid is not None:
                found = await members_db.get_member_by_telegram(db, tid)
                assert found is not None and found.id == mid
                assert await accounts_db.telegram_id_of(db, mid) == tid
        forgotten = await members_db.get_member(db, 4)
        assert forgotten is not None and forgotten.forgotten
        assert await accounts_db.telegram_id_of(db, 4) is None
        assert await db.scalar("PRAGMA foreign_keys") == 1
        assert await db.fetchall("PRAGMA foreign_key_check") == []
    finally:
        await db.close()

    # Every other column, row, role and reference as it was; telegram_id gone.
    assert _rows(path, f"SELECT {columns} FROM members ORDER BY id") == before
    assert _rows(path, "SELECT * FROM member_roles ORDER BY member_id") == roles
    assert _rows(path, "SELECT * FROM points_ledger") == ledger
    names = [r[1] for r in _rows(path, "PRAGMA table_info(members)")]
    assert "telegram_id" not in names and ", ".join(names) == columns
    indexes = {r[1]: r[2] for r in _rows(path, "PRAGMA index_list(members)")}
    assert {"members_building", "members_household"} <= indexes.keys()
    assert [unique for name, unique in indexes.items() if name.startswith("sqlite_")] == [1]
    keys = sorted((r[3], r[2], r[4]) for r in _rows(path, "PRAGMA foreign_key_list(members)"))
    assert keys == [
        ("household_id", "households", "id"),
        ("referred_by", "members", "id"),
        ("verified_by", "members", "id"),
    ]
    # Tables that refer to members still do, to the rebuilt table.
    for table in ("member_roles", "points_ledger", "accounts"):
        targets = {r[2] for r in _rows(path, f"PRAGMA foreign_key_list({table})")}
        assert "members" in targets, table


async def test_a_migration_leaving_broken_references_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keys are off while a migration runs, so the runner checks them before it commits."""
    path = tmp_path / "t.sqlite3"
    db = await Database.open(path)
    every = db_module.load_migrations()
    broken = Migration(
        99_999, "broken", "breaks", "INSERT INTO member_roles VALUES (42, 'x', NULL, 't', 0);"
    )
    monkeypatch.setattr(db_module, "load_migrations", lambda: [*every, broken])
    try:
        with pytest.raises(RuntimeError, match="pointing nowhere"):
            await db.migrate()
        assert await db.scalar("SELECT count(*) FROM member_roles") == 0
        assert await db.scalar("SELECT max(version) FROM schema_migrations") == every[-1].version
        assert await db.scalar("PRAGMA foreign_keys") == 1
    finally:
        await db.close()
