"""The scheduler's side of polls: one reminder, closing by itself, results and outcomes once."""

from __future__ import annotations

from datetime import timedelta

from linli.core.community import NodeKind
from linli.core.polls import PollKind, PollStatus
from linli.sim.harness import Harness
from linli.storage import polls as polls_db
from tests.handlers.test_polls import GROUP, make_poll, org
from tests.support.polls import bound_group, neighbour

ORGANIZERS = -1001000


async def test_reminder_once_then_closing_and_result_once_across_a_restart(
    harness: Harness,
) -> None:
    h = harness
    wang, _ = await neighbour(h, 2001, "王芳")
    li, _ = await neighbour(h, 2002, "李强")
    bob, _ = await neighbour(h, 2003, "Bob", lang="en")
    guest, _ = await neighbour(h, 2004, "访客", verified=False)
    group = await bound_group(
        h, GROUP, "和苑1号楼", NodeKind.BUILDING, "heyuan/1", [wang, li, bob, guest]
    )
    poll = await make_poll(
        h, PollKind.PROPOSAL, closes_in=timedelta(days=2), quorum_pct=50, pass_pct=60
    )
    await h.press(wang, "👍 赞成", group)

    h.clock.advance(hours=23)  # 25 h before closing: too early
    await h.tick()
    assert "还没有投票" not in h.last_text(li)
    h.clock.advance(hours=2)  # 23 h before closing
    await h.tick()
    assert f"投票 #{poll.id}“停车位怎么分？”将于" in h.last_text(
        li
    ) and "您还没有投票" in h.last_text(li)
    assert "you have not voted yet" in h.last_text(bob)
    assert h.buttons(bob) == ["🗳 Vote now"]
    assert "还没有投票" not in h.last_text(wang)  # she voted
    assert "还没有投票" not in h.last_text(guest)  # not eligible
    reminders = len(h.texts(li))
    await h.tick()
    await h.restart()
    await h.tick()
    assert len(h.texts(li)) == reminders  # reminded once only
    await h.press(bob, "🗳 Vote now")
    await h.press(bob, "👎 Disagree")
    await h.press(li, "👍 赞成", group)

    # The bot is down over the closing time; after the restart the result comes once.
    h.clock.advance(days=2)
    await h.restart()
    await h.tick()
    result = h.last_text(group)
    assert f"投票 #{poll.id} 结果：停车位怎么分？" in result
    assert "1. 👍 赞成 — 2 票" in result and "2. 👎 反对 — 1 票" in result
    assert "参与：3 / 3 人（100%）" in result and "已达到 ✅" in result and "提案通过" in result
    assert f"投票 #{poll.id} 结果" in h.last_text(ORGANIZERS)
    card = next(m for m in h.messages(group) if "投票 #1：" in m.content)
    assert card.labels == [] and "投票已截止" in card.content
    posted = len(h.texts(group))
    await h.tick()
    await h.restart()
    await h.tick()
    assert len(h.texts(group)) == posted
    closed = await polls_db.get_poll(h.db, poll.id)
    assert closed is not None and closed.status is PollStatus.CLOSED

    # A late tap on an old ballot is refused, the result stands.
    await h.callback(li, f"pl:v:{poll.id}:1", chat=group)
    assert h.alerts(li)[-1].text == f"投票 #{poll.id} 已截止，未作记录。"

    o = await org(h)
    await h.send(o, f"/outcome {poll.id} 物业下周开始施工 <b>")
    assert f"投票 #{poll.id} 的处理结果已发到 2 个群" in h.last_text(o)
    assert "物业下周开始施工 <b>" in h.last_text(group)
    await h.redeliver_last()
    await h.send(o, f"/outcome {poll.id} 再说一次")
    assert h.last_text(o) == f"投票 #{poll.id} 已经发布过处理结果了。"
    assert sum("处理结果" in t for t in h.texts(group)) == 1


async def test_ranked_result_shows_the_runoff_rounds_and_quorum_failure(harness: Harness) -> None:
    h = harness
    voters = [(await neighbour(h, 3000 + i, f"居民{i}"))[0] for i in range(10)]
    group = await bound_group(h, GROUP, "和苑1号楼", NodeKind.BUILDING, "heyuan/1", voters)
    await make_poll(h, PollKind.RANKED, options=("健身房", "图书室", "儿童房"), quorum_pct=75)
    orders = (
        [["1. 健身房"]] * 3 + [["1. 图书室", "2. 健身房"]] * 2 + [["1. 儿童房", "2. 图书室"]] * 2
    )
    for voter, taps in zip(voters, orders, strict=False):
        await h.press(voter, "🗳 投票", group)
        for tap in taps:
            await h.press(voter, tap)
        await h.press(voter, "✅ 提交排序")
    h.clock.advance(days=3)
    await h.tick()
    result = h.last_text(group)
    assert (
        "第 1 轮：健身房 3 · 图书室 2 · 儿童房 2 → 淘汰 儿童房" in result
    )  # tie: the one listed last goes
    assert "第 2 轮：健身房 3 · 图书室 4" in result
    assert "参与：7 / 10 人（70%）" in result and "未达到 ❌" in result
    assert "得票最多：图书室，但参与人数不足" in result


async def test_outcome_before_closing_and_by_residents_is_refused(harness: Harness) -> None:
    h = harness
    wang, _ = await neighbour(h, 2001, "王芳")
    poll = await make_poll(h)
    await h.send(wang, f"/outcome {poll.id} 我说了算")
    assert h.last_text(wang) == "只有组织者可以这样做。"
    o = await org(h)
    await h.send(o, f"/outcome {poll.id} 太早了")
    assert h.last_text(o) == f"投票 #{poll.id} 还没截止，请截止后再发布处理结果。"
    await h.send(o, "/outcome")
    assert "用法" in h.last_text(o)
    await h.send(o, "/outcome 999 x")
    assert h.last_text(o) == "没有这个投票。"
    stored = await polls_db.get_poll(h.db, poll.id)
    assert stored is not None and stored.outcome is None
