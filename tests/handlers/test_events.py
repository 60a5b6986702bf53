"""Events through the simulator: creating, cards, sign-up/waitlist, lists, reminders, check-in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from linli.core.community import Binding, NodeKind
from linli.sim.core import SimGroup, SimUser
from linli.sim.harness import Harness
from linli.storage import events as events_db
from linli.storage import groups as groups_db
from linli.storage import points as points_db
from tests.support.event_people import resident

# FakeClock starts at 2026-11-26 02:00 UTC (10:00 in Shanghai).
START = datetime(2026, 12, 5, 6, 0, tzinfo=UTC)  # "12-05 14:00" in Shanghai


async def community_group(h: Harness, *people: SimUser, chat_id: int = -3001) -> SimGroup:
    organizer = await resident(h.db, 1000, h.clock(), name="组织者")
    await h.start(h.organizer)
    group = h.group(chat_id, "和平社区群", list(people))
    await h.process()
    await groups_db.bind_group(
        h.db,
        chat_id,
        "和平社区群",
        Binding(chat_id, NodeKind.COMMUNITY, ""),
        organizer.id,
        h.clock(),
    )
    return group


async def neighbour(h: Harness, tg: int, name: str, lang: str = "zh-hans", **kw: object) -> SimUser:
    await resident(h.db, tg, h.clock(), name=name, **kw)  # type: ignore[arg-type]
    user = h.user(tg, name, lang=lang)
    await h.start(user)
    return user


async def create_event(
    h: Harness, *, capacity: str = "2", points: str = "10", span: str = "12-05 14:00-16:00"
) -> int:
    org = h.organizer
    await h.send(org, "/newevent")
    await h.press(org, "讲座")
    await h.send(org, "防诈骗讲座 <b>")
    await h.press(org, "跳过")
    await h.send(org, span)
    await h.send(org, "社区活动室")
    await h.send(org, capacity)
    await h.press(org, "跳过")
    await h.send(org, points)
    await h.press(org, "全社区")
    assert "预览" in h.last_text(org)
    await h.press(org, "发布")
    assert "已发布" in h.last_text(org)
    return int(await h.db.scalar("SELECT max(id) FROM events"))


async def test_organizer_creates_and_card_fills_with_waitlist(harness: Harness) -> None:
    h = harness
    a, b, c = [await neighbour(h, 2001 + i, n) for i, n in enumerate(("王芳", "李雷", "韩梅"))]
    group = await community_group(h, a, b, c)
    event_id = await create_event(h, capacity="2")
    card = h.last_text(group)
    assert "防诈骗讲座 <b>" in card and "剩余名额 2/2" in card and "社区活动室" in card
    assert "2026年12月5日 14:00 – 16:00" in card
    assert h.buttons(group) == ["报名", "取消报名", "📅 加入日历"]

    await h.press(a, "报名", chat=group)
    assert "报名成功" in (h.alerts(a)[-1].text or "")
    assert "你已报名" in h.last_text(a)
    await h.press(b, "报名", chat=group)
    await h.press(c, "报名", chat=group)
    assert "第 1 位" in (h.alerts(c)[-1].text or "")
    assert "候补名单第 1 位" in h.last_text(c)
    await h.press(a, "报名", chat=group)
    assert "已经报过名" in (h.alerts(a)[-1].text or "")

    # The card is edited at most every few seconds: the next tick after the gap shows it.
    message = h.last(group)
    assert message is not None and "剩余名额 2/2" in message.content
    h.clock.advance(seconds=6)
    await h.tick()
    message = h.last(group)
    assert message is not None and "剩余名额 0/2（候补 1 人）" in message.content
    edits = message.edits
    h.clock.advance(seconds=30)
    await h.tick()  # nothing changed: no edit sent
    assert h.last(group).edits == edits  # type: ignore[union-attr]

    # A cancels: C moves up and is told privately.
    await h.press(a, "取消报名", chat=group)
    assert "已取消报名" in (h.alerts(a)[-1].text or "")
    assert "已从候补转为正式报名" in h.last_text(c)
    assert await events_db.seats(h.db, event_id) == events_db.Seats(2, 0)


async def test_bad_input_is_refused_with_the_limit_and_nothing_changes(harness: Harness) -> None:
    h = harness
    org = h.organizer
    await h.start(org)
    await h.send(org, "/newevent")
    await h.press(org, "讲座")
    await h.send(org, "讲" * 4096)  # the most a Telegram client sends (core tests 5000)
    assert "标题太长了：最多 80 字（现在 4096 字）" in h.last_text(org)
    await h.send(org, "消防演练")
    await h.send(org, "-")
    await h.send(org, "12-05 16:00-14:00")
    assert "结束时间必须晚于开始时间" in h.last_text(org)
    await h.send(org, "明天下午")
    assert "12-05 14:00-16:00" in h.last_text(org)
    await h.send(org, "12-05 14:00-16:00")
    await h.send(org, "小区广场")
    await h.send(org, "-1")
    assert "名额须在 0 到 5000 之间" in h.last_text(org)
    await h.send(org, str(10**9))
    assert "名额须在 0 到 5000 之间" in h.last_text(org)
    await h.send(org, "30")
    assert "报名截止时间" in h.last_text(org)
    await h.send(org, "12-06 09:00")
    assert "不能晚于活动开始时间" in h.last_text(org)
    assert await h.db.scalar("SELECT count(*) FROM events") == 0


async def test_english_resident_and_forged_buttons(harness: Harness) -> None:
    h = harness
    a = await neighbour(h, 2101, "Anna", lang="en")
    group = await community_group(h, a)
    event_id = await create_event(h)
    await h.callback(a, f"ev:su:{event_id + 50}", chat=group)
    assert "There is no such event" in (h.alerts(a)[-1].text or "")
    await h.callback(a, "ev:su:abc", chat=group)
    assert h.alerts(a)[-1].show_alert
    assert await h.db.scalar("SELECT count(*) FROM event_signups") == 0
    await h.press(a, "报名", chat=group)
    assert "You are signed up!" in (h.alerts(a)[-1].text or "")
    assert "You are signed up for" in h.last_text(a)
    # A redelivered update changes nothing.
    before = len(h.sim.sent_log)
    await h.redeliver_last()
    assert len(h.sim.sent_log) == before
    assert await h.db.scalar("SELECT count(*) FROM event_signups") == 1
    await h.send(a, "/myevents")
    assert "My events" in h.last_text(a) and "Signed up" in h.last_text(a)
    await h.send(a, "/events")
    assert "Upcoming events" in h.last_text(a) and "Seats left: 1/2" in h.last_text(a)
    # Calendar file in private.
    await h.press(a, "📅 加入日历", chat=group)  # the card speaks the community language
    assert "calendar file" in (h.alerts(a)[-1].text or "")
    last = h.last(a)
    assert last is not None and last.document is not None


async def test_details_of_an_event_that_is_gone_say_so_once(harness: Harness) -> None:
    """A details button naming no event (forged, or a database restored from before it)."""
    h = harness
    a = await neighbour(h, 2001, "王芳")
    await h.callback(a, "ev:show:999")
    assert [x.text for x in h.alerts(a)] == ["找不到这个活动，它可能已被删除。"]


async def test_organizer_cancels_and_everyone_is_told(harness: Harness) -> None:
    h = harness
    a = await neighbour(h, 2201, "王芳")
    b = await neighbour(h, 2202, "Bob", lang="en", locale="en")  # notices use the chosen language
    group = await community_group(h, a, b)
    event_id = await create_event(h, capacity="1")
    await h.press(a, "报名", chat=group)
    await h.press(b, "报名", chat=group)
    await h.press(a, "报名", chat=group)  # stray tap: no change
    await h.send(h.organizer, f"/event {event_id}")
    assert "签到码" in h.last_text(h.organizer)
    await h.press(h.organizer, "报名名单")
    listing = h.last_text(h.organizer)
    assert "已报名" in listing and "1. 王芳" in listing and "候补" in listing
    await h.send(h.organizer, f"/event {event_id}")
    await h.press(h.organizer, "取消活动")
    assert "2 位居民" in h.last_text(h.organizer)
    # A resident cannot press the organizer's confirmation (forged onto their chat).
    await h.callback(a, f"ev:cxy:{event_id}")
    assert "只有组织者" in (h.alerts(a)[-1].text or "")
    await h.press(h.organizer, "确定取消活动")
    assert "已通知 2 位居民" in h.last_text(h.organizer)
    assert "已取消" in h.last_text(a)
    assert "is cancelled" in h.last_text(b)
    h.clock.advance(seconds=10)
    await h.tick()
    assert "已取消" in h.last_text(group) and h.buttons(group) == []
    await h.callback(a, f"ev:su:{event_id}", chat=group)
    assert "已经取消" in (h.alerts(a)[-1].text or "")


async def test_edit_time_tells_everyone(harness: Harness) -> None:
    h = harness
    a = await neighbour(h, 2301, "王芳")
    group = await community_group(h, a)
    event_id = await create_event(h)
    await h.press(a, "报名", chat=group)
    await h.send(h.organizer, f"/event {event_id}")
    await h.press(h.organizer, "改时间")
    await h.send(h.organizer, "12-06 09:00-10:00")
    assert "已通知 1 位" in h.last_text(h.organizer)
    assert "时间有变" in h.last_text(a) and "2026年12月6日 09:00" in h.last_text(a)
    await h.send(h.organizer, f"/event {event_id}")
    await h.press(h.organizer, "改地点")
    await h.send(h.organizer, "三楼会议室")
    assert "新地点：三楼会议室" in h.last_text(a)


async def test_reminders_once_across_restart_and_downtime(harness: Harness) -> None:
    h = harness
    a = await neighbour(h, 2401, "王芳")
    group = await community_group(h, a)
    await create_event(h)
    await h.press(a, "报名", chat=group)
    await h.restart()
    h.clock.set(START - timedelta(hours=25))
    await h.tick()
    assert "活动提醒" not in h.last_text(a)
    h.clock.set(START - timedelta(hours=24))
    await h.tick()
    assert "活动提醒" in h.last_text(a) and "明天" in h.last_text(a)
    await h.restart()
    await h.tick()
    reminders = [t for t in h.texts(a) if "活动提醒" in t]
    assert len(reminders) == 1
    h.clock.set(START - timedelta(minutes=50))
    await h.tick()
    await h.tick()
    reminders = [t for t in h.texts(a) if "活动提醒" in t]
    assert len(reminders) == 2 and "1 小时后" in reminders[-1]


async def test_missed_reminders_late_only_before_start(harness: Harness) -> None:
    h = harness
    a = await neighbour(h, 2501, "王芳")
    group = await community_group(h, a)
    await create_event(h)
    await create_event(h, span="12-07 14:00-16:00")
    for _ in range(2):
        await h.send(a, "/events")
        await h.press(a, h.buttons(a)[len([t for t in h.texts(a) if "你已报名" in t])])
        await h.press(a, "报名")
    assert await h.db.scalar("SELECT count(*) FROM event_signups") == 2
    # Down from before the 24 h moment of the first until 2 h before it starts.
    await h.restart()
    h.clock.set(START - timedelta(hours=2))
    await h.tick()
    await h.tick()
    assert len([t for t in h.texts(a) if "活动提醒" in t]) == 1
    # Down until the first has started: its 1 h reminder is never sent.
    await h.restart()
    h.clock.set(START + timedelta(minutes=5))
    await h.tick()
    assert len([t for t in h.texts(a) if "活动提醒" in t]) == 1
    assert group is not None


async def test_checkin_awards_points_once(harness: Harness) -> None:
    h = harness
    a, b = await neighbour(h, 2601, "王芳"), await neighbour(h, 2602, "李雷")
    group = await community_group(h, a, b)
    event_id = await create_event(h, points="15")
    await h.press(a, "报名", chat=group)
    event = await events_db.get_event(h.db, event_id)
    assert event is not None
    await h.send(h.organizer, f"/event {event_id}")
    await h.press(h.organizer, "签到码")
    qr = h.last(h.organizer)
    assert qr is not None and qr.photo is not None
    assert event.checkin_code in qr.content and f"checkin_{event.checkin_code}" in qr.content
    await h.send(a, f"/checkin {event.checkin_code}")
    assert "签到还没开始" in h.last_text(a)
    h.clock.set(START - timedelta(minutes=20))
    await h.send(a, "/checkin ZZZZZ9")
    assert "签到码不对" in h.last_text(a)
    await h.send(a, "/checkin")
    assert "/checkin 签到码" in h.last_text(a)
    await h.send(b, f"/checkin {event.checkin_code}")
    assert "你没有报名" in h.last_text(b)
    await h.start(a, f"checkin_{event.checkin_code.lower()}")
    assert "签到成功" in h.last_text(a) and "15 积分" in h.last_text(a)
    await h.send(a, f"/checkin {event.checkin_code}")
    assert "已经签到过了" in h.last_text(a)
    member = await events_db.get_signup(h.db, event_id, (await resident(h.db, 2601, h.clock())).id)
    assert member is not None and member.checked_in_at is not None
    assert await points_db.balance(h.db, member.member_id) == 15
    h.clock.set(START + timedelta(hours=3))
    await h.send(b, f"/checkin {event.checkin_code}")
    assert "签到已关闭" in h.last_text(b)


async def test_weekly_care_service_for_one_compound(harness: Harness) -> None:
    h = harness
    inside = await neighbour(h, 2701, "王芳", building="lihu/A")
    outside = await neighbour(h, 2702, "李雷", building="heyuan/1")
    group = await community_group(h, inside, outside)
    org = h.organizer
    await h.send(org, "/newevent")
    await h.press(org, "照料服务")
    await h.send(org, "一老一小 托管")
    await h.send(org, "下午看护孩子，陪伴老人")
    await h.send(org, "12-05 14:00-16:00")
    await h.send(org, "丽湖活动室")
    await h.send(org, "0")
    await h.send(org, "-")
    await h.send(org, "5")
    await h.press(org, "丽湖小区")
    assert "一共办几周" in h.last_text(org)
    await h.send(org, "13")
    assert "周数须在 1 到 12 之间" in h.last_text(org)
    await h.send(org, "3")
    assert "每周重复，共 3 次" in h.last_text(org)
    await h.press(org, "发布")
    await h.callback(org, "ev:np")  # the publish tap replayed creates nothing more
    assert "已经发布或已放弃" in (h.alerts(org)[-1].text or "")
    assert await h.db.scalar("SELECT count(*) FROM events") == 3
    cards = [t for t in h.texts(group) if "一老一小" in t]
    assert len(cards) == 1 and "面向：丽湖小区" in cards[0] and "名额不限" in cards[0]
    await h.press(outside, "报名", chat=group)
    assert "不在报名范围" in (h.alerts(outside)[-1].text or "")
    await h.press(inside, "报名", chat=group)
    assert "报名成功" in (h.alerts(inside)[-1].text or "")
    # The next week's card is posted a week ahead by the scheduler.
    h.clock.set(START + timedelta(hours=3))
    await h.tick()
    assert len([t for t in h.texts(group) if "一老一小" in t]) == 2
    await h.press(inside, "📅 加入日历", chat=group)
    document = h.last(inside)
    assert document is not None and document.document is not None


async def test_a_preview_gone_stale_is_refused_once_and_publishes_nothing(harness: Harness) -> None:
    """Publish pressed after the start went by: one answer, saying why, and no event."""
    h = harness
    org = h.organizer
    await h.start(org)
    await h.send(org, "/newevent")
    await h.press(org, "讲座")
    await h.send(org, "防诈骗讲座")
    await h.press(org, "跳过")
    await h.send(org, "11-26 12:00-13:00")  # two hours from now
    await h.send(org, "社区活动室")
    await h.send(org, "0")
    await h.press(org, "跳过")
    await h.send(org, "0")
    await h.press(org, "全社区")
    assert "预览" in h.last_text(org)
    h.clock.advance(hours=3)
    await h.press(org, "发布")
    assert "开始时间已经过去了" in (h.alerts(org)[-1].text or "")
    assert await h.db.scalar("SELECT count(*) FROM events") == 0
