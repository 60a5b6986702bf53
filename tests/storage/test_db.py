"""The database's connections: statements run on the loop, yet the loop never waits for
another process's write, a read never sees another task's uncommitted transaction, and an
offloaded read (exports, the digest) gives the same rows from aiosqlite's thread."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from linli.storage.db import Database


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "t.sqlite3")
    await database.write("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    yield database
    await database.close()


async def test_another_process_writing_makes_a_write_wait_but_not_the_loop(db: Database) -> None:
    other = sqlite3.connect(db.path, isolation_level=None)  # as a CLI command would
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO notes (body) VALUES ('from the other process')")
    write = asyncio.create_task(db.write("INSERT INTO notes (body) VALUES ('from the bot')"))
    await asyncio.sleep(0.2)
    assert not write.done()  # waiting for the other writer...
    # ...while the loop goes on: a read answers at once, and sees neither row yet.
    assert await db.scalar("SELECT count(*) FROM notes") == 0
    other.execute("COMMIT")
    other.close()
    await asyncio.wait_for(write, 5)
    bodies = [r["body"] for r in await db.fetchall("SELECT body FROM notes ORDER BY id")]
    assert bodies == ["from the other process", "from the bot"]
    # the connection waits no longer than the loop can afford afterwards
    assert await db.scalar("PRAGMA busy_timeout") == 0


async def test_a_read_never_sees_a_paused_transaction(db: Database) -> None:
    inside = asyncio.Event()
    finish = asyncio.Event()

    async def writer() -> None:
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO notes (body) VALUES ('not yet')")
            assert await tx.scalar("SELECT count(*) FROM notes") == 1  # its own write
            inside.set()
            await finish.wait()  # e.g. a network call in the middle of the transaction

    task = asyncio.create_task(writer())
    await inside.wait()
    assert await db.scalar("SELECT count(*) FROM notes") == 0
    finish.set()
    await task
    assert await db.scalar("SELECT count(*) FROM notes") == 1


async def test_a_failed_transaction_leaves_nothing(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO notes (body) VALUES ('half')")
            raise RuntimeError("stop")
    assert await db.scalar("SELECT count(*) FROM notes") == 0
    assert await db.write("INSERT INTO notes (body) VALUES ('whole')") == 1


async def test_offloaded_reads_give_the_same_rows_and_share_the_write_lock(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.executemany("INSERT INTO notes (body) VALUES (?)", [(f"n{i}",) for i in range(50)])
    view = db.offloaded()
    assert [tuple(r) for r in await view.fetchall("SELECT * FROM notes")] == [
        tuple(r) for r in await db.fetchall("SELECT * FROM notes")
    ]
    assert await view.scalar("SELECT body FROM notes WHERE id = 7") == "n6"
    assert await view.fetchone("SELECT * FROM notes WHERE id = 999") is None
    # one writer at a time, whichever view it comes through
    order: list[str] = []

    async def through(database: Database, name: str) -> None:
        async with database.transaction() as tx:
            order.append(f"{name} in")
            await asyncio.sleep(0.01)
            await tx.execute("INSERT INTO notes (body) VALUES (?)", (name,))
            order.append(f"{name} out")

    await asyncio.gather(through(db, "a"), through(view, "b"))
    assert order in (["a in", "a out", "b in", "b out"], ["b in", "b out", "a in", "a out"])
    with pytest.raises(RuntimeError, match="close the database"):
        await view.close()


async def test_a_checkpoint_empties_the_log(db: Database) -> None:
    await db.write("INSERT INTO notes (body) VALUES ('x')")
    assert await db.checkpoint() is True
    assert (db.path.parent / (db.path.name + "-wal")).stat().st_size == 0


async def test_a_rider_commits_with_the_tasks_next_transaction_or_not_at_all(db: Database) -> None:
    async def handle() -> None:
        db.ride_along("INSERT INTO notes (body) VALUES ('handled')")
        with pytest.raises(RuntimeError):
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO notes (body) VALUES ('refused')")
                raise RuntimeError("a rule said no")
        assert await db.scalar("SELECT count(*) FROM notes") == 0  # the rider rolled back too
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO notes (body) VALUES ('effect')")
        async with db.transaction() as tx:  # a rider rides once
            await tx.execute("INSERT INTO notes (body) VALUES ('more')")

    async def other_task() -> None:
        async with db.transaction() as tx:  # another task's transaction takes no rider
            await tx.execute("INSERT INTO notes (body) VALUES ('other')")

    await asyncio.gather(asyncio.create_task(handle()), asyncio.create_task(other_task()))
    bodies = sorted(r["body"] for r in await db.fetchall("SELECT body FROM notes"))
    assert bodies == ["effect", "handled", "more", "other"]


async def test_a_deferred_rider_waits_for_anyones_write_or_a_flush(db: Database) -> None:
    async def read_only() -> int:
        db.ride_along("INSERT INTO notes (body) VALUES ('mark 1')")
        return db.defer_riders()

    assert await asyncio.create_task(read_only()) == 1
    assert await db.scalar("SELECT count(*) FROM notes") == 0
    await db.write("INSERT INTO notes (body) VALUES ('a write')")  # takes it along
    assert await db.scalar("SELECT count(*) FROM notes WHERE body = 'mark 1'") == 1
    await asyncio.create_task(read_only())
    await db.flush()
    assert await db.scalar("SELECT count(*) FROM notes WHERE body = 'mark 1'") == 2
