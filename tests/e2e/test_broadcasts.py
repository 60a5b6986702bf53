"""A broadcast at Telegram's flood limits through the simulator: complete, once, resumable.

The simulator answers 429 with retry_after past 30 messages/s (and 20/min per group). Its
limiter and the sender's waits both run on the harness's FakeClock, so waiting out a 429
takes no real time while the 429 path is exercised for real.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from linli.bot.views.broadcasts import SLEEP_KEY, wait_deliveries
from linli.core.community import NodeKind
from linli.sim.harness import Harness
from linli.storage import broadcasts as bc_db
from tests.support.broadcasts import bound_group, sim_bound_group, sim_organizer, sim_resident

BUILDINGS = ("heyuan/1", "heyuan/2", "heyuan/3", "lihu/A", "lihu/B")


def drive_time_with_the_clock(h: Harness) -> None:
    h.sim.monotonic = lambda: h.clock().timestamp()

    async def sleep(seconds: float) -> None:
        h.clock.advance(seconds=seconds)
        await asyncio.sleep(0)

    h.app.bot_data[SLEEP_KEY] = sleep


async def _community(h: Harness, members: int, groups: int) -> list[int]:
    for i in range(members):
        await sim_resident(h, 10_000 + i, BUILDINGS[i % len(BUILDINGS)])
    for i in range(groups):
        chat_id = -700 - i
        sim_bound_group(h, chat_id, f"群{i}")
        await bound_group(h.db, chat_id, f"群{i}", NodeKind.BUILDING, BUILDINGS[i % 5], h.clock())
    return [10_000 + i for i in range(members)]


async def _broadcast(h: Harness, org: object, mode_label: str, text: str) -> None:
    await h.send(org, "/broadcast")  # type: ignore[arg-type]
    await h.press(org, mode_label)  # type: ignore[arg-type]
    await h.press(org, "全社区")  # type: ignore[arg-type]
    if mode_label == "✉️ 私信给居民":
        await h.press(org, "所有人")  # type: ignore[arg-type]
    await h.send(org, text)  # type: ignore[arg-type]
    labels = h.buttons(org)  # type: ignore[arg-type]
    await h.press(org, labels[0])  # type: ignore[arg-type]


def _received(h: Harness, text: str) -> Counter[int]:
    # (the organizer saw it once more: the preview)
    return Counter(m.chat_id for m in h.sim.sent_log if m.content == text and m.chat_id != 1000)


def _bad_edits(h: Harness) -> list[str]:
    return [
        c.description
        for c in h.sim.calls
        if c.method.lower() == "editmessagetext" and c.status != 200
    ]


async def test_300_members_and_25_groups_at_the_flood_limits(make_harness: object) -> None:
    h: Harness = await make_harness(flood_limits=True)  # type: ignore[operator]
    drive_time_with_the_clock(h)
    org = sim_organizer(h)
    members = await _community(h, 300, 25)
    blocked = members[:7]
    for uid in blocked:
        h.sim.block_bot(uid)
    h.sim.take_updates()
    await _broadcast(h, org, "✉️ 私信给居民", "全体居民：周六上午消防演练")
    await wait_deliveries(h.app, 30)
    await _broadcast(h, org, "📢 发到绑定的群", "各楼栋群：周六上午消防演练")
    await wait_deliveries(h.app, 30)

    got = _received(h, "全体居民：周六上午消防演练")
    assert set(got) == set(members) - set(blocked)
    assert max(got.values()) == 1
    groups = _received(h, "各楼栋群：周六上午消防演练")
    assert set(groups) == {-700 - i for i in range(25)} and max(groups.values()) == 1
    assert h.sim.flood_429s > 0  # the limits were hit, and every 429 was waited out
    assert _bad_edits(h) == []
    first = await bc_db.get_broadcast(h.db, 1)
    assert first is not None and first.status == "done"
    assert (first.counts.sent, first.counts.blocked, first.counts.failed) == (293, 7, 0)
    report = h.last_text(org)
    assert "已送达：25" in report
    assert any("已送达：293" in t and "屏蔽了机器人或未开启私聊：7" in t for t in h.texts(org))
    # the progress message was edited while sending, and ends showing the final counts
    progress = [m for m in h.messages(org) if "第 1 号群发" in m.content and m.edited]
    assert len(progress) == 1 and progress[0].edits >= 3
    assert "已完成" in progress[0].content


async def test_a_restart_halfway_resumes_without_duplicates(make_harness: object) -> None:
    h: Harness = await make_harness(flood_limits=True)  # type: ignore[operator]
    org = sim_organizer(h)
    members = await _community(h, 120, 0)
    await h.app.start()  # a running bot: its stop ends the delivery between two messages

    stopping: list[asyncio.Task[None]] = []

    async def sleep_then_stop(seconds: float) -> None:
        h.clock.advance(seconds=seconds)
        if not stopping:  # the first 429: the bot is asked to stop, as by SIGTERM
            stopping.append(asyncio.get_running_loop().create_task(h.app.stop()))
        await asyncio.sleep(0)

    h.sim.monotonic = lambda: h.clock().timestamp()
    h.app.bot_data[SLEEP_KEY] = sleep_then_stop
    await _broadcast(h, org, "✉️ 私信给居民", "停水通知")
    async with asyncio.timeout(10):
        while not stopping:  # noqa: ASYNC110 - the stop is started inside the sender
            await asyncio.sleep(0.01)
        await stopping[0]
    halfway = await bc_db.counts(h.db, 1)
    assert 0 < halfway.sent < 120 and halfway.pending > 0 and halfway.sending == 0

    await h.restart()
    drive_time_with_the_clock(h)
    await h.tick()  # the scheduler finds the unfinished broadcast and resumes it
    await wait_deliveries(h.app, 30)
    got = _received(h, "停水通知")
    assert set(got) == set(members) and max(got.values()) == 1
    done = await bc_db.get_broadcast(h.db, 1)
    assert done is not None and done.status == "done" and done.counts.sent == 120
    assert _bad_edits(h) == []
    assert "已送达：120" in h.last_text(org)
    # another tick finds nothing to do and sends nothing
    assert await h.tick() == []


async def test_a_crash_midway_interrupts_only_what_had_left(make_harness: object) -> None:
    """The process dies mid-broadcast (its task cancelled where it stands, nothing recorded
    after): only rows whose request had reached Telegram are 'interrupted'; every other
    resident gets the message after the restart, once."""
    h: Harness = await make_harness(flood_limits=True, rate_limit=True)  # type: ignore[operator]
    org = sim_organizer(h)
    members = await _community(h, 60, 0)
    text = "燃气检修通知"
    real_send = h.sim._api_sendmessage
    seen = 0

    async def send_then_crash(p: dict[str, object], f: object) -> object:
        nonlocal seen
        result = await real_send(p, f)  # type: ignore[arg-type]
        if p.get("text") == text:
            seen += 1
            if seen == 20:  # the 20th message has reached Telegram: the process dies now
                h.app.bot_data["broadcast_tasks"][1].cancel()
        return result

    h.sim._api_sendmessage = send_then_crash  # type: ignore[method-assign]
    await _broadcast(h, org, "✉️ 私信给居民", text)
    await asyncio.wait([h.app.bot_data["broadcast_tasks"][1]])
    before = _received(h, text)
    assert 0 < len(before) < 60

    h.sim._api_sendmessage = real_send  # type: ignore[method-assign]
    await h.restart()
    await h.tick()  # resumes: rows in flight at the crash become 'interrupted'
    await wait_deliveries(h.app, 30)
    rows = await h.db.fetchall(
        "SELECT chat_id FROM broadcast_deliveries WHERE reason = 'interrupted'"
    )
    interrupted = {r["chat_id"] for r in rows}
    assert interrupted <= set(before)  # each had left: it may have arrived (here it did)
    got = _received(h, text)
    assert set(got) == set(members) and max(got.values()) == 1
    assert h.sim.flood_429s == 0  # the restart right after the crash too
