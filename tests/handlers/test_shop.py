"""The shop through the simulator: catalogue, redeem with a pickup code, hand-over, cancel, admin."""

from __future__ import annotations

from linli.sim.harness import Harness
from linli.storage import points as points_db
from linli.storage import shop as shop_db
from tests.support.points import organizer, resident

ORGANIZERS_GROUP = -1001000


async def stock(h: Harness, key: str) -> int:
    item = await shop_db.get_item_by_key(h.db, key)
    assert item is not None
    return item.stock


async def test_redeem_gives_a_pickup_code_and_organizers_hand_it_over(harness: Harness) -> None:
    h = harness
    org, _ = await organizer(h)
    h.group(ORGANIZERS_GROUP, "组织者", [org])
    wang, wang_id = await resident(h, 2001, "王芳", points=100)
    await h.send(wang, "/shop")
    shown = h.last_text(wang)
    assert "积分兑换 · 您有 100 分" in shown
    assert "洗衣液 1L · 30 分 · 剩 20 件" in shown
    assert "🎁 洗衣液 1L · 30 分" in h.buttons(wang)
    await h.press(wang, "🎁 洗衣液 1L · 30 分")
    assert "用 30 积分兑换 洗衣液 1L？" in h.last_text(wang)
    assert "兑换后剩余 70 分" in h.last_text(wang)
    await h.press(wang, "✅ 确认兑换")
    order = (await shop_db.member_orders(h.db, wang_id))[0]
    assert f"领取码：{order.code}" in h.last_text(wang)
    assert await points_db.balance(h.db, wang_id) == 70
    assert await stock(h, "soap") == 19
    await h.send(wang, "/shop")
    assert f"{order.code} · 洗衣液 1L · 30 分" in h.last_text(wang)
    # The organizers' group hears of the order, with buttons.
    assert f"新兑换订单 {order.code}" in h.last_text(ORGANIZERS_GROUP)
    await h.send(org, f"/pickup {order.code.lower()}")
    assert "状态：待领取" in h.last_text(org)
    assert h.buttons(org) == ["📦 已领取", "✖ 取消订单"]
    await h.press(org, "📦 已领取")
    assert "状态：已领取" in h.last_text(org)
    assert "已领取，谢谢" in h.last_text(wang)
    # Cancelling a handed-over order is refused, nothing changes.
    await h.callback(org, f"sh:cx:{order.id}")
    assert h.alerts(org)[-1].text == f"订单 {order.code} 已领取，不能再操作。"
    assert await points_db.balance(h.db, wang_id) == 70
    assert await stock(h, "soap") == 19


async def test_double_tap_on_confirm_is_one_order(harness: Harness) -> None:
    h = harness
    bob, bob_id = await resident(h, 2002, "Bob", lang="en", points=100)
    await h.send(bob, "/shop")
    await h.press(bob, "🎁 Laundry liquid 1 L · 30 pts")
    buttons = h.last(bob)
    assert buttons is not None and buttons.reply_markup is not None
    data = buttons.reply_markup["inline_keyboard"][0][0]["callback_data"]
    await h.callback(bob, data, message_id=buttons.message_id)
    await h.callback(bob, data, message_id=buttons.message_id)
    assert len(await shop_db.member_orders(h.db, bob_id)) == 1
    assert await points_db.balance(h.db, bob_id) == 70
    assert "Pickup code: S-" in h.last_text(bob)


async def test_a_double_tapped_redeem_tells_the_organizers_once_and_edits_once(
    harness: Harness,
) -> None:
    h = harness
    bob, bob_id = await resident(h, 2002, "Bob", lang="en", points=100)
    await h.send(bob, "/shop")
    await h.press(bob, "🎁 Laundry liquid 1 L · 30 pts")
    posted = len(h.texts(ORGANIZERS_GROUP))
    # Both taps leave the phone before the bot has answered either.
    h.sim.press(bob, bob.id, "✅ Redeem")
    h.sim.press(bob, bob.id, "✅ Redeem")
    await h.process()
    (order,) = await shop_db.member_orders(h.db, bob_id)
    new_posts = h.texts(ORGANIZERS_GROUP)[posted:]
    assert len(new_posts) == 1 and f"新兑换订单 {order.code}" in new_posts[0]
    assert f"Pickup code: {order.code}" in h.last_text(bob)
    assert h.last(bob).edits == 1  # type: ignore[union-attr]
    assert not [c for c in h.sim.calls if "not modified" in c.description]
    assert h.alerts(bob)[-1].text == (
        f"Already redeemed: Laundry liquid 1 L, pickup code {order.code}."
    )
    assert await points_db.balance(h.db, bob_id) == 70


async def test_member_cancels_own_order_and_gets_points_and_stock_back(harness: Harness) -> None:
    h = harness
    bob, bob_id = await resident(h, 2002, "Bob", lang="en", points=40)
    await h.send(bob, "/shop")
    await h.press(bob, "🎁 A box of eggs · 20 pts")
    await h.press(bob, "✅ Redeem")
    assert await stock(h, "eggs") == 49
    await h.press(bob, "✖ Cancel order")
    assert "Status: cancelled" in h.last_text(bob)
    assert "points and the stock have been returned" in h.last_text(bob)
    assert await points_db.balance(h.db, bob_id) == 40
    assert await stock(h, "eggs") == 50
    order = (await shop_db.member_orders(h.db, bob_id))[0]
    await h.callback(bob, f"sh:cx:{order.id}")  # a second cancel
    assert h.alerts(bob)[-1].text == f"Order {order.code} is already cancelled."
    assert await points_db.balance(h.db, bob_id) == 40
    # Another member cannot cancel or hand over someone else's order.
    eve, _ = await resident(h, 2003, "Eve", lang="en", points=40)
    await h.send(bob, "/shop")
    await h.press(bob, "🎁 A box of eggs · 20 pts")
    await h.press(bob, "✅ Redeem")
    order = (await shop_db.member_orders(h.db, bob_id))[0]
    await h.send(eve, "/shop")
    for action in ("cx", "ho"):
        await h.callback(eve, f"sh:{action}:{order.id}")
        assert h.alerts(eve)[-1].text == "Only organizers can do that."
    assert (await shop_db.get_order(h.db, order.id)).open  # type: ignore[union-attr]


async def test_redeem_without_enough_points_or_stock(harness: Harness) -> None:
    h = harness
    org, _ = await organizer(h)
    wang, wang_id = await resident(h, 2001, "王芳", points=25)
    await h.send(wang, "/shop")
    await h.press(wang, "🎁 洗衣液 1L · 30 分")
    assert h.alerts(wang)[-1].text == "积分不够：需要 30 分，您现有 25 分。"
    await h.send(org, "/shopadmin stock eggs 0")
    assert "库存 0" in h.last_text(org)
    eggs = await shop_db.get_item_by_key(h.db, "eggs")
    assert eggs is not None
    await h.callback(wang, f"sh:rd:{eggs.id}")
    assert h.alerts(wang)[-1].text == "抱歉，“鸡蛋一盒”已经兑完了。"
    await h.callback(wang, f"sh:ok:{eggs.id}:20:abcd")  # a forged confirmation
    assert h.alerts(wang)[-1].text == "抱歉，“鸡蛋一盒”已经兑完了。"
    await h.callback(wang, "sh:ok:999:20:abcd")
    assert "已下架或不存在" in (h.alerts(wang)[-1].text or "")
    await h.callback(wang, "sh:ok:notanumber")
    assert h.alerts(wang)[-1].text == "这个按钮已失效。请使用最新的消息，或重新开始。"
    assert await points_db.balance(h.db, wang_id) == 25
    assert await shop_db.member_orders(h.db, wang_id) == []


async def test_price_change_between_prompt_and_confirm_is_refused(harness: Harness) -> None:
    h = harness
    org, _ = await organizer(h)
    wang, wang_id = await resident(h, 2001, "王芳", points=100)
    await h.send(wang, "/shop")
    await h.press(wang, "🎁 洗衣液 1L · 30 分")
    await h.send(org, "/shopadmin price soap 35")
    await h.press(wang, "✅ 确认兑换")
    assert h.alerts(wang)[-1].text == "价格已调整为 35 分，请重新发送 /shop 后再兑换。"
    assert await points_db.balance(h.db, wang_id) == 100


async def test_shopadmin_and_pickup_are_for_organizers_with_clear_errors(harness: Harness) -> None:
    h = harness
    org, _ = await organizer(h)
    wang, _ = await resident(h, 2001, "王芳")
    await h.send(wang, "/shopadmin add rice 80 3 大米")
    assert h.last_text(wang) == "只有组织者可以这样做。"
    await h.send(wang, "/pickup")
    assert h.last_text(wang) == "只有组织者可以这样做。"
    assert await shop_db.get_item_by_key(h.db, "rice") is None
    await h.send(org, "/shopadmin add rice 80 3 大米 <5kg>")
    assert "已保存：rice · 大米 <5kg> · 80 分 · 库存 3 · 在售" in h.last_text(org)
    cases = {
        "/shopadmin add rice 1 1 x": "代号 rice 已经存在",
        "/shopadmin price nope 5": "没有代号为 nope 的商品",
        "/shopadmin price rice -5": "“-5”不是有效的数字",
        "/shopadmin price rice 0": "数字需要在 1 到 100000 之间",
        "/shopadmin frobnicate rice": "用法：/shopadmin add",
        "/shopadmin add 大米 5 5 x": "代号只能用字母",
        "/pickup S-ZZZZZ": "找不到这个订单",
        "/pickup hello": "找不到这个订单“hello”",
    }
    for command, expected in cases.items():
        await h.send(org, command)
        assert expected in h.last_text(org), command
    await h.send(org, "/shopadmin off rice")
    await h.send(org, "/shopadmin")
    assert "⚪️ rice · 大米 <5kg> · 80 分 · 库存 3" in h.last_text(org)
    await h.send(wang, "/shop")
    assert "大米" not in h.last_text(wang)
    await h.send(org, "/pickup")
    assert "目前没有待领取的订单" in h.last_text(org)


async def test_shop_in_a_group_points_to_the_private_chat(harness: Harness) -> None:
    h = harness
    wang, _ = await resident(h, 2001, "王芳")
    group = h.group(-100500, "和苑1号楼", [wang])
    await h.send(wang, "/shop", chat=group)
    assert "只在私聊中显示" in h.last_text(group)
    assert h.buttons(group) == ["打开私聊"]


async def test_the_catalogue_speaks_the_readers_language(harness: Harness) -> None:
    """Names and descriptions in English for an English reader, in Chinese otherwise."""
    h = harness
    await h.start(h.organizer)
    await h.send(h.organizer, "/shopadmin desc_en eggs Free-range, from the farm nearby")
    emma = h.user(8901, "Emma", lang="en")
    await h.start(emma)
    await h.send(emma, "/shop")
    english = h.last_text(emma)
    assert "A box of eggs" in english and "Free-range, from the farm nearby" in english
    assert "Collect at the community service desk" in english and "社区服务站领取" not in english
    wang = h.user(8902, "王芳")
    await h.start(wang)
    await h.send(wang, "/shop")
    chinese = h.last_text(wang)
    assert "鸡蛋一盒" in chinese and "社区服务站领取" in chinese and "Free-range" not in chinese
