"""A seeded community database at any size: members, households, and a points ledger with
the aggregates the points storage keeps beside it (balances, daily, period and household
scores).

    python -m bench.datagen bench/results/large.sqlite3 --members 100000 --entries 1000000

The schema comes from the real migrations (`Database.open`); rows are then written with
`executemany` inside one transaction, which is what makes a million rows take seconds.
Member i (1-based) has Telegram id `community.TELEGRAM_BASE + i` and lives in building
`building_ids()[i % 200]`; households hold two or three members.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.community import TELEGRAM_BASE, building_ids
from linli.core.clock import to_iso
from linli.core.points import SCORED_RULES, Rule, period_labels
from linli.storage.db import Database

VERSION = "6"  # change when the generated rows change (cached databases are keyed by it)
# The benchmarks' "now": every generated entry is in the year before it.
NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
TZ = ZoneInfo("Asia/Shanghai")
DAYS = 365
_EARNS = (
    (Rule.VERIFIED_REPORT, 10, 30),
    (Rule.URGENT_BONUS, 5, 5),
    (Rule.ATTENDANCE, 5, 35),
    (Rule.VOLUNTEER_HOUR, 8, 20),
    (Rule.REFERRAL, 20, 3),
    (Rule.AWARD, 15, 4),
)  # (rule, amount, weight)


@dataclass(frozen=True, slots=True)
class Generated:
    path: Path
    members: int
    entries: int
    seconds: float
    size_bytes: int


def generate(path: Path, members: int, entries: int, seed: int = 9) -> Generated:
    """Write a fresh database at `path` (replacing any) and return what it holds."""
    return asyncio.run(generate_async(path, members, entries, seed))


async def generate_async(path: Path, members: int, entries: int, seed: int = 9) -> Generated:
    """`generate`, from inside an event loop (the rows are written in a worker thread)."""
    started = time.perf_counter()
    await asyncio.to_thread(_remove, path)
    await _migrate(path)
    await asyncio.to_thread(_fill, path, members, entries, seed)
    return Generated(path, members, entries, time.perf_counter() - started, size_on_disk(path))


def _fill(path: Path, members: int, entries: int, seed: int) -> None:
    rng = random.Random(seed)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        # A throwaway file until it is written: no journal, a big page cache (the indexes
        # are filled in random order), then back to WAL as Linli runs it.
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -1000000")
        conn.execute("BEGIN IMMEDIATE")
        _members(conn, members, rng)
        _ledger(conn, members, entries, rng)
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
        conn.execute("PRAGMA journal_mode = WAL")
    finally:
        conn.close()


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def size_on_disk(path: Path) -> int:
    return sum(
        Path(f"{path}{s}").stat().st_size for s in ("", "-wal") if Path(f"{path}{s}").exists()
    )


async def _migrate(path: Path) -> None:
    db = await Database.open(path)
    await db.close()


def _members(conn: sqlite3.Connection, count: int, rng: random.Random) -> None:
    buildings = building_ids()
    created = to_iso(NOW - timedelta(days=DAYS + 30))
    households: list[tuple[int, str, str, str]] = []
    member_rows: list[tuple[object, ...]] = []
    household_of: dict[tuple[str, int], int] = {}
    for i in range(1, count + 1):
        building = buildings[i % len(buildings)]
        # 2-3 members a household: the n-th member of a building lives in unit n // 2.5.
        slot = (i // len(buildings)) * 2 // 5
        key = (building, slot)
        if key not in household_of:
            household_of[key] = len(households) + 1
            floor, door = divmod(slot, 4)
            households.append((household_of[key], building, f"{floor + 1}{door + 1:02d}", created))
        member_rows.append(
            (
                i,
                f"居民{i}",
                None,
                None if i % 3 else "en",
                building,
                household_of[key],
                1,
                1,
                f"b{i:08d}",
                int(rng.random() < 0.02),
                1,
                created,
            )
        )
    conn.executemany(
        "INSERT INTO households (id, building_id, unit, created_at) VALUES (?, ?, ?, ?)",
        households,
    )
    conn.executemany(
        "INSERT INTO members (id, name, username, locale, building_id,"
        " household_id, verified, joined, referral_code, rank_optout, private_chat, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        member_rows,
    )
    conn.executemany(
        "INSERT INTO accounts (platform, external_id, member_id, created_at)"
        " VALUES ('telegram', ?, ?, ?)",
        ((str(TELEGRAM_BASE + i), i, created) for i in range(1, count + 1)),
    )


def _ledger(conn: sqlite3.Connection, members: int, entries: int, rng: random.Random) -> None:
    rules = [r for r, _, _ in _EARNS]
    amounts = {r: a for r, a, _ in _EARNS}
    weights = [w for _, _, w in _EARNS]
    # Entries in time order (ids grow with time, as in an append-only ledger); a few active
    # members do much of the work (a power law), as volunteers do.
    start = NOW - timedelta(days=DAYS)
    offsets = sorted(rng.random() * DAYS * 86_400 for _ in range(entries))
    who = [min(members, int(members * rng.random() ** 2.5) + 1) for _ in range(entries)]
    chosen = rng.choices(rules, weights, k=entries)
    balance: dict[int, int] = defaultdict(int)
    count: dict[int, int] = defaultdict(int)
    daily: dict[tuple[int, str], int] = defaultdict(int)
    rows: list[tuple[object, ...]] = []
    for n, (offset, member, rule) in enumerate(zip(offsets, who, chosen, strict=True), 1):
        when = start + timedelta(seconds=offset)
        day = when.astimezone(TZ).date().isoformat()
        amount = amounts[rule]
        balance[member] += amount
        count[member] += 1
        if rule in SCORED_RULES:
            daily[(member, day)] += amount
        reference = f"H-{n:05d}" if rule in (Rule.VERIFIED_REPORT, Rule.URGENT_BONUS) else ""
        rows.append((n, member, amount, rule, "", reference, f"bench:{n}", None, day, to_iso(when)))
        if len(rows) == 50_000:
            _insert_entries(conn, rows)
            rows = []
    _insert_entries(conn, rows)
    conn.executemany(
        "INSERT INTO points_balances (member_id, balance, score, entries) VALUES (?, ?, ?, ?)",
        [(m, b, b, count[m]) for m, b in balance.items()],
    )
    conn.executemany(
        "INSERT INTO points_daily (member_id, day, score) VALUES (?, ?, ?)",
        [(m, d, s) for (m, d), s in daily.items()],
    )
    periods: dict[tuple[str, int], int] = defaultdict(int)
    for (m, d), score in daily.items():
        for label in period_labels(d):
            periods[(label, m)] += score
    conn.executemany(
        "INSERT INTO points_period (period, member_id, score) VALUES (?, ?, ?)",
        [(p, m, s) for (p, m), s in periods.items()],
    )
    # Households' scores: the sums of their members' (every generated member has a home).
    conn.execute(
        "INSERT INTO household_period (period, household_id, score)"
        " SELECT p.period, m.household_id, SUM(p.score) FROM points_period p"
        " JOIN members m ON m.id = p.member_id GROUP BY p.period, m.household_id"
        " UNION ALL SELECT 'all', m.household_id, SUM(b.score) FROM points_balances b"
        " JOIN members m ON m.id = b.member_id GROUP BY m.household_id"
    )


def _insert_entries(conn: sqlite3.Connection, rows: list[tuple[object, ...]]) -> None:
    conn.executemany(
        "INSERT INTO points_ledger (id, member_id, amount, rule, reason, reference, key,"
        " actor_id, day, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("path", type=Path)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args()
    args.path.parent.mkdir(parents=True, exist_ok=True)
    made = generate(args.path, args.members, args.entries, args.seed)
    print(
        f"{made.path}: {made.members:,} members, {made.entries:,} ledger entries,"
        f" {made.size_bytes / 1e6:.1f} MB, in {made.seconds:.1f} s"
    )


if __name__ == "__main__":
    main()
