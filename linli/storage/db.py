"""The database: connections, pragmas, numbered migrations and the one write path.

Reads go through a read connection; every write goes through `Database.transaction()`,
which serialises writers in this process with a lock and starts `BEGIN IMMEDIATE`, so a
read-then-write (seats, stock, balances) cannot interleave with another writer here or in
another process (the CLI's export, a second bot by mistake).
"""

from __future__ import annotations

import asyncio
import copy
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
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
# Per task (each update is handled in its own task): statements for its next transaction.
_RIDERS: ContextVar[tuple[tuple[str, Params], ...]] = ContextVar("linli_db_riders", default=())
# The unit of work of the task handling an update, if any (see `Database.unit_of_work`).
_UNIT: ContextVar[Unit | None] = ContextVar("linli_db_unit", default=None)
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

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns the new row's id for an INSERT (0 if it inserted
        nothing, e.g. OR IGNORE), else the number of rows changed."""
        return int(_execute(self._conn, sql, params) or 0)

    async def rowcount(self, sql: str, params: Params = ()) -> int:
        return _rowcount(self._conn, sql, params)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        self._conn.executemany(sql, rows).close()

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        return _fetchone(self._conn, sql, params)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return _fetchall(self._conn, sql, params)

    async def scalar(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]


@dataclass(eq=False, slots=True)
class Unit:
    """One task's unit of work (`Database.unit_of_work`)."""

    owner: asyncio.Task[Any] | None
    tx: Tx | None = None
    depth: int = 0
    closed: bool = False
    checkpoint_after: bool = False


class Database:
    """One SQLite file, used from the event loop's own thread.

    A statement here is an indexed look-up or a small write of 5-40 µs. Sending it to a
    connection's thread and waiting for the answer (what aiosqlite does) cost 130 µs of wall
    time each and put the handler behind every other task twice: 3 to 10 statements per
    update were half of an update's time (bench/). So statements run right here, on one
    connection for reads and writes alike, whose page cache then stays warm: a write on one
    connection empties the cache of every other.

    Nothing can make the loop wait long. In WAL mode a reader never waits for a writer;
    the writer does not wait either: a `BEGIN IMMEDIATE` that finds another process writing
    (a CLI command, a second bot by mistake) waits for it in a thread. A read made while a
    transaction is open (another task's, paused on a network call) goes to a second
    connection, so it never sees what that transaction has not committed.

    Work that reads a lot (exports, the digest, a broadcast's audience: their storage
    functions ask for it) goes through `offloaded()`: the same database whose reads run on
    a third connection in aiosqlite's thread, so a long scan never holds up residents' taps.
    """

    def __init__(
        self,
        path: Path,
        conn: sqlite3.Connection,
        reader: sqlite3.Connection,
        background: aiosqlite.Connection,
    ) -> None:
        self.path = path
        self._conn = conn
        self._reader = reader
        self._background = background
        self._offload = False
        self._write_lock = asyncio.Lock()
        # Statements waiting for the next transaction of any task (see `defer`).
        self._deferred: list[tuple[str, Params]] = []

    @classmethod
    async def open(cls, path: str | Path, *, migrate: bool = True) -> Database:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = _connect(path)
        # Never wait on the loop: a busy database is waited for in a thread (_patiently).
        conn.execute("PRAGMA busy_timeout = 0")
        reader = _connect(path)
        background = await aiosqlite.connect(str(path), isolation_level=None)
        background.row_factory = sqlite3.Row
        for pragma in _PRAGMAS:
            await background.execute(pragma)
        db = cls(path, conn, reader, background)
        if migrate:
            await db.migrate()
        return db

    def offloaded(self) -> Database:
        """This database, with reads run in a thread: for queries that scan a lot."""
        view = copy.copy(self)  # the same connections and the same write lock
        view._offload = True
        return view

    async def close(self) -> None:
        if self._offload:
            raise RuntimeError("close the database, not an offloaded view of it")
        await self.flush()
        await self._background.close()
        self._reader.close()
        self._conn.close()

    async def migrate(self) -> list[Migration]:
        """Apply the migrations this database has not seen; returns those applied."""
        async with self._write_lock:
            applied: list[Migration] = await self._in_worker(_migrate)
            if applied:
                # A migration may drop what must not linger (0008: rows whose order paired
                # secret ballots with voters): fold the log in and truncate it.
                await self._in_worker(_fetchone, "PRAGMA wal_checkpoint(TRUNCATE)", ())
            return applied

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[Unit]:
        """Everything this task writes inside the block commits once, at its end, or not at
        all. The transaction begins with the first write (a block that writes nothing takes
        no lock); each `transaction()` inside it is a savepoint of that one transaction, so a
        refusal raised inside one still undoes just that one. Reads by this task see its own
        uncommitted writes. Whoever uses it must not wait on the network inside it: the
        write lock is held from the first write to the end (linli/bot/outbox.py records the
        messages instead of sending them)."""
        unit = Unit(asyncio.current_task())
        token = _UNIT.set(unit)
        try:
            yield unit
        except BaseException:
            self._end_unit(unit, commit=False)
            raise
        else:
            self._end_unit(unit, commit=True)
        finally:
            _UNIT.reset(token)
        if unit.checkpoint_after:
            await self.checkpoint()

    def abandon_unit(self) -> bool:
        """Roll back this task's unit of work now (a handler failed); later writes of the
        task commit on their own. True if there was anything to roll back."""
        unit = self._my_unit()
        if unit is None:
            return False
        opened = unit.tx is not None
        self._end_unit(unit, commit=False)
        unit.closed = True
        return opened

    def unit_tx(self) -> Tx | None:
        """The open transaction of this task's unit of work (None before its first write)."""
        unit = self._my_unit()
        return unit.tx if unit is not None else None

    def _my_unit(self) -> Unit | None:
        unit = _UNIT.get()
        if unit is None or unit.closed or unit.owner is not asyncio.current_task():
            return None
        return unit

    def _end_unit(self, unit: Unit, *, commit: bool) -> None:
        if unit.tx is None:
            return
        unit.tx = None
        try:
            if commit:
                riders, deferred = _RIDERS.get(), list(self._deferred)
                try:
                    for sql, params in (*riders, *deferred):
                        _execute(self._conn, sql, params)
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                self._conn.execute("COMMIT")
                if riders:
                    _RIDERS.set(())
                del self._deferred[: len(deferred)]
            else:
                self._conn.execute("ROLLBACK")
        finally:
            self._write_lock.release()

    @asynccontextmanager
    async def _savepoint(self, unit: Unit) -> AsyncIterator[Tx]:
        if unit.tx is None:
            await self._write_lock.acquire()
            try:
                await self._begin()
            except BaseException:
                self._write_lock.release()
                raise
            unit.tx = Tx(self._conn)
        unit.depth += 1
        name = f"linli_{unit.depth}"
        self._conn.execute(f"SAVEPOINT {name}")
        try:
            yield unit.tx
        except BaseException:
            self._conn.execute(f"ROLLBACK TO {name}")
            self._conn.execute(f"RELEASE {name}")
            raise
        else:
            self._conn.execute(f"RELEASE {name}")
        finally:
            unit.depth -= 1

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK if the block raises. Statements this task
        asked to `ride_along`, and those deferred by anyone, commit with it. Inside this
        task's unit of work, a savepoint of the unit's transaction instead."""
        unit = self._my_unit()
        if unit is not None:
            async with self._savepoint(unit) as tx:
                yield tx
            return
        async with self._write_lock:
            await self._begin()
            try:
                yield Tx(self._conn)
                riders, deferred = _RIDERS.get(), list(self._deferred)
                for sql, params in (*riders, *deferred):
                    _execute(self._conn, sql, params)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            else:
                self._conn.execute("COMMIT")
                if riders:
                    _RIDERS.set(())
                del self._deferred[: len(deferred)]

    def ride_along(self, sql: str, params: Params = ()) -> None:
        """Commit this statement with the next transaction this task opens, all or nothing
        with it (e.g. "this update was handled" with what handling it wrote)."""
        _RIDERS.set((*_RIDERS.get(), (sql, params)))

    def defer_riders(self) -> int:
        """This task opened no transaction after all: its riders wait for the next
        transaction of anyone (or `flush`); returns how many."""
        riders = _RIDERS.get()
        if riders:
            self._deferred.extend(riders)
            _RIDERS.set(())
        return len(riders)

    def drop_riders(self) -> None:
        _RIDERS.set(())

    async def flush(self) -> None:
        """Write what was deferred, in a transaction of its own."""
        if self._deferred:
            async with self.transaction():
                pass

    async def write(self, sql: str, params: Params = ()) -> int:
        """One statement in its own transaction; returns lastrowid (for INSERT) or rowcount."""
        async with self.transaction() as tx:
            return await tx.execute(sql, params)

    async def _begin(self) -> None:
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as err:
            if not err.sqlite_errorname.startswith("SQLITE_BUSY"):
                raise
            # Another process is writing: wait for it (up to the busy timeout) off the loop.
            await self._in_worker(_begin_immediate)

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        if self._offload:
            row: Row | None = await _in_thread(self._background, _fetchone, sql, params)
            return row
        return _fetchone(self._reading(), sql, params)

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        if self._offload:
            rows: list[Row] = await _in_thread(self._background, _fetchall, sql, params)
            return rows
        return _fetchall(self._reading(), sql, params)

    async def scalar(self, sql: str, params: Params = ()) -> Any:
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    def _reading(self) -> sqlite3.Connection:
        # Whoever holds the write lock has the first connection: in a transaction (whose
        # uncommitted rows a read must not see), or waiting in a thread (_in_worker). A
        # unit of work's own task reads its own writes there.
        if not self._write_lock.locked() or self.unit_tx() is not None:
            return self._conn
        return self._reader

    async def _in_worker(self, fn: Callable[..., Any], *args: Any) -> Any:
        """`fn(connection, *args)` in a worker thread, waiting for locks as long as the busy
        timeout allows; the caller holds the write lock."""
        return await asyncio.to_thread(_patiently, self._conn, fn, *args)

    async def checkpoint(self) -> bool:
        """Fold the WAL into the database file and truncate it, holding the write lock so no
        writer slips in; True if the whole log was checkpointed (no reader held it back).
        Inside a unit of work that has written, it runs right after the unit commits."""
        unit = self._my_unit()
        if unit is not None and unit.tx is not None:
            unit.checkpoint_after = True
            return True
        async with self._write_lock:
            row = await self._in_worker(_fetchone, "PRAGMA wal_checkpoint(TRUNCATE)", ())
        return row is not None and row[0] == 0

    async def backup_to(self, target: str | Path) -> None:
        """A consistent copy of the live database (SQLite's online backup API)."""
        async with aiosqlite.connect(str(target)) as dest:
            await self._background.backup(dest)


def _connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: we issue BEGIN ourselves, so Python's sqlite3 never opens one
    # behind our back. check_same_thread=False: a busy BEGIN or a checkpoint is waited for
    # in a worker thread, while the write lock keeps every other user of it away.
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    for pragma in _PRAGMAS:
        conn.execute(pragma)
    return conn


def _patiently(conn: sqlite3.Connection, fn: Callable[..., Any], *args: Any) -> Any:
    """`fn(conn, *args)` in a worker thread, waiting up to the busy timeout for locks."""
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    try:
        return fn(conn, *args)
    finally:
        conn.execute("PRAGMA busy_timeout = 0")


def _begin_immediate(conn: sqlite3.Connection) -> None:
    conn.execute("BEGIN IMMEDIATE")


def _migrate(conn: sqlite3.Connection) -> list[Migration]:
    applied: list[Migration] = []
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
        " description TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
    for migration in load_migrations():
        if migration.version in done:
            continue
        _apply(conn, migration)
        log.info("applied migration %04d %s", migration.version, migration.name)
        applied.append(migration)
    return applied


def _apply(conn: sqlite3.Connection, migration: Migration) -> None:
    """Run one migration and record it, all or nothing, with foreign keys off and checked.

    A migration may rebuild a table (SQLite's way to drop a UNIQUE column: copy, drop the
    old, rename the new). With foreign keys on, dropping the old table would first delete
    its rows, cascading to or refusing for every row that refers to them. So, as SQLite's
    ALTER TABLE guide says, keys are off while it runs (the pragma does nothing inside a
    transaction, so it is set before BEGIN) and every reference is checked before COMMIT.
    """
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        conn.executescript(
            "BEGIN IMMEDIATE;\n"
            + migration.sql
            + "\nINSERT INTO schema_migrations VALUES ("
            + f"{migration.version}, {_quote(migration.name)},"
            + f" {_quote(migration.description)}, {_quote(to_iso(system_clock()))});"
        )
        broken = conn.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(
                f"migration {migration.version:04d} leaves rows pointing nowhere: "
                + ", ".join(f"{row[0]} row {row[1]} -> {row[2]}" for row in broken[:5])
            )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    finally:
        conn.execute("PRAGMA foreign_keys = ON")


# An offloaded read runs in one trip to the background connection's thread: aiosqlite's own
# `execute` + `fetchone` + `close` take three.
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


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def iso(when: datetime) -> str:
    return to_iso(when)
