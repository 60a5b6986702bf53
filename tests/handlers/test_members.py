"""Joining, profile, roles, verification and /forgetme, as residents and organizers see them."""

from __future__ import annotations

from typing import Any

from linli.sim.core import SimUser
from linli.sim.harness import Harness
from linli.storage import members as members_db


async def join(
    h: Harness,
    user: SimUser,
    *,
    lang: str = "中文",
    compound: str = "和苑小区",
    building: str = "1号楼",
    unit: str = "3-201",
) -> None:
    await h.start(user)
    await h.press(user, lang)
    await h.press(user, compound)
    await h.press(user, building)
    await h.send(user, unit)
    await h.press(user, "✅ 同意" if lang == "中文" else "✅ I agree")


async def test_onboarding_in_chinese(harness: Harness) -> None:
    h = harness
    wang = h.user(2001, "王芳")
    await h.start(wang)
    assert "欢迎来到" in h.last_text(wang) and h.buttons(wang) == ["中文", "English"]
    await h.press(wang, "中文")
    assert h.last_text(wang) == "您住在哪个小区？"
    await h.press(wang, "和苑小区")
    assert "请选择楼栋" in h.last_text(wang) and "2号楼" in h.buttons(wang)
    await h.press(wang, "2号楼")
    assert "请输入门牌号" in h.last_text(wang)
    await h.send(wang, "3-201")
    assert "隐私说明" in h.last_text(wang)
    await h.press(wang, "✅ 同意")
    assert "加入成功" in h.last_text(wang)
    assert "和苑小区 2号楼 3-201" in h.last_text(wang)
    member = await members_db.get_member_by_telegram(h.db, 2001)
    assert member is not None and member.joined and member.building_id == "heyuan/2"
    assert member.unit == "3-201" and member.locale == "zh-CN" and not member.verified
    # the organizers' group hears about the newcomer, with a Verify button
    assert "王芳" in h.last_text(-1001000) and h.buttons(-1001000) == ["✅ 确认住户"]


async def test_onboarding_in_english_from_an_english_telegram(harness: Harness) -> None:
    h = harness
    tom = h.user(2002, "Tom", lang="en")
    await h.start(tom)
    assert "Welcome to" in h.last_text(tom)
    await h.press(tom, "English")
    assert h.last_text(tom) == "Which compound (小区) do you live in?"
    await h.press(tom, "丽湖小区")
    await h.press(tom, "Building B")
    assert "type your unit number" in h.last_text(tom)
    await h.send(tom, "1-101")
    await h.press(tom, "✅ I agree")
    assert "You have joined" in h.last_text(tom) and "building B, unit 1-101" in h.last_text(tom)
    await h.send(tom, "/me")
    assert "Tom" in h.last_text(tom) and "awaiting verification" in h.last_text(tom)


async def test_bad_unit_numbers_are_refused_and_nothing_is_saved(harness: Harness) -> None:
    h = harness
    li = h.user(2003, "李雷")
    await h.start(li)
    await h.press(li, "中文")
    await h.press(li, "和苑小区")
    await h.press(li, "1号楼")
    await h.send(li, "9" * 500)
    assert "门牌号太长了：最多 20 个字符" in h.last_text(li)
    await h.send(li, "<b>1</b>")
    assert "只能包含" in h.last_text(li)
    member = await members_db.get_member_by_telegram(h.db, 2003)
    assert member is not None and member.household_id is None and not member.joined
    await h.send(li, "2-502")  # the flow is still waiting for a good one
    assert "隐私说明" in h.last_text(li)


async def test_forged_and_stale_buttons_change_nothing(harness: Harness) -> None:
    h = harness
    li = h.user(2004, "李雷")
    await h.start(li)
    await h.press(li, "中文")
    await h.callback(li, "m:cp:99")  # a compound that does not exist
    assert h.alerts(li)[-1].text.startswith("这个按钮已失效")
    await h.callback(li, "m:bd:0:0")  # a building before choosing the compound
    assert h.alerts(li)[-1].text.startswith("这个按钮已失效")
    await h.callback(li, "zz:whatever")  # nothing recognises it
    assert h.alerts(li)[-1].show_alert
    member = await members_db.get_member_by_telegram(h.db, 2004)
    assert member is not None and member.building_id is None
    await h.send(li, "/cancel")
    assert "已取消" in h.last_text(li)
    await h.callback(li, "m:cp:0")  # the flow is over: an old button does nothing
    assert h.alerts(li)[-1].text.startswith("这个按钮已失效")


async def organizer(h: Harness) -> SimUser:
    """The configured organizer, having opened the private chat with the bot."""
    await h.start(h.organizer)
    return h.organizer


async def test_building_leader_verifies_from_the_notice(harness: Harness) -> None:
    h = harness
    await organizer(h)
    leader = h.user(3001, "楼长老张")
    await join(h, leader, building="1号楼", unit="1-101")
    await h.send(h.organizer, "/grant 3001 building_leader")
    assert "楼栋长" in h.last_text(h.organizer)
    assert "您现在是<b>楼栋长</b>" not in h.last_text(leader)  # shown as text, not markup
    assert "您现在是楼栋长了" in h.last_text(leader)
    newcomer = h.user(3002, "小陈")
    await join(h, newcomer, building="1号楼", unit="2-202")
    assert "小陈" in h.last_text(leader) and h.buttons(leader) == ["✅ 确认住户"]
    await h.press(leader, "✅ 确认住户", chat=leader)
    assert "已由 楼长老张 确认" in h.last_text(leader)
    assert "住户信息已确认" in h.last_text(newcomer)
    member = await members_db.get_member_by_telegram(h.db, 3002)
    assert member is not None and member.verified


async def test_leader_of_another_building_cannot_verify(harness: Harness) -> None:
    h = harness
    await organizer(h)
    leader = h.user(3101, "二号楼长")
    await join(h, leader, building="2号楼", unit="1-101")
    await h.send(h.organizer, "/grant 3101 building_leader")
    newcomer = h.user(3102, "小周")
    await join(h, newcomer, building="1号楼", unit="2-202")
    member = await members_db.get_member_by_telegram(h.db, 3102)
    assert member is not None
    await h.callback(leader, f"m:v:{member.id}")  # a forged Verify button
    assert "只有组织者" in h.alerts(leader)[-1].text
    await h.send(leader, "/verify 3102")
    assert "只有组织者" in h.last_text(leader)
    again = await members_db.get_member_by_telegram(h.db, 3102)
    assert again is not None and not again.verified
    await h.send(h.organizer, "/verify")
    assert "小周" in h.last_text(h.organizer)
    await h.press(h.organizer, "✅ 小周 · 2-202")
    verified = await members_db.get_member_by_telegram(h.db, 3102)
    assert verified is not None and verified.verified


async def test_grant_needs_an_organizer_and_good_arguments(harness: Harness) -> None:
    h = harness
    a = h.user(4001, "甲")
    b = h.user(4002, "乙", lang="en")
    await join(h, a)
    await h.start(b)
    await h.send(b, "/grant 4001 organizer")
    assert h.last_text(b) == "Only organizers can do that."
    member = await members_db.get_member_by_telegram(h.db, 4001)
    assert member is not None and member.roles == frozenset({"resident"})
    org = await organizer(h)
    await h.send(org, "/grant 4001 king")
    assert "不是有效的角色" in h.last_text(org)
    await h.send(org, "/grant @nobody volunteer")
    assert "找不到这位成员" in h.last_text(org)
    await h.send(org, "/grant 4001")
    assert "用法" in h.last_text(org)
    await h.send(org, "/grant 4001 volunteer")
    await h.send(org, "/grant 4001 volunteer")
    assert "已经是志愿者" in h.last_text(org)
    await h.send(org, "/revoke 4001 volunteer")
    assert "已撤销" in h.last_text(org)


async def test_forgetme_after_confirmation(harness: Harness) -> None:
    h = harness
    a = h.user(5001, "赵六", username="zhao6")
    await join(h, a)
    await h.send(a, "/forgetme")
    assert "确定删除" in h.last_text(a)
    await h.press(a, "不，保留")
    assert await members_db.get_member_by_telegram(h.db, 5001) is not None
    await h.send(a, "/forgetme")
    await h.press(a, "是的，删除我的信息")
    assert "已删除" in h.last_text(a)
    assert await members_db.get_member_by_telegram(h.db, 5001) is None
    rows = await h.db.fetchall(
        "SELECT name, username, building_id FROM members WHERE forgotten_at IS NOT NULL"
    )
    assert [tuple(r) for r in rows] == [("", None, None)]


async def test_rider_deep_link_needs_no_household(harness: Harness) -> None:
    h = harness
    rider = h.user(6001, "骑手小马")
    await h.start(rider, "rider")
    await h.press(rider, "中文")
    assert "隐私说明" in h.last_text(rider)
    await h.press(rider, "✅ 同意")
    # The joined card, then the directory's pointer to the nearest rider station.
    assert "移动网格员" in h.texts(rider)[-2] and "驿站" in h.last_text(rider)
    member = await members_db.get_member_by_telegram(h.db, 6001)
    assert member is not None and member.household_id is None and "mobile_reporter" in member.roles


async def test_referral_is_recorded(harness: Harness) -> None:
    h = harness
    host = h.user(7001, "老邻居")
    await join(h, host)
    host_member = await members_db.get_member_by_telegram(h.db, 7001)
    assert host_member is not None
    guest = h.user(7002, "新邻居")
    await h.start(guest, f"ref_{host_member.referral_code}")
    await h.press(guest, "中文")
    await h.press(guest, "和苑小区")
    await h.press(guest, "1号楼")
    await h.send(guest, "5-501")
    await h.press(guest, "✅ 同意")
    member = await members_db.get_member_by_telegram(h.db, 7002)
    assert member is not None and member.referred_by == host_member.id


async def test_redelivered_update_changes_nothing(harness: Harness) -> None:
    h = harness
    await organizer(h)
    org = h.organizer
    a = h.user(8001, "甲")
    await join(h, a)
    await h.send(org, "/grant 8001 volunteer")
    sent_before = len(h.texts(org))
    await h.redeliver_last()
    assert len(h.texts(org)) == sent_before
    audits = await h.db.scalar("SELECT count(*) FROM audit_log WHERE action = 'grant'")
    assert audits == 1


async def test_help_lists_commands_for_the_roles(harness: Harness) -> None:
    h = harness
    await organizer(h)
    a = h.user(9001, "甲", lang="en")
    await h.start(a)
    await h.send(a, "/help")
    resident_help = h.last_text(a)
    assert "/me" in resident_help and "/grant" not in resident_help
    await h.send(h.organizer, "/help")
    assert "/grant" in h.last_text(h.organizer) and "/bind" in h.last_text(h.organizer)


def _unused(*_: Any) -> None:  # keeps type checkers quiet about helpers above
    return None


async def test_referrer_is_credited_once_when_the_newcomer_is_verified(harness: Harness) -> None:
    from linli.storage import points as points_db

    h = harness
    org = await organizer(h)
    host = h.user(7101, "老邻居")
    await join(h, host)
    host_member = await members_db.get_member_by_telegram(h.db, 7101)
    assert host_member is not None
    guest = h.user(7102, "新邻居")
    await h.start(guest, f"ref_{host_member.referral_code}")
    await h.press(guest, "中文")
    await h.press(guest, "和苑小区")
    await h.press(guest, "1号楼")
    await h.send(guest, "5-502")
    await h.press(guest, "✅ 同意")
    assert await points_db.balance(h.db, host_member.id) == 0  # not before verification
    await h.send(org, "/verify 7102")
    expected = h.config.points.earn_rules(h.config.tz).amounts["referral"]
    assert expected > 0
    assert await points_db.balance(h.db, host_member.id) == expected
    assert f"积分 +{expected}" in h.last_text(host)
    await h.send(org, "/verify 7102")  # again: already verified, nothing more
    assert "此前已确认" in h.last_text(org)
    assert await points_db.balance(h.db, host_member.id) == expected


async def test_deep_links_into_the_tree_hole_and_a_report(harness: Harness) -> None:
    h = harness
    a = h.user(7201, "甲")
    await join(h, a)
    await h.start(a, "treehole")
    treehole_prompt = h.last_text(a)
    await h.send(a, "/cancel")
    await h.start(a, "report")
    report_prompt = h.last_text(a)
    assert treehole_prompt.startswith("🌳 树洞") and "完全匿名" in treehole_prompt
    assert report_prompt.startswith("📝 随手拍") and "🚨 燃气泄漏" in h.buttons(a)
    await h.start(a, "checkin_ZZZZZZ")
    assert h.last_text(a) == "签到码不对，请核对现场展示的签到码。"


async def test_me_shows_points_and_hours(harness: Harness) -> None:
    from linli.storage import points as points_db
    from linli.storage import timebank as timebank_db

    h = harness
    a = h.user(7301, "Amy", lang="en")
    b = h.user(7302, "Bo")
    await join(h, a, lang="English", building="Building 1")
    await join(h, b, unit="3-202")
    amy = await members_db.get_member_by_telegram(h.db, 7301)
    bo = await members_db.get_member_by_telegram(h.db, 7302)
    assert amy is not None and bo is not None
    rules = h.config.points.earn_rules(h.config.tz)
    async with h.db.transaction() as tx:
        await points_db.earn(
            tx,
            member_id=amy.id,
            rule="verified_report",
            reference="H-1",
            key="t:1",
            rules=rules,
            now=h.clock(),
        )
    log = await timebank_db.log_service(
        h.db,
        giver_id=amy.id,
        receiver_id=bo.id,
        minutes=90,
        what="陪老人看病",
        from_pool=False,
        now=h.clock(),
    )
    _, hour_points = await timebank_db.confirm(
        h.db,
        log.id,
        actor_id=bo.id,
        is_organizer=False,
        floor_minutes=600,
        rules=rules,
        now=h.clock(),
    )
    await h.send(a, "/me")
    text = h.last_text(a)
    assert f"Points: {rules.amounts['verified_report'] + hour_points}" in text
    assert "Time bank: 1.5 h" in text


async def test_notices_follow_telegram_language_until_one_is_chosen(harness: Harness) -> None:
    h = harness
    org = await organizer(h)
    emma = h.user(7401, "Emma", lang="en")
    await h.start(emma)  # never chooses a language: the joining flow is left at its first step
    await h.send(org, "/grant 7401 volunteer")
    assert h.last_text(emma) == "🎖 You are now a volunteer. Send /help to see what you can do."


async def test_an_organizer_may_join_as_staff_without_a_household(harness: Harness) -> None:
    h = harness
    org = h.organizer
    await h.start(org)
    await h.press(org, "中文")
    assert "🏢 社区工作人员（不登记住户）" in h.buttons(org)
    await h.press(org, "🏢 社区工作人员（不登记住户）")
    assert "隐私说明" in h.last_text(org)
    await h.press(org, "✅ 同意")
    assert "您已登记为社区工作人员" in h.last_text(org)
    member = await members_db.get_member_by_telegram(h.db, org.id)
    assert member is not None and member.joined and member.household_id is None
    resident = h.user(7501, "居民")
    await h.start(resident)
    await h.press(resident, "中文")
    assert "🏢 社区工作人员（不登记住户）" not in h.buttons(resident)
    await h.callback(resident, "m:sf")  # a forged staff button from a resident
    assert h.alerts(resident)[-1].text.startswith("这个按钮已失效")
    still = await members_db.get_member_by_telegram(h.db, 7501)
    assert still is not None and not still.joined
