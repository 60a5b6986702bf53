"""Telegram's flood limits, kept with a margin: the strict simulator (flood limits on) never
answers 429, no second holds more than 29 messages, one chat keeps its own pace."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from linli.bot.app import build_application
from linli.bot.context import Services
from linli.bot.limits import Limiter
from linli.bot.render import Renderer
from linli.sim.core import Simulator
from linli.sim.harness import Harness
from linli.sim.request import SimRequest
from tests.handlers.test_events import community_group, create_event
from tests.support.event_people import resident


def most_in_one_second(times: Sequence[float]) -> int:
    """The most messages any window (t - 1 s, t] holds."""
    ordered = sorted(times)
    most, start = 0, 0
    for end, at in enumerate(ordered):
        while ordered[start] <= at - 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


def sent_at(sim: Simulator, chat_id: int | None = None) -> list[float]:
    return [
        c.at
        for c in sim.calls
        if c.method.lower() == "sendmessage"
        and c.status == 200
        and (chat_id is None or c.params.get("chat_id") == chat_id)
    ]


async def test_a_rush_keeps_every_limit_with_a_margin_on_a_fake_clock() -> None:
    """120 confirmations to 120 residents, 6 quick messages to one of them and 25 to a group,
    all at once: the strict simulator answers no 429, and no second holds more than 29."""
    now = [0.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds
        await asyncio.sleep(0)

    sim = Simulator(flood_limits=True, monotonic=lambda: now[0])
    for uid in range(5000, 5120):
        sim.start_private(sim.create_user(uid, f"居民{uid}"))
    group = sim.create_group(-100, "楼栋群", owner=sim.users[5000])
    sim.add_bot_to_group(group, 5000)
    limiter = Limiter(clock=lambda: now[0], sleep=sleep)

    async def send(chat_id: int, text: str) -> None:
        async def callback() -> bool:
            status, _ = await sim.call(sim.token, "sendMessage", {"chat_id": chat_id, "text": text})
            assert status == 200, sim.calls[-1].description
            return True

        params = {"chat_id": chat_id, "text": text}
        await limiter.process_request(callback, (), {}, "sendMessage", params, None)

    await asyncio.gather(
        *(send(uid, "报名成功") for uid in range(5000, 5120)),
        *(send(5000, f"第{i}条") for i in range(6)),
        *(send(-100, f"群消息{i}") for i in range(25)),
        # answers to button taps are not messages: never held back
        limiter.process_request(
            lambda: asyncio.sleep(0, True), (), {}, "answerCallbackQuery", {}, None
        ),
    )
    assert sim.flood_429s == 0
    assert len(sent_at(sim)) == 120 + 6 + 25
    assert most_in_one_second(sent_at(sim)) <= 29
    one = sent_at(sim, 5000)
    assert most_in_one_second(one) <= 3  # a burst of 3 at most, then one every 1.1 s
    assert one[-1] - one[0] >= 4 * 1.1 - 1e-6
    in_group = sent_at(sim, -100)
    assert len([t for t in in_group if t < in_group[0] + 60]) <= 19  # 19 a minute, not 20


async def test_the_bot_as_built_paces_one_private_chat_and_the_whole_bot(
    harness: Harness,
) -> None:
    """As `linli run` wires it (real time): 40 residents and 6 quick messages to one of them
    get no 429 from the simulator, and no second holds more than 29 messages."""
    h = harness
    sim = Simulator(h.config.bot.token, flood_limits=True)
    for uid in range(6000, 6040):
        sim.start_private(sim.create_user(uid, f"居民{uid}"))
    services = Services(h.config, h.db, h.clock, Renderer(h.config.tz), h.config.structure())
    app = build_application(services, request=SimRequest(sim), scheduler=False)
    await app.initialize()
    try:
        await asyncio.gather(
            *(app.bot.send_message(uid, "报名成功") for uid in range(6000, 6040)),
            *(app.bot.send_message(6000, f"第{i}条") for i in range(6)),
        )
    finally:
        await app.shutdown()
    assert sim.flood_429s == 0
    assert len(sent_at(sim)) == 46
    assert most_in_one_second(sent_at(sim)) <= 29


async def test_a_rush_of_120_sign_ups_gets_no_429(make_harness: object) -> None:
    """120 residents tap Sign up at once: each gets the confirmation, with no 429."""
    h: Harness = await make_harness(flood_limits=True, rate_limit=True)  # type: ignore[operator]
    people = []
    for uid in range(7000, 7120):
        await resident(h.db, uid, h.clock(), name=f"居民{uid}")
        user = h.user(uid, f"居民{uid}")
        h.sim.start_private(user)
        people.append(user)
    h.sim.take_updates()
    group = await community_group(h, *people)
    await create_event(h, capacity="0")
    for user in people:
        await h.press(user, "报名", chat=group)
    assert h.sim.flood_429s == 0
    assert all("你已报名" in h.last_text(user) for user in people)
    assert most_in_one_second(sent_at(h.sim)) <= 29


async def test_no_private_notice_to_a_member_who_blocked_the_bot(harness: Harness) -> None:
    """A waitlisted member who blocked the bot is promoted, but not written to."""
    h = harness
    a, b = h.user(2001, "王芳"), h.user(2002, "小李")
    for user in (a, b):
        await resident(h.db, user.id, h.clock(), name=user.first_name)
        h.sim.start_private(user)
    h.sim.take_updates()
    group = await community_group(h, a, b)
    await create_event(h, capacity="1")
    await h.press(a, "报名", chat=group)
    await h.press(b, "报名", chat=group)  # waitlisted
    h.sim.block_bot(b)
    await h.process()
    before = len(h.sim.calls)
    await h.press(a, "取消报名", chat=group)  # b is promoted
    tried = [c for c in h.sim.calls[before:] if c.params.get("chat_id") == b.id]
    assert tried == []  # no 403: nothing was sent
    assert "已从候补转为正式报名" not in h.last_text(b)
