"""Part of measurement 3: shared spaces. A booking and its cancel (every rule checked in one
transaction: overlap, emergencies, the household's week, its no-shows) on a database with
the plan's entries_small and one with entries_large bookings (20 spaces, ten years and more
of history, the bench household's share among them). Goal: large/small < 2 (the rules read
a bounded look-back through partial indexes, never the history). And the week picture
(matplotlib Agg, 1080x1080 px, what /spaces sends) drawn once: its median render time."""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.table import Plan, Row
from linli.bot import charts
from linli.bot.views.spaces import render_week
from linli.core.clock import to_iso
from linli.core.community import Building, Community, Compound, NodeKind
from linli.core.members import Audience, Member
from linli.core.spaces import (
    CODE_ALPHABET,
    Approval,
    Hours,
    Rules,
    Slot,
    Space,
    household_key,
    week_grid,
)
from linli.storage import members as members_db
from linli.storage import spaces as spaces_db
from linli.storage.db import Database, load_migrations

M = "3 storage"
TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # Thursday 10:00 in Shanghai
SPACES = 20
HOURS = Hours(8 * 60, 22 * 60)  # 14 one-hour slots a day
RULES = Rules(hours=(HOURS,) * 7, slot_minutes=60, min_minutes=60, max_minutes=120,
              quota_minutes=6 * 60)  # fmt: skip
COMMUNITY = Community("社区", (Compound("c", "小区", (Building("c/1", "c", "1"),)),))
STATUSES = ("checked_in",) * 16 + ("cancelled", "cancelled", "no_show", "declined")
CALLS = 200
LABELS = {"weekdays": "Mon,Tue,Wed,Thu,Fri,Sat,Sun", "chart_space": "Space",
          "cell_free": "free", "cell_booked": "booked", "cell_closed": "closed",
          "cell_emergency": "emergency"}  # fmt: skip


def _code(n: int) -> str:
    """A 5-character code per row (the history): unique, and never one of the 4-character
    codes a new booking draws first."""
    chars = []
    for _ in range(5):
        n, digit = divmod(n, len(CODE_ALPHABET))
        chars.append(CODE_ALPHABET[digit])
    return "B-" + "".join(chars)


def _generate(path: Path, bookings: int, household: str) -> None:
    """Past bookings, one hour each, filling every space's slots backwards from yesterday;
    one in 200 is the bench household's."""
    conn = sqlite3.connect(path)
    try:
        rows = []
        for n in range(bookings):
            space, k = n % SPACES + 1, n // SPACES
            day, slot = divmod(k, 14)
            local = datetime.combine(NOW.astimezone(TZ).date() - timedelta(days=day + 1),
                                     datetime.min.time(), tzinfo=TZ) + timedelta(hours=8 + slot)  # fmt: skip
            start = local.astimezone(UTC)
            who = household if n % 200 == 0 else f"h:{n % 2000 + 10_000}"
            status = STATUSES[n % len(STATUSES)]
            rows.append((_code(n), space, who, to_iso(start), to_iso(start + timedelta(hours=1)),
                         "活动", status, f"hist:{n}", to_iso(start - timedelta(days=2))))  # fmt: skip
        conn.executemany(
            "INSERT INTO space_bookings (code, space_id, household, starts_at, ends_at, purpose,"
            " status, key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        conn.commit()
    finally:
        conn.close()


def _seed(i: int) -> spaces_db.SeedSpace:
    return spaces_db.SeedSpace(f"room{i}", f"活动室{i}", f"Room {i}", "1号楼", "room", 20, RULES,
                               Audience(NodeKind.COMMUNITY), Approval.NONE, 0, None)  # fmt: skip


VERSION = "spaces-1"  # change when the generator changes: a new file is made


def _tag() -> str:
    digest = hashlib.sha1(VERSION.encode())
    for migration in load_migrations():
        digest.update(migration.sql.encode())
    return digest.hexdigest()[:10]


async def _database(plan: Plan, bookings: int) -> tuple[Path, Member]:
    """Generated once per size, schema and generator (1M bookings take a minute or two),
    then reused: the timed bookings are cancelled again, so reuse changes nothing."""
    path = Path(plan.workdir) / f"spaces-{bookings}b-{_tag()}.sqlite3"
    fresh = not path.exists()
    db = await Database.open(path)
    try:
        if fresh:
            await spaces_db.seed_spaces(db, [_seed(i) for i in range(1, SPACES + 1)], NOW)
        member = await members_db.ensure_member(db, 9001, "居民", None, NOW)
        member = await members_db.set_home(db, member.id, "c/1", "101", NOW)
    finally:
        await db.close()
    if fresh:
        try:
            _generate(path, bookings, household_key(member))
        except BaseException:
            path.unlink(missing_ok=True)
            raise
    return path, member


async def _median_ms(call: Callable[[int], Awaitable[object]], calls: int) -> float:
    for i in range(5):
        await call(-1 - i)
    samples = []
    for i in range(calls):
        started = time.perf_counter()
        await call(i)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1e3


async def _book_and_cancel_ms(path: Path, member: Member, calls: int) -> float:
    db = await Database.open(path)
    try:
        start = datetime(2026, 11, 27, 10, tzinfo=TZ)  # tomorrow: free in both databases
        run = secrets.token_hex(4)  # keys of this run's bookings (a reused file has others)

        async def book_and_cancel(i: int) -> object:
            made = await spaces_db.book(
                db, space_id=1, member=member, slot=Slot(start, 60), purpose="读书会",
                key=f"bench:{run}:{i}", now=NOW, tz=TZ, community=COMMUNITY,
            )  # fmt: skip
            return await spaces_db.cancel(db, made.booking.id, member.id, NOW, TZ)

        return await _median_ms(book_and_cancel, calls)
    finally:
        await db.close()


def _picture_ms(renders: int) -> tuple[float, int]:
    """The week picture of a half-booked week: median ms, and the PNG's size in bytes."""
    first = NOW.astimezone(TZ).date()
    taken = [
        (datetime.combine(first + timedelta(days=d), datetime.min.time(), tzinfo=TZ)
         + timedelta(hours=h), datetime.combine(first + timedelta(days=d), datetime.min.time(),
                                                tzinfo=TZ) + timedelta(hours=h + 1))
        for d in range(7) for h in range(8, 22, 2)
    ]  # fmt: skip
    grid = week_grid(_as_space(_seed(1)), first, taken, [], NOW, TZ)
    font = charts.find_cjk_font("")

    def lbl(key: str, **values: Any) -> str:
        return LABELS[key]

    png = render_week(grid, "活动室", lbl, font)  # warm: fonts, matplotlib's caches
    samples = []
    for _ in range(renders):
        started = time.perf_counter()
        png = render_week(grid, "活动室", lbl, font)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1e3, len(png)


def _as_space(seed: spaces_db.SeedSpace) -> Space:
    return Space(0, seed.key, seed.name, seed.name_en, seed.place, seed.kind, seed.capacity,
                 seed.rules, seed.audience, seed.approval, seed.price, None, "ABCDEF")  # fmt: skip


async def rows(plan: Plan) -> list[Row]:
    calls = 50 if plan.quick else CALLS
    small_path, small_member = await _database(plan, plan.entries_small)
    large_path, large_member = await _database(plan, plan.entries_large)
    small = await _book_and_cancel_ms(small_path, small_member, calls)
    large = await _book_and_cancel_ms(large_path, large_member, calls)
    ratio = large / small
    picture, size = _picture_ms(5 if plan.quick else 20)
    return [
        Row(M, f"space booking + cancel: ms at {plan.entries_small:,} / {plan.entries_large:,}"
            " bookings, ratio", ratio, "x", "< 2", ratio < 2,
            f"{small:.2f} / {large:.2f} ms"),
        Row(M, "space week picture: render ms (1080x1080 PNG)", picture, "ms", "< 1000",
            picture < 1000, f"median of {5 if plan.quick else 20}; {size // 1024} KB"),
    ]  # fmt: skip
