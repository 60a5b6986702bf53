"""A bot process for measurement 1 over loopback HTTP: Linli (from a config file, wired as
`linli run` wires it) or the bare echo bot, polling the simulator server with PTB's real
polling loop (`Updater.start_polling`), timing each update it processes.

    python -m bench.httpbot linli --config cfg.toml --expect 300 --out t.json
    python -m bench.httpbot bare --api-base http://127.0.0.1:PORT/bot --token T --expect 300 --out t.json

Writes {"updates": {update_id: [start, end, cpu_start, cpu_end]}, "errors": n} once
`--expect` updates were processed, then stops (time.perf_counter and this process's
time.process_time, in seconds).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import time
from pathlib import Path
from typing import Any

from telegram import Update

from bench.echo import build_echo
from linli.bot.app import build_application
from linli.bot.config import load_config
from linli.bot.runner import open_services


async def serve(args: argparse.Namespace) -> dict[str, Any]:
    services = None
    if args.bot == "linli":
        config = load_config(args.config)
        services = await open_services(config)
        # As `linli run`, but without the rate limiter (it would cap both bots at Telegram's
        # 30 messages/s, which measurement 2 covers) and without the scheduler's ticks.
        app: Any = build_application(services, rate_limit=False, scheduler=False)
    else:
        app = build_echo(args.token, base_url=args.api_base)
    spans: dict[int, tuple[float, float, float, float]] = {}
    errors: list[str] = []
    done = asyncio.Event()
    process = app.process_update

    async def timed(update: object) -> None:
        started, cpu = time.perf_counter(), time.process_time()
        try:
            await process(update)
        finally:
            if isinstance(update, Update):
                spans[update.update_id] = (started, time.perf_counter(), cpu, time.process_time())
                if len(spans) >= args.expect:
                    done.set()

    async def on_error(update: object, context: Any) -> None:
        errors.append(repr(context.error))

    app.process_update = timed
    app.add_error_handler(on_error)
    profiler = None
    if args.profile:
        from pyinstrument import Profiler  # a dev tool: pip install pyinstrument

        profiler = Profiler(interval=0.0005, async_mode="disabled")
    try:
        await app.initialize()
        if app.post_init is not None:
            await app.post_init(app)
        await app.updater.start_polling(poll_interval=0.0, timeout=10)
        await app.start()
        if profiler is not None:
            profiler.start()
        await asyncio.wait_for(done.wait(), args.within)
    finally:
        if profiler is not None:
            profiler.stop()
            args.profile.write_text(profiler.output_text(color=False, show_all=False))
        if app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
        if services is not None:
            await services.db.close()
    return {"updates": spans, "errors": len(errors), "first_errors": errors[:3]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("bot", choices=("linli", "bare"))
    parser.add_argument("--config", type=Path)
    parser.add_argument("--api-base")
    parser.add_argument("--token")
    parser.add_argument("--expect", type=int, required=True)
    parser.add_argument("--within", type=float, default=300.0)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--profile", type=Path, help="write a pyinstrument profile here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    result = asyncio.run(serve(args))
    args.out.write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main()
