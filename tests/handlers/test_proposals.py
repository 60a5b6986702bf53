"""Proposals through the simulator: /propose, co-signing, and the organizers' decision."""

from __future__ import annotations

from linli.core.community import NodeKind
from linli.core.members import Audience
from linli.core.proposals import ProposalStatus
from linli.sim.core import SimUser
from linli.sim.harness import Harness
from linli.storage import drafts as drafts_db
from linli.storage import proposals as proposals_db
from tests.handlers.test_polls import org
from tests.support.polls import bound_group, neighbour

GROUP = -100301
ORGANIZERS = -1001000


async def propose(h: Harness, author: SimUser, title: str = "在2号楼门口加装坡道") -> None:
    await h.send(author, "/propose")
    await h.send(author, title)
    await h.send(author, "轮椅和婴儿车进出不便，<i>费用</i>约 3000 元。")
    await h.press(author, "本楼（和苑小区1号楼）")
    await h.press(author, "✅ 提交")


async def test_propose_cosign_threshold_and_open_a_vote(make_harness: object) -> None:
    h: Harness = await make_harness({"polls": {"cosign_threshold": 2}})  # type: ignore[operator]
    wang, _ = await neighbour(h, 2001, "王芳")
    li, _ = await neighbour(h, 2002, "李强")
    zhao, _ = await neighbour(h, 2003, "赵敏")
    outsider, _ = await neighbour(h, 2004, "丽湖居民", building="lihu/A")
    group = await bound_group(
        h, GROUP, "和苑1号楼", NodeKind.BUILDING, "heyuan/1", [wang, li, zhao, outsider]
    )
    await propose(h, wang)
    await h.redeliver_last()
    assert "提案 #1 已发到 1 个群" in h.last_text(wang)
    assert await h.db.scalar("SELECT COUNT(*) FROM proposals") == 1
    card = h.last_text(group)
    assert "提案 #1：在2号楼门口加装坡道" in card and "<i>费用</i>" in card and "王芳 提出" in card
    assert h.buttons(group) == ["✍️ 附议（0/2）"]
    # The author is not a co-signer: the count starts at 0, and 2 other neighbours are needed.
    assert "附议：0 / 2 位邻居（提案人本人不算）" in card

    await h.press(wang, "✍️ 附议（0/2）", group)
    assert h.alerts(wang)[-1].text == "这是您自己的提案：需要其他邻居附议，您本人不计入。"
    await h.press(outsider, "✍️ 附议（0/2）", group)
    assert h.alerts(outsider)[-1].text == "这个提案属于其他楼栋或小区。"
    await h.press(li, "✍️ 附议（0/2）", group)
    assert h.alerts(li)[-1].text == "✍️ 附议成功：1 / 2"
    assert h.buttons(group) == ["✍️ 附议（1/2）"]
    assert "附议：1 / 2 位邻居（提案人本人不算）" in h.last_text(group)
    await h.press(li, "✍️ 附议（1/2）", group)
    assert h.alerts(li)[-1].text == "您已经附议过这个提案了。"
    await h.press(zhao, "✍️ 附议（1/2）", group)
    assert "已获 2 人附议" in h.last_text(ORGANIZERS)
    assert h.buttons(ORGANIZERS) == ["🗳 发起表决", "✖ 不予采纳"]
    assert "已获 2 人附议，已提请组织者发起表决" in h.last_text(wang)

    # A resident cannot decide, whatever button they find.
    await h.send(li, "/polls")
    await h.callback(li, "pr:o:1")  # a forwarded or forged button, in his own chat
    assert h.alerts(li)[-1].text == "只有组织者可以这样做。"
    o = await org(h)
    await h.press(o, "🗳 发起表决", ORGANIZERS)
    assert h.alerts(o)[-1].text == "📩 请在私聊中继续。"
    assert "什么时候截止" in h.last_text(o)
    await h.press(o, "7 天后")
    await h.press(o, "▫️ 一户一票")
    await h.press(o, "👀 预览")
    assert "提案表决" not in h.last_text(o) and "赞成 / 反对 / 弃权" in h.last_text(o)
    await h.press(o, "✅ 发布")
    assert "投票 #1 已开始" in h.last_text(o)
    proposal = await proposals_db.get_proposal(h.db, 1)
    assert (
        proposal is not None and proposal.status is ProposalStatus.OPENED and proposal.poll_id == 1
    )
    assert "已进入表决：投票 #1" in h.last_text(wang)
    assert h.buttons(group) == ["👍 赞成", "👎 反对", "弃权"]
    posted = next(m for m in h.messages(group) if "提案 #1：" in m.content)
    assert "本提案已进入表决：投票 #1" in posted.content and posted.labels == []
    # A second organizer tap on the old notice finds it decided.
    await h.press(o, "✖ 不予采纳", ORGANIZERS)
    assert h.alerts(o)[-1].text == "这个提案已经处理过了。"


async def test_decline_with_a_reason_in_english(make_harness: object) -> None:
    h: Harness = await make_harness({"polls": {"cosign_threshold": 1}})  # type: ignore[operator]
    bob, _ = await neighbour(h, 2001, "Bob", lang="en")
    li, _ = await neighbour(h, 2002, "李强")
    group = await bound_group(h, GROUP, "Heyuan", NodeKind.COMPOUND, "heyuan", [bob, li])
    await h.send(bob, "/propose")
    assert "It will need 1 neighbour besides you to co-sign it" in h.last_text(bob)
    await h.send(bob, "x" * 201)
    assert h.last_text(bob) == "The title is too long (at most 200 characters)."
    await h.send(bob, "A bench by the gate")
    await h.send(bob, "x" * 2001)
    assert h.last_text(bob) == "That is too long (at most 2000 characters)."
    await h.send(bob, "Older neighbours need a rest on the way back from the market.")
    assert h.buttons(bob) == ["My building (和苑小区 1)", "My compound (和苑小区)"]
    await h.press(bob, "My compound (和苑小区)")
    assert "Preview" in h.last_text(bob)
    assert "Proposal #1: A bench by the gate" in h.last_text(bob)  # the number it will get
    assert "Co-signed by 0 of the 1 neighbour needed (the author is not counted)" in h.last_text(
        bob
    )
    await h.press(bob, "✅ Submit")
    await h.press(li, "✍️ 附议（0/1）", group)
    o = await org(h)
    await h.press(o, "✖ 不予采纳", ORGANIZERS)
    await h.send(o, "理" * 501)
    assert h.last_text(o) == "理由太长了（最多 500 个字）。"
    await h.send(o, "物业已计划在春季统一安装座椅。")
    assert "已标记为不予采纳" in h.last_text(o)
    assert "was declined by the organizers" in h.last_text(bob)
    assert "物业已计划在春季统一安装座椅。" in h.last_text(bob)
    assert "组织者未采纳本提案：物业已计划在春季统一安装座椅。" in h.last_text(group)
    assert h.buttons(group) == []


async def test_only_verified_residents_propose(harness: Harness) -> None:
    h = harness
    guest, _ = await neighbour(h, 2001, "访客", verified=False)
    rider, _ = await neighbour(h, 2002, "骑手", building=None)
    await h.send(guest, "/propose")
    assert "只有已认证的住户可以这样做" in h.last_text(guest)
    await h.send(rider, "/propose")
    assert "提案需要由住户提出" in h.last_text(rider)
    wang, _ = await neighbour(h, 2003, "王芳")
    group = await bound_group(h, GROUP, "和苑1号楼", NodeKind.BUILDING, "heyuan/1", [wang])
    await h.send(wang, "/propose", chat=group)
    assert h.last_text(group) == "请在与我的私聊中发送 /propose。"
    assert await h.db.scalar("SELECT COUNT(*) FROM proposals") == 0


async def test_a_ready_proposal_is_announced_by_the_scheduler_if_the_notice_was_lost(
    make_harness: object,
) -> None:
    h: Harness = await make_harness({"polls": {"cosign_threshold": 1}})  # type: ignore[operator]
    _, author = await neighbour(h, 2001, "王芳")
    _, signer = await neighbour(h, 2002, "李强")
    proposal, _ = await proposals_db.create_proposal(
        h.db,
        author,
        Audience(NodeKind.BUILDING, "heyuan/1"),
        "修车棚",
        "漏雨",
        threshold=1,
        key="k",
        now=h.clock(),
    )
    # The co-signature committed, then the bot stopped before telling anyone.
    await proposals_db.cosign(h.db, proposal.id, signer, h.services.community, h.clock())
    await h.restart()
    await h.tick()
    assert "提案 #1 已获 1 人附议" in h.last_text(ORGANIZERS)
    notices = len(h.texts(ORGANIZERS))
    await h.tick()
    assert len(h.texts(ORGANIZERS)) == notices


async def test_an_organizer_who_never_opened_the_private_chat_is_told_and_nothing_starts(
    make_harness: object,
) -> None:
    h: Harness = await make_harness({"polls": {"cosign_threshold": 1}})  # type: ignore[operator]
    wang, _ = await neighbour(h, 2001, "王芳")
    li, _ = await neighbour(h, 2002, "李强")
    group = await bound_group(h, GROUP, "和苑1号楼", NodeKind.BUILDING, "heyuan/1", [wang, li])
    await propose(h, wang)
    await h.press(li, "✍️ 附议（0/1）", group)
    o = h.organizer  # never /started: the bot may not write to them privately
    for button in ("🗳 发起表决", "✖ 不予采纳"):
        await h.press(o, button, ORGANIZERS)
        assert "私聊" in h.alerts(o)[-1].text  # open the private chat first
        assert await drafts_db.get_draft(h.db, o.id) is None  # no flow left waiting
    assert (await proposals_db.get_proposal(h.db, 1)).status is ProposalStatus.READY  # type: ignore[union-attr]
