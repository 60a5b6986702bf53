"""`linli run` as a separate process against the simulator server in this process: what
measurements 4 (memory) and 5 (start-up) watch."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from bench import community
from linli.sim.core import Simulator
from linli.sim.process import start_linli, stop
from linli.sim.server import SimServer

ROOT = Path(__file__).resolve().parent.parent


class Watched:
    """The simulator's view of the bot: when it first asked for updates."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.first_get_updates: float | None = None
        self.polled = asyncio.Event()
        original = sim.call

        async def call(token: str, method: str, params: dict[str, Any], files: Any = None) -> Any:
            if method.lower() == "getupdates" and self.first_get_updates is None:
                self.first_get_updates = time.monotonic()
                self.polled.set()
            return await original(token, method, params, files)

        sim.call = call  # type: ignore[method-assign]


@contextlib.asynccontextmanager
async def linli_run(
    sim: Simulator, database: Path, workdir: Path
) -> AsyncIterator[tuple[asyncio.subprocess.Process, Watched, float]]:
    """Serve `sim`, start `python -m linli run` on `database`; yields (process, watched,
    launch time). Stops the process (SIGTERM, as a deployment would) on the way out."""
    watched = Watched(sim)
    async with SimServer(sim) as server:
        config = community.write_config(workdir / "config.toml", database, server.api_base_url)
        log = (workdir / "linli-run.log").open("ab")
        launched = time.monotonic()
        proc = await start_linli(config, ROOT, log)
        try:
            yield proc, watched, launched
        finally:
            await stop(proc, grace=20)
            log.close()


async def wait_polling(
    proc: asyncio.subprocess.Process, watched: Watched, workdir: Path, within: float = 60
) -> None:
    """Until the bot's first getUpdates (or its exit: then its log is in the error)."""
    waiter = asyncio.create_task(watched.polled.wait())
    ended = asyncio.create_task(proc.wait())
    await asyncio.wait({waiter, ended}, timeout=within, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    ended.cancel()
    if not watched.polled.is_set():
        log = (workdir / "linli-run.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"linli run did not poll within {within} s: {log}")


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the most resident memory the process has had, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc (Linux only)")


def new_simulator() -> Simulator:
    sim = Simulator(community.TOKEN)
    return sim
