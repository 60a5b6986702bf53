"""Killed between commit and send: `linli run` dies (SIGKILL) with an order committed and its
messages not yet delivered; the next start delivers them, once."""

from __future__ import annotations

import asyncio
import sqlite3
import time

from linli.sim.process import start_linli, stop
from tests.e2e.conftest import ORGANIZER, ORGANIZERS_GROUP, BotProcess, _until_polling
from tests.e2e.test_members import join

RESIDENT = 2001


async def _until(condition: object, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_an_order_killed_before_its_messages_are_delivered_on_the_next_start(
    bot_process: BotProcess,
) -> None:
    bot, client = bot_process, bot_process.client
    await client.user(RESIDENT, "李阿姨", username="li_ayi")
    await join(client, RESIDENT, "3-201")
    await client.start(ORGANIZER)
    await client.send(ORGANIZER, "/award @li_ayi 50 清理楼道")
    await client.wait_for(RESIDENT, "50")
    await client.send(RESIDENT, "/shop")
    await client.wait_for_buttons(RESIDENT, "🎁 洗衣液 1L · 30 分")
    await client.press(RESIDENT, "🎁 洗衣液 1L · 30 分")
    await client.wait_for_buttons(RESIDENT, "✅ 确认兑换")

    # The network swallows the first message out after the commit; the bot is killed then.
    bot.server.hold("editMessageText")
    await client.press(RESIDENT, "✅ 确认兑换")
    await _until(lambda: bot.server.held_calls)
    bot.process.kill()
    await bot.process.wait()
    bot.server.release()

    with sqlite3.connect(str(bot.config.parent / "linli.sqlite3")) as db:
        codes = [row[0] for row in db.execute("SELECT code FROM shop_orders")]
    assert len(codes) == 1
    code = codes[0]
    texts = " ".join(await client.texts(RESIDENT))
    assert code not in texts
    assert not [t for t in await client.texts(ORGANIZERS_GROUP) if "新兑换订单" in t]

    log = bot.config.parent / "bot-again.log"
    with log.open("wb") as sink:
        again = await start_linli(bot.config, bot.config.parent, sink)
    try:
        bot.process = again
        await _until_polling(bot)
        await client.wait_for(RESIDENT, f"领取码：{code}", within=15)
        await client.wait_for(ORGANIZERS_GROUP, f"新兑换订单 {code}", within=15)
        await asyncio.sleep(2.5)  # a few more ticks: nothing is sent again
        cards = [t for t in await client.texts(ORGANIZERS_GROUP) if "新兑换订单" in t]
        assert len(cards) == 1
        assert sum(code in t for t in await client.texts(RESIDENT)) == 1
    finally:
        await stop(again)
