"""The outbox: what a committed action promised to say survives a crash right after the
commit, is said once, and exists only together with the action (linli/bot/outbox.py)."""

from __future__ import annotations

from typing import Any

import pytest

from linli.bot import outbox
from linli.sim.harness import Harness
from linli.storage import outbox as outbox_db
from linli.storage import points as points_db
from linli.storage import shop as shop_db
from tests.handlers import test_hazards as hazard_tests
from tests.support.points import organizer, resident

ORGANIZERS_GROUP = -1001000


class ProcessKilled(BaseException):
    """The process dies here (like SIGKILL: nothing after it runs)."""


async def _die(*args: Any, **kwargs: Any) -> str:
    raise ProcessKilled


async def redeem_soap(h: Harness, user: Any) -> None:
    await h.send(user, "/shop")
    await h.press(user, "🎁 洗衣液 1L · 30 分")


def order_cards(h: Harness) -> list[str]:
    return [t for t in h.texts(ORGANIZERS_GROUP) if "新兑换订单" in t]


async def test_a_crash_between_commit_and_send_loses_no_message_and_repeats_none(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    h = harness
    await organizer(h)
    wang, wang_id = await resident(h, 2001, "王芳", points=100)
    await redeem_soap(h, wang)
    # The process dies right after the order's commit, before anything is sent.
    monkeypatch.setattr(outbox, "deliver_one", _die)
    with pytest.raises(ProcessKilled):
        await h.press(wang, "✅ 确认兑换")
    monkeypatch.undo()

    # The order is committed; nobody has been told yet.
    orders = await shop_db.member_orders(h.db, wang_id)
    assert len(orders) == 1 and await points_db.balance(h.db, wang_id) == 70
    code = orders[0].code
    assert code not in h.last_text(wang) and order_cards(h) == []

    # The process starts again; Telegram delivers the unconfirmed tap once more.
    await h.restart()
    await h.redeliver_last()
    await h.tick()
    assert f"领取码：{code}" in h.last_text(wang)
    assert len(order_cards(h)) == 1 and code in order_cards(h)[0]
    assert len(await shop_db.member_orders(h.db, wang_id)) == 1
    # Nothing is sent again by later ticks or restarts.
    await h.tick()
    await h.restart()
    await h.tick()
    assert len(order_cards(h)) == 1
    assert sum(code in t for t in h.texts(wang)) == 1
    assert set(await outbox_db.counts(h.db)) == {"sent"}


async def test_a_message_in_flight_at_a_crash_is_not_sent_twice_but_an_edit_is_made_again(
    harness: Harness,
) -> None:
    h = harness
    await organizer(h)
    wang, wang_id = await resident(h, 2001, "王芳", points=100)
    await redeem_soap(h, wang)
    # The organizers' card reaches Telegram, then the process dies before hearing back.
    call = h.sim.call

    async def arrives_then_dies(token: str, method: str, params: dict[str, Any], *a: Any) -> Any:
        result = await call(token, method, params, *a)
        if method == "sendMessage" and str(params.get("chat_id")) == str(ORGANIZERS_GROUP):
            raise ProcessKilled
        return result

    h.sim.call = arrives_then_dies  # type: ignore[method-assign]
    with pytest.raises(ProcessKilled):
        await h.press(wang, "✅ 确认兑换")
    h.sim.call = call  # type: ignore[method-assign]
    code = (await shop_db.member_orders(h.db, wang_id))[0].code
    assert f"领取码：{code}" in h.last_text(wang)  # the card's edit went out first
    assert len(order_cards(h)) == 1

    await h.restart()
    await h.tick()
    await h.tick()
    # The card was on the wire: it may have arrived (it did), so it is not sent again.
    assert len(order_cards(h)) == 1
    assert (await outbox_db.counts(h.db)).get("unknown") == 1


async def test_a_failed_handler_leaves_neither_its_effect_nor_its_messages(
    make_harness: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    h: Harness = await make_harness(raise_errors=False)
    await organizer(h)
    wang, wang_id = await resident(h, 2001, "王芳", points=100)
    await redeem_soap(h, wang)
    render = h.services.renderer.render

    def broken(locale: str, template: str, **values: Any) -> str:
        if template == "shop/new_order":
            raise RuntimeError("a template bug")
        return render(locale, template, **values)

    monkeypatch.setattr(h.services.renderer, "render", broken)
    await h.press(wang, "✅ 确认兑换")
    assert isinstance(h.errors[-1], RuntimeError)
    # Both or neither: no order, no points held, no code, no card.
    assert await shop_db.member_orders(h.db, wang_id) == []
    assert await points_db.balance(h.db, wang_id) == 100
    assert "领取码" not in h.last_text(wang) and order_cards(h) == []
    assert set(await outbox_db.counts(h.db)) <= {"sent"}


async def test_a_card_posted_through_the_outbox_is_edited_later_through_its_placeholder(
    harness: Harness,
) -> None:
    h = harness
    wang = h.user(2001, "王芳")
    await hazard_tests.resident(h, wang)
    await h.start(h.organizer)
    await hazard_tests.named_report(h, wang)
    # The card was posted after the report's first write: its number is the outbox row's.
    stored = await h.db.scalar(
        "SELECT message_id FROM hazard_cards WHERE chat_id = ?", (ORGANIZERS_GROUP,)
    )
    assert stored < 0
    card = h.messages(ORGANIZERS_GROUP)[-1]
    assert "H-0001" in card.content
    await h.press(h.organizer, "✔ 确认受理", chat=ORGANIZERS_GROUP)
    await h.send(h.organizer, "物业已处理")
    # That very card is edited (found through the placeholder), not a new one posted.
    edited = next(m for m in h.messages(ORGANIZERS_GROUP) if m.message_id == card.message_id)
    assert edited.edits > 0 and "已受理" in edited.content
    assert sum("H-0001" in m.content for m in h.messages(ORGANIZERS_GROUP)) == 1
