"""Shared spaces through the simulator: booking by buttons, approval, double taps, check-in,
no-shows, the emergency switch across a restart, in both languages."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from linli.core.spaces import Status
from linli.sim.harness import Harness
from linli.storage import groups as groups_db
from linli.storage import points as points_db
from linli.storage import spaces as spaces_db
from tests.support.points import organizer, resident

ORGANIZERS_GROUP = -1001000
SH = ZoneInfo("Asia/Shanghai")


def local(day: int, hour: int) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=SH)


async def test_a_resident_books_by_buttons_and_an_organizer_approves(harness: Harness) -> None:
    h = harness
    org, _ = await organizer(h)
    wang, wang_id = await resident(h, 2001, "王芳")
    await h.send(wang, "/spaces")
    assert "可预约的公共空间" in h.last_text(wang)
    assert "免费 · 需审批\n🏠 阅览室" in h.last_text(wang)  # one line per space
    await h.press(wang, "🏠 党群服务中心活动室")
    week = h.last(wang)
    assert week is not None and "请选日期" in week.content
    assert week.labels[:3] == ["今天 11/26", "明天 11/27", "周六 11/28"]
    assert "周一 11/30" not in week.labels  # closed on Mondays
    await h.press(wang, "明天 11/27")
    await h.press(wang, "19:00")
    assert "用多长时间" in h.last_text(wang)
    assert h.buttons(wang) == ["1 小时", "1 小时30 分钟", "2 小时"]  # 21:00 closes
    await h.press(wang, "2 小时")
    await h.send(wang, "舞蹈队排练")
    assert "预约 <b>党群服务中心活动室</b>？" in h.last_text(
        wang
    ) or "党群服务中心活动室" in h.last_text(wang)
    await h.press(wang, "✅ 确认预约")
    booking = (await spaces_db.member_bookings(h.db, wang_id, h.clock()))[0]
    assert booking.status is Status.PENDING and booking.purpose == "舞蹈队排练"
    assert f"预约码：{booking.code}" in h.last_text(wang) and "等待审批" in h.last_text(wang)
    assert f"待审批预约：{booking.code}" in h.last_text(ORGANIZERS_GROUP)
    await h.press(org, "✅ 通过", ORGANIZERS_GROUP)
    assert "已通过审批" in h.last_text(wang)
    assert (await spaces_db.get_booking(h.db, booking.id)).status is Status.CONFIRMED  # type: ignore[union-attr]


async def test_double_tap_books_once_and_a_forged_operator_button_changes_nothing(
    harness: Harness,
) -> None:
    h = harness
    bob, bob_id = await resident(h, 2002, "Bob", lang="en", building="lihu/A", points=20)
    await h.send(bob, "/spaces")
    await h.press(bob, "🏠 Reading room")
    assert h.buttons(bob)[:3] == ["Today 11/26", "Tomorrow 11/27", "Sat 11/28"]
    await h.press(bob, "Tomorrow 11/27")
    await h.press(bob, "10:00")
    await h.press(bob, "1 h")
    await h.send(bob, "reading club")
    confirm = h.last(bob)
    assert confirm is not None and "5 points held now (you have 20)" in confirm.content
    data = confirm.reply_markup["inline_keyboard"][0][0]["callback_data"]  # type: ignore[index]
    await h.press(bob, "✅ Book")
    await h.callback(bob, data, message_id=confirm.message_id)
    bookings = await spaces_db.member_bookings(h.db, bob_id, h.clock())
    assert len(bookings) == 1 and bookings[0].status is Status.CONFIRMED
    assert await points_db.balance(h.db, bob_id) == 15
    assert h.alerts(bob)[-1].text == f"Already booked: {bookings[0].code}."
    # A resident forging the staff's check-in button is refused; nothing changes.
    await h.callback(bob, f"sp:ci:{bookings[0].id}")
    assert "Only organizers and the space's operator" in (h.alerts(bob)[-1].text or "")
    assert (await spaces_db.get_booking(h.db, bookings[0].id)).status is Status.CONFIRMED  # type: ignore[union-attr]
    # Bad input: a slot in the past, by a stale button.
    await h.callback(bob, "sp:ln:2:202611250900:60")
    assert h.alerts(bob)[-1].text == "That time has passed."
    # Cancelling early returns the points.
    await h.send(bob, "/mybookings")
    await h.press(bob, f"✖ {bookings[0].code}")
    assert "5 points returned" in h.last_text(bob)
    assert await points_db.balance(h.db, bob_id) == 20


async def test_door_qr_checks_in_and_a_missed_booking_is_released(harness: Harness) -> None:
    h = harness
    wang, wang_id = await resident(h, 2001, "王芳", building="lihu/A", points=10)
    li, li_id = await resident(h, 2003, "李", building="lihu/B", unit="201", points=10)
    await h.send(wang, "/spaces")  # seeds the spaces
    reading = await spaces_db.get_space_by_key(h.db, "reading")
    assert reading is not None
    member_w = await _member(h, wang_id)
    member_l = await _member(h, li_id)
    for who, hour in ((member_w, 13), (member_l, 15)):
        await spaces_db.book(h.db, space_id=reading.id, member=who, slot=_slot(local(26, hour), 60),
                             purpose="看书", key=f"k{who.id}", now=h.clock(), tz=SH,
                             community=h.services.community)  # fmt: skip
    h.clock.set(local(26, 13) + timedelta(minutes=5))
    await h.start(wang, f"space_{reading.door_code}")
    assert "已签到" in h.last_text(wang) and "已扣除 5 积分" in h.last_text(wang)
    h.clock.set(local(26, 15) + timedelta(minutes=16))
    await h.tick()
    assert "未签到，时段已释放" in h.last_text(li)
    assert await points_db.balance(h.db, li_id) == 5  # a no-show keeps the hold
    await h.tick()
    assert sum("未签到" in t for t in h.texts(li)) == 1


async def test_emergency_switch_cancels_tells_and_reopens_once_across_a_restart(
    harness: Harness,
) -> None:
    h = harness
    org, _ = await organizer(h)
    wang, wang_id = await resident(h, 2001, "王芳")
    bob, bob_id = await resident(h, 2002, "Bob", lang="en", unit="102")
    group = h.group(-100777, "和苑业主群", [org, wang, bob])
    await h.send(org, "/bind community", group)
    await h.send(wang, "/spaces")
    room = await spaces_db.get_space_by_key(h.db, "activity")
    assert room is not None and await groups_db.groups_for_audience(
        h.db, room.audience, h.services.community
    )
    for who, day in ((await _member(h, wang_id), 27), (await _member(h, bob_id), 28)):
        await spaces_db.book(h.db, space_id=room.id, member=who, slot=_slot(local(day, 10), 60),
                             purpose="x", key=f"k{who.id}", now=h.clock(), tz=SH,
                             community=h.services.community, staff=True)  # fmt: skip
    await h.send(org, "/emergency activity shelter until=2026-11-28T09:00 寒潮来袭，开放避寒")
    assert "活动室 → 临时避难点" in h.last_text(org) and "取消预约 1 个" in h.last_text(org)
    assert "转为临时避难点。原因：寒潮来袭" in h.last_text(wang)
    assert not any("cancelled" in t for t in h.texts(bob))  # after the window: kept
    assert "党群服务中心活动室 现转为临时避难点" in h.last_text(group)
    assert "至 2026年11月28日 09:00" in h.last_text(group)
    # Sent again (a retry): refused, nothing switched or told twice.
    await h.send(org, "/emergency activity shelter until=2026-11-28T09:00 寒潮来袭，开放避寒")
    assert "已处于应急使用中，无需重复切换" in h.last_text(org)
    assert sum("现转为" in t for t in h.texts(group)) == 1
    assert await h.db.scalar("SELECT COUNT(*) FROM space_emergencies") == 1
    # New bookings in the window are refused.
    await h.callback(wang, f"sp:ln:{room.id}:202611271400:60")
    assert h.alerts(wang)[-1].text == "该时段空间处于应急使用。"
    h.clock.set(local(28, 9) + timedelta(minutes=1))
    await h.restart()
    await h.tick()
    assert "恢复开放预约" in h.last_text(group)
    await h.restart()
    await h.tick()
    assert sum("恢复开放预约" in t for t in h.texts(group)) == 1
    assert sum("现转为" in t for t in h.texts(group)) == 1


async def _member(h: Harness, member_id: int):  # type: ignore[no-untyped-def]
    from linli.storage import members as members_db

    found = await members_db.get_member(h.db, member_id)
    assert found is not None
    return found


def _slot(start: datetime, minutes: int):  # type: ignore[no-untyped-def]
    from linli.core.spaces import Slot

    return Slot(start, minutes)
