"""/hours through the simulator: log, confirm by button or command, floor, pool, bad input."""

from __future__ import annotations

from linli.sim.harness import Harness
from linli.storage import points as points_db
from linli.storage import timebank as tb_db
from tests.support.points import organizer, resident


async def test_log_confirm_moves_hours_and_gives_points(harness: Harness) -> None:
    h = harness
    wang, wang_id = await resident(h, 2001, "王芳", username="wangfang")
    bob, bob_id = await resident(h, 2002, "Bob", lang="en", username="bob")
    await h.send(bob, "/hours log @wangfang 1.5 shopping <for> her")
    assert "Logged T-0001: you helped 王芳 with shopping <for> her, 1.5 h." in h.last_text(bob)
    assert "asked them to confirm" in h.last_text(bob)
    assert "Bob 记录了为您提供的服务（T-0001）：shopping <for> her，1.5 小时。" in h.last_text(wang)
    await h.press(wang, "✅ 确认")
    assert "已确认 T-0001" in h.last_text(wang)
    assert "+1.5 h and 15 points" in h.last_text(bob)
    assert await tb_db.balance_minutes(h.db, bob_id) == 90
    assert await tb_db.balance_minutes(h.db, wang_id) == -90
    assert await points_db.balance(h.db, bob_id) == 15
    # The same button again, and a forged one: nothing moves twice.
    await h.callback(wang, "tb:ok:1")
    assert h.alerts(wang)[-1].text == "T-0001 已经确认过了。"
    await h.redeliver_last()
    assert await tb_db.balance_minutes(h.db, bob_id) == 90
    await h.send(bob, "/hours")
    shown = h.last_text(bob)
    assert "your balance is 1.5 hours (it may go down to -10)" in shown
    assert "+1.5 h · shopping <for> her · 王芳" in shown
    await h.send(wang, "/hours")
    assert "余额 -1.5 小时" in h.last_text(wang)


async def test_receiver_declines_and_giver_withdraws(harness: Harness) -> None:
    h = harness
    wang, _ = await resident(h, 2001, "王芳", username="wangfang")
    bob, bob_id = await resident(h, 2002, "Bob", lang="en", username="bob")
    await h.send(bob, "/hours log @wangfang 2 repairs")
    await h.send(wang, "/hours")
    assert "T-0001 · Bob 为您 repairs · 2 小时" in h.last_text(wang)
    assert h.buttons(wang) == ["✅ 确认 T-0001"]
    await h.callback(wang, "tb:no:1")
    assert "was not confirmed" in h.last_text(bob)
    await h.send(bob, "/hours log @wangfang 1 chat")
    await h.press(bob, "Withdraw")
    assert "Withdrew T-0002." in h.last_text(bob)
    await h.callback(wang, "tb:ok:2")
    assert h.alerts(wang)[-1].text == "T-0002 已经撤回过了。"
    assert await tb_db.balance_minutes(h.db, bob_id) == 0


async def test_who_may_confirm(harness: Harness) -> None:
    h = harness
    org, _ = await organizer(h)
    _, wang_id = await resident(h, 2001, "王芳", username="wangfang")
    bob, bob_id = await resident(h, 2002, "Bob", lang="en", username="bob")
    eve, _ = await resident(h, 2003, "Eve", lang="en")
    await h.send(bob, "/hours log @wangfang 1 chat")
    await h.send(bob, "/hours confirm T-0001")
    assert "confirmed by the neighbour you helped or by an organizer" in h.last_text(bob)
    await h.send(eve, "/hours confirm T-0001")
    assert "Only the neighbour who was helped, or an organizer" in h.last_text(eve)
    await h.send(eve, "/hours confirm T-9999")
    assert "can't find that service log" in h.last_text(eve)
    await h.send(org, "/hours confirm t-0001")
    assert "已确认 T-0001" in h.last_text(org)
    assert await tb_db.balance_minutes(h.db, bob_id) == 60
    assert await tb_db.balance_minutes(h.db, wang_id) == -60


async def test_floor_refuses_and_bad_input_changes_nothing(make_harness) -> None:  # type: ignore[no-untyped-def]
    h = await make_harness({"timebank": {"floor_hours": 1.0, "max_hours": 4.0}})
    wang, wang_id = await resident(h, 2001, "王芳", username="wangfang")
    bob, _ = await resident(h, 2002, "Bob", lang="en", username="bob")
    await h.send(bob, "/hours log @wangfang 2 repairs")
    await h.press(wang, "✅ 确认")
    assert h.alerts(wang)[-1].text.startswith("对方的时长余额为 0 小时，最低只能到 -1 小时")
    assert await tb_db.balance_minutes(h.db, wang_id) == 0
    cases = {
        "/hours log": "Usage: /hours",
        "/hours log @wangfang": "Usage: /hours",
        "/hours log @wangfang abc x": '"abc" is not a number of hours',
        "/hours log @wangfang 0 x": "must be more than 0",
        "/hours log @wangfang -1 x": '"-1" is not a number of hours',
        "/hours log @wangfang 5 x": "At most 4 hours",
        "/hours log @wangfang 1": "Please say what you did",
        "/hours log @nobody 1 x": "can't find that neighbour",
        "/hours log @bob 1 x": "can't log a service for yourself",
        "/hours frobnicate": "Usage: /hours",
    }
    for command, expected in cases.items():
        await h.send(bob, command)
        assert expected in h.last_text(bob), command
    assert await h.db.scalar("SELECT COUNT(*) FROM timebank_logs") == 1


async def test_pool_pays_when_configured(make_harness) -> None:  # type: ignore[no-untyped-def]
    h = await make_harness({"timebank": {"from_pool": True}})
    wang, wang_id = await resident(h, 2001, "王芳", username="wangfang")
    bob, bob_id = await resident(h, 2002, "Bob", lang="en", username="bob")
    await h.send(bob, "/hours log @wangfang 3 cleaning")
    assert "由社区时间池支付" in h.last_text(wang)
    await h.press(wang, "✅ 确认")
    assert await tb_db.balance_minutes(h.db, wang_id) == 0
    assert await tb_db.balance_minutes(h.db, bob_id) == 180
    assert await tb_db.pool_balance(h.db) == -180
    await h.send(bob, "/hours")
    assert "+3 h · cleaning · community pool" in h.last_text(bob)
