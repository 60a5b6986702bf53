"""Measurement 4: peak resident memory (VmHWM) of a `python -m linli run` process on the large
database while residents send it the update mix through the simulator server (goal < 150 MB).

The mix is sent in waves; after each wave a sentinel /points from the last resident is
answered only once everything before it was handled (Linli handles updates in order)."""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path

from bench import mix, storage
from bench.linli_process import linli_run, new_simulator, peak_rss_mb, wait_polling
from bench.table import Plan, Row
from linli.bot.app import build_application

M = "4 memory"
WAVE = 100


async def _prepare(database: Path) -> tuple[dict[str, bool], mix.Targets, int]:
    """Kinds, targets, and the last update id the database has handled (the database is
    reused between runs, and Telegram's update ids only grow)."""
    services = await storage.open_services(database)
    try:
        app = build_application(services, rate_limit=False, scheduler=False)
        found = mix.available(app)
        handled = await services.db.scalar("SELECT max(update_id) FROM processed_updates")
        return found, await mix.prepare(services, found), int(handled or 0)
    finally:
        await services.db.close()


async def _answered(sim: object, user: int, after: int, within: float = 120) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        last = sim.last(user)  # type: ignore[attr-defined]
        if last is not None and last.message_id > after:
            return
        await asyncio.sleep(0.02)
    raise RuntimeError("linli run did not answer the mix in time")


async def run(plan: Plan) -> list[Row]:
    database, _ = await storage.ensure_database(plan, plan.entries_large)
    workdir = Path(plan.workdir) / "memory"
    workdir.mkdir(parents=True, exist_ok=True)
    found, targets, handled = await _prepare(database)
    kinds = [k for k in mix.KINDS if found[k]]
    users = mix.user_ids(min(plan.residents, plan.members))
    sent = plan.updates if plan.quick else plan.updates * 2
    sim = new_simulator()
    sim._update_ids = itertools.count(handled + 1)
    mix.open_chats(sim, users)
    async with linli_run(sim, database, workdir) as (proc, watched, _):
        await wait_polling(proc, watched, workdir)
        after_start = peak_rss_mb(proc.pid)
        sentinel = users[-1]
        # Each resident's first answer, for the taps to press on.
        for user in users:
            sim.send_text(user, user, "/points")
        await _answered(sim, sentinel, 0)
        began = time.monotonic()
        for start in range(0, sent, WAVE):
            for kind, user, nth in mix.schedule(kinds, users, min(WAVE, sent - start), start):
                mix.inject(sim, kind, user, nth, targets)
            last = sim.last(sentinel)
            sim.send_text(sentinel, sentinel, "/points")
            await _answered(sim, sentinel, last.message_id if last else 0)
        rate = (sent + sent // WAVE) / (time.monotonic() - began)
        peak = peak_rss_mb(proc.pid)
    label = storage.size_label(plan)
    return [
        Row(
            M,
            f"peak RSS of `linli run` under the mix ({label})",
            peak,
            "MB",
            "< 150",
            peak < 150,
            f"{after_start:.0f} MB when it first polled; {sent + len(users)} updates from {len(users)} residents",
        ),
        Row(
            M,
            "`linli run` updates/s under the mix (its rate limiter on)",
            rate,
            "/s",
            note="Telegram's 30 messages/s overall caps what a deployed bot answers",
        ),
    ]
