"""A neighbourhood's week, end to end through the simulator, in both languages: joining
through the real onboarding, being invited, earning, spending, ranking, banking hours, the
weekly post, and a restart in the middle that forgets and repeats nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from linli.core.community import Binding, NodeKind
from linli.sim.core import SimUser
from linli.sim.harness import Harness
from linli.storage import groups as groups_db
from linli.storage import members as members_db
from linli.storage import points as points_db
from linli.storage import shop as shop_db
from linli.storage import timebank as tb_db

THURSDAY = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


async def join(h: Harness, user: SimUser, *, english: bool, building: str, unit: str) -> int:
    await h.start(user)
    await h.press(user, "English" if english else "中文")
    await h.press(user, "和苑小区")
    await h.press(user, f"Building {building}" if english else f"{building}号楼")
    await h.send(user, unit)
    await h.press(user, "✅ I agree" if english else "✅ 同意")
    member = await members_db.get_member_by_telegram(h.db, user.id)
    assert member is not None and member.joined
    return member.id


async def test_a_week_of_points_shop_rankings_and_hours(make_harness) -> None:  # type: ignore[no-untyped-def]
    h: Harness = await make_harness({"community": {"verification": "organizer"}})
    h.clock.set(THURSDAY)
    org = h.organizer
    h.group(-1001000, "组织者", [org])
    wang = h.user(3001, "王芳", username="wangfang")
    tom = h.user(3002, "Tom", lang="en", username="tom")
    wang_id = await join(h, wang, english=False, building="1", unit="3-201")
    tom_id = await join(h, tom, english=True, building="1", unit="5-502")
    await h.start(org)

    # An organizer awards points; the residents see them in their own language.
    await h.send(org, "/award @wangfang 60 组织垃圾分类宣传")
    await h.send(org, "/award @tom 45 fixed the stairwell light")
    await h.send(wang, "/points")
    assert "王芳 的积分：60 分" in h.last_text(wang)
    assert "本楼总榜第 1 名（共 2 人上榜）" in h.last_text(wang)
    await h.send(tom, "/points")
    assert "Tom has 45 points" in h.last_text(tom)
    assert "+45 · organizer award: fixed the stairwell light" in h.last_text(tom)

    # Tom redeems eggs; the organizers hand them over from their group.
    await h.send(tom, "/shop")
    await h.press(tom, "🎁 A box of eggs · 20 pts")
    await h.press(tom, "✅ Redeem")
    assert "Pickup code: S-" in h.last_text(tom)
    await h.press(org, "📦 已领取", chat=-1001000)
    assert "has been handed over" in h.last_text(tom)

    # Wang redeems soap, then a restart: the order, balance and stock are all still there.
    await h.send(wang, "/shop")
    await h.press(wang, "🎁 洗衣液 1L · 30 分")
    await h.press(wang, "✅ 确认兑换")
    await h.restart()
    await h.send(wang, "/shop")
    assert "积分兑换 · 您有 30 分" in h.last_text(wang)
    assert "待领取的订单" in h.last_text(wang)
    assert await points_db.balance(h.db, wang_id) == 30
    await h.send(org, "/pickup")
    order = (await shop_db.member_orders(h.db, wang_id))[0]
    assert order.code in h.last_text(org)
    await h.send(org, f"/pickup {order.code}")
    await h.press(org, "✖ 取消订单")
    assert "积分和库存已退回" in h.last_text(org)
    assert "30 积分已退回" in h.last_text(wang)
    assert await points_db.balance(h.db, wang_id) == 60

    # Time bank: Wang helps Tom for 2 hours; Tom confirms; Wang earns volunteer points.
    await h.send(wang, "/hours log @tom 2 帮忙搬家")
    assert "Wang" not in h.last_text(tom) and "王芳 logged a service for you" in h.last_text(tom)
    await h.press(tom, "✅ Confirm")
    assert "+2 小时，另得 20 积分" in h.last_text(wang)
    assert await tb_db.balance_minutes(h.db, wang_id) == 120
    assert await tb_db.balance_minutes(h.db, tom_id) == -120

    # Rankings: Tom opts out; the building board shows him as a neighbour.
    await h.send(tom, "/rank optout")
    await h.send(wang, "/rank")
    board = h.last_text(wang)
    assert "🥇 王芳 · 80 分 ← 我" in board and "🥈 一位邻居 · 45 分" in board

    # The weekly post in the building's group, once, even across a restart.
    group = h.group(-100777, "和苑1号楼", [wang, tom])
    await groups_db.bind_group(
        h.db, group.id, "和苑1号楼", Binding(group.id, NodeKind.BUILDING, "heyuan/1"), 1, h.clock()
    )
    h.clock.set(datetime(2026, 11, 30, 1, 0, tzinfo=UTC))  # Monday 09:00 in Shanghai
    await h.tick()
    await h.restart()
    await h.tick()
    posts = [t for t in h.texts(group) if "上周积分榜" in t]
    assert len(posts) == 1
    assert "🥇 王芳 · 80 分" in posts[0] and "🥈 一位邻居 · 45 分" in posts[0]
    assert await points_db.inconsistent_balances(h.db) == []
