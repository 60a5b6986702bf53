"""Polls through the simulator: /newpoll with a preview, voting by buttons, ballots, bad input."""

from __future__ import annotations

from datetime import timedelta

from linli.core.community import NodeKind
from linli.core.members import Audience
from linli.core.polls import Poll, PollKind
from linli.sim.core import SimUser
from linli.sim.harness import Harness
from linli.storage import drafts as drafts_db
from linli.storage import members as members_db
from linli.storage import polls as polls_db
from linli.storage.drafts import Draft
from tests.support.polls import bound_group, draft, neighbour

GROUP = -100201
BUILDING = Audience(NodeKind.BUILDING, "heyuan/1")


async def org(h: Harness) -> SimUser:
    h.sim.started.add(h.organizer.id)
    return h.organizer


async def make_poll(h: Harness, kind: PollKind = PollKind.SINGLE, **kwargs: object) -> Poll:
    """A poll published straight through storage; the next tick posts its card."""
    kwargs.setdefault("audience", BUILDING)
    d = draft(kind, now=h.clock(), **kwargs)  # type: ignore[arg-type]
    organizer = await members_db.ensure_member(h.db, h.organizer.id, "组织者", None, h.clock())
    count = await polls_db.count_eligible_now(h.db, d.settings, h.services.community)
    poll, _ = await polls_db.create_poll(
        h.db, d, created_by=organizer.id, key=f"t{kind}{kwargs}", eligible=count, now=h.clock()
    )
    await h.tick()
    return poll


async def test_organizer_sets_up_previews_and_publishes_then_residents_vote(
    harness: Harness,
) -> None:
    h = harness
    o = await org(h)
    wang, _ = await neighbour(h, 2001, "王芳", unit="3-201")
    li, _ = await neighbour(h, 2002, "李强", unit="3-201")
    zhao, _ = await neighbour(h, 2003, "赵敏", unit="3-202")
    group = await bound_group(
        h, GROUP, "和苑1号楼", NodeKind.BUILDING, "heyuan/1", [wang, li, zhao]
    )
    await h.send(o, "/newpoll")
    await h.press(o, "单选")
    await h.send(o, "春季大扫除定在哪一天？\n请大家选一个<b>时间</b>")
    await h.send(o, "周六上午\n周六下午\n周日上午")
    assert "谁来投票" in h.last_text(o)
    await h.press(o, "和苑小区1号楼")
    await h.press(o, "3 天后")
    await h.press(o, "▫️ 一户一票")
    assert "✅ 一户一票" in h.buttons(o)
    await h.press(o, "👀 预览")
    preview = h.last_text(o)
    assert "这张卡片将发到 1 个群；目前有 2 位（户）可以投票" in preview
    assert "请大家选一个<b>时间</b>" in preview  # the organizer's text is shown as typed
    assert h.texts(group)[-1:] != [] and "春季大扫除" not in h.last_text(
        group
    )  # nothing posted yet
    await h.press(o, "✅ 发布")
    await h.redeliver_last()  # the same tap delivered twice: one poll
    assert await h.db.scalar("SELECT COUNT(*) FROM polls") == 1
    assert "投票 #1 已开始，已发到 1 个群" in h.last_text(o)
    card = h.last_text(group)
    assert "投票 #1：春季大扫除定在哪一天？" in card and "参与：0 / 2 户（0%）" in card
    assert "一户一票" in card and "2026年11月29日 10:00" in card
    assert h.buttons(group) == ["周六上午", "周六下午", "周日上午"]

    await h.press(wang, "周六下午", group)
    assert h.alerts(wang)[-1].text == "✅ 投票成功"
    await h.redeliver_last()
    await h.press(wang, "周日上午", group)
    assert h.alerts(wang)[-1].text == "✅ 已改票"
    await h.press(li, "周六上午", group)
    assert h.alerts(li)[-1].text == "王芳 已经代表您家投过票了。一户一票。"
    assert h.alerts(li)[-1].show_alert
    await h.press(zhao, "周日上午", group)
    await h.tick()  # the card is refreshed once per tick, not on every tap
    card = h.last_text(group)
    assert "参与：2 / 2 户（100%）" in card and "3. 周日上午 — 2 票" in card
    poll = await polls_db.get_poll(h.db, 1)
    assert poll is not None
    assert (await polls_db.poll_tally(h.db, poll)).counts == (0, 0, 2)


async def test_newpoll_bad_input_is_answered_and_changes_nothing(harness: Harness) -> None:
    h = harness
    o = await org(h)
    wang, _ = await neighbour(h, 2001, "王芳")
    await h.send(wang, "/newpoll")
    assert h.last_text(wang) == "只有组织者可以这样做。"
    await h.send(o, "/newpoll")
    await h.press(o, "多选")
    await h.send(o, "买什么健身器材？")
    await h.send(o, "只有一个")
    assert "至少需要 2 个选项，每行一个（您发了 1 个）" in h.last_text(o)
    await h.send(o, "\n".join(f"器材{i}" for i in range(30)))
    assert "最多 10 个选项（您发了 30 个）" in h.last_text(o)
    await h.send(o, "跑步机\n单车\n跑步机")
    assert "有两个选项相同" in h.last_text(o)
    await h.send(o, "跑步机\n单车\n划船机")
    await h.press(o, "2")
    await h.press(o, "全体居民")
    await h.send(o, "2026-11-20 10:00")
    assert "这个时间（2026年11月20日 10:00）已经过去了" in h.last_text(o)
    await h.send(o, "下周吧")
    assert "看不懂这个时间" in h.last_text(o)
    await h.send(o, "12-20 20:00")
    assert "截止：2026年12月20日 20:00" in h.last_text(o)
    # A button from an earlier step (the kind choice) does nothing now.
    first = next(m for m in h.messages(o) if "请用一条消息发送问题" in m.content)
    await h.callback(o, "pl:k:s", message_id=first.message_id)
    assert "这个按钮属于之前的步骤" in (h.alerts(o)[-1].text or "")
    assert await h.db.scalar("SELECT COUNT(*) FROM polls") == 0


async def test_a_newpoll_in_progress_before_an_upgrade_goes_on(harness: Harness) -> None:
    """The draft as the flow kept it before its typed setup: previewed and published as is."""
    h = harness
    o = await org(h)
    old = {
        "key": "0123456789abcdef", "kind": "single", "title": "颜色？", "body": "", "max_picks": 1,
        "options": ["红", "蓝"], "audience": "community:", "closes_at": "2026-11-29T02:00:00+00:00",
        "verified_only": True, "per_household": False, "secret": False, "hide_results": True,
        "quorum_pct": 0, "quorum_basis": "voters", "pass_pct": 50,
    }  # fmt: skip
    await drafts_db.put_draft(h.db, Draft(o.id, "newpoll", "settings", old), h.clock())
    await h.send(o, "typed at the settings step")
    assert "按钮" in h.last_text(o)
    await h.callback(o, "pl:t:v")
    assert "▫️ 仅限已认证" in h.buttons(o) and "✅ 隐藏结果" in h.buttons(o)
    await h.callback(o, "pl:pv")
    assert "投票 #1：颜色？" in h.last_text(o)
    await h.press(o, "✅ 发布")
    poll = await polls_db.get_poll(h.db, 1)
    assert poll is not None and poll.options == ("红", "蓝")
    assert not poll.settings.verified_only and poll.settings.hide_results
    assert await h.db.scalar("SELECT create_key FROM polls") == f"{o.id}:0123456789abcdef"


async def test_forged_closed_and_ineligible_votes_change_nothing(harness: Harness) -> None:
    h = harness
    wang, _ = await neighbour(h, 2001, "王芳")
    guest, _ = await neighbour(h, 2002, "访客", verified=False)
    outsider, _ = await neighbour(h, 2003, "丽湖居民", building="lihu/A")
    group = await bound_group(
        h, GROUP, "和苑1号楼", NodeKind.BUILDING, "heyuan/1", [wang, guest, outsider]
    )
    poll = await make_poll(h, closes_in=timedelta(hours=2))
    await h.callback(wang, f"pl:v:{poll.id}:9", chat=group)
    assert h.alerts(wang)[-1].text == "选票上没有这个选项，未作记录。"
    for forged in (f"pl:v:{poll.id}:x", "pl:v:999:0", f"pl:v:{poll.id}", "pl:zz:1:1"):
        await h.callback(wang, forged, chat=group)
        assert h.alerts(wang)[-1].text == "这个按钮已失效。请使用最新的消息，或重新开始。"
    await h.press(guest, "乙", group)
    assert "只有已认证的住户可以投票" in (h.alerts(guest)[-1].text or "")
    await h.press(outsider, "乙", group)
    assert "这次投票不面向您" in (h.alerts(outsider)[-1].text or "")
    h.clock.advance(hours=2)
    await h.press(wang, "甲", group)  # the card still has buttons until the next tick
    assert h.alerts(wang)[-1].text == f"投票 #{poll.id} 已截止，未作记录。"
    assert (await polls_db.poll_tally(h.db, poll)).ballots == 0


async def test_ranked_ballot_in_private_chat_in_english(harness: Harness) -> None:
    h = harness
    bob, _ = await neighbour(h, 2001, "Bob", lang="en")
    group = await bound_group(h, GROUP, "Heyuan 1", NodeKind.BUILDING, "heyuan/1", [bob])
    poll = await make_poll(h, PollKind.RANKED, options=("Gym", "Library", "Playroom", "Garden"))
    assert h.buttons(group) == ["🗳 投票"]  # group posts are in the community's language
    await h.press(bob, "🗳 投票", group)
    assert h.alerts(bob)[-1].text == "📩 Your ballot is in our private chat."
    assert "Tap the options in order of preference" in h.last_text(bob)
    await h.press(bob, "1. Library")
    await h.press(bob, "2. Gym")
    assert "Your order so far:\n1. Library\n2. Gym" in h.last_text(bob)
    await h.press(bob, "↩ Undo last")
    await h.press(bob, "2. Garden")
    await h.press(bob, "3. Gym")
    assert h.buttons(bob) == ["4. Playroom", "↩ Undo last", "✖ Start over", "✅ Submit my ranking"]
    await h.press(bob, "✅ Submit my ranking")
    assert "Your vote is recorded" in h.last_text(bob)
    assert "1. Library\n2. Garden\n3. Gym" in h.last_text(bob)
    assert await polls_db.ballots(h.db, poll) == [(1, 3, 0)]
    # A forged order (a repeated option) is refused.
    await h.callback(bob, f"pl:rs:{poll.id}:11")
    assert (
        h.alerts(bob)[-1].text
        == "This button is no longer valid. Please use the latest message, or start again."
    )
    assert await polls_db.ballots(h.db, poll) == [(1, 3, 0)]


async def test_multiple_choice_limits_picks(harness: Harness) -> None:
    h = harness
    wang, _ = await neighbour(h, 2001, "王芳")
    group = await bound_group(h, GROUP, "和苑1号楼", NodeKind.BUILDING, "heyuan/1", [wang])
    poll = await make_poll(h, PollKind.MULTIPLE, options=("跑步机", "单车", "划船机"), max_picks=2)
    await h.press(wang, "🗳 投票", group)
    await h.press(wang, "☐ 跑步机")
    await h.press(wang, "☐ 划船机")
    assert h.buttons(wang)[-1] == "✅ 提交（2/2）"
    await h.press(wang, "☐ 单车")
    assert h.alerts(wang)[-1].text == "最多只能选 2 项。"
    await h.callback(wang, f"pl:ms:{poll.id}:7")  # forged: three picks
    assert h.alerts(wang)[-1].text == "最多只能选 2 项。"
    await h.press(wang, "✅ 提交（2/2）")
    assert "您的选票已记录" in h.last_text(wang) and "跑步机、划船机" in h.last_text(wang)
    assert await polls_db.ballots(h.db, poll) == [(0, 2)]


async def test_secret_ballot_cannot_be_changed(harness: Harness) -> None:
    h = harness
    wang, _ = await neighbour(h, 2001, "王芳")
    group = await bound_group(h, GROUP, "和苑1号楼", NodeKind.BUILDING, "heyuan/1", [wang])
    poll = await make_poll(h, PollKind.PROPOSAL, secret=True, hide_results=True)
    assert "投票截止后公布票数" in h.last_text(group)
    assert h.buttons(group) == ["👍 赞成", "👎 反对", "弃权"]
    await h.press(wang, "👍 赞成", group)
    assert h.alerts(wang)[-1].text == "✅ 投票成功（无记名）"
    await h.press(wang, "👎 反对", group)
    assert h.alerts(wang)[-1].text == "您已经投过票了。无记名投票，投出后不能修改。"
    await h.tick()
    assert "参与：1 / 1 人（100%）" in h.last_text(group)
    assert "— 1 票" not in h.last_text(group)  # results stay hidden until closing
    assert await polls_db.ballots(h.db, poll) == [(0,)]


async def test_a_secret_vote_in_private_leaves_no_message_to_the_voter_on_disk(
    harness: Harness,
) -> None:
    h = harness
    wang, _ = await neighbour(h, 2001, "王芳")
    await bound_group(h, GROUP, "和苑1号楼", NodeKind.BUILDING, "heyuan/1", [wang])
    poll = await make_poll(h, PollKind.PROPOSAL, secret=True)
    await h.send(wang, "/polls")
    await h.press(wang, h.buttons(wang)[0])
    before = await h.db.scalar("SELECT coalesce(max(id), 0) FROM outbox")
    await h.press(wang, "👎 反对")
    # She sees her choice; the outbox (which outlives the moment) never held it.
    assert "您的选票已记录" in h.last_text(wang) and "反对" in h.last_text(wang)
    assert await h.db.scalar("SELECT count(*) FROM outbox WHERE id > ?", (before,)) == 0
    assert await polls_db.ballots(h.db, poll) == [(1,)]


async def test_polls_lists_open_votes_and_marks_those_not_voted(harness: Harness) -> None:
    h = harness
    wang, _ = await neighbour(h, 2001, "王芳")
    group = await bound_group(h, GROUP, "和苑1号楼", NodeKind.BUILDING, "heyuan/1", [wang])
    first = await make_poll(h)
    await make_poll(h, PollKind.PROPOSAL)
    await make_poll(h, audience=Audience(NodeKind.BUILDING, "lihu/A"))  # not for her
    await h.press(wang, "甲", group)
    await h.send(wang, "/polls")
    listing = h.last_text(wang)
    assert f"✅ #{first.id}" in listing and "🗳 #2" in listing and "（尚未投票）" in listing
    assert "#3" not in listing
    assert len(h.buttons(wang)) == 2
    await h.press(wang, h.buttons(wang)[1])
    assert "请点选您的选择" in h.last_text(wang)
    assert h.buttons(wang) == ["👍 赞成", "👎 反对", "弃权"]
    await h.press(wang, "弃权")
    assert "您的选票已记录" in h.last_text(wang)


async def test_the_preview_is_the_card_residents_get_number_included(harness: Harness) -> None:
    h = harness
    o = await org(h)
    wang, _ = await neighbour(h, 2001, "王芳")
    group = await bound_group(h, GROUP, "和苑1号楼", NodeKind.BUILDING, "heyuan/1", [wang])
    await make_poll(h)  # so the new one is #2, not the first
    await h.send(o, "/newpoll")
    await h.press(o, "单选")
    await h.send(o, "春季大扫除定在哪一天？")
    await h.send(o, "周六上午\n周日上午")
    await h.press(o, "和苑小区1号楼")
    await h.press(o, "3 天后")
    await h.press(o, "👀 预览")
    preview = h.last_text(o).split("———\n", 1)[1]
    assert "投票 #2：春季大扫除定在哪一天？" in preview
    await h.press(o, "✅ 发布")
    assert "投票 #2 已开始" in h.last_text(o)
    assert h.last_text(group) == preview
