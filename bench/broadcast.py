"""Measurement 2: broadcasts through the simulator with Telegram's flood limits on.

The organizer sends /broadcast and taps through it as in the chat; Linli runs as `linli run`
wires it (its rate limiter, bot/limits.py, included) against the in-process simulator, whose
limits answer 429 past 30 messages/s overall, 20/min per group and a burst of 5 then 1/s per
private chat. Real time, no fake clock. Two loads:

- a private broadcast to 150 residents, timed over the whole send: from the confirming tap
  to the last message delivered (goal: 95% of 30/s, 0 429s, 0 lost or duplicated);
- every resident privately, then every bound group while the first is being delivered:
  the rate between the first and last message (goal 95%), 429s, lost or duplicated.
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from pathlib import Path

from bench import community, datagen, mix
from bench.table import Plan, Row
from linli.bot.app import build_application
from linli.bot.views.broadcasts import wait_deliveries
from linli.core.clock import FakeClock
from linli.core.community import Binding, NodeKind
from linli.sim.harness import Harness
from linli.sim.request import SimRequest
from linli.storage import groups as groups_db
from linli.storage import members as members_db

M = "2 broadcast"
CEILING = 30.0
GROUP_BASE = -200_000


class RateLimitedHarness(Harness):
    """The harness, with the rate limiter `linli run` has (the test harness leaves it off)."""

    async def _build(self) -> None:
        await super()._build()
        await self.app.shutdown()
        self.app = build_application(self.services, request=SimRequest(self.sim), scheduler=False)
        self.app.add_error_handler(self._record_error)
        await self.app.initialize()


async def _send_broadcast(h: Harness, mode_label: str, text: str) -> float:
    """The organizer's taps; returns the time the last (confirming) tap was processed."""
    org = h.sim.users[community.ORGANIZER]
    await h.send(org, "/broadcast")
    await h.press(org, mode_label)
    await h.press(org, "全社区")
    if mode_label == "✉️ 私信给居民":
        await h.press(org, "所有人")
    await h.send(org, text)
    confirm = h.buttons(org)[0]
    started = time.monotonic()
    await h.press(org, confirm)
    return started


def _figures(h: Harness, texts: dict[str, set[int]], started: float) -> dict[str, float]:
    sends = [
        c
        for c in h.sim.calls
        if c.method.lower() == "sendmessage" and c.params.get("text") in texts and c.at >= started
    ]
    ok = [c for c in sends if c.status == 200]
    first = min(c.at for c in ok)
    last = max(c.at for c in ok)
    lost = duplicated = 0
    for text, expected in texts.items():
        received = Counter(int(c.params["chat_id"]) for c in ok if c.params["text"] == text)
        lost += len(expected - set(received))
        duplicated += sum(n - 1 for n in received.values() if n > 1)
    return {
        "delivered": len(ok),
        "rate": (len(ok) - 1) / (last - first) if last > first else 0.0,
        # over the whole send: from the confirming tap to the last message delivered
        "whole_rate": len(ok) / (last - started) if last > started else 0.0,
        "429s": sum(1 for c in sends if c.status == 429),
        "lost": lost,
        "duplicated": duplicated,
        "seconds": last - started,
    }


async def run(plan: Plan) -> list[Row]:
    private = await _private_only(plan)
    return private_rows(plan, private) + rows(plan, await _both(plan))


async def _private_only(plan: Plan) -> dict[str, float]:
    """A private broadcast to `plan.private_recipients` residents, alone."""
    workdir = Path(plan.workdir) / "broadcast-private"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    db_path = workdir / "linli.sqlite3"
    await datagen.generate_async(db_path, members=plan.private_recipients, entries=0)
    users = mix.user_ids(plan.private_recipients)
    async with RateLimitedHarness(
        community.overrides(db_path),
        directory=workdir,
        clock=FakeClock(datagen.NOW),
        flood_limits=True,
    ) as h:
        mix.open_chats(h.sim, users)
        h.sim.take_updates()
        await h.app.start()
        text = "【通知】明天上午九点至十一点停水，请提前储水。"
        started = await _send_broadcast(h, "✉️ 私信给居民", text)
        await wait_deliveries(h.app, 600)
        results = _figures(h, {text: set(users)}, started)
        await h.app.stop()
        if h.errors:
            raise RuntimeError(f"Linli raised while broadcasting: {h.errors[0]!r}")
    return results


async def _both(plan: Plan) -> dict[str, float]:
    workdir = Path(plan.workdir) / "broadcast"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    db_path = workdir / "linli.sqlite3"
    await datagen.generate_async(db_path, members=plan.recipients, entries=0)
    users = mix.user_ids(plan.recipients)
    overrides = community.overrides(db_path)
    async with RateLimitedHarness(
        overrides, directory=workdir, clock=FakeClock(datagen.NOW), flood_limits=True
    ) as h:
        mix.open_chats(h.sim, users)
        now = h.clock()
        binder = await members_db.ensure_member(h.db, community.ORGANIZER, "组织者", None, now)
        buildings = community.building_ids()
        groups = [GROUP_BASE - i for i in range(plan.groups)]
        for i, chat_id in enumerate(groups):
            group = h.sim.create_group(
                chat_id, f"楼栋群{i}", owner=h.sim.users[community.ORGANIZER]
            )
            h.sim.add_bot_to_group(group, community.ORGANIZER)
            binding = Binding(chat_id, NodeKind.BUILDING, buildings[i % len(buildings)])
            await groups_db.bind_group(h.db, chat_id, group.title, binding, binder.id, now)
        h.sim.take_updates()
        await h.app.start()
        # The organizer sends both, the second while the first is being delivered: one load.
        texts = {
            "【通知】本周六上午九点消防演练，请准时参加。": set(users),
            "【通知】各楼栋群：本周六上午九点消防演练。": set(groups),
        }
        private_text, group_text = texts
        started = await _send_broadcast(h, "✉️ 私信给居民", private_text)
        await _send_broadcast(h, "📢 发到绑定的群", group_text)
        await wait_deliveries(h.app, 600)
        results = _figures(h, texts, started)
        await h.app.stop()
        if h.errors:
            raise RuntimeError(f"Linli raised while broadcasting: {h.errors[0]!r}")
    return results


def private_rows(plan: Plan, r: dict[str, float]) -> list[Row]:
    size = f"{plan.private_recipients:,} private"
    share = r["whole_rate"] / CEILING
    return [
        Row(
            M,
            f"{size}: messages/s over the whole send (ceiling 30/s)",
            r["whole_rate"],
            "/s",
            ">= 28.5 (95%)",
            share >= 0.95,
            f"{share:.0%} of the ceiling; {r['delivered']:.0f} sent in {r['seconds']:.2f} s"
            " from the tap",
        ),
        Row(M, f"{size}: 429s", r["429s"], "", "0", r["429s"] == 0),
        Row(
            M,
            f"{size}: lost + duplicated",
            r["lost"] + r["duplicated"],
            "",
            "0",
            r["lost"] + r["duplicated"] == 0,
            f"lost {r['lost']:.0f}, duplicated {r['duplicated']:.0f}",
        ),
    ]


def rows(plan: Plan, r: dict[str, float]) -> list[Row]:
    size = f"{plan.recipients:,} private + {plan.groups} groups"
    share = r["rate"] / CEILING
    return [
        Row(
            M,
            f"{size}: messages/s (ceiling 30/s)",
            r["rate"],
            "/s",
            ">= 28.5 (95%)",
            share >= 0.95,
            f"{share:.0%} of the ceiling; {r['delivered']:.0f} sent in {r['seconds']:.1f} s",
        ),
        Row(M, f"{size}: 429s", r["429s"], "", "0", r["429s"] == 0),
        Row(
            M,
            f"{size}: lost + duplicated",
            r["lost"] + r["duplicated"],
            "",
            "0",
            r["lost"] + r["duplicated"] == 0,
            f"lost {r['lost']:.0f}, duplicated {r['duplicated']:.0f}",
        ),
    ]
