"""/broadcast and /broadcasts through the simulator, as an organizer and residents see them."""

from __future__ import annotations

from linli.bot.views.broadcasts import wait_deliveries
from linli.core.community import NodeKind, Role
from linli.sim.harness import Harness
from linli.storage import broadcasts as bc_db
from tests.support.broadcasts import bound_group, sim_bound_group, sim_organizer, sim_resident


async def _choose(h: Harness, *labels: str) -> None:
    org = sim_organizer(h)
    await h.send(org, "/broadcast")
    for label in labels:
        await h.press(org, label)


async def test_private_messages_to_a_compounds_volunteers(harness: Harness) -> None:
    h = harness
    org = sim_organizer(h)
    a = await sim_resident(h, 2001, "heyuan/1", Role.VOLUNTEER)
    b = await sim_resident(h, 2002, "heyuan/2", Role.VOLUNTEER)
    c = await sim_resident(h, 2003, "heyuan/2")  # not a volunteer
    d = await sim_resident(h, 2004, "lihu/A", Role.VOLUNTEER)  # other compound
    await _choose(h, "✉️ 私信给居民", "和苑小区", "志愿者")
    assert "和苑小区的志愿者（私信）" in h.last_text(org) and "共 2 位接收者" in h.last_text(org)
    await h.send(org, "<b>周六</b>清扫楼道 & 领取工具，<i>9:00</i> 集合")
    preview, card = h.messages(org)[-2:]
    assert preview.content == "周六清扫楼道 & 领取工具，9:00 集合"
    assert preview.html == "<b>周六</b>清扫楼道 &amp; 领取工具，<i>9:00</i> 集合"
    assert card.labels == ["✅ 发送给 2 位", "取消"]
    await h.press(org, "✅ 发送给 2 位")
    await wait_deliveries(h.app, 10)
    for user in (a, b):
        assert h.texts(user)[-1] == "周六清扫楼道 & 领取工具，9:00 集合"
    for user in (c, d):
        assert "清扫楼道" not in " ".join(h.texts(user))
    progress, report = h.messages(org)[-2:]
    assert progress.message_id == card.message_id and progress.labels == []
    assert "第 1 号群发已完成" in progress.content and "已送达 2" in progress.content
    assert "已送达：2" in report.content and "发送失败：0" in report.content
    await h.send(org, "/broadcasts")
    log = h.last_text(org)
    assert "#1" in log and "组织者" in log and "送达 2 · 屏蔽 0 · 失败 0" in log


async def test_groups_with_a_photo_in_english(make_harness: object) -> None:
    h: Harness = await make_harness()  # type: ignore[operator]
    org = sim_organizer(h, lang="en")
    for chat_id, title, kind, target in (
        (-501, "Community", NodeKind.COMMUNITY, ""),
        (-502, "Heyuan", NodeKind.COMPOUND, "heyuan"),
        (-503, "Lihu A", NodeKind.BUILDING, "lihu/A"),
    ):
        sim_bound_group(h, chat_id, title)
        await bound_group(h.db, chat_id, title, kind, target, h.clock())
    await h.send(org, "/broadcast")
    await h.press(org, "📢 To the bound groups")
    await h.press(org, "丽湖小区")
    assert "the groups of 丽湖小区, 2 recipients" in h.last_text(org)
    await h.photo(org, caption="Water off <b>Tuesday</b>")
    await h.press(org, "✅ Send to 2")
    await wait_deliveries(h.app, 10)
    for chat in (-501, -503):
        message = h.last(chat)
        assert message is not None and message.has_photo
        assert message.content == "Water off Tuesday"
    assert h.last(-502) is None
    assert "Delivered: 2" in h.last_text(org)


async def test_blocked_and_unreachable_members_are_reported(harness: Harness) -> None:
    h = harness
    org = sim_organizer(h)
    ok = await sim_resident(h, 2001, "heyuan/1")
    gone = await sim_resident(h, 2002, "heyuan/1", name="小李")
    h.sim.block_bot(gone)
    h.sim.take_updates()
    await _choose(h, "✉️ 私信给居民", "全社区", "所有人")
    await h.send(org, "明天停电")
    await h.press(org, "✅ 发送给 2 位")
    await wait_deliveries(h.app, 10)
    assert h.texts(ok)[-1] == "明天停电"
    report = h.last_text(org)
    assert "已送达：1" in report and "屏蔽了机器人或未开启私聊：1" in report
    assert "小李：已屏蔽" in report
    b = await bc_db.get_broadcast(h.db, 1)
    assert b is not None and (b.counts.sent, b.counts.blocked, b.status) == (1, 1, "done")


def _tried(h: Harness, chat_id: int, text: str) -> int:
    """How many times the bot tried to send `text` to the chat (answered or refused)."""
    return sum(
        1
        for c in h.sim.calls
        if c.method.lower() == "sendmessage"
        and c.params.get("chat_id") == chat_id
        and c.params.get("text") == text
    )


async def test_a_member_who_blocked_the_bot_is_skipped_until_they_unblock_it(
    harness: Harness,
) -> None:
    h = harness
    org = sim_organizer(h)
    ok = await sim_resident(h, 2001, "heyuan/1")
    gone = await sim_resident(h, 2002, "heyuan/1", name="小李")
    h.sim.block_bot(gone)  # Telegram tells the bot: my_chat_member, kicked, in the private chat
    await h.process()
    await _choose(h, "✉️ 私信给居民", "全社区", "所有人")
    await h.send(org, "明天停电")
    await h.press(org, "✅ 发送给 2 位")
    await wait_deliveries(h.app, 10)
    assert h.texts(ok)[-1] == "明天停电"
    assert _tried(h, gone.id, "明天停电") == 0  # not sent at all: no 403, no rate slot used
    report = h.last_text(org)
    assert "已送达：1" in report and "屏蔽了机器人或未开启私聊：1" in report
    assert "小李：已屏蔽" in report
    # they unblock it (Restart): reachable again
    h.sim.unblock_bot(gone)
    await h.process()
    await _choose(h, "✉️ 私信给居民", "全社区", "所有人")
    await h.send(org, "后天恢复供电")
    await h.press(org, "✅ 发送给 2 位")
    await wait_deliveries(h.app, 10)
    assert h.texts(gone)[-1] == "后天恢复供电"
    second = await bc_db.get_broadcast(h.db, 2)
    assert second is not None and (second.counts.sent, second.counts.blocked) == (2, 0)


async def test_a_403_blocked_marks_the_member_for_next_time(harness: Harness) -> None:
    """The block update was missed (the bot was down): the 403 is remembered, the next
    broadcast skips them, and their /start after unblocking makes them reachable."""
    h = harness
    org = sim_organizer(h)
    await sim_resident(h, 2001, "heyuan/1")
    gone = await sim_resident(h, 2002, "heyuan/1", name="小李")
    h.sim.block_bot(gone)
    h.sim.take_updates()  # the update never reached the bot
    for text in ("明天停电", "后天恢复供电"):
        await _choose(h, "✉️ 私信给居民", "全社区", "所有人")
        await h.send(org, text)
        await h.press(org, "✅ 发送给 2 位")
        await wait_deliveries(h.app, 10)
    assert _tried(h, gone.id, "明天停电") == 1  # answered 403: remembered
    assert _tried(h, gone.id, "后天恢复供电") == 0
    await h.start(gone)  # Restart: my_chat_member (member), then /start
    await _choose(h, "✉️ 私信给居民", "全社区", "所有人")
    await h.send(org, "周末演练")
    await h.press(org, "✅ 发送给 2 位")
    await wait_deliveries(h.app, 10)
    assert "周末演练" in h.texts(gone)


async def test_non_organizer_and_group_chat_are_refused(harness: Harness) -> None:
    h = harness
    resident = await sim_resident(h, 2001, "heyuan/1")
    await h.send(resident, "/broadcast")
    assert h.last_text(resident) == "只有组织者可以群发通知。"
    await h.send(resident, "/broadcasts")
    assert h.last_text(resident) == "只有组织者可以群发通知。"
    # a forged Send button from a resident changes nothing
    await h.callback(resident, "bc:ok:abcdef")
    assert await bc_db.count_broadcasts(h.db) == 0
    group = sim_bound_group(h, -600, "和苑群")
    await h.send(sim_organizer(h), "/broadcast", chat=group)
    assert h.last_text(group) == "请在和我的私聊里使用这个命令。"


async def test_bad_text_is_answered_and_changes_nothing(harness: Harness) -> None:
    h = harness
    org = sim_organizer(h)
    await sim_resident(h, 2001, "heyuan/1")
    await _choose(h, "✉️ 私信给居民", "全社区", "所有人")
    await h.send(org, "<div>通知</div>")
    assert h.last_text(org).startswith("Telegram 不支持 <div> 这个标签")
    await h.send(org, "<b>通知")
    assert h.last_text(org).startswith("<b> 标签没有闭合")
    await h.photo(org, caption="长" * 1100)
    assert h.last_text(org).startswith("图片说明太长了：1100 字，最多 1024 字")
    await h.photo(org, caption=None)
    assert h.last_text(org) == "内容是空的，请发送要群发的文字（或带说明的图片）。"
    assert await bc_db.count_broadcasts(h.db) == 0
    # still at the text step: a good text now gets its preview
    await h.send(org, "好的通知")
    assert h.buttons(org) == ["✅ 发送给 1 位", "取消"]


async def test_an_audience_of_nobody_is_refused_before_the_text(harness: Harness) -> None:
    h = harness
    org = sim_organizer(h)
    await _choose(h, "📢 发到绑定的群", "志愿者")
    assert h.last_text(org).startswith("⚠️ 志愿者群目前一个接收者也没有")
    await _choose(h, "✉️ 私信给居民", "丽湖小区的楼栋…", "A")
    await h.press(org, "所有人")
    assert h.last_text(org).startswith("⚠️ 丽湖小区 A号楼的居民（私信）目前一个接收者也没有")
    await h.send(org, "有人吗")
    assert h.last_text(org) == "请先点上面的按钮完成选择，或发 /cancel 取消群发。"
    assert await bc_db.count_broadcasts(h.db) == 0


async def test_two_taps_on_send_broadcast_once_and_cancel_sends_nothing(harness: Harness) -> None:
    h = harness
    org = sim_organizer(h)
    a = await sim_resident(h, 2001, "heyuan/1")
    await _choose(h, "✉️ 私信给居民", "全社区", "所有人")
    await h.send(org, "一次就好")
    card = h.last(org)
    assert card is not None
    send_data = card.buttons[0][0].callback_data
    await h.press(org, "✅ 发送给 1 位")
    await h.callback(org, str(send_data), message_id=card.message_id)
    await wait_deliveries(h.app, 10)
    assert "已经发出了（第 1 号群发）" in h.alerts(org)[-1].text
    assert h.texts(a).count("一次就好") == 1
    assert await bc_db.count_broadcasts(h.db) == 1
    await _choose(h, "✉️ 私信给居民", "全社区", "所有人")
    await h.send(org, "算了")
    await h.press(org, "取消")
    assert h.last_text(org) == "已取消，什么都没有发出。"
    assert "算了" not in h.texts(a)
    assert await bc_db.count_broadcasts(h.db) == 1
