"""Hazard reports as residents, riders, building leaders and organizers see them."""

from __future__ import annotations

from linli.core.community import Role
from linli.core.hazards import NewReport, ReportDraft, Status
from linli.sim.core import SimUser
from linli.sim.harness import Harness
from linli.storage import drafts as drafts_db
from linli.storage import hazards as hazards_db
from linli.storage import members as members_db
from linli.storage.drafts import Draft

ORG_GROUP = -1001000


async def resident(
    h: Harness, user: SimUser, building: str = "heyuan/1", *, role: Role | None = None
) -> int:
    """A joined, verified resident created directly in storage (onboarding is tested elsewhere)."""
    now = h.clock()
    member = await members_db.ensure_member(h.db, user.id, user.first_name, None, now)
    await members_db.set_home(h.db, member.id, building, "3-201", now)
    await members_db.set_verified(h.db, member.id, None, now)
    await members_db.mark_joined(h.db, member.id, None)
    if role is not None:
        await members_db.grant_role(h.db, member.id, role, member.id, now)
    await h.start(user)  # opens the private chat ("welcome back")
    return member.id


async def mobile_reporter(h: Harness, user: SimUser) -> int:
    """A courier registered without a household (as `/start rider` leaves them)."""
    now = h.clock()
    member = await members_db.ensure_member(h.db, user.id, user.first_name, None, now)
    await members_db.mark_joined(h.db, member.id, None)
    await members_db.grant_role(h.db, member.id, Role.MOBILE_REPORTER, member.id, now)
    await h.start(user)
    return member.id


async def named_report(
    h: Harness,
    user: SimUser,
    *,
    category: str = "🚨 火灾隐患",
    text: str = "楼道里堆满纸箱",
    where: str | tuple[float, float] = "和苑小区1号楼",
) -> None:
    """The whole Chinese flow, under the member's name, no photos."""
    await h.send(user, "/report")
    await h.press(user, category)
    await h.send(user, text)
    await h.press(user, "跳过")
    if isinstance(where, str):
        await h.send(user, where)
    else:
        await h.location(user, *where)
    if "我也遇到了" in " ".join(h.buttons(user)):
        await h.press(user, "不是，这是新情况")
    await h.press(user, "👤 实名提交（可得积分）")
    await h.press(user, "✅ 提交")


async def ledger(h: Harness, member_id: int) -> list[tuple[str, int]]:
    rows = await h.db.fetchall(
        "SELECT rule, amount FROM points_ledger WHERE member_id = ? ORDER BY id", (member_id,)
    )
    return [(r["rule"], r["amount"]) for r in rows]


async def test_full_report_reaches_the_organizers_and_the_building_leader(harness: Harness) -> None:
    h = harness
    wang, leader = h.user(2001, "王芳"), h.user(2002, "楼长老李")
    me = await resident(h, wang)
    await resident(h, leader, role=Role.BUILDING_LEADER)
    await h.send(wang, "/report")
    assert "什么类型的隐患" in h.last_text(wang)
    assert h.buttons(wang)[:3] == ["🚨 火灾隐患", "消防通道/楼道堵塞", "🚨 电气隐患"]
    await h.press(wang, "🚨 火灾隐患")
    assert "最多 1000 字" in h.last_text(wang)
    await h.send(wang, "楼道里堆满<b>纸箱</b>")
    await h.photo(wang)
    assert "已收到 1 张" in h.last_text(wang)
    await h.photo(wang)
    await h.photo(wang)  # the third photo moves on by itself
    assert "隐患在哪里" in h.last_text(wang)
    await h.send(wang, "和苑小区1号楼")
    assert "以实名还是匿名" in h.last_text(wang) and "匿名报告不获得积分" in h.last_text(wang)
    await h.press(wang, "👤 实名提交（可得积分）")
    summary = h.last_text(wang)
    assert "楼道里堆满<b>纸箱</b>" in summary and "3 张" in summary and "和苑小区 1号楼" in summary
    await h.press(wang, "✅ 提交")
    assert "编号 H-0001" in h.last_text(wang) and "已立即通知" in h.last_text(wang)

    report = await hazards_db.get_report(h.db, 1)
    assert report is not None and report.reporter_id == me and len(report.photos) == 3
    assert report.building_id == "heyuan/1" and report.urgent and report.status is Status.NEW
    assert await drafts_db.get_draft(h.db, wang.id) is None
    card = h.last_text(ORG_GROUP)
    assert "🚨 紧急" in card and "H-0001" in card and "王芳" in card
    assert h.buttons(ORG_GROUP) == ["✔ 确认受理", "🔧 开始处理", "✅ 已解决", "✖ 驳回"]
    assert "H-0001" in h.last_text(leader) and "确认受理" in " ".join(h.buttons(leader))
    # the photos travel with the card
    assert sum(1 for m in h.messages(ORG_GROUP) if m.photo is not None) == 3


async def test_back_and_cancel_in_english(harness: Harness) -> None:
    h = harness
    tom = h.user(2003, "Tom", lang="en")
    await resident(h, tom, "lihu/A")
    await h.send(tom, "/report")
    await h.press(tom, "Water leak")
    assert "Describe it" in h.last_text(tom)
    await h.press(tom, "◀ Back")
    assert "What kind of hazard" in h.last_text(tom)
    await h.press(tom, "Elevator")
    await h.send(tom, "stuck between floors")
    await h.press(tom, "Skip")
    assert "Where is it?" in h.last_text(tom)
    keyboard = h.sim._chat(tom.id).reply_keyboard  # what the phone shows under the input
    assert keyboard is not None and keyboard["keyboard"][0][0]["request_location"] is True
    assert keyboard["keyboard"][1][0]["text"] == "🏠 My building: 丽湖小区, building A"
    await h.press(tom, "◀ Back")  # a reply-keyboard button
    assert "Send up to 3 photos" in h.last_text(tom)
    await h.press(tom, "Skip")
    await h.press(tom, "🏠 My building: 丽湖小区, building A")
    assert h.sim._chat(tom.id).reply_keyboard is None  # removed once the location is known
    await h.press(tom, "👤 Under my name (earns points)")
    assert "Location: 丽湖小区, building A" in h.last_text(tom)
    await h.press(tom, "✖ Cancel")
    assert h.last_text(tom) == "Cancelled; nothing was saved."
    assert await drafts_db.get_draft(h.db, tom.id) is None
    assert await h.db.scalar("SELECT count(*) FROM hazards") == 0
    # a button from the cancelled flow is stale now
    await h.callback(tom, "hz:send:0")
    assert "no longer" in h.alerts(tom)[-1].text.lower() or h.alerts(tom)[-1].show_alert
    assert await h.db.scalar("SELECT count(*) FROM hazards") == 0


async def test_rider_photo_first_needs_three_taps(harness: Harness) -> None:
    h = harness
    rider = h.user(3001, "快递小哥")
    await mobile_reporter(h, rider)
    await h.photo(rider, caption="井盖缺失")
    assert "照片收到了" in h.last_text(rider)
    await h.press(rider, "其他")  # tap 1
    assert "隐患在哪里" in h.last_text(rider)
    await h.location(rider, 39.1, 117.2)  # tap 2
    assert "井盖缺失" in h.last_text(rider) and "✅ 提交" in h.buttons(rider)
    assert "🕶 匿名提交（无积分）" in h.buttons(rider)
    await h.press(rider, "✅ 提交")  # tap 3
    assert "编号 H-0001" in h.last_text(rider)
    report = await hazards_db.get_report(h.db, 1)
    assert report is not None and report.description == "井盖缺失" and len(report.photos) == 1
    assert report.lat == 39.1 and report.lon == 117.2 and not report.anonymous


async def test_rider_can_add_a_description_from_the_confirm_screen(harness: Harness) -> None:
    h = harness
    rider = h.user(3002, "Rider", lang="en")
    await mobile_reporter(h, rider)
    await h.photo(rider)
    await h.press(rider, "Other")
    await h.location(rider, 39.2, 117.3)
    await h.press(rider, "✏️ Add a description")
    await h.send(rider, "broken railing")
    assert "broken railing" in h.last_text(rider)
    await h.press(rider, "🕶 Send anonymously (no points)")
    assert "follow-up code" in h.last_text(rider)
    report = await hazards_db.get_report(h.db, 1)
    assert report is not None and report.anonymous and report.reporter_id is None


async def test_me_too_instead_of_a_duplicate(harness: Harness) -> None:
    h = harness
    wang, li = h.user(2001, "王芳"), h.user(2004, "李雷")
    await resident(h, wang)
    await resident(h, li, "heyuan/2")
    await named_report(h, wang, where=(39.1, 117.2))
    await h.send(li, "/report")
    await h.press(li, "🚨 火灾隐患")
    await h.send(li, "三楼有烟味")
    await h.press(li, "跳过")
    await h.location(li, 39.1003, 117.2)  # about 33 m away
    assert "是其中一个吗" in h.last_text(li) and "H-0001" in h.last_text(li)
    await h.press(li, "👍 我也遇到了：H-0001")
    assert "现在有 1 位邻居" in h.last_text(li)
    assert await h.db.scalar("SELECT count(*) FROM hazards") == 1
    assert "另有 1 位邻居反映" in h.last_text(ORG_GROUP)
    # the reporter cannot support their own report; far away nothing is offered
    await h.send(wang, "/report")
    await h.press(wang, "🚨 火灾隐患")
    await h.send(wang, "again")
    await h.press(wang, "跳过")
    await h.location(wang, 39.2, 117.2)
    assert "是其中一个吗" not in h.last_text(wang)


async def test_triage_transitions_roles_and_points_once(harness: Harness) -> None:
    h = harness
    wang, leader, other_leader, neighbour = (
        h.user(2001, "王芳"),
        h.user(2002, "楼长老李"),
        h.user(2005, "二号楼长"),
        h.user(2006, "邻居"),
    )
    me = await resident(h, wang)
    await resident(h, leader, role=Role.BUILDING_LEADER)
    await resident(h, other_leader, "heyuan/2", role=Role.BUILDING_LEADER)
    await resident(h, neighbour)
    await h.start(h.organizer)
    await named_report(h, wang)

    # a resident forging the triage button, and a leader of another building: refused
    await h.callback(neighbour, "hz:t:ack:1", chat=neighbour)
    assert "只有管理员和本楼楼栋长" in h.alerts(neighbour)[-1].text
    await h.callback(other_leader, "hz:t:ack:1", chat=other_leader)
    assert "只有管理员和本楼楼栋长" in h.alerts(other_leader)[-1].text
    await h.callback(neighbour, "hz:t:zzz:1", chat=neighbour)
    await h.callback(neighbour, "hz:t:ack:99999", chat=neighbour)
    assert (await hazards_db.get_report(h.db, 1)).status is Status.NEW  # type: ignore[union-attr]

    # the organizer and the leader both press Acknowledge before either types a note
    await h.press(h.organizer, "✔ 确认受理", chat=ORG_GROUP)
    assert "请在与机器人的私聊中填写" in h.alerts(h.organizer)[-1].text
    await h.press(leader, "✔ 确认受理")
    await h.send(h.organizer, "已通知物业")
    assert "报告人获得 15 积分" in h.last_text(h.organizer)
    await h.send(leader, "我去看看")
    assert "当前状态不能进行这个操作" in h.last_text(leader)
    await h.redeliver_last()
    assert await ledger(h, me) == [("verified_report", 10), ("urgent_bonus", 5)]
    told = h.last_text(wang)
    assert "已受理" in told and "已通知物业" in told and "获得 15 积分" in told
    assert "已受理" in h.last_text(ORG_GROUP) and "已通知物业" in h.last_text(ORG_GROUP)
    assert h.buttons(ORG_GROUP) == ["🔧 开始处理", "✅ 已解决", "✖ 驳回"]
    leader_card = next(t for t in h.texts(leader) if t.startswith("🚨") or "H-0001 · " in t)
    assert "已受理" in leader_card

    # start work (the leader, from their private card), then resolve with no note
    await h.press(leader, "🔧 开始处理")
    await h.send(leader, "物业明天清理")
    assert "处理中" in h.last_text(wang) and "物业明天清理" in h.last_text(wang)
    await h.press(h.organizer, "✅ 已解决", chat=ORG_GROUP)
    await h.press(h.organizer, "不填备注")
    assert "已解决" in h.last_text(wang)
    assert "已解决" in h.texts(ORG_GROUP)[-1] and h.buttons(ORG_GROUP) == []
    # a stale button on the old card changes nothing
    await h.callback(h.organizer, "hz:t:ack:1", chat=ORG_GROUP)
    assert "当前状态不能进行这个操作" in h.alerts(h.organizer)[-1].text
    history = [e.status for e in await hazards_db.events(h.db, 1)]
    assert history == ["new", "acknowledged", "in_progress", "resolved"]
    assert await ledger(h, me) == [("verified_report", 10), ("urgent_bonus", 5)]


async def test_rejection_as_duplicate_awards_nothing(harness: Harness) -> None:
    h = harness
    wang = h.user(2001, "王芳")
    me = await resident(h, wang)
    await h.start(h.organizer)
    await named_report(h, wang, category="漏水", where=(39.1, 117.2))
    await named_report(h, wang, category="漏水", where=(39.5, 117.2))
    await h.press(h.organizer, "✖ 驳回", chat=ORG_GROUP)
    assert "不填备注" not in h.buttons(h.organizer)
    await h.send(h.organizer, "重复，见 H-0001")
    report = await hazards_db.get_report(h.db, 2)
    assert report is not None and report.status is Status.REJECTED and report.duplicate_of == 1
    assert "已驳回" in h.last_text(wang) and "与 H-0001 是同一问题" in h.last_text(wang)
    assert await ledger(h, me) == []


async def test_triage_note_needs_a_private_chat(harness: Harness) -> None:
    h = harness
    wang = h.user(2001, "王芳")
    await resident(h, wang)
    await named_report(h, wang)
    # the organizer never opened a private chat with the bot
    await h.press(h.organizer, "✔ 确认受理", chat=ORG_GROUP)
    assert "请先私聊机器人" in h.alerts(h.organizer)[-1].text
    assert await drafts_db.get_draft(h.db, h.organizer.id) is None


async def test_limits_description_sticker_and_hourly(make_harness) -> None:  # type: ignore[no-untyped-def]
    h = await make_harness({"hazards": {"max_reports_per_hour": 1}})
    wang = h.user(2001, "王芳")
    await resident(h, wang)
    await h.send(wang, "/report")
    await h.press(wang, "漏水")
    await h.send(wang, "水" * 4096)  # as long as a Telegram message can be
    assert "最多 1000 个字，这段有 4096 个字" in h.last_text(wang)
    draft = await drafts_db.get_draft(h.db, wang.id)
    assert draft is not None and draft.step == "description"
    assert ReportDraft.from_data(draft.data).description == ""  # nothing of it was kept
    await h.send(wang, "水管漏水")
    h.sim.send_sticker(wang, wang.id)
    await h.process()
    assert "表情贴纸，不是照片" in h.last_text(wang)
    await h.press(wang, "跳过")
    await h.send(wang, "和苑小区1号楼")
    await h.press(wang, "👤 实名提交（可得积分）")
    await h.press(wang, "✅ 提交")
    assert "H-0001" in h.last_text(wang)
    await named_report(h, wang, category="电梯故障")
    assert "一小时内最多提交 1 条报告" in h.last_text(wang)
    assert await h.db.scalar("SELECT count(*) FROM hazards") == 1
    h.clock.advance(minutes=61)
    await h.press(wang, "✅ 提交")  # the draft was kept: it goes through an hour later
    assert "H-0002" in h.last_text(wang)


async def test_double_tap_on_send_files_one_report(harness: Harness) -> None:
    h = harness
    wang = h.user(2001, "王芳")
    await resident(h, wang)
    await h.send(wang, "/report")
    await h.press(wang, "漏水")
    await h.send(wang, "漏水")
    await h.press(wang, "跳过")
    await h.send(wang, "和苑小区1号楼")
    await h.press(wang, "👤 实名提交（可得积分）")
    confirm = h.last(wang)
    assert confirm is not None
    await h.callback(wang, "hz:send:0", message_id=confirm.message_id)
    await h.callback(wang, "hz:send:0", message_id=confirm.message_id)
    assert await h.db.scalar("SELECT count(*) FROM hazards") == 1


async def test_escalation_of_unacknowledged_urgent_reports(make_harness) -> None:  # type: ignore[no-untyped-def]
    h = await make_harness({"hazards": {"escalate_after_minutes": 15, "max_escalations": 2}})
    wang = h.user(2001, "王芳")
    await resident(h, wang)
    await h.start(h.organizer)
    await named_report(h, wang)
    h.clock.advance(minutes=14)
    assert await h.tick() == []
    h.clock.advance(minutes=1)
    sent = await h.tick()
    assert {m.chat_id for m in sent} == {ORG_GROUP, h.organizer.id}
    assert "第 1 次提醒" in h.last_text(ORG_GROUP) and "H-0001" in h.last_text(h.organizer)
    assert await h.tick() == []
    await h.restart()
    assert await h.tick() == []
    h.clock.advance(minutes=15)
    assert len(await h.tick()) == 2
    h.clock.advance(minutes=60)
    assert await h.tick() == []  # at most max_escalations
    # a non-urgent report is never escalated; an acknowledged one stops escalating
    await named_report(h, wang, category="漏水", where=(39.9, 117.9))
    await named_report(h, wang, category="🚨 燃气泄漏", where=(39.8, 117.9))
    await h.press(h.organizer, "✔ 确认受理", chat=ORG_GROUP)
    await h.press(h.organizer, "不填备注")
    h.clock.advance(minutes=120)
    assert await h.tick() == []


async def test_follow_up_asks_once_and_no_reopens(harness: Harness) -> None:
    h = harness
    wang = h.user(2001, "王芳")
    await resident(h, wang)
    await h.start(h.organizer)
    await named_report(h, wang, category="漏水")
    await h.press(h.organizer, "✅ 已解决", chat=ORG_GROUP)
    await h.send(h.organizer, "已换水管")
    h.clock.advance(days=2)
    assert await h.tick() == []
    h.clock.advance(days=1)
    sent = await h.tick()
    assert [m.chat_id for m in sent] == [wang.id]
    assert "真的好了吗" in h.last_text(wang)
    assert await h.tick() == []
    await h.restart()
    assert await h.tick() == []
    await h.press(wang, "❌ 还没解决")
    assert "已重新打开" in h.last_text(wang)
    assert "还没有解决，已重新打开" in h.last_text(ORG_GROUP)
    report = await hazards_db.get_report(h.db, 1)
    assert report is not None and report.status is Status.ACKNOWLEDGED
    await h.callback(wang, "hz:fu:n:1")  # the same answer again
    assert "已经回答过了" in h.alerts(wang)[-1].text
    assert "重新打开" in h.texts(ORG_GROUP)[-2] or "已受理" in h.texts(ORG_GROUP)[-2]


async def test_lists(harness: Harness) -> None:
    h = harness
    wang, li = h.user(2001, "王芳"), h.user(2004, "李雷")
    await resident(h, wang)
    await resident(h, li, "lihu/A", role=Role.BUILDING_LEADER)
    await h.start(h.organizer)
    await h.send(wang, "/myreports")
    assert "还没有报告过" in h.last_text(wang)
    await named_report(h, wang, category="漏水")
    await named_report(h, wang, category="电梯故障", where="丽湖小区A栋")
    await h.send(wang, "/myreports")
    mine = h.last_text(wang)
    assert "共 2 条" in mine and "H-0001" in mine and "电梯故障" in mine
    await h.send(wang, "/reports")
    assert "只有管理员和楼栋长" in h.last_text(wang)
    await h.send(h.organizer, "/reports")
    listing = h.last_text(h.organizer)
    assert listing.index("H-0001") < listing.index("H-0002") and "共 2 条" in listing
    await h.send(h.organizer, "/reports elevator")
    assert "H-0002" in h.last_text(h.organizer) and "H-0001" not in h.last_text(h.organizer)
    await h.send(h.organizer, "/reports resolved")
    assert "没有符合条件的报告" in h.last_text(h.organizer)
    await h.send(h.organizer, "/reports 乱写")
    assert "看不懂“乱写”" in h.last_text(h.organizer)
    await h.send(li, "/reports")  # a leader sees their own building only
    assert "H-0002" in h.last_text(li) and "H-0001" not in h.last_text(li)


async def test_report_in_a_group_links_to_the_private_chat(harness: Harness) -> None:
    h = harness
    wang = h.user(2001, "王芳")
    await resident(h, wang)
    group = h.group(-2001, "和苑1号楼", [wang])
    await h.send(wang, "/report", chat=group)
    assert "私聊中提交" in h.last_text(group) and h.buttons(group) == ["私聊机器人报告"]
    await h.press(wang, "私聊机器人报告", chat=group)
    assert "什么类型的隐患" in h.last_text(wang)


async def test_reports_are_paginated(harness: Harness) -> None:
    h = harness
    await h.start(h.organizer)
    for i in range(20):  # filed straight into storage: the flow is tested above
        draft = Draft(4000 + i, "report", "confirm", {})
        await drafts_db.put_draft(h.db, draft, h.clock())
        new = NewReport("water", f"漏水 {i}", False, False, lat=39.0 + i, lon=117.0)
        await hazards_db.create_report(h.db, new, reporter_id=None, ending=draft, now=h.clock())
    await h.send(h.organizer, "/reports")
    assert "H-0015" in h.last_text(h.organizer) and "H-0016" not in h.last_text(h.organizer)
    await h.press(h.organizer, "下一页 ▶")
    assert "16. " in h.last_text(h.organizer) and "H-0020" in h.last_text(h.organizer)
    assert h.buttons(h.organizer) == []


async def test_the_longest_cards_fit_in_one_message(harness: Harness) -> None:
    h = harness
    wang = h.user(2001, "王" * 64)
    await resident(h, wang)
    await h.start(h.organizer)
    await h.send(wang, "/report")
    await h.press(wang, "🚨 火灾隐患")
    await h.send(wang, "火" * 1000)
    await h.press(wang, "跳过")
    await h.send(wang, "地" * 200)
    await h.press(wang, "👤 实名提交（可得积分）")
    await h.press(wang, "✅ 提交")
    for label in ("✔ 确认受理", "🔧 开始处理", "✅ 已解决"):
        await h.press(h.organizer, label, chat=ORG_GROUP)
        await h.send(h.organizer, "注" * 500)
    for text in (h.last_text(ORG_GROUP), h.last_text(wang)):
        assert len(text) <= 4096 and "已解决" in text
    await h.send(wang, "/treehole")
    await h.send(wang, "树" * 1500)
    await h.press(wang, "✅ 匿名发送")
    for _ in range(4):
        await h.press(h.organizer, "💬 回复", chat=ORG_GROUP)
        await h.send(h.organizer, "回" * 1000)
    assert len(h.last_text(ORG_GROUP)) <= 4096 and "已回复 4 条" in h.last_text(ORG_GROUP)


async def test_joining_comes_before_reporting(harness: Harness) -> None:
    h = harness
    stranger = h.user(5001, "Stranger", lang="en")
    await h.start(stranger)  # onboarding starts; they do not finish it
    await h.send(stranger, "/report")
    assert "Please send /start to join first" in h.last_text(stranger)
    assert await h.db.scalar("SELECT count(*) FROM hazards") == 0


async def test_a_sticker_instead_of_a_description_or_location(harness: Harness) -> None:
    h = harness
    tom = h.user(2003, "Tom", lang="en")
    await resident(h, tom)
    await h.send(tom, "/report")
    await h.press(tom, "Other")
    h.sim.send_sticker(tom, tom.id)
    await h.process()
    assert "Please describe it in words." in h.last_text(tom)
    await h.send(tom, "loose tiles")
    await h.press(tom, "Skip")
    h.sim.send_sticker(tom, tom.id)
    await h.process()
    assert 'Tap "Send my location"' in h.last_text(tom)
    draft = await drafts_db.get_draft(h.db, tom.id)
    assert draft is not None and draft.step == "location"
    assert ReportDraft.from_data(draft.data).description == "loose tiles"


async def anonymous_report(h: Harness, user: SimUser) -> None:
    """The whole Chinese flow, anonymously, no photos."""
    await h.send(user, "/report")
    await h.press(user, "漏水")
    await h.send(user, "水管漏水")
    await h.press(user, "跳过")
    await h.send(user, "和苑小区1号楼")
    if "我也遇到了" in " ".join(h.buttons(user)):
        await h.press(user, "不是，这是新情况")
    await h.press(user, "🕶 匿名提交（不得积分）")
    await h.press(user, "✅ 提交")


async def test_one_hourly_limit_for_named_and_anonymous_reports(make_harness) -> None:  # type: ignore[no-untyped-def]
    h = await make_harness({"hazards": {"max_reports_per_hour": 2}})
    wang, li = h.user(2001, "王芳"), h.user(2002, "李明")
    await resident(h, wang)
    await resident(h, li)
    await anonymous_report(h, wang)
    await anonymous_report(h, wang)
    assert "/followup" in h.last_text(wang)
    await anonymous_report(h, wang)  # a third anonymous one: over the limit
    assert "一小时内最多提交 2 条报告" in h.last_text(wang)
    await named_report(h, li)
    await anonymous_report(h, li)  # named and anonymous count together
    await named_report(h, li, category="电梯故障")
    assert "一小时内最多提交 2 条报告" in h.last_text(li)
    assert await h.db.scalar("SELECT count(*) FROM hazards") == 4
    h.clock.advance(minutes=61)
    await h.press(li, "✅ 提交")  # the refused draft was kept: an hour later it goes through
    assert "H-0005" in h.last_text(li)


async def test_the_named_hourly_count_survives_a_restart(make_harness) -> None:  # type: ignore[no-untyped-def]
    h = await make_harness({"hazards": {"max_reports_per_hour": 1}})
    wang = h.user(2001, "王芳")
    await resident(h, wang)
    await named_report(h, wang)
    await h.restart()
    await anonymous_report(h, wang)  # the named report is on disk: it still counts
    assert "一小时内最多提交 1 条报告" in h.last_text(wang)
    assert await h.db.scalar("SELECT count(*) FROM hazards") == 1


async def test_a_report_half_written_before_an_upgrade_goes_on(harness: Harness) -> None:
    """A draft kept under the old short keys ("cat", "desc", "bld"...) is read as it was."""
    h = harness
    wang = h.user(2001, "王芳")
    await resident(h, wang)
    old = {"photos": ["p1"], "cat": "water", "desc": "水管漏水", "bld": "heyuan/1", "addr": ""}
    await drafts_db.put_draft(h.db, Draft(wang.id, "report", "anonymous", old), h.clock())
    await h.callback(wang, "hz:anon:0")
    assert "水管漏水" in h.last_text(wang) and "1号楼" in h.last_text(wang)
    await h.press(wang, "✅ 提交")
    report = await hazards_db.get_report(h.db, 1)
    assert report is not None and report.category == "water" and report.photos == ("p1",)
    assert report.description == "水管漏水" and report.building_id == "heyuan/1"
    assert not report.anonymous
