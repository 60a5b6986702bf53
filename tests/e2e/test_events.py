"""Events end to end: an organizer creates an event in private chat, residents sign up from the
card in their building's group, the waitlist moves up, the organizer sees who comes, residents
check in at the venue and take the calendar file home.

The bot is a separate `linli run` process on the real clock, so the event starts 20 minutes
from now: check-in (open from 30 minutes before the start) is already open. Every wait is
bounded (SimClient.wait_for and `alert` below).
"""

from __future__ import annotations

import asyncio
import re
import time
import tomllib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar

from linli.sim.client import Message, SimClient, SimClientError
from tests.e2e.conftest import ORGANIZER, BotProcess

GROUP = -1002001
WANG, LI, BOB = 2001, 2002, 2003  # 王芳 and 李强 speak Chinese, Bob English


async def join(client: SimClient, user: int, unit: str, *, english: bool = False) -> None:
    """/start → language → 和苑小区 → building 1 → unit → accept the privacy notice."""
    await client.start(user)
    language, building, accept, joined = (
        ("English", "Building 1", "✅ I agree", "You have joined")
        if english
        else ("中文", "1号楼", "✅ 同意", "加入成功")
    )
    for label in (language, "和苑小区", building):
        await client.wait_for_buttons(user, label)
        await client.press(user, label)
    await client.wait_for(user, "3-201")  # the unit question gives an example
    await client.send(user, unit)
    await client.wait_for_buttons(user, accept)
    await client.press(user, accept)
    await client.wait_for(user, joined)


async def say(client: SimClient, user: int, text: str, expect: str, chat: int | None = None) -> str:
    """Send `text` and return the bot's next message in that chat containing `expect`."""
    where = chat if chat is not None else user
    before = await client.last_id(where)
    await client.send(user, text, chat=chat)
    return str((await client.wait_for(where, expect, after=before))["text"])


async def tap(
    client: SimClient, user: int, label: str, expect: str, chat: int | None = None
) -> str:
    """Press `label` and return the bot's next message (or edit) there containing `expect`."""
    where = chat if chat is not None else user
    before = await client.last_id(where)
    await client.wait_for_buttons(where, label)
    await client.press(user, label, chat=chat)
    found = await client.wait_for(
        where, lambda m: expect in m["text"] and (m["message_id"] > before or m["edits"] > 0)
    )
    return str(found["text"])


async def alert(client: SimClient, user: int, seen: int, within: float = 10.0) -> str:
    """The text of `user`'s next tap answer (after the `seen` they had), waiting boundedly."""
    deadline = time.monotonic() + within
    while True:
        alerts = await client.alerts(user)
        if len(alerts) > seen:
            return str(alerts[seen]["text"] or "")
        if time.monotonic() >= deadline:
            raise SimClientError(f"user {user} got no answer to a tap within {within} s")
        await asyncio.sleep(0.05)


async def press_card(
    client: SimClient, user: int, label: str, card: Message, data: str | None = None
) -> str:
    """Press a button of the group card (or forge `data` onto it); the tap's answer."""
    seen = len(await client.alerts(user))
    if data is None:
        await client.press(user, label, chat=GROUP, message_id=card["message_id"])
    else:
        await client.callback(user, data, chat=GROUP, message_id=card["message_id"])
    return await alert(client, user, seen)


def span(start: datetime, end: datetime) -> str:
    """As an organizer types it, with full dates (the event may cross midnight or a year)."""
    return f"{start:%Y-%m-%d %H:%M} 至 {end:%Y-%m-%d %H:%M}"


async def test_an_event_from_creation_to_check_in(bot_process: BotProcess) -> None:
    client = bot_process.client
    settings = tomllib.loads(bot_process.config.read_text(encoding="utf-8"))
    tz = ZoneInfo(settings["community"]["timezone"])  # organizers type times in it
    await client.user(WANG, "王芳")
    await client.user(LI, "李强")
    await client.user(BOB, "Bob", language_code="en")
    await join(client, WANG, "3-201")
    await join(client, LI, "3-202")
    await join(client, BOB, "3-203", english=True)

    # The organizer binds the building's group.
    await client.group(
        GROUP, "和苑1号楼群", owner=ORGANIZER, members=[WANG, LI, BOB], bot_added_by=ORGANIZER
    )
    await client.wait_for(GROUP, "/bind")
    await say(client, ORGANIZER, "/bind", "", chat=GROUP)
    await tap(client, ORGANIZER, "某栋楼", "", chat=GROUP)
    await tap(client, ORGANIZER, "和苑小区 1号楼", "本群已绑定", chat=GROUP)

    # A resident cannot create events.
    assert "只有组织者" in await say(client, WANG, "/newevent", "组织者")

    # The organizer walks /newevent in private chat, mistyping twice on the way.
    await client.start(ORGANIZER)
    org = ORGANIZER
    assert "请选择活动类型" in await say(client, org, "/newevent", "新建活动")
    await tap(client, org, "讲座", "活动标题")
    await say(client, org, "防诈骗讲座", "活动介绍")
    await tap(client, org, "跳过", "开始和结束时间")
    now = datetime.now(tz).replace(second=0, microsecond=0)
    start, end = now + timedelta(minutes=20), now + timedelta(minutes=80)
    past = span(now - timedelta(hours=2), now - timedelta(hours=1))
    assert "开始时间已经过去了" in await say(client, org, past, "开始时间")
    await say(client, org, span(start, end), "活动地点")
    await say(client, org, "社区活动室", "名额人数")
    assert "名额须在 0 到 5000 之间" in await say(client, org, "-1", "名额")
    await say(client, org, "2", "报名截止时间")
    await tap(client, org, "跳过", "签到可得的积分")
    await say(client, org, "5", "这个活动面向谁")
    await tap(client, org, "某栋楼…", "请选择楼栋")
    preview = await tap(client, org, "和苑小区 1号楼", "预览")
    assert "防诈骗讲座" in preview and "社区活动室" in preview and "剩余名额 2/2" in preview
    assert f"{start.year}年{start.month}月{start.day}日 {start:%H:%M} – " in preview
    published = await tap(client, org, "发布", "已发布")
    assert "活动卡片已发到 1 个群" in published
    number = re.search(r"/event (\d+)", published)
    assert number is not None
    event_id = int(number.group(1))

    # The card in the building's group.
    card = await client.wait_for_buttons(GROUP, "报名")
    assert "【讲座】防诈骗讲座" in card["text"] and "面向：和苑小区 1号楼" in card["text"]
    assert [b["text"] for row in card["buttons"] for b in row] == [
        "报名",
        "取消报名",
        "📅 加入日历",
    ]

    # A forged Sign up for another event, and a malformed one: refused, nothing recorded.
    assert "找不到这个活动" in await press_card(
        client, WANG, "", card, data=f"ev:su:{event_id + 7}"
    )
    assert "按钮已失效" in await press_card(client, WANG, "", card, data="ev:su:x")

    # Two seats: 王芳 and 李强 get them, Bob waits first in line (told in English).
    assert "报名成功" in await press_card(client, WANG, "报名", card)
    await client.wait_for(WANG, "你已报名")
    assert "报名成功" in await press_card(client, LI, "报名", card)
    answer = await press_card(client, BOB, "报名", card)
    assert "number 1 on the waitlist" in answer
    told = await client.wait_for(BOB, "waitlist")
    assert "is full" in told["text"] and "防诈骗讲座" in told["text"]
    assert "已经报过名" in await press_card(client, WANG, "报名", card)
    listing = await say(client, BOB, "/events", "Upcoming events")
    assert "Seats left: 0/2 (1 waiting)" in listing

    # 王芳 cancels: Bob moves up and is told privately.
    assert "已取消报名" in await press_card(client, WANG, "取消报名", card)
    promoted = await client.wait_for(BOB, "A seat freed up")
    assert "防诈骗讲座" in promoted["text"]

    # The organizer sees who comes, and the check-in code.
    detail = await say(client, org, f"/event {event_id}", "签到码")
    assert "已报名 2 人，候补 0 人" in detail
    code = re.search(r"签到码 ([A-Z2-9]{6})", detail)
    assert code is not None
    attendees = await tap(client, org, "报名名单", "报名名单")
    assert "1. 李强" in attendees and "2. Bob" in attendees and "王芳" not in attendees

    # At the venue: a wrong code, someone not signed up, then real check-ins, once each.
    assert "签到码不对" in await say(client, LI, "/checkin ZZZZZ9", "签到码")
    assert "你没有报名" in await say(client, WANG, f"/checkin {code.group(1)}", "报名")
    checked = await say(client, LI, f"/checkin {code.group(1).lower()}", "签到成功")
    assert "获得 5 积分" in checked
    checked = await say(client, BOB, f"/checkin {code.group(1)}", "Checked in")
    assert "You earned 5 points" in checked
    assert "已经签到过了" in await say(client, LI, f"/checkin {code.group(1)}", "签到")
    attendees = await tap(client, org, "报名名单", "报名名单")
    assert "1. 李强" in attendees and "✅ 已签到" in attendees

    # The calendar file, in private, from the group card.
    assert "日历文件已私信发给你" in await press_card(client, LI, "📅 加入日历", card)
    sent = await client.wait_for(LI, lambda m: m["document"] is not None)
    assert sent["document"] == f"event-{event_id}.ics" and "防诈骗讲座" in sent["text"]
    document = bot_process.sim.transcript(LI)[-1].document
    assert document is not None
    calendar = Calendar.from_ical(document.data)
    (entry,) = calendar.walk("VEVENT")
    assert str(entry["SUMMARY"]) == "防诈骗讲座" and str(entry["LOCATION"]) == "社区活动室"
    assert entry.decoded("DTSTART") == start and entry.decoded("DTEND") == end
