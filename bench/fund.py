"""Part of measurement 3: the community fund's /fund and monthly report on a small and a
large ledger (the plan's entries_small vs entries_large fund entries, three a booking:
incomes split 70/25/5 over three years). Goal: large/small < 2 (they read balances,
the latest bookings and month aggregates, never the whole ledger)."""

from __future__ import annotations

import sqlite3
import statistics
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from bench.table import Plan, Row
from linli.core.fund import FUND, last_months
from linli.storage import fund as fund_db
from linli.storage.db import Database

M = "3 storage"
MONTHS = last_months("2026-10", 36)
RULE = (("provider", 70), ("hub", 25), (FUND, 5))
CALLS = 200


def _generate(path: Path, entries: int) -> None:
    """Bookings spread evenly over 36 months, with balances and month aggregates in step."""
    conn = sqlite3.connect(path)
    try:
        bookings = max(1, entries // len(RULE))
        txns, rows, monthly, balances = [], [], {}, dict.fromkeys((a for a, _ in RULE), 0)
        for n in range(1, bookings + 1):
            month = MONTHS[n * len(MONTHS) // (bookings + 1)]
            amount = 10_000 + n % 90_000
            txns.append((n, "income", "service_outsourcing", amount, f"收入 {n}", f"k{n}", month,
                         f"{month}-15T02:00:00+00:00"))  # fmt: skip
            shares = {a: amount * p // 100 for a, p in RULE if a != FUND}
            shares[FUND] = amount - sum(shares.values())
            for account, share in shares.items():
                rows.append((n, account, share))
                balances[account] += share
                key = (month, account)
                monthly[key] = monthly.get(key, 0) + share
        conn.executemany(
            "INSERT INTO fund_txns (id, kind, income_kind, amount, purpose, key, month, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            txns,
        )
        conn.executemany(
            "INSERT INTO fund_entries (txn_id, account, amount) VALUES (?, ?, ?)", rows
        )
        conn.executemany(
            "INSERT INTO fund_balances (account, balance) VALUES (?, ?)", balances.items()
        )
        conn.executemany(
            "INSERT INTO fund_monthly (month, kind, income_kind, account, amount)"
            " VALUES (?, 'income', 'service_outsourcing', ?, ?)",
            [(m, a, v) for (m, a), v in monthly.items()],
        )
        conn.commit()
    finally:
        conn.close()


async def _database(plan: Plan, entries: int) -> Path:
    path = Path(plan.workdir) / f"fund-{entries}e.sqlite3"
    path.unlink(missing_ok=True)  # cheap to make; never a stale schema
    db = await Database.open(path)  # migrated
    await db.close()
    _generate(path, entries)
    return path


async def _median_ms(call: Callable[[], Awaitable[object]], calls: int) -> float:
    for _ in range(5):
        await call()
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1e3


async def _timings(path: Path, calls: int) -> dict[str, float]:
    db = await Database.open(path)
    try:

        async def books() -> object:  # what /fund reads
            return (await fund_db.books(db), await fund_db.open_rounds(db))

        async def report() -> object:  # what the monthly report reads
            return await fund_db.month_report(db, MONTHS[-1])

        return {"/fund": await _median_ms(books, calls),
                "fund monthly report": await _median_ms(report, calls)}  # fmt: skip
    finally:
        await db.close()


async def rows(plan: Plan) -> list[Row]:
    calls = 50 if plan.quick else CALLS
    small = await _timings(await _database(plan, plan.entries_small), calls)
    large = await _timings(await _database(plan, plan.entries_large), calls)
    out = []
    for name, ms in small.items():
        ratio = large[name] / ms
        out.append(Row(M, f"{name}: ms at {plan.entries_small:,} / {plan.entries_large:,} fund entries, ratio",
                       ratio, "x", "< 2", ratio < 2, f"{ms:.2f} / {large[name]:.2f} ms"))  # fmt: skip
    return out
