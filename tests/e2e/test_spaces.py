"""Shared spaces with a real `linli run`: a resident books the reading room by the buttons;
the organizer switches it to emergency use and the process is killed (SIGKILL) while the
switch's messages are on their way; the next start delivers the booker's and the group's
notices, once; a retried switch changes nothing; switching back is said once, across a
restart."""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from collections.abc import Callable

from linli.sim.client import Message, SimClient
from linli.sim.process import start_linli, stop
from tests.e2e.conftest import ORGANIZER, BotProcess, _until_polling
from tests.e2e.test_members import join

RESIDENT = 2001
GROUP = -1003001


async def _until(condition: Callable[[], object], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def _has_button(start: str) -> Callable[[Message], bool]:
    return lambda m: any(b["text"].startswith(start) for row in m["buttons"] for b in row)


async def _count(client: SimClient, chat: int, text: str) -> int:
    return sum(text in t for t in await client.texts(chat))


async def _restart(bot: BotProcess, name: str) -> None:
    with (bot.config.parent / name).open("wb") as sink:
        bot.process = await start_linli(bot.config, bot.config.parent, sink)
    await _until_polling(bot)


async def _book_tomorrow(client: SimClient) -> str:
    """The reading room tomorrow 10:00 for an hour, by the buttons; the booking code."""
    await client.send(RESIDENT, "/spaces")
    await client.wait_for_buttons(RESIDENT, "🏠 阅览室")
    await client.press(RESIDENT, "🏠 阅览室")
    week = await client.wait_for(RESIDENT, _has_button("明天"), within=30)  # the picture
    tomorrow = next(b["text"] for row in week["buttons"] for b in row if b["text"][:2] == "明天")
    await client.press(RESIDENT, tomorrow)
    await client.wait_for_buttons(RESIDENT, "10:00")
    await client.press(RESIDENT, "10:00")
    await client.wait_for_buttons(RESIDENT, "1 小时")
    await client.press(RESIDENT, "1 小时")
    await client.wait_for(RESIDENT, "用途是什么")
    await client.send(RESIDENT, "读书会")
    await client.wait_for_buttons(RESIDENT, "✅ 确认预约")
    await client.press(RESIDENT, "✅ 确认预约")
    booked = await client.wait_for(RESIDENT, "预约成功")
    found = re.search(r"B-[A-Z0-9]{4}", booked["text"])
    assert found is not None and "已冻结 5 积分" in booked["text"]
    return found.group(0)


async def test_a_booking_and_the_emergency_switch_across_restarts(bot_process: BotProcess) -> None:
    bot, client = bot_process, bot_process.client
    database = bot.config.parent / "linli.sqlite3"
    await client.user(RESIDENT, "李阿姨", username="li_ayi")
    await join(client, RESIDENT, "3-201")
    await client.start(ORGANIZER)
    await client.send(ORGANIZER, "/award @li_ayi 20 清理楼道")
    await client.wait_for(RESIDENT, "20")
    await client.group(GROUP, "和平社区群", owner=ORGANIZER, members=[RESIDENT],
                       bot_added_by=ORGANIZER)  # fmt: skip
    await client.send(ORGANIZER, "/bind community", chat=GROUP)
    await client.wait_for(GROUP, "本群已绑定")
    code = await _book_tomorrow(client)

    # The switch commits; the first message out is swallowed and the bot killed then.
    bot.server.hold("sendMessage")
    await client.send(ORGANIZER, "/emergency reading shelter 寒潮来袭，开放避寒")
    await _until(lambda: bot.server.held_calls)
    bot.process.kill()
    await bot.process.wait()
    bot.server.release()
    with sqlite3.connect(database) as db:
        assert db.execute(
            "SELECT status FROM space_bookings WHERE code = ?", (code,)
        ).fetchone() == ("cancelled",)
        assert db.execute("SELECT COUNT(*) FROM space_emergencies").fetchone() == (1,)
    assert await _count(client, RESIDENT, "寒潮来袭") == 0
    assert await _count(client, GROUP, "现转为临时避难点") == 0

    await _restart(bot, "bot-2.log")
    try:
        told = await client.wait_for(RESIDENT, "寒潮来袭", within=15)
        assert code in told["text"] and "已退回 5 积分" in told["text"]
        notice = await client.wait_for(GROUP, "现转为临时避难点", within=15)
        assert "阅览室" in notice["text"] and "丽湖小区 A座二层" in notice["text"]
        # The organizer's own confirmation was the message on the wire: at most once. Sent
        # again, the switch changes nothing and tells nobody again.
        await client.send(ORGANIZER, "/emergency reading shelter 寒潮来袭，开放避寒")
        await client.wait_for(ORGANIZER, "已处于应急使用中")
        await asyncio.sleep(2.5)  # a few ticks
        assert await _count(client, RESIDENT, "寒潮来袭") == 1
        assert await _count(client, GROUP, "现转为临时避难点") == 1
        assert await _count(client, ORGANIZER, "🚨 阅览室 → 临时避难点") <= 1

        await client.send(ORGANIZER, "/emergency reading off")
        await client.wait_for(GROUP, "恢复开放预约")
    finally:
        await stop(bot.process)
    await _restart(bot, "bot-3.log")
    try:
        await asyncio.sleep(2.5)
        assert await _count(client, GROUP, "恢复开放预约") == 1
        assert await _count(client, GROUP, "现转为临时避难点") == 1
        assert await _count(client, RESIDENT, "寒潮来袭") == 1
    finally:
        await stop(bot.process)
