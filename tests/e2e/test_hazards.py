"""Hazard journeys end to end through the simulator, from joining to the follow-up, in both
languages: nothing is created behind the bot's back (members join through /start)."""

from __future__ import annotations

from linli.core.community import Role
from linli.core.hazards import Status
from linli.sim.core import SimUser
from linli.sim.harness import Harness
from linli.storage import hazards as hazards_db
from linli.storage import members as members_db

ORG_GROUP = -1001000


async def join_in_english(h: Harness, user: SimUser) -> None:
    await h.start(user)
    await h.press(user, "English")
    await h.press(user, "丽湖小区")
    await h.press(user, "Building A")
    await h.send(user, "2-301")
    await h.press(user, "✅ I agree")
    assert "You have joined" in h.last_text(user)


async def join_in_chinese(h: Harness, user: SimUser) -> None:
    await h.start(user)
    await h.press(user, "中文")
    await h.press(user, "和苑小区")
    await h.press(user, "1号楼")
    await h.send(user, "3-201")
    await h.press(user, "✅ 同意")
    assert "加入成功" in h.last_text(user)


async def test_a_rider_in_english_from_photo_to_follow_up(harness: Harness) -> None:
    h = harness
    rider = h.user(3001, "Rider", lang="en")
    await h.start(rider, "rider")
    await h.press(rider, "English")
    await h.press(rider, "✅ I agree")
    await h.start(h.organizer)

    await h.photo(rider, caption="Gas smell at the gate of Lihu A")
    await h.press(rider, "🚨 Gas")
    await h.location(rider, 39.1205, 117.2101)
    await h.press(rider, "✅ Send")
    assert "Your report is H-0001" in h.last_text(rider)
    # the organizers' group reads the community's language (zh-CN here)
    assert "🚨 紧急" in h.last_text(ORG_GROUP) and "Rider" in h.last_text(ORG_GROUP)

    # nobody acknowledges: the scheduler escalates after 15 minutes, once per step
    h.clock.advance(minutes=15)
    await h.tick()
    assert "第 1 次提醒" in h.last_text(ORG_GROUP)
    await h.tick()
    assert sum("提醒" in t for t in h.texts(ORG_GROUP)) == 1

    await h.press(h.organizer, "✔ 确认受理", chat=ORG_GROUP)
    await h.send(h.organizer, "燃气公司已到场")
    told = h.last_text(rider)
    assert "is now <b>acknowledged</b>" not in told  # rendered, not raw HTML
    assert "is now acknowledged" in told and "燃气公司已到场" in told and "15 points" in told
    await h.send(rider, "/points")
    assert "15" in h.last_text(rider)

    await h.press(h.organizer, "✅ 已解决", chat=ORG_GROUP)
    await h.press(h.organizer, "不填备注")
    assert "is now resolved" in h.last_text(rider)
    h.clock.advance(days=3)
    await h.tick()
    assert "Is it really fixed?" in h.last_text(rider)
    await h.press(rider, "✅ Yes, it's fixed")
    assert "thank you" in h.last_text(rider).lower()
    report = await hazards_db.get_report(h.db, 1)
    assert report is not None and report.status is Status.RESOLVED
    await h.send(rider, "/myreports")
    assert "H-0001" in h.last_text(rider) and "resolved" in h.last_text(rider)


async def test_residents_in_chinese_group_link_duplicate_and_leader_triage(
    harness: Harness,
) -> None:
    h = harness
    wang, li, leader = h.user(2001, "王芳"), h.user(2002, "李雷"), h.user(2003, "楼长老张")
    for user in (wang, li, leader):
        await join_in_chinese(h, user)
    await h.start(h.organizer)
    leader_member = await members_db.get_member_by_telegram(h.db, leader.id)
    organizer = await members_db.get_member_by_telegram(h.db, h.organizer.id)
    assert leader_member is not None and organizer is not None
    await members_db.grant_role(
        h.db, leader_member.id, Role.BUILDING_LEADER, organizer.id, h.clock()
    )

    group = h.group(-2001, "和苑1号楼", [wang, li, leader])
    await h.send(wang, "/report", chat=group)
    await h.press(wang, "私聊机器人报告", chat=group)  # the deep link: /start report
    await h.press(wang, "消防通道/楼道堵塞")
    await h.send(wang, "一楼消防通道被电动车堵住")
    await h.press(wang, "跳过")
    await h.press(wang, "🏠 我的楼栋：和苑小区 1号楼")
    await h.press(wang, "👤 实名提交（可得积分）")
    await h.press(wang, "✅ 提交")
    assert "编号 H-0001" in h.last_text(wang)
    assert "H-0001" in h.last_text(leader)  # the building leader's private card

    await h.send(li, "/report")
    await h.press(li, "消防通道/楼道堵塞")
    await h.send(li, "电动车又堵住了")
    await h.press(li, "跳过")
    await h.send(li, "和苑小区1号楼")
    assert "是其中一个吗" in h.last_text(li)
    await h.press(li, "👍 我也遇到了：H-0001")
    assert await h.db.scalar("SELECT count(*) FROM hazards") == 1

    await h.press(leader, "✔ 确认受理")
    await h.send(leader, "已通知车主挪车")
    assert "已受理" in h.last_text(wang) and "已通知车主挪车" in h.last_text(wang)
    card = h.texts(ORG_GROUP)[-1]
    assert "已受理" in card and "楼长老张" in card and "另有 1 位邻居反映" in card
