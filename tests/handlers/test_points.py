"""/points, /award and /deduct through the simulator, as residents and organizers see them."""

from __future__ import annotations

from linli.sim.harness import Harness
from linli.storage import points as points_db
from tests.support.points import give, organizer, resident


async def test_points_shows_balance_standing_and_history_in_both_languages(
    harness: Harness,
) -> None:
    h = harness
    wang, wang_id = await resident(h, 2001, "王芳")
    bob, bob_id = await resident(h, 2002, "Bob", lang="en")
    await give(h, wang_id, 10, key="a", rule="verified_report")
    await give(h, bob_id, 25, key="b", rule="referral")
    await h.send(wang, "/points")
    shown = h.last_text(wang)
    assert "王芳 的积分：10 分" in shown
    assert "本楼总榜第 2 名（共 2 人上榜）" in shown
    assert "+10 · 隐患上报被受理（test）" in shown
    await h.send(bob, "/points")
    shown = h.last_text(bob)
    assert "Bob has 25 points" in shown
    assert "No. 1 in your building" in shown
    assert "+25 · invited a neighbour (test)" in shown


async def test_points_history_pages(harness: Harness) -> None:
    h = harness
    wang, wang_id = await resident(h, 2001, "王芳")
    for i in range(10):
        await give(h, wang_id, i + 1, key=f"k{i}")
    await h.send(wang, "/points")
    assert h.buttons(wang) == ["较早 ▶"]
    assert "+10 ·" in h.last_text(wang) and "+2 ·" not in h.last_text(wang)
    await h.press(wang, "较早 ▶")
    assert "第 9–10 条，共 10 条" in h.last_text(wang)
    assert "+2 ·" in h.last_text(wang) and "+1 ·" in h.last_text(wang)
    assert h.buttons(wang) == ["◀ 较新"]


async def test_empty_points(harness: Harness) -> None:
    h = harness
    wang, _ = await resident(h, 2001, "王芳", building=None)
    await h.send(wang, "/points")
    assert "积分：0 分" in h.last_text(wang)
    assert "还没有积分记录" in h.last_text(wang)
    assert "本楼" not in h.last_text(wang)


async def test_award_and_deduct_by_an_organizer(harness: Harness) -> None:
    h = harness
    org, _ = await organizer(h)
    wang, wang_id = await resident(h, 2001, "王芳", username="wangfang")
    await h.send(org, "/award @wangfang 30 帮忙清理楼道 <b>")
    assert "已给 王芳 增加 30 积分，原因：帮忙清理楼道 <b>" in h.last_text(org)
    assert "组织者给您增加了 30 积分，原因：帮忙清理楼道 <b>" in h.last_text(wang)
    await h.send(org, f"/deduct #{wang_id} 12 重复领取")
    assert "已从 王芳 扣减 12 积分" in h.last_text(org)
    assert "对方现有 18 分" in h.last_text(org)
    assert await points_db.balance(h.db, wang_id) == 18
    # A redelivered /deduct changes nothing.
    await h.redeliver_last()
    assert await points_db.balance(h.db, wang_id) == 18
    audit = await h.db.fetchall("SELECT action, detail FROM audit_log WHERE action LIKE 'points%'")
    assert [tuple(r) for r in audit] == [
        ("points_award", "30 帮忙清理楼道 <b>"),
        ("points_deduct", "-12 重复领取"),
    ]


async def test_award_bad_input_changes_nothing(harness: Harness) -> None:
    h = harness
    org, _ = await organizer(h)
    _, wang_id = await resident(h, 2001, "王芳", username="wangfang", points=5)
    cases = {
        "/award": "用法：/award @用户名 积分 原因",
        "/award @wangfang": "用法：",
        "/award @wangfang -5 x": "不是有效的积分数",
        "/award @wangfang 0 x": "积分数必须大于 0",
        "/award @wangfang 99999999999 x": "一次最多调整 500 积分",
        "/award @wangfang abc x": "“abc”不是有效的积分数",
        "/award @wangfang 5": "请写明原因",
        "/award @nobody 5 x": "找不到成员“@nobody”",
        "/deduct @wangfang 6 x": "对方只有 5 分，不能扣减 6 分",
    }
    for command, expected in cases.items():
        await h.send(org, command)
        assert expected in h.last_text(org), command
    assert await points_db.balance(h.db, wang_id) == 5


async def test_only_organizers_award(harness: Harness) -> None:
    h = harness
    wang, wang_id = await resident(h, 2001, "Wang", lang="en", username="wang", points=5)
    await h.send(wang, "/award @wang 100 myself")
    assert h.last_text(wang) == "Only organizers can adjust points."
    assert await points_db.balance(h.db, wang_id) == 5
