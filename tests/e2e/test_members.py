"""Residents and organizers, as they would: joining, verification, binding a group, /forgetme.

The bot is a separate `linli run` process; every wait is bounded (SimClient.wait_for).
"""

from __future__ import annotations

import asyncio

from linli.sim.client import SimClient
from tests.e2e.conftest import ORGANIZER, ORGANIZERS_GROUP, BotProcess

LEADER = 2010
RESIDENT = 2001
BUILDING_GROUP = -1002001


async def join(client: SimClient, user: int, unit: str, *, building: str = "1号楼") -> None:
    """/start → 中文 → 和苑小区 → building → unit → accept the privacy notice."""
    await client.start(user)
    await client.wait_for_buttons(user, "中文")
    await client.press(user, "中文")
    await client.wait_for_buttons(user, "和苑小区")
    await client.press(user, "和苑小区")
    await client.wait_for_buttons(user, building)
    await client.press(user, building)
    await client.wait_for(user, "门牌号")
    await client.send(user, unit)
    await client.wait_for_buttons(user, "✅ 同意")
    await client.press(user, "✅ 同意")
    await client.wait_for(user, "加入成功")


async def make_leader(client: SimClient) -> int:
    """刘师傅 joins in 和苑小区 1号楼; the organizer makes him its leader and confirms him."""
    await client.user(LEADER, "刘师傅", username="liu_shifu")
    await join(client, LEADER, "1-101")
    await client.start(ORGANIZER)
    before = await client.last_id(ORGANIZER)
    await client.send(ORGANIZER, "/grant @liu_shifu building_leader")
    await client.wait_for(ORGANIZER, "楼栋长", after=before)
    await client.send(ORGANIZER, "/verify @liu_shifu")
    await client.wait_for(ORGANIZER, "已确认", after=before)
    await client.wait_for(LEADER, "您现在是楼栋长")
    return LEADER


async def test_resident_joins_and_is_verified_by_the_leader(bot_process: BotProcess) -> None:
    client = bot_process.client
    await make_leader(client)
    await client.user(RESIDENT, "李阿姨", username="li_ayi")
    await join(client, RESIDENT, "3-201")
    joined = await client.wait_for(RESIDENT, "加入成功")
    assert "和苑小区 1号楼 3-201" in joined["text"]

    before = await client.last_id(LEADER)
    await client.send(LEADER, "/verify")
    waiting = await client.wait_for(LEADER, "待确认住户", after=before)
    assert "李阿姨" in waiting["text"]
    await client.press(LEADER, "李阿姨")
    await client.wait_for(LEADER, "已由 刘师傅 确认")
    told = await client.wait_for(RESIDENT, "您的住户信息已确认")
    assert told["from_bot"]

    before = await client.last_id(RESIDENT)
    await client.send(RESIDENT, "/me")
    profile = await client.wait_for(RESIDENT, "李阿姨", after=before)
    assert "已确认" in profile["text"] and "3-201" in profile["text"]


async def test_organizers_group_hears_of_newcomers(bot_process: BotProcess) -> None:
    client = bot_process.client
    await client.user(RESIDENT, "李阿姨", username="li_ayi")
    await join(client, RESIDENT, "3-201")
    notice = await client.wait_for(ORGANIZERS_GROUP, "李阿姨")
    assert "3-201" in notice["text"]
    assert any(b["text"].startswith("✅") for row in notice["buttons"] for b in row)


async def test_leader_is_told_of_a_newcomer_in_his_building(bot_process: BotProcess) -> None:
    client = bot_process.client
    await make_leader(client)
    await client.user(RESIDENT, "李阿姨", username="li_ayi")
    await join(client, RESIDENT, "3-201")
    notice = await client.wait_for(LEADER, "李阿姨", within=5)
    assert "3-201" in notice["text"]
    assert any("确认" in b["text"] for row in notice["buttons"] for b in row)


async def test_organizer_binds_a_building_group(bot_process: BotProcess) -> None:
    client = bot_process.client
    await client.user(RESIDENT, "李阿姨", username="li_ayi")
    await client.group(
        BUILDING_GROUP, "和苑1号楼群", owner=ORGANIZER, members=[RESIDENT], bot_added_by=ORGANIZER
    )
    greeting = await client.wait_for(BUILDING_GROUP, "/bind")
    assert greeting["from_bot"]

    # A resident may not bind; the refusal changes nothing.
    before = await client.last_id(BUILDING_GROUP)
    await client.send(RESIDENT, "/bind", chat=BUILDING_GROUP)
    await client.wait_for(BUILDING_GROUP, "只有组织者", after=before)

    await client.send(ORGANIZER, "/bind", chat=BUILDING_GROUP)
    await client.wait_for_buttons(BUILDING_GROUP, "某栋楼")
    await client.press(ORGANIZER, "某栋楼", chat=BUILDING_GROUP)
    await client.wait_for_buttons(BUILDING_GROUP, "和苑小区 1号楼")
    # A forged press of the same keyboard by a resident is refused at the moment of the press.
    await client.press(RESIDENT, "和苑小区 1号楼", chat=BUILDING_GROUP)
    alerts = []
    for _ in range(100):
        alerts = await client.alerts(RESIDENT)
        if alerts:
            break
        await asyncio.sleep(0.05)
    assert alerts and "只有组织者" in (alerts[0]["text"] or "")
    await client.press(ORGANIZER, "和苑小区 1号楼", chat=BUILDING_GROUP)
    bound = await client.wait_for(BUILDING_GROUP, "本群已绑定")
    assert "和苑小区 1号楼" in bound["text"]

    before = await client.last_id(BUILDING_GROUP)
    await client.send(RESIDENT, "/start", chat=BUILDING_GROUP)
    answer = await client.wait_for(BUILDING_GROUP, "t.me/", after=before)
    assert "和苑小区 1号楼" in answer["text"]


async def test_forgetme_deletes_the_profile(bot_process: BotProcess) -> None:
    client = bot_process.client
    await client.user(RESIDENT, "李阿姨", username="li_ayi")
    await join(client, RESIDENT, "3-201")
    await client.send(RESIDENT, "/forgetme")
    await client.wait_for_buttons(RESIDENT, "是的，删除我的信息")
    await client.press(RESIDENT, "是的，删除我的信息")
    await client.wait_for(RESIDENT, "您的个人信息已删除")

    # The organizers can no longer find her.
    await client.start(ORGANIZER)
    before = await client.last_id(ORGANIZER)
    await client.send(ORGANIZER, "/verify @li_ayi")
    await client.wait_for(ORGANIZER, "找不到这位成员", after=before)
