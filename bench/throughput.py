"""Measurement 1: update throughput of the whole Linli application against a bare PTB echo
bot, both driven the same way and side by side in one run:

(a) in process: the simulator's `SimRequest` and `app.process_update`, one update at a time;
(b) over loopback HTTP: the simulator server in this process, the bot in its own process
    polling it with PTB's real polling loop (`bench.httpbot`), a burst of updates queued.

Updates/s for each, the ratio Linli/bare (median of the runs' ratios), p50/p99 latency per
update kind (the time the application spends on the update). Linli runs on a generated
community (2,000 members, 20,000 ledger entries) without its rate limiter or scheduler
(Telegram's 30 messages/s would cap both bots; measurement 2 covers it).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from telegram import Update

from bench import community, datagen, mix
from bench.echo import build_echo
from bench.table import Plan, Row, median, percentile
from linli.core.clock import FakeClock
from linli.sim.core import Simulator
from linli.sim.harness import Harness
from linli.sim.request import SimRequest
from linli.sim.server import SimServer

M = "1 throughput"
PROFILE = bool(os.environ.get("BENCH_PROFILE"))  # profile the HTTP bot processes (pyinstrument)
ROOT = Path(__file__).resolve().parent.parent
Samples = dict[str, list[float]]  # kind -> seconds per update
WARMUP_ROUNDS = 10  # updates of each kind a bot process handles before it is measured
QUIET_ROUNDS = 10  # updates of each kind sent one at a time after the burst, for latency
QUIET_GAP = 0.03  # seconds between two of those


class Bot:
    """One of the two bots with its own simulator, and the samples of its runs."""

    def __init__(self, name: str, sim: Simulator, targets: mix.Targets) -> None:
        self.name = name
        self.sim = sim
        self.targets = targets
        self.app: Any = None
        self.rates: dict[str, list[float]] = {"inproc": [], "http": []}
        self.latency: dict[str, Samples] = {"inproc": defaultdict(list), "http": defaultdict(list)}
        self.errors: list[str] = []
        self.calls_per_update: list[float] = []
        self.cpu_per_update: list[float] = []  # seconds of the bot process's CPU (HTTP)


async def _process(bot: Bot, data: dict[str, Any]) -> float:
    started = time.perf_counter()
    await bot.app.process_update(Update.de_json(data, bot.app.bot))
    return time.perf_counter() - started


async def in_process(bot: Bot, plan_: list[tuple[str, int, int]], *, record: bool = True) -> None:
    total = 0.0
    spans: Samples = defaultdict(list)
    for kind, user, nth in plan_:
        mix.inject(bot.sim, kind, user, nth, bot.targets)
        for data in bot.sim.take_updates():
            spent = await _process(bot, data)
            total += spent
            spans[kind].append(spent)
    if record:
        bot.rates["inproc"].append(len(plan_) / total)
        for kind, samples in spans.items():
            bot.latency["inproc"][kind].extend(samples)


async def over_http(
    bot: Bot,
    warmup: list[tuple[str, int, int]],
    plan_: list[tuple[str, int, int]],
    quiet: list[tuple[str, int, int]],
    server: SimServer,
    workdir: Path,
) -> None:
    """One run in a fresh bot process: the warm-up updates first (templates compiled, caches
    filled, connections opened: a deployed bot is past that), then the measured burst for
    the rate, then `quiet` updates one at a time for the latency a resident sees when the
    bot is not busy."""
    calls_before = len(bot.sim.calls)
    for kind, user, nth in warmup:
        mix.inject(bot.sim, kind, user, nth, bot.targets)
    kinds = {mix.inject(bot.sim, kind, user, nth, bot.targets): kind for kind, user, nth in plan_}
    quiet_kinds: dict[int, str] = {}

    async def one_at_a_time() -> None:
        while bot.sim.pending_updates():  # noqa: ASYNC110 - the bot, another process, takes them
            await asyncio.sleep(0.01)
        await asyncio.sleep(QUIET_GAP * 10)  # ...and finishing its last updates
        for kind, user, nth in quiet:
            quiet_kinds[mix.inject(bot.sim, kind, user, nth, bot.targets)] = kind
            await asyncio.sleep(QUIET_GAP)  # one update takes a few ms: it is done by then

    out = workdir / f"http-{bot.name}.json"
    out.unlink(missing_ok=True)
    if bot.name == "linli":
        config = community.write_config(
            workdir / "config.toml", workdir / "linli.sqlite3", server.api_base_url
        )
        args = ["linli", "--config", str(config)]
    else:
        args = ["bare", "--api-base", server.api_base_url, "--token", community.TOKEN]
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.httpbot",
        *args,
        "--expect",
        str(len(warmup) + len(kinds) + len(quiet)),
        "--out",
        str(out),
        *(["--profile", str(workdir / f"profile-{bot.name}.txt")] if PROFILE else []),
        cwd=ROOT,
    )
    trickle = asyncio.create_task(one_at_a_time())
    code = await proc.wait()
    trickle.cancel()
    if code != 0 or not out.exists():
        raise RuntimeError(f"the {bot.name} bot process failed (exit {code})")
    result = json.loads(out.read_text(encoding="utf-8"))
    handled = {int(k): v for k, v in result["updates"].items()}
    spans = {k: v for k, v in handled.items() if k in kinds}
    if result["errors"]:
        bot.errors.extend(result["first_errors"])
    # Bot API calls per update the process handled, warm-up included (getUpdates is not
    # recorded; start-up calls are few).
    bot.calls_per_update.append((len(bot.sim.calls) - calls_before) / len(handled))
    first = min(span[0] for span in spans.values())
    last = max(span[1] for span in spans.values())
    bot.rates["http"].append(len(spans) / (last - first))
    cpu = max(span[3] for span in spans.values()) - min(span[2] for span in spans.values())
    bot.cpu_per_update.append(cpu / len(spans))
    for update_id, kind in quiet_kinds.items():
        start, end, *_ = handled[update_id]
        bot.latency["http"][kind].append(end - start)


async def run(plan: Plan) -> list[Row]:
    workdir = Path(plan.workdir) / "throughput"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    db_path = workdir / "linli.sqlite3"
    members = min(plan.members, 2_000)
    await datagen.generate_async(db_path, members=members, entries=members * 10)
    users = mix.user_ids(min(plan.residents, members))
    overrides = community.overrides(db_path)
    async with Harness(overrides, directory=workdir, clock=FakeClock(datagen.NOW)) as h:
        found = mix.available(h.app)
        kinds = [k for k in mix.KINDS if found[k]]
        linli = Bot("linli", h.sim, await mix.prepare(h.services, found))
        linli.app = h.app
        mix.open_chats(h.sim, users)
        for user in users:  # a first answer in each chat, for the taps to press on
            await h.send(h.sim.users[user], "/points")
        bare_sim = Simulator(community.TOKEN)
        bare = Bot("bare", bare_sim, mix.Targets())
        bare.app = build_echo(community.TOKEN, request=SimRequest(bare_sim))
        await bare.app.initialize()
        mix.open_chats(bare_sim, users)
        for user in users:
            bare_sim.send_text(user, user, "/start")
            for data in bare_sim.take_updates():
                await _process(bare, data)
        warm = len(kinds) * WARMUP_ROUNDS
        for bot in (linli, bare):
            await in_process(bot, mix.schedule(kinds, users, warm), record=False)
        for r in range(plan.runs):
            chunk = mix.schedule(kinds, users, plan.updates, warm + r * plan.updates)
            for bot in (linli, bare) if r % 2 == 0 else (bare, linli):
                await in_process(bot, chunk)
            if h.errors:
                raise RuntimeError(f"Linli raised while handling the mix: {h.errors[0]!r}")
        await bare.app.shutdown()
    start = warm + plan.runs * plan.updates
    quiet_n = len(kinds) * QUIET_ROUNDS
    async with SimServer(linli.sim) as linli_server, SimServer(bare.sim) as bare_server:
        servers = {"linli": linli_server, "bare": bare_server}
        for r in range(plan.runs):
            begin = start + r * (warm + plan.updates + quiet_n)
            warmup = mix.schedule(kinds, users, warm, begin)
            chunk = mix.schedule(kinds, users, plan.updates, begin + warm)
            quiet = mix.schedule(kinds, users, quiet_n, begin + warm + plan.updates)
            # Alternated, so a slower minute of a shared machine falls on both bots.
            for bot in (linli, bare) if r % 2 == 0 else (bare, linli):
                await over_http(bot, warmup, chunk, quiet, servers[bot.name], workdir)
    return rows(plan, found, linli, bare)


def rows(plan: Plan, found: dict[str, bool], linli: Bot, bare: Bot) -> list[Row]:
    out: list[Row] = []
    note = f"{plan.runs} runs x {plan.updates} updates each"
    for mode, title, goal in (("inproc", "in process", ""), ("http", "loopback HTTP", ">= 0.8")):
        lr, br = linli.rates[mode], bare.rates[mode]
        ratio = median(a / b for a, b in zip(lr, br, strict=True))
        out.append(Row(M, f"{title}: Linli updates/s", median(lr), "/s", note=note))
        out.append(Row(M, f"{title}: bare echo bot updates/s", median(br), "/s"))
        out.append(
            Row(
                M,
                f"{title}: ratio Linli/bare",
                ratio,
                "",
                goal or "(reported)",
                (ratio >= 0.8) if goal else None,
            )
        )
    out.append(
        Row(
            M,
            "Bot API calls per update: Linli (HTTP)",
            median(linli.calls_per_update),
            "",
            note=f"bare {median(bare.calls_per_update):.2f}",
        )
    )
    out.append(
        Row(
            M,
            "CPU per update: Linli process (HTTP)",
            median(linli.cpu_per_update) * 1e3,
            "ms",
            note=f"bare {median(bare.cpu_per_update) * 1e3:.2f} ms",
        )
    )
    for kind in mix.KINDS:
        item = f"latency {kind}: p50 / p99 ms"
        if not found[kind]:
            out.append(Row(M, item, None, note=mix.MISSING))
            continue
        http, inproc = linli.latency["http"][kind], linli.latency["inproc"][kind]
        out.append(
            Row(
                M,
                item + " (HTTP, one at a time)",
                percentile(http, 50) * 1e3,
                "ms",
                note=f"p99 {percentile(http, 99) * 1e3:.1f} ms; in process "
                f"{percentile(inproc, 50) * 1e3:.1f} / {percentile(inproc, 99) * 1e3:.1f} ms",
            )
        )
    if linli.errors:
        out.append(
            Row(
                M,
                "errors in Linli's handlers (HTTP)",
                float(len(linli.errors)),
                note=linli.errors[0][:80],
            )
        )
    return out


def kinds_used(found: dict[str, bool]) -> Sequence[str]:
    return [k for k in mix.KINDS if found[k]]
