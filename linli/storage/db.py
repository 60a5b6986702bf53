"""The database: connections, pragmas, numbered migrations and the one write path.

Reads go through a read connection; every write goes through `Database.transaction()`,
which serialises writers in this process with a lock and starts `BEGIN IMMEDIATE`, so a
read-then-write (seats, stock, balances) cannot interleave with another writer here or in
another process (the CLI's export, a second bot by mistake).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

from linli.core.clock import system_clock, to_iso

log = logging.getLogger(__name__)

Params = Sequence[Any] | dict[str, Any]
Row = sqlite3.Row

BUSY_TIMEOUT_MS = 10_000
_PRAGMAS = (
    "PRAGMA foreign_keys = ON",
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = NORMAL",
    # Deleted rows are overwritten, so a forgotten member or a finished anonymous draft
    # does not linger in free pages of the file.
    "PRAGMA secure_delete = ON",
    f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
)


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    description: str
    sql: str


def load_migrations() -> list[Migration]:
    """Every `NNNN_name.sql` in storage/migrations, in order; its first comment line describes it."""
    found: list[Migration] = []
    folder = resources.files("linli.storage") / "migrations"
    for entry in folder.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        stem = entry.name.removesuffix(".sql")
        number, _, name = stem.partition("_")
        sql = entry.read_text(encoding="utf-8")
        first = sql.lstrip().splitlines()[0] if sql.strip() else ""
        description = first.removeprefix("--").strip()
        found.append(Migration(int(number), name, description, sql))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(versions) != len(set(versions)):
        raise RuntimeError(f"two migrations share a number: {versions}")
    return found


class Tx:
    """The open write transaction; every statement in it commits or rolls back together."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns the new row's id for an INSERT (0 if it inserted
        nothing, e.g. OR IGNORE), else the number of rows changed."""
        return int(await _in_thread(self._conn, _execute, sql, params) or 0)

    async def rowcount(self, sql: str, params: Params = ()) -> int:
        count: int = await _in_thread(self._conn, _rowcount, sql, params)
        return count

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        await self._conn.executemany(sql, rows)

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        row: Row | None = await _in_thread(self._conn, _fetchone, sql, params)
        return row

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        rows: list[Row] = await _in_thread(self._conn, _fetchall, sql, params)
        return rows

    async def scalar(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]


class Database:
    """Two connections to one SQLite file: a reader, and a writer used only inside transactions."""

    def __init__(self, path: Path, reader: aiosqlite.Connection, writer: aiosqlite.Connection):
        self.path = path
        self._reader = reader
        self._writer = writer
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str | Path, *, migrate: bool = True) -> Database:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        writer = await _connect(path)
        reader = await _connect(path)
        db = cls(path, reader, writer)
        if migrate:
            await db.migrate()
        return db

    async def close(self) -> None:
        await self._reader.close()
        await self._writer.close()

    async def migrate(self) -> list[Migration]:
        """Apply the migrations this database has not seen; returns those applied."""
        applied: list[Migration] = []
        async with self._write_lock:
            await self._writer.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                " description TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            async with self._writer.execute("SELECT version FROM schema_migrations") as cur:
                done = {row[0] for row in await cur.fetchall()}
            for migration in load_migrations():
                if migration.version in done:
                    continue
                # executescript commits first; the script and its record then commit together.
                await self._writer.executescript(
                    "BEGIN IMMEDIATE;\n"
                    + migration.sql
                    + "\nINSERT INTO schema_migrations VALUES ("
                    + f"{migration.version}, {_quote(migration.name)},"
                    + f" {_quote(migration.description)}, {_quote(to_iso(system_clock()))});"
                    + "\nCOMMIT;"
                )
                log.info("applied migration %04d %s", migration.version, migration.name)
                applied.append(migration)
        return applied

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK if the block raises."""
        async with self._write_lock:
            await self._writer.execute("BEGIN IMMEDIATE")
            try:
                yield Tx(self._writer)
            except BaseException:
                await self._writer.execute("ROLLBACK")
                raise
            else:
                await self._writer.execute("COMMIT")

    async def write(self, sql: str, params: Params = ()) -> int:
        """One statement in its own transaction (BEGIN IMMEDIATE ... COMMIT in one trip to the
        connection's thread); returns lastrowid (for INSERT) or rowcount."""
        async with self._write_lock:
            return int(await _in_thread(self._writer, _write, sql, params) or 0)

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        row: Row | None = await _in_thread(self._reader, _fetchone, sql, params)
        return row

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        rows: list[Row] = await _in_thread(self._reader, _fetchall, sql, params)
        return rows

    async def scalar(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    async def checkpoint(self) -> bool:
        """Fold the WAL into the database file and truncate it, holding the write lock so no
        writer slips in; True if the whole log was checkpointed (no reader held it back)."""
        async with self._write_lock, self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cur:
            row = await cur.fetchone()
        return row is not None and row[0] == 0

    async def backup_to(self, target: str | Path) -> None:
        """A consistent copy of the live database (SQLite's online backup API)."""
        async with aiosqlite.connect(str(target)) as dest:
            await self._reader.backup(dest)


async def _connect(path: Path) -> aiosqlite.Connection:
    # isolation_level=None: we issue BEGIN ourselves, so Python's sqlite3 never opens one behind our back.
    conn = await aiosqlite.connect(str(path), isolation_level=None)
    conn.row_factory = sqlite3.Row
    for pragma in _PRAGMAS:
        await conn.execute(pragma)
    return conn


# Each statement runs in one trip to the connection's thread: aiosqlite's own `execute` +
# `fetchone` + `close` take three, and on a busy two-core machine every trip waits for the
# thread to be scheduled (bench/: these trips were a third of the time /points took).
async def _in_thread(conn: aiosqlite.Connection, fn: Callable[..., Any], *args: Any) -> Any:
    # `_execute` queues a function on the connection's thread; it is aiosqlite's own
    # mechanism behind every public method (stable since 0.1), not exposed under another name.
    return await conn._execute(fn, conn._conn, *args)  # type: ignore[no-untyped-call]


def _fetchone(conn: sqlite3.Connection, sql: str, params: Params) -> Row | None:
    cursor = conn.execute(sql, params)
    try:
        row: Row | None = cursor.fetchone()
        return row
    finally:
        cursor.close()


def _fetchall(conn: sqlite3.Connection, sql: str, params: Params) -> list[Row]:
    cursor = conn.execute(sql, params)
    try:
        return cursor.fetchall()
    finally:
        cursor.close()


def _execute(conn: sqlite3.Connection, sql: str, params: Params) -> int | None:
    cursor = conn.execute(sql, params)
    try:
        if sql.lstrip()[:6].upper() != "INSERT":
            return cursor.rowcount
        # An INSERT OR IGNORE that inserted nothing leaves lastrowid at the previous insert's
        # id; say 0 instead, so "did it insert?" can be read from the result.
        return cursor.lastrowid if cursor.rowcount > 0 else 0
    finally:
        cursor.close()


def _rowcount(conn: sqlite3.Connection, sql: str, params: Params) -> int:
    cursor = conn.execute(sql, params)
    try:
        return cursor.rowcount
    finally:
        cursor.close()


def _write(conn: sqlite3.Connection, sql: str, params: Params) -> int | None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = _execute(conn, sql, params)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return result


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def iso(when: datetime) -> str:
    return to_iso(when)
