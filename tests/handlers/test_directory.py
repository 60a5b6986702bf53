"""The directory through the simulator: an offer asked for, accepted, introduced, confirmed
into the time bank exactly once; requests; /nearby at a fixed clock; stations; /org."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from linli.core.directory import PlaceRow, WeeklyHours, parse_day_hours
from linli.sim.harness import Harness
from linli.storage import directory as dir_db
from linli.storage import members as members_db
from linli.storage import points as points_db
from linli.storage import timebank as tb_db
from tests.support.points import organizer, resident

ORGANIZERS_GROUP = -1001000


async def post_offer(h: Harness, user: object, *, free: bool = True, en: bool = False) -> None:
    await h.send(user, "/offer")  # type: ignore[arg-type]
    await h.press(user, "Repairs" if en else "维修")  # type: ignore[arg-type]
    await h.send(user, "Small plumbing" if en else "水管小修")  # type: ignore[arg-type]
    await h.send(user, "Taps, pipes" if en else "换水龙头、通下水")  # type: ignore[arg-type]
    if free:
        await h.press(user, "Free 无偿" if en else "无偿")  # type: ignore[arg-type]
    else:
        await h.press(user, "Paid 有偿" if en else "有偿")  # type: ignore[arg-type]
        await h.send(user, "30元/小时")  # type: ignore[arg-type]
    await h.send(user, "weekends" if en else "周末")  # type: ignore[arg-type]
    await h.press(user, "My compound" if en else "本小区")  # type: ignore[arg-type]
    await h.press(user, "✅ Post" if en else "✅ 发布")  # type: ignore[arg-type]


async def test_offer_request_accept_introduce_confirm_free_service_once(harness: Harness) -> None:
    h = harness
    li, li_id = await resident(h, 2001, "李师傅", username="lishifu", unit="302")
    wang, wang_id = await resident(h, 2002, "王芳", building="heyuan/2")
    await post_offer(h, li)
    assert "已发布：S-0001" in h.last_text(li)
    assert "新服务 S-0001" in h.last_text(ORGANIZERS_GROUP)
    await h.send(wang, "/services")
    await h.press(wang, "维修")
    listing = h.last_text(wang)
    assert "S-0001 水管小修 · 和苑小区 1号楼" in listing and "302" not in listing
    assert "无偿" in listing and "lishifu" not in listing and "李师傅" not in listing
    await h.press(wang, "🙋 申请 S-0001")
    request = h.last_text(li)
    assert "和苑小区 2号楼的一位邻居申请您的服务 S-0001" in request and "王芳" not in request
    await h.press(li, "✅ 接受")
    to_wang, to_li = h.last(wang).html, h.messages(li)[-1].html  # type: ignore[union-attr]
    assert to_wang is not None and to_li is not None
    assert '<a href="https://t.me/lishifu">李师傅</a>' in to_wang and "302" not in to_wang
    assert f'<a href="tg://user?id={wang.id}">王芳</a>' in to_li
    assert "✅ 已完成 · 1.0 小时" in h.buttons(wang)
    await h.press(wang, "✅ 已完成 · 1.0 小时")
    assert "1 小时无偿服务已记入时间银行（T-0001）" in h.last_text(wang)
    assert "您的时间银行增加 1 小时（T-0001），积分 +" in h.last_text(li)
    # A second tap on the same (old) button: refused, nothing moves twice.
    match_id = (await h.db.fetchone("SELECT id FROM directory_matches"))["id"]  # type: ignore[index]
    await h.callback(wang, f"dr:ok:{match_id}:60")
    assert "您已确认过服务是否完成" in (h.alerts(wang)[-1].text or "")
    assert await tb_db.balance_minutes(h.db, li_id) == 60
    assert await tb_db.balance_minutes(h.db, wang_id) == -60
    assert await h.db.scalar("SELECT COUNT(*) FROM timebank_logs") == 1
    earned = await points_db.balance(h.db, li_id)
    assert earned > 0
    await h.press(wang, "👍 点赞致谢")
    await h.send(wang, "修得又快又好")
    assert "“修得又快又好”" in h.last_text(li)
    assert (await dir_db.get_offer(h.db, 1)).thanks == 1  # type: ignore[union-attr]
    assert await points_db.balance(h.db, li_id) == earned


async def test_in_english_a_declined_request_reveals_nobody(harness: Harness) -> None:
    h = harness
    bob, _ = await resident(h, 2003, "Bob", lang="en", username="bob")
    ann, _ = await resident(h, 2004, "Ann", lang="en", building="heyuan/3", username="ann")
    await post_offer(h, bob, free=False, en=True)
    assert "Posted: S-0001" in h.last_text(bob)
    await h.send(ann, "/services repairs")
    assert "paid (有偿) · 30元/小时" in h.last_text(ann)
    await h.press(ann, "🙋 Request S-0001")
    await h.press(ann, "🙋 Request S-0001")
    assert "You have already asked" in (h.alerts(ann)[-1].text or "")
    await h.press(bob, "✖ Decline")
    assert "cannot take your request" in h.last_text(ann)
    assert "bob" not in " ".join(h.texts(ann)) and "ann" not in " ".join(h.texts(bob)).lower()


async def test_bad_input_changes_nothing(harness: Harness) -> None:
    h = harness
    li, _ = await resident(h, 2001, "李师傅")
    await h.send(li, "/offer")
    await h.press(li, "维修")
    await h.send(li, "x" * 61)
    assert "标题太长了：最多 60 个字" in h.last_text(li)
    await h.send(li, "水管小修")
    await h.send(li, "介绍")
    await h.press(li, "无偿")
    await h.send(li, "周末")
    await h.press(li, "本楼")
    await h.press(li, "✅ 发布")
    post_card = h.last(li)
    await h.callback(li, "dr:ps")  # the Post button again, from an old copy: still one offer
    assert await h.db.scalar("SELECT COUNT(*) FROM directory_offers") == 1
    assert "按钮已失效" in (h.alerts(li)[-1].text or "") and h.last(li) == post_card
    await h.callback(li, "dr:py:free")  # a payment button with no draft running
    assert "按钮已失效" in (h.alerts(li)[-1].text or "")
    await h.callback(li, "dr:rq:1")  # one's own offer
    assert "这是您自己发布的服务" in (h.alerts(li)[-1].text or "")
    await h.callback(li, "dr:rq:99:forged")
    assert h.alerts(li)[-1].text != "这是您自己发布的服务。"  # answered as a stale button
    nobody = h.user(2010, "路人")
    h.sim.started.add(nobody.id)
    await h.send(nobody, "/offer")
    assert "仅限已认证的居民" in h.last_text(nobody)
    assert await h.db.scalar("SELECT COUNT(*) FROM directory_matches") == 0


async def test_a_request_for_help_reaches_providers_and_the_chosen_helper(harness: Harness) -> None:
    h = harness
    li, _ = await resident(h, 2001, "李师傅")
    zhao, _ = await resident(h, 2005, "赵姐")
    wang, _ = await resident(h, 2002, "王芳", building="heyuan/2")
    await post_offer(h, li)
    await h.send(wang, "/need")
    await h.press(wang, "维修")
    await h.send(wang, "厨房灯不亮")
    await h.send(wang, "今晚")
    assert "已发布：Q-0001。已通知 1 位能人" in h.last_text(wang)
    assert "需要帮助（维修）：厨房灯不亮" in h.last_text(li)
    await h.send(zhao, "/needs")
    await h.press(zhao, "🤝 我能帮忙 · Q-0001")
    await h.press(li, "🤝 我能帮忙 · Q-0001")
    await h.press(wang, "🤝 选择这位")  # the latest card: 李师傅's
    assert "李师傅" in h.last_text(wang) and "谢谢您愿意帮忙" in h.last_text(zhao)
    # A second request the same day: providers already told today are not told again.
    told = len([t for t in h.texts(li) if "需要帮助" in t])
    await h.send(wang, "/need")
    await h.press(wang, "维修")
    await h.send(wang, "门锁坏了")
    await h.send(wang, "明天")
    assert "已发布：Q-0002。已通知 0 位能人" in h.last_text(wang)
    assert len([t for t in h.texts(li) if "需要帮助" in t]) == told


PLACES = [
    ("老百姓大药房", "pharmacy", 39.1262, "08:00-21:00"),
    ("社区诊所", "clinic", 39.1256, "08:00-09:30"),
    ("远处银行", "bank", 39.1340, "09:00-17:00"),
    ("和苑骑手驿站", "station", 39.1253, "24h"),
]


async def seed_places(h: Harness) -> None:
    rows = []
    for name, category, lat, hours in PLACES:
        day = parse_day_hours(hours)
        assert isinstance(day, tuple)
        rows.append(PlaceRow(name, category, "和平路", lat, 117.1950, WeeklyHours((day,) * 7),
                             facilities=("water", "charging") if category == "station" else (),
                             keeper_account=2020 if category == "station" else None))  # fmt: skip
    await dir_db.replace_places(h.db, rows, h.clock())


async def test_nearby_lists_by_walk_with_open_now_at_a_fixed_clock(harness: Harness) -> None:
    h = harness
    h.clock.now = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # Thursday 10:00 in Shanghai
    await seed_places(h)
    wang, _ = await resident(h, 2002, "王芳")  # heyuan/1 at 39.1250, 117.1950
    await h.send(wang, "/nearby")
    listing = h.texts(wang)[-2]
    order = [name for name, *_ in PLACES]
    found = sorted(order, key=listing.find)
    assert found == ["和苑骑手驿站", "社区诊所", "老百姓大药房", "远处银行"]
    assert "社区诊所 · 诊所 · 83 米，步行 2 分钟 · 🔴 休息中" in listing
    assert "老百姓大药房 · 药店 · 167 米，步行 3 分钟 · 🟢 营业中" in listing
    picture = h.last(wang)
    assert picture is not None and picture.photo and "一刻钟生活圈" in picture.content
    await h.press(wang, "药店")
    assert "老百姓大药房" in h.texts(wang)[-2] and "社区诊所" not in h.texts(wang)[-2]
    bob, _ = await resident(h, 2003, "Bob", lang="en", building=None)
    await h.send(bob, "/nearby")
    assert "Send your location" in h.last_text(bob)
    await h.location(bob, 39.1340, 117.1950)
    assert h.texts(bob)[-2].index("远处银行") < h.texts(bob)[-2].index("老百姓大药房")
    assert "from your location" in h.texts(bob)[-2]


async def test_a_rider_is_pointed_to_the_nearest_station_and_a_keeper_edits_it(
    harness: Harness,
) -> None:
    h = harness
    await seed_places(h)
    rider = h.user(2020, "骑手小刘")
    await h.start(rider, "rider")
    await h.press(rider, "中文")
    await h.press(rider, "✅ 同意")
    assert "移动网格员" in h.texts(rider)[-2]
    # Heyuan's three buildings average to 39.1254: the station at 39.1253 is the nearest.
    assert "最近的驿站是 和苑骑手驿站" in h.last_text(rider)
    await h.send(rider, "/stations")
    assert "🔌 充电" in h.texts(rider)[-2]
    await h.press(rider, "▫️ 微波炉")
    assert "🍱 微波炉" in h.last_text(rider)
    other, _ = await resident(h, 2021, "别人")
    await h.send(other, "/stations")
    await h.callback(other, "dr:fc:4:toilet")
    assert "只有驿站管理员" in (h.alerts(other)[-1].text or "")


async def test_org_tree_and_joining_a_volunteer_team(harness: Harness) -> None:
    h = harness
    org, _ = await organizer(h)
    wang, wang_id = await resident(h, 2002, "王芳")
    await h.send(wang, "/org")
    tree = h.last_text(wang)
    assert tree.index("社区党委") < tree.index("    └ 和苑小区党支部")
    await h.press(wang, "🙋 加入邻里志愿服务队")
    assert "王芳 申请加入" in h.last_text(org)  # leader_id 1000 in the example config
    await h.press(org, "✅ 通过")
    assert "您现在是志愿者了" in h.last_text(wang)
    assert await dir_db.teams_of(h.db, wang_id) == ["volunteers"]


def test_an_introduction_link_opens_a_chat_by_username_or_by_id() -> None:
    from linli.bot.views.directory import contact_link

    assert contact_link(42, "wang") == "https://t.me/wang"
    assert contact_link(42, None) == "tg://user?id=42"
    assert contact_link(None, None) is None


async def introduced(h: Harness, *, en: bool = False) -> tuple[object, object]:
    """A provider's free offer asked for and accepted: the two are introduced."""
    li, _ = await resident(h, 2001, "Li" if en else "李师傅", lang="en" if en else "zh-hans")
    wang, _ = await resident(h, 2002, "Wang" if en else "王芳", building="heyuan/2",
                             lang="en" if en else "zh-hans")  # fmt: skip
    await post_offer(h, li, en=en)
    await h.send(wang, "/services repairs")
    await h.press(wang, "🙋 Request S-0001" if en else "🙋 申请 S-0001")
    await h.press(li, "✅ Accept" if en else "✅ 接受")
    return li, wang


async def test_did_it_happen_is_asked_once_a_day_later_across_restarts(harness: Harness) -> None:
    h = harness
    start = h.clock()
    li, wang = await introduced(h)
    h.clock.now = start + timedelta(hours=23)
    await h.tick()
    assert not any("服务完成了吗" in t for t in h.texts(wang))
    h.clock.now = start + timedelta(hours=25)
    await h.tick()
    assert "昨天已为您介绍 水管小修 的提供者。服务完成了吗？" in h.last_text(wang)
    assert "✅ 已完成 · 1.0 小时" in h.buttons(wang)
    await h.tick()
    await h.restart()
    await h.tick()
    assert len([t for t in h.texts(wang) if "服务完成了吗" in t]) == 1
    assert not any("服务完成了吗" in t for t in h.texts(li))
    await h.press(wang, "✅ 已完成 · 1.0 小时")  # the follow-up's own button confirms, once
    assert "1 小时无偿服务已记入时间银行（T-0001）" in h.last_text(wang)
    assert await h.db.scalar("SELECT COUNT(*) FROM timebank_logs") == 1


async def test_in_english_an_answered_introduction_is_not_followed_up(harness: Harness) -> None:
    h = harness
    start = h.clock()
    li, wang = await introduced(h, en=True)
    h.clock.now = start + timedelta(hours=25)
    await h.tick()
    assert "Yesterday you were introduced for <b>Small plumbing</b>. Did it happen?" in (
        h.last(wang).html or ""  # type: ignore[union-attr]
    )
    await h.press(wang, "✖ It didn't happen")
    # A second introduction answered at once: never asked about.
    await h.send(wang, "/services repairs")
    await h.press(wang, "🙋 Request S-0001")
    await h.press(li, "✅ Accept")
    await h.press(wang, "✅ Happened · 1.0 h")
    h.clock.now = start + timedelta(hours=60)
    sent = await h.tick()
    assert not [m for m in sent if m.chat_id in (wang.id, li.id)]  # type: ignore[attr-defined]
    assert await h.db.scalar("SELECT COUNT(*) FROM directory_followups") == 1


async def test_a_keeper_changes_hours_and_note_of_their_station_only(harness: Harness) -> None:
    h = harness
    await seed_places(h)  # station 4 kept by 2020
    keeper, _ = await resident(h, 2020, "骑手小刘")
    await h.send(keeper, "/stations")
    assert "🕘 每天 24h" in h.last_text(keeper) and "📝 无备注" in h.last_text(keeper)
    await h.press(keeper, "🕘 修改开放时间")
    await h.send(keeper, "8点到晚上")
    assert "“8点到晚上”不是开放时间" in h.last_text(keeper)
    await h.send(keeper, "08:00-20:00;08:00-20:00")
    assert "从周一起七段" in h.last_text(keeper) and "2 段" in h.last_text(keeper)
    await h.send(keeper, "08:00-20:00")
    assert "✅ 已保存。" in h.last_text(keeper) and "🕘 每天 08:00-20:00" in h.last_text(keeper)
    await h.press(keeper, "📝 修改备注")
    await h.photo(keeper)  # no text at all
    assert "请用文字发送备注。" in h.last_text(keeper)
    await h.send(keeper, "n" * 201)
    assert "备注太长了：最多 200 个字" in h.last_text(keeper)
    await h.send(keeper, "免费热水，可借充电宝")
    assert "📝 免费热水，可借充电宝" in h.last_text(keeper)
    place = await dir_db.get_place(h.db, 4)
    assert place is not None and place.note == "免费热水，可借充电宝"
    assert place.hours.text(6) == "08:00-20:00" and place.name == "和苑骑手驿站"
    # Someone else's forged buttons: refused, nothing changes, no flow starts.
    other, _ = await resident(h, 2021, "别人")
    await h.send(other, "/stations")
    for forged in ("dr:ke:4:hours", "dr:ke:4:note", "dr:ke:1:note", "dr:fc:4:toilet"):
        await h.callback(other, forged)
        assert "只有驿站管理员" in (h.alerts(other)[-1].text or "") or "驿站已不存在" in (
            h.alerts(other)[-1].text or ""
        )
    await h.send(other, "09:00-10:00")  # no flow: this is no station's hours
    assert await dir_db.get_place(h.db, 4) == place
    pharmacy = await dir_db.get_place(h.db, 1)
    await h.callback(keeper, "dr:ke:1:note")  # a keeper has no rights over other places
    assert "该驿站已不存在" in (h.alerts(keeper)[-1].text or "")
    assert await dir_db.get_place(h.db, 1) == pharmacy


async def test_in_english_a_keeper_sets_hours_per_weekday(harness: Harness) -> None:
    h = harness
    await seed_places(h)
    keeper, _ = await resident(h, 2020, "Liu", lang="en")
    await h.send(keeper, "/stations")
    assert "🕘 daily 24h" in h.last_text(keeper) and "📝 no note" in h.last_text(keeper)
    await h.press(keeper, "🕘 Change hours")
    assert "one line for every day" in h.last_text(keeper)
    await h.photo(keeper)
    assert "Please send the opening hours as text." in h.last_text(keeper)
    await h.send(
        keeper, "08:00-20:00;08:00-20:00;08:00-20:00;08:00-20:00;08:00-22:00;closed;closed"
    )
    card = h.last_text(keeper)
    assert "✅ Saved." in card and "Fri 08:00-22:00; Sat closed; Sun closed" in card
    await h.press(keeper, "📝 Change note")
    await h.photo(keeper)
    assert "Please send the note as text." in h.last_text(keeper)
    await h.send(keeper, "Hot water, free")
    assert "📝 Hot water, free" in h.last_text(keeper)


EMPTY_EN = {
    "title": "Please send the title as text.",
    "description": "Please send the description as text.",
    "available": "Please send your available times as text.",
    "need": "Please send what you need as text.",
    "when": "Please send the time you need it as text.",
    "reason": "Please send the reason as text.",
    "comment": "Please send your comment as text.",
    "price": "Please send the price as text.",
    "note": "Please send the note as text.",
    "hours": "Please send the opening hours as text.",
}


def test_every_field_named_in_a_refusal_reads_naturally_in_both_languages() -> None:
    import re
    from pathlib import Path
    from zoneinfo import ZoneInfo

    from linli.bot.render import Renderer

    sources = [Path("linli/core/directory.py"), *Path("linli/bot/handlers/directory").glob("*.py")]
    named = {m for p in sources for m in re.findall(r'what(?:="|": ")([a-z_]+)"', p.read_text())}
    assert named == set(EMPTY_EN)  # a new field gets its words here and in both templates
    renderer = Renderer(ZoneInfo("Asia/Shanghai"))
    for what, expected in EMPTY_EN.items():
        detail = {"what": what, "max": 60, "got": 61}
        assert renderer.render("en", "directory/refused", reason="empty", detail=detail) == expected
        too_long = renderer.render("en", "directory/refused", reason="too_long", detail=detail)
        assert too_long.startswith(f"Too long: {expected[12:-9]} may be at most 60 characters.")
        for reason in ("empty", "too_long"):
            zh = renderer.render("zh-CN", "directory/refused", reason=reason, detail=detail)
            assert not re.search("[a-z]{3,}", zh), zh  # no field key leaks into Chinese


async def test_in_english_an_empty_answer_names_the_field_and_keeps_the_draft(
    harness: Harness,
) -> None:
    h = harness
    bob, _ = await resident(h, 2003, "Bob", lang="en")
    await h.send(bob, "/offer")
    await h.press(bob, "Repairs")
    await h.send(bob, "Small plumbing")
    await h.send(bob, "Taps, pipes")
    await h.press(bob, "Free 无偿")
    await h.photo(bob)
    assert h.last_text(bob) == "Please send your available times as text."
    await h.send(bob, "w" * 81)
    assert "Too long: your available times may be at most 80 characters." in h.last_text(bob)
    await h.send(bob, "weekends")
    assert h.last_text(bob).startswith("Who may see it")
    assert await h.db.scalar("SELECT COUNT(*) FROM directory_offers") == 0


async def thank_through(h: Harness, provider: object, requester: object, code: str,
                        comment: str, *, en: bool = False) -> None:  # fmt: skip
    """`requester` asks for offer `code`, it is accepted and happens; a thumbs-up and a comment."""
    await h.send(requester, "/services repairs")  # type: ignore[arg-type]
    await h.press(requester, f"🙋 Request {code}" if en else f"🙋 申请 {code}")  # type: ignore[arg-type]
    await h.press(provider, "✅ Accept" if en else "✅ 接受")  # type: ignore[arg-type]
    await h.press(requester, "✅ Happened · 0.5 h" if en else "✅ 已完成 · 0.5 小时")  # type: ignore[arg-type]
    await h.press(requester, "👍 Thanks" if en else "👍 点赞致谢")  # type: ignore[arg-type]
    await h.send(requester, comment)  # type: ignore[arg-type]


async def test_thanks_reach_organizers_and_put_an_offer_first(harness: Harness) -> None:
    h = harness
    org, _ = await organizer(h)
    li, _ = await resident(h, 2001, "李师傅")
    zhao, _ = await resident(h, 2005, "赵姐")  # same building as 李师傅
    wang, _ = await resident(h, 2002, "王芳", building="heyuan/2")
    await post_offer(h, li)
    await post_offer(h, zhao)
    await h.send(wang, "/services repairs")
    assert h.last_text(wang).index("S-0001") < h.last_text(wang).index("S-0002")
    await thank_through(h, zhao, wang, "S-0002", "修得又快又好")
    await h.send(wang, "/services repairs")
    listing = h.last_text(wang)
    assert listing.index("S-0002") < listing.index("S-0001")  # the most thanked first
    assert "修得又快又好" not in listing  # comments are not public
    await h.send(org, "/services admin")
    board = h.last_text(org)
    assert "S-0002 水管小修 · 和苑小区 1号楼 · 👍 1" in board and "“修得又快又好”" in board
    assert "S-0001" not in board
    await h.send(wang, "/services admin")
    assert "只有工作人员可以这样做" in h.last_text(wang)
    await h.send(wang, "/services repairs")
    await h.press(wang, h.buttons(wang)[1])  # ⚠️ 举报 on the first offer (S-0002)
    assert "举报服务 S-0002" in h.last_text(ORGANIZERS_GROUP)
    assert "👍 1" in h.last_text(ORGANIZERS_GROUP)


async def test_in_english_organizers_read_the_thanks(harness: Harness) -> None:
    h = harness
    org, org_id = await organizer(h)
    await members_db.set_locale(h.db, org_id, "en")
    bob, _ = await resident(h, 2003, "Bob", lang="en")
    ann, _ = await resident(h, 2004, "Ann", lang="en", building="heyuan/3")
    await h.send(org, "/services admin")
    assert "No thanks yet." in h.last_text(org)
    await post_offer(h, bob, en=True)
    await thank_through(h, bob, ann, "S-0001", "Quick & tidy", en=True)
    await h.send(org, "/services admin")
    board = h.last(org).html or ""  # type: ignore[union-attr]
    assert "<b>Neighbours' thanks</b>, most thanked first" in board
    assert "S-0001 <b>Small plumbing</b> · 和苑小区, building 1 · 👍 1" in board
    assert "“Quick &amp; tidy”" in board
    await h.send(ann, "/services admin")
    assert h.last_text(ann) == "Only organizers can do that."
