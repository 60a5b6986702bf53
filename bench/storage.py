"""Measurement 3: storage at scale. /points, /rank (every period and scope) and an event
sign-up timed on a database with a small ledger and on one with a large ledger, both with
the same members (the community is the same; only its history grew). Goal: large/small < 2.

/points and /rank are timed through the views' own `points_view` and `load_board` (every
query the command makes, without the reply). Each figure is the median of many
calls over a fixed sample of members, on a warm page cache, as a running bot sees it.
"""

from __future__ import annotations

import hashlib
import importlib
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from bench import datagen, directory, fund, spaces
from bench.community import building_ids, config
from bench.table import Plan, Row
from linli.bot.context import Services
from linli.bot.render import Renderer
from linli.bot.views.points import points_view
from linli.bot.views.rankings import load_board
from linli.core.clock import FakeClock
from linli.core.points import Period
from linli.core.rankings import Scope, Where
from linli.storage import members as members_db
from linli.storage import points as points_db
from linli.storage.db import Database, load_migrations

M = "3 storage"
Op = Callable[[int], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class Timed:
    name: str
    seconds: float  # median of the calls


def database_path(plan: Plan, entries: int) -> Path:
    """Generated once per size, schema and generator, then reused (bench/results is
    git-ignored): a new migration or generator makes a new file."""
    return Path(plan.workdir) / f"community-{plan.members}m-{entries}e-{schema_tag()}.sqlite3"


def schema_tag() -> str:
    digest = hashlib.sha1(datagen.VERSION.encode())
    for migration in load_migrations():
        digest.update(migration.sql.encode())
    return digest.hexdigest()[:10]


async def ensure_database(plan: Plan, entries: int) -> tuple[Path, float | None]:
    """The database for this size, and how long generating it took (None if reused)."""
    path = database_path(plan, entries)
    if path.exists():
        return path, None
    made = await datagen.generate_async(path, plan.members, entries)
    return path, made.seconds


def sample_members(members: int, count: int = 24) -> list[int]:
    """Members from the busiest (id 1: the power law's head) to the quietest."""
    head = [1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233]
    spread = [
        max(1, members * k // (count - len(head) + 1)) for k in range(1, count - len(head) + 1)
    ]
    return [m for m in head if m <= members] + spread


async def open_services(path: Path) -> Services:
    cfg = config(path)
    db = await Database.open(path)
    return Services(cfg, db, FakeClock(datagen.NOW), Renderer(cfg.tz), cfg.structure())


def operations(services: Services) -> dict[str, Op]:
    """What each command asks of the database, by name, for one member."""
    db = services.db
    context: Any = SimpleNamespace(services=services)
    ops: dict[str, Op] = {}

    async def points(member_id: int) -> object:
        member = await members_db.get_member(db, member_id)
        assert member is not None
        return await points_view(context, member, 0)

    ops["/points"] = points
    for period in Period:
        for scope in Scope:
            for homes in (False, True):

                async def board(
                    member_id: int,
                    period: Period = period,
                    scope: Scope = scope,
                    homes: bool = homes,
                ) -> object:
                    member = await members_db.get_member(db, member_id)
                    assert member is not None
                    return await load_board(
                        context, period, _where(member_id, scope), homes, member
                    )

                name = f"/rank {period.value} {scope.value}" + (" households" if homes else "")
                ops[name] = board
    signup = sign_up_operation(services)
    if signup is not None:
        ops["event sign-up + cancel"] = signup
    return ops


def _where(member_id: int, scope: Scope) -> Where:
    """The member's own building or compound (as /rank shows by default), or the community."""
    building = building_ids()[member_id % len(building_ids())]
    if scope is Scope.BUILDING:
        return Where(scope, building)
    if scope is Scope.COMPOUND:
        return Where(scope, building.split("/")[0])
    return Where(Scope.COMMUNITY)


def sign_up_operation(services: Services) -> Op | None:
    """An event sign-up transaction, once the events feature is there (None until then)."""
    try:
        events_db = importlib.import_module("linli.storage.events")
    except ImportError:
        return None
    from bench import events_support

    return events_support.sign_up_op(services, events_db)


async def with_a_full_page(path: Path, members: list[int], page: int) -> set[int]:
    """The members whose /points shows a full page of entries in this database."""
    services = await open_services(path)
    try:
        return {m for m in members if await points_db.count_entries(services.db, m) >= page}
    finally:
        await services.db.close()


async def time_all(
    services: Services, members: list[int], rounds: int, paged: list[int]
) -> dict[str, float]:
    """Median ms of each operation over the sample; /points over `paged` members only."""
    ops = operations(services)
    for op in ops.values():  # warm the page cache and SQLite's statement cache
        for member in members[:4]:
            await op(member)
    result: dict[str, float] = {}
    for name, op in ops.items():
        samples: list[float] = []
        for _ in range(rounds):
            for member in paged if name == "/points" else members:
                started = time.perf_counter()
                await op(member)
                samples.append(time.perf_counter() - started)
        result[name] = statistics.median(samples)
    return result


async def run(plan: Plan) -> list[Row]:
    small_path, _ = await ensure_database(plan, plan.entries_small)
    large_path, large_gen = await ensure_database(plan, plan.entries_large)
    members = sample_members(plan.members)
    # /points shows the latest page of a member's entries: a member with none (most of the
    # sample at 10k entries, none at 1M) shows an empty page, which is less work whatever
    # the size. Compared like with like: members with a full page in both databases.
    page = config(small_path).points.history_size
    full = await with_a_full_page(small_path, members, page)
    paged = sorted(full & await with_a_full_page(large_path, members, page))
    rounds = 1 if plan.quick else 3
    timings: dict[str, dict[str, float]] = {}
    for label, path in (("small", small_path), ("large", large_path)):
        services = await open_services(path)
        try:
            timings[label] = await time_all(services, members, rounds, paged)
        finally:
            await services.db.close()
    rows: list[Row] = []
    size_note = (
        f"{plan.members:,} members; {plan.entries_small:,} vs {plan.entries_large:,} ledger entries"
    )
    for name, small in timings["small"].items():
        large = timings["large"][name]
        ratio = large / small
        who = f"; {len(paged)} members with a full page" if name == "/points" else ""
        rows.append(
            Row(
                M,
                f"{name}: ms at {_k(plan.entries_small)} / {_k(plan.entries_large)}, ratio",
                ratio,
                "x",
                "< 2",
                ratio < 2,
                f"{small * 1e3:.2f} / {large * 1e3:.2f} ms{who}",
            )
        )
    rows.extend(await fund.rows(plan))  # the fund's ledger, on databases of its own
    rows.extend(await spaces.rows(plan))  # space bookings, likewise; and the week picture
    rows.extend(await directory.rows(plan))  # places and offers, on databases of their own
    if "event sign-up + cancel" not in timings["small"]:
        rows.append(Row(M, "event sign-up + cancel", None, note="n/a (feature missing)"))
    rows.append(
        Row(
            M,
            "database size on disk (large)",
            datagen.size_on_disk(large_path) / 1e6,
            "MB",
            note=size_note,
        )
    )
    if large_gen is not None:
        rows.append(
            Row(M, "generating the large database", large_gen, "s", note="seeded, one transaction")
        )
    return rows


def size_label(plan: Plan) -> str:
    return f"{_k(plan.members)} members, {_k(plan.entries_large)} entries"


def _k(n: int) -> str:
    return f"{n // 1_000_000}M" if n >= 1_000_000 and n % 1_000_000 == 0 else f"{n // 1000}k"


__all__ = ["ensure_database", "run"]
