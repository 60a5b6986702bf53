"""End-to-end: `linli run` as a separate process, against the simulator on 127.0.0.1.

The simulator server runs in the test's event loop, so a test can both talk to it over
HTTP as residents do (`bot.client`, a SimClient) and look at it directly (`bot.sim`).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from linli.sim.client import SimClient
from linli.sim.core import Simulator
from linli.sim.process import start_linli, stop
from linli.sim.server import SimServer

REPO = Path(__file__).resolve().parents[2]
TOKEN = "123:TEST"
ORGANIZER = 1000
ORGANIZERS_GROUP = -1001000
START_WITHIN = 30.0


@dataclass
class BotProcess:
    sim: Simulator
    server: SimServer
    client: SimClient
    process: asyncio.subprocess.Process
    log: Path
    config: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def write_config(path: Path, server: SimServer, database: Path) -> Path:
    """config.example.toml with the bot pointed at the simulator and a private database."""
    text = (REPO / "linli" / "config.example.toml").read_text(encoding="utf-8")
    replacements = {
        "token": f'"{TOKEN}"',
        "api_base_url": f'"{server.api_base_url}"',
        "file_base_url": f'"{server.file_base_url}"',
        "polling_timeout": "1",
        "database": f'"{database.as_posix()}"',
    }
    for key, value in replacements.items():
        text, found = re.subn(rf"^{key} = .*$", f"{key} = {value}", text, count=1, flags=re.M)
        assert found, f"config.example.toml has no {key!r} line"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
async def bot_process(tmp_path: Path) -> AsyncIterator[BotProcess]:
    """The bot running as `python -m linli run -c <config>`; the organizers' group exists."""
    sim = Simulator(TOKEN)
    organizer = sim.create_user(
        ORGANIZER, "王主任", username="wang_zhuren", language_code="zh-hans"
    )
    organizers = sim.create_group(ORGANIZERS_GROUP, "组织者群", owner=organizer)
    sim.add_bot_to_group(organizers, organizer)
    async with SimServer(sim) as server, SimClient(server.base_url) as client:
        config = write_config(tmp_path / "config.toml", server, tmp_path / "linli.sqlite3")
        log = tmp_path / "bot.log"
        with log.open("wb") as sink:
            process = await start_linli(config, tmp_path, sink)
        running = BotProcess(sim, server, client, process, log, config)
        try:
            await _until_polling(running)
            yield running
        finally:
            await stop(process)


async def _until_polling(bot: BotProcess) -> None:
    deadline = time.monotonic() + START_WITHIN
    while bot.sim.polls == 0:
        if bot.process.returncode is not None:
            pytest.fail(f"linli run exited with {bot.process.returncode}:\n{bot.output()}")
        if time.monotonic() > deadline:
            pytest.fail(f"linli run did not poll within {START_WITHIN} s:\n{bot.output()}")
        await asyncio.sleep(0.05)
