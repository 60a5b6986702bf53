"""Shared spaces for the staff, through the simulator: declining with a reason, an operator's
rights over their own space only, /spaceadmin, /spaceseries, the bookings export; and bad
input of every kind answered clearly with nothing changed."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from linli.core.spaces import Hours, Slot, Status
from linli.sim.core import SimUser
from linli.sim.harness import Harness, example_config_data
from linli.storage import members as members_db
from linli.storage import spaces as spaces_db
from tests.conftest import MakeHarness
from tests.support.points import organizer, resident

ORGANIZERS_GROUP = -1001000
OPERATOR = 2005
SH = ZoneInfo("Asia/Shanghai")


def local(month: int, day: int, hour: int) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=SH)


def spaces_config() -> list[dict[str, Any]]:
    """The example's spaces, the activity room run (and approved) by an operator, and a roof
    garden open to 丽湖小区 only."""
    spaces = [dict(s) for s in example_config_data()["spaces"]]
    spaces[0].update(operator=OPERATOR, approval="operator")
    spaces.append({"key": "garden", "name": "屋顶花园", "name_en": "Roof garden",
                   "audience": "compound:lihu", "min_minutes": 60, "max_minutes": 120})  # fmt: skip
    return spaces


async def count_bookings(h: Harness) -> int:
    return int(await h.db.scalar("SELECT COUNT(*) FROM space_bookings"))


async def space_id(h: Harness, key: str) -> int:
    space = await spaces_db.get_space_by_key(h.db, key)
    assert space is not None
    return space.id


async def book_activity(h: Harness, who: SimUser, purpose: str = "舞蹈队排练") -> None:
    """Tomorrow (Friday 27 November) 19:00-21:00 in the activity room, by the buttons."""
    await h.send(who, "/spaces")
    await h.press(who, "🏠 党群服务中心活动室")
    await h.press(who, "明天 11/27")
    await h.press(who, "19:00")
    await h.press(who, "2 小时")
    await h.send(who, purpose)
    await h.press(who, "✅ 确认预约")


async def test_a_declined_booking_tells_the_reason_and_frees_the_slot(harness: Harness) -> None:
    h = harness
    org, _ = await organizer(h)
    wang, wang_id = await resident(h, 2001, "王芳")
    li, li_id = await resident(h, 2003, "李", unit="102")
    await book_activity(h, wang)
    [booking] = await spaces_db.member_bookings(h.db, wang_id, h.clock())
    assert booking.status is Status.PENDING
    await h.press(org, "✖ 不通过", ORGANIZERS_GROUP)
    assert "不通过的理由是什么" in h.last_text(org)
    await h.send(org, "当晚已有社区活动")
    assert "未通过（组织者），理由：当晚已有社区活动" in h.last_text(org)
    assert f"您的预约申请 {booking.code}" in h.last_text(wang)
    assert "未通过：当晚已有社区活动" in h.last_text(wang)
    declined = await spaces_db.get_booking(h.db, booking.id)
    assert declined is not None and declined.status is Status.DECLINED
    assert declined.reason == "当晚已有社区活动"
    # The card's Approve, tapped late, is refused in words and changes nothing.
    await h.press(org, "✅ 通过", ORGANIZERS_GROUP)
    assert h.alerts(org)[-1].text == f"预约 {booking.code} 已经是“未通过”状态。"
    again = await spaces_db.get_booking(h.db, booking.id)
    assert again is not None and again.status is Status.DECLINED
    # The slot is free again.
    await book_activity(h, li, "合唱排练")
    [other] = await spaces_db.member_bookings(h.db, li_id, h.clock())
    assert other.status is Status.PENDING and other.starts_at == booking.starts_at


async def test_an_operator_acts_on_their_space_only(make_harness: MakeHarness) -> None:
    h = await make_harness({"spaces": spaces_config()})
    await organizer(h)
    op, _ = await resident(h, OPERATOR, "张老师", unit="301")
    wang, wang_id = await resident(h, 2001, "王芳", points=10)
    await book_activity(h, wang)
    [booking] = await spaces_db.member_bookings(h.db, wang_id, h.clock())
    assert f"待审批预约：{booking.code}" in h.last_text(op)  # to the operator, privately
    assert not any(booking.code in t for t in h.texts(ORGANIZERS_GROUP))
    # A resident forging the operator's Approve is refused; nothing changes.
    await h.callback(wang, f"sp:ap:{booking.id}")
    assert h.alerts(wang)[-1].text == "只有组织者和该空间的运营方可以这样做。"
    still = await spaces_db.get_booking(h.db, booking.id)
    assert still is not None and still.status is Status.PENDING
    await h.press(op, "✅ 通过")
    assert "已通过审批" in h.last_text(wang)
    # Their /spaces admin shows their space, not the others.
    await h.send(op, "/spaces admin")
    assert "党群服务中心活动室" in h.last_text(op) and "阅览室" not in h.last_text(op)
    assert booking.code in h.last_text(op)
    # Another space's booking: the operator's check-in and door code there are refused.
    reading = await space_id(h, "reading")
    member = await members_db.get_member(h.db, wang_id)
    assert member is not None
    other = await spaces_db.book(
        h.db, space_id=reading, member=member, slot=Slot(local(11, 26, 13), 60), purpose="看书",
        key="r1", now=h.clock(), tz=SH, community=h.services.community,
    )  # fmt: skip
    h.clock.set(local(11, 26, 13))
    await h.callback(op, f"sp:ci:{other.booking.id}")
    assert h.alerts(op)[-1].text == "只有组织者和该空间的运营方可以这样做。"
    await h.callback(op, f"sp:qr:{reading}")
    assert h.alerts(op)[-1].text == "只有组织者和该空间的运营方可以这样做。"
    kept = await spaces_db.get_booking(h.db, other.booking.id)
    assert kept is not None and kept.status is Status.CONFIRMED
    before = await count_bookings(h)
    await h.send(op, "/spaceseries reading 2026-12-01 19:00 60 2 读书会")
    assert h.last_text(op) == "只有组织者和该空间的运营方可以这样做。"
    assert await count_bookings(h) == before
    # Their own space: a series, and an organizer's commands stay closed to them.
    await h.send(op, "/spaceseries activity 2026-12-01 19:00 120 2 舞蹈队排练")
    assert "2 周中预约成功 2 次" in h.last_text(op)
    await h.send(op, "/emergency activity shelter 测试")
    assert h.last_text(op) == "只有组织者可以这样做。"
    await h.send(op, "/spaceadmin activity price 3")
    assert h.last_text(op) == "只有组织者可以这样做。"
    activity = await spaces_db.get_space_by_key(h.db, "activity")
    assert activity is not None and activity.price == 0
    assert not await spaces_db.emergencies(h.db, activity.id, h.clock(), local(12, 31, 0))


async def test_spaceadmin_lists_and_changes_one_thing_at_a_time(harness: Harness) -> None:
    h = harness
    org, _ = await organizer(h)
    wang, _ = await resident(h, 2001, "王芳")
    await h.send(org, "/spaceadmin")
    listing = h.last_text(org)
    assert "activity 党群服务中心活动室" in listing and "reading 阅览室" in listing
    reading = await spaces_db.get_space_by_key(h.db, "reading")
    assert reading is not None and f"门牌码 {reading.door_code}" in listing
    await h.send(org, "/spaceadmin reading price 8")
    assert h.last_text(org) == "已保存：reading price。"
    await h.send(org, "/spaceadmin activity hours mon 10:00-12:00")
    assert h.last_text(org) == "已保存：activity hours。"
    # Bad changes: said why, nothing saved.
    for command, answer in (
        ("/spaceadmin reading min 45", "时长必须是 60 分钟的整数倍"),
        ("/spaceadmin nowhere price 3", "没有代号为 nowhere 的空间"),
        ("/spaceadmin reading colour red", "用法：/spaceadmin 代号 字段 值"),
        ("/spaceadmin reading price lots", "（price：0–100000）"),
        ("/spaceadmin activity hours mon 12:00-10:00", "用法：/spaceadmin 代号 字段 值"),
    ):
        await h.send(org, command)
        assert answer in h.last_text(org), command
    await h.send(wang, "/spaceadmin reading price 0")
    assert h.last_text(wang) == "只有组织者可以这样做。"
    reading = await spaces_db.get_space_by_key(h.db, "reading")
    activity = await spaces_db.get_space_by_key(h.db, "activity")
    assert reading is not None and activity is not None
    assert reading.price == 8 and reading.rules.min_minutes == 60
    assert activity.rules.hours[0] == Hours(600, 720)
    edits = await h.db.scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'space_edit'")
    assert edits == 2
    # Switched off: residents no longer see it.
    await h.send(org, "/spaceadmin reading off")
    await h.send(wang, "/spaces")
    assert h.buttons(wang) == ["🏠 党群服务中心活动室"]


async def test_spaceseries_books_each_free_week_and_names_the_taken_ones(harness: Harness) -> None:
    h = harness
    org, _ = await organizer(h)
    wang, wang_id = await resident(h, 2001, "王芳")
    await h.send(wang, "/spaces")  # the spaces exist
    member = await members_db.get_member(h.db, wang_id)
    assert member is not None
    await spaces_db.book(
        h.db, space_id=await space_id(h, "activity"), member=member,
        slot=Slot(local(12, 8, 19), 60), purpose="x", key="taken", now=h.clock(), tz=SH,
        community=h.services.community, staff=True,
    )  # fmt: skip
    await h.send(wang, "/spaceseries activity 2026-12-01 19:00 120 3 舞蹈队排练")
    assert h.last_text(wang) == "只有组织者和该空间的运营方可以这样做。"
    assert await count_bookings(h) == 1
    await h.send(org, "/spaceseries activity 2026-12-01 19:00 120 99 舞蹈队排练")
    assert h.last_text(org) == "周数：1 到 26 之间的数字。"
    await h.send(org, "/spaceseries activity tomorrow")
    assert h.last_text(org).startswith("用法：/spaceseries 代号")
    assert await count_bookings(h) == 1
    await h.send(org, "/spaceseries activity 2026-12-01 19:00 120 3 舞蹈队排练")
    done = h.last_text(org)
    assert "党群服务中心活动室：3 周中预约成功 2 次" in done
    assert "✖ 2026年12月8日（周二）：已被预约" in done
    rows = await h.db.fetchall(
        "SELECT starts_at, status FROM space_bookings WHERE series_id IS NOT NULL ORDER BY id"
    )
    assert [r["status"] for r in rows] == ["confirmed", "confirmed"]
    await h.send(org, "/mybookings")  # each occurrence cancelled on its own
    assert len([b for b in h.buttons(org) if b.startswith("✖ B-")]) == 2


async def test_the_bookings_export(harness: Harness) -> None:
    h = harness
    org, _ = await organizer(h)
    wang, _ = await resident(h, 2001, "王芳")
    await book_activity(h, wang, "=1+2 舞蹈队")
    await h.send(org, "/export")
    await h.press(org, "空间预约")
    await h.press(org, "CSV")
    message = h.last(org)
    assert message is not None and message.document is not None
    rows = list(csv.DictReader(io.StringIO(message.document.data.decode("utf-8-sig"))))
    assert [(r["space"], r["status"], r["purpose"]) for r in rows] == [
        ("activity", "pending", "'=1+2 舞蹈队")
    ]
    assert rows[0]["household"].startswith("h:") and "王芳" not in message.document.data.decode()
    await h.send(wang, "/export")
    assert h.last_text(wang) == "只有组织者可以导出数据。"


async def test_bad_input_is_answered_and_changes_nothing(make_harness: MakeHarness) -> None:
    h = await make_harness({"spaces": spaces_config()})
    wang, wang_id = await resident(h, 2001, "王芳")
    await h.send(wang, "/spaces")
    assert "屋顶花园" not in h.last_text(wang)  # 丽湖小区 only
    activity, garden = await space_id(h, "activity"), await space_id(h, "garden")
    forged = (
        (f"sp:ln:{activity}:202611250900:60", "这个时间已经过去了。"),  # in the past
        (f"sp:ln:{activity}:202611272100:60", "该时段不开放（开放时间 09:00–21:00）。"),
        (f"sp:ln:{activity}:202611270700:60", "该时段不开放（开放时间 09:00–21:00）。"),
        (f"sp:dy:{activity}:20261130", "该时段不开放。"),  # closed on Mondays
        (f"sp:ln:{activity}:202611271000:240", "时间太长：最多 180 分钟。"),
        (f"sp:ln:{activity}:202611261030:60", "请至少提前 120 分钟预约。"),  # notice
        (f"sp:ln:{activity}:202612301000:60", "最多只能预约 14 天以内的时段。"),  # window
        (f"sp:op:{garden}", "这个空间不对您开放。"),
        (f"sp:ln:{garden}:202611271000:60", "这个空间不对您开放。"),
        ("sp:op:999", "这个空间不存在或已停用。/spaces"),
        ("sp:ok:deadbeef", None),  # a confirmation that is no longer there
        ("sp:ln:nonsense", None),
        (f"sp:cx:{999}", "这不是您的预约。"),
    )
    for data, said in forged:
        await h.callback(wang, data)
        alert = h.alerts(wang)[-1].text or ""
        if said is None:
            assert alert == "这个按钮已失效。请使用最新的消息，或重新开始。", data
        else:
            assert alert == said, data
    # Over the quota: the activity room allows 4 hours a household a week.
    member = await members_db.get_member(h.db, wang_id)
    assert member is not None
    await spaces_db.book(
        h.db, space_id=activity, member=member, slot=Slot(local(11, 27, 9), 180),
        purpose="x", key="first", now=h.clock(), tz=SH, community=h.services.community,
    )  # fmt: skip
    await h.callback(wang, f"sp:ln:{activity}:202611281000:120")
    assert h.alerts(wang)[-1].text == "超出本户在此空间每周 4 小时的额度（还剩 60 分钟）。"
    # Points short: the reading room holds 5.
    await h.send(wang, "/spaces")
    await h.press(wang, "🏠 阅览室")
    await h.press(wang, "明天 11/27")
    await h.press(wang, "10:00")
    await h.press(wang, "1 小时")
    await h.send(wang, "x" * 100)
    assert h.last_text(wang) == "太长了：一行，最多 80 个字。"
    await h.send(wang, "读书会")
    await h.press(wang, "✅ 确认预约")
    assert h.alerts(wang)[-1].text == "积分不够：需要 5 分，您现有 0 分。"
    assert await count_bookings(h) == 1
