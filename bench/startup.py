"""Measurement 5: start-up. From launching `python -m linli run` to its first getUpdates on
the simulator server, with the large database (goal < 1.5 s); median of several launches.
The interpreter's own start and every import are included, as a restart pays them."""

from __future__ import annotations

from pathlib import Path

from bench import storage
from bench.linli_process import linli_run, new_simulator, wait_polling
from bench.table import Plan, Row, median

M = "5 start-up"


async def time_start(database: Path, workdir: Path) -> float:
    sim = new_simulator()
    async with linli_run(sim, database, workdir) as (proc, watched, launched):
        await wait_polling(proc, watched, workdir)
        assert watched.first_get_updates is not None
        return watched.first_get_updates - launched


async def run(plan: Plan) -> list[Row]:
    database, _ = await storage.ensure_database(plan, plan.entries_large)
    workdir = Path(plan.workdir) / "startup"
    workdir.mkdir(parents=True, exist_ok=True)
    launches = plan.runs
    seconds = [await time_start(database, workdir) for _ in range(launches)]
    value = median(seconds)
    return [
        Row(
            M,
            f"`linli run` to first getUpdates ({storage.size_label(plan)})",
            value,
            "s",
            "< 1.5",
            value < 1.5,
            f"median of {launches}; min {min(seconds):.2f}, max {max(seconds):.2f} s",
        )
    ]
