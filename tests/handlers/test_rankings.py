"""/rank and the weekly post through the simulator."""

from __future__ import annotations

from datetime import UTC, datetime

from linli.core.community import Binding, NodeKind
from linli.sim.harness import Harness
from linli.storage import groups as groups_db
from linli.storage import members as members_db
from tests.support.points import resident

THURSDAY = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, week 2026-W48
NEXT_MONDAY_0900 = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)


async def neighbours(h: Harness) -> dict[str, int]:
    h.clock.set(THURSDAY)
    ids = {}
    for tid, name, building, unit, pts in [
        (2001, "王芳", "heyuan/1", "101", 30),
        (2002, "Bob", "heyuan/1", "102", 50),
        (2003, "李雷", "heyuan/2", "201", 70),
        (2004, "韩梅梅", "lihu/A", "301", 20),
    ]:
        lang = "en" if name == "Bob" else "zh-hans"
        _, ids[name] = await resident(h, tid, name, building, unit, points=pts, lang=lang)
    return ids


async def test_rank_defaults_to_this_week_in_my_building_with_buttons(harness: Harness) -> None:
    h = harness
    await neighbours(h)
    wang = h.sim.users[2001]
    await h.send(wang, "/rank")
    shown = h.last_text(wang)
    assert "和苑小区 1号楼 · 积分榜" in shown
    assert "🥇 Bob · 50 分" in shown
    assert "🥈 王芳 · 30 分 ← 我" in shown
    assert "李雷" not in shown
    assert h.buttons(wang) == [
        "• 本周", "本月", "总榜", "• 本楼", "本小区", "全社区", "🏡 最美家庭",
    ]  # fmt: skip
    await h.press(wang, "全社区")
    shown = h.last_text(wang)
    assert "🥇 李雷 · 70 分" in shown and "4. 韩梅梅 · 20 分" in shown
    await h.press(wang, "🏡 最美家庭")
    shown = h.last_text(wang)
    assert "最美家庭" in shown
    assert "🥇 和苑小区 2号楼 201 · 70 分" in shown
    assert "和苑小区 1号楼 101 · 30 分 ← 我" in shown


async def test_optout_shows_a_neighbour_and_optin_restores(harness: Harness) -> None:
    h = harness
    ids = await neighbours(h)
    bob = h.sim.users[2002]
    await h.send(bob, "/rank optout")
    assert 'show you as "a neighbour"' in h.last_text(bob)
    member = await members_db.get_member(h.db, ids["Bob"])
    assert member is not None and member.rank_optout
    await h.send(bob, "/rank week building")
    assert "🥇 a neighbour · 50 points ← me" in h.last_text(bob)
    wang = h.sim.users[2001]
    await h.send(wang, "/rank")
    assert "🥇 一位邻居 · 50 分" in h.last_text(wang) and "Bob" not in h.last_text(wang)
    await h.send(wang, "/rank homes")
    assert "一户邻居 · 50 分" in h.last_text(wang)
    await h.send(bob, "/rank optin")
    await h.send(wang, "/rank")
    assert "🥇 Bob · 50 分" in h.last_text(wang)


async def test_rank_bad_arguments_and_forged_buttons(harness: Harness) -> None:
    h = harness
    await neighbours(h)
    wang = h.sim.users[2001]
    await h.send(wang, "/rank yesterday")
    assert "用法：/rank" in h.last_text(wang)
    await h.send(wang, "/rank")
    before = h.last_text(wang)
    for data in ("rk:v:week:b9.9:0", "rk:v:year:m:0", "rk:v:week:m:5", "rk:v:week:x:0", "rk:zz"):
        await h.callback(wang, data)
        assert h.alerts(wang)[-1].text == "这个按钮已失效。请使用最新的消息，或重新开始。"
    assert h.last_text(wang) == before


async def test_empty_board_and_periods(harness: Harness) -> None:
    h = harness
    await neighbours(h)
    wang = h.sim.users[2001]
    h.clock.set(datetime(2027, 1, 10, 2, 0, tzinfo=UTC))
    await h.send(wang, "/rank")
    assert "这段时间还没有人获得积分" in h.last_text(wang)
    await h.send(wang, "/rank all community")
    assert "🥇 李雷 · 70 分" in h.last_text(wang)


async def test_rank_in_a_building_group_uses_the_groups_building(harness: Harness) -> None:
    h = harness
    await neighbours(h)
    li = h.sim.users[2003]
    group = h.group(-100200, "和苑1号楼", [li])
    await groups_db.bind_group(
        h.db, group.id, "和苑1号楼", Binding(group.id, NodeKind.BUILDING, "heyuan/1"), 1, THURSDAY
    )
    await h.send(li, "/rank", chat=group)
    shown = h.last_text(group)
    assert "和苑小区 1号楼 · 积分榜" in shown and "🥇 Bob · 50 分" in shown and "← 我" not in shown


async def bound(h: Harness) -> tuple[int, int]:
    building = h.group(-100300, "和苑1号楼")
    community = h.group(-100400, "和平社区")
    await groups_db.bind_group(
        h.db, building.id, "b", Binding(building.id, NodeKind.BUILDING, "heyuan/1"), 1, THURSDAY
    )
    await groups_db.bind_group(
        h.db, community.id, "c", Binding(community.id, NodeKind.COMMUNITY, ""), 1, THURSDAY
    )
    await h.process()  # the bot's hello in each group
    return building.id, community.id


def posts(h: Harness, chat: int) -> list[str]:
    return [t for t in h.texts(chat) if "上周积分榜" in t]


async def test_weekly_post_once_per_group_across_restarts(harness: Harness) -> None:
    h = harness
    await neighbours(h)
    building, community = await bound(h)
    await h.tick()  # Thursday: last week (W47) had no points; nothing is posted
    assert posts(h, building) == [] and posts(h, community) == []
    h.clock.set(NEXT_MONDAY_0900)
    await h.tick()
    assert len(posts(h, building)) == 1 and len(posts(h, community)) == 1
    post = h.last_text(building)
    assert "上周积分榜（2026-11-23 至 2026-11-29）· 和苑小区 1号楼" in post
    assert "🥇 Bob · 50 分" in post and "🥈 王芳 · 30 分" in post and "李雷" not in post
    assert "🥇 李雷 · 70 分" in h.last_text(community)
    await h.tick()
    await h.restart()
    h.clock.advance(hours=5)
    await h.tick()
    assert len(posts(h, building)) == 1 and len(posts(h, community)) == 1


async def test_weekly_post_catches_up_after_downtime_but_not_too_late(make_harness) -> None:  # type: ignore[no-untyped-def]
    h = await make_harness(
        {"rankings": {"weekly_day": "mon", "weekly_time": "09:00", "catch_up_hours": 24}}
    )
    await neighbours(h)
    building, _ = await bound(h)
    h.clock.set(datetime(2026, 11, 30, 20, 0, tzinfo=UTC))  # Tuesday 04:00: 19 h late
    await h.tick()
    assert len(posts(h, building)) == 1
    # The next week's post is missed by more than a day: skipped, not posted late.
    h.clock.set(datetime(2026, 12, 8, 3, 0, tzinfo=UTC))  # Tuesday 11:00, 26 h late
    await h.tick()
    assert len(posts(h, building)) == 1


async def test_weekly_post_can_be_turned_off(make_harness) -> None:  # type: ignore[no-untyped-def]
    h = await make_harness({"rankings": {"weekly_post": False}})
    await neighbours(h)
    building, _ = await bound(h)
    h.clock.set(NEXT_MONDAY_0900)
    await h.tick()
    assert posts(h, building) == []
