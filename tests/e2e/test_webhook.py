"""`linli run` with a webhook: Telegram (the simulator) posts updates to the bot's server."""

from __future__ import annotations

import asyncio
import re
import socket
import time
from pathlib import Path

import aiohttp

from linli.sim.client import SimClient
from linli.sim.core import Simulator
from linli.sim.process import start_linli, stop
from linli.sim.server import SimServer
from tests.e2e.conftest import TOKEN, write_config

SECRET = "s3cret-token_for-tests"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_updates_arrive_by_webhook_with_the_secret(tmp_path: Path) -> None:
    sim = Simulator(TOKEN)
    port = _free_port()
    async with SimServer(sim) as server, SimClient(server.base_url) as client:
        config = write_config(tmp_path / "config.toml", server, tmp_path / "linli.sqlite3")
        webhook = (
            "[bot.webhook]\n"
            f'enabled = true\nurl = "http://127.0.0.1:{port}"\npath = "telegram"\n'
            f'listen = "127.0.0.1"\nport = {port}\nsecret_token = "{SECRET}"\n\n'
        )
        text = re.sub(
            r"^\[bot\.webhook\]\n.*?(?=^\[)",
            webhook,
            config.read_text(encoding="utf-8"),
            count=1,
            flags=re.S | re.M,
        )
        config.write_text(text, encoding="utf-8")
        log = tmp_path / "bot.log"
        with log.open("wb") as sink:
            process = await start_linli(config, tmp_path, sink)
        try:
            deadline = time.monotonic() + 30
            while sim.webhook is None:
                assert process.returncode is None, log.read_text(errors="replace")
                assert time.monotonic() < deadline, log.read_text(errors="replace")
                await asyncio.sleep(0.05)
            assert sim.webhook.url == f"http://127.0.0.1:{port}/telegram"
            assert sim.webhook.secret_token == SECRET
            assert sim.polls == 0  # no getUpdates while a webhook is set

            await client.user(2601, "钱阿姨", language_code="zh-hans")
            await client.start(2601)
            welcome = await client.wait_for(2601, "欢迎来到")
            assert welcome["buttons"]

            # A post without the secret is refused by the bot's web server.
            async with aiohttp.ClientSession() as session:
                forged = {
                    "update_id": 999999,
                    "message": {
                        "message_id": 1,
                        "date": 0,
                        "chat": {"id": 2601, "type": "private"},
                        "text": "/forgetme",
                    },
                }
                async with session.post(f"http://127.0.0.1:{port}/telegram", json=forged) as r:
                    assert r.status == 403
        finally:
            await stop(process)
