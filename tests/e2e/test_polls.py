"""Deliberation end to end: residents join through /start, propose, co-sign, vote, hear the result.

Everything goes through the bot as people would use it (onboarding, /verify, /bind,
/propose, buttons, the scheduler, a restart).
"""

from __future__ import annotations

from linli.sim.core import SimUser
from linli.sim.harness import Harness
from tests.conftest import MakeHarness

GROUP = -100901
ORGANIZERS = -1001000


async def join(h: Harness, user: SimUser, unit: str, *, english: bool = False) -> None:
    await h.start(user)
    await h.press(user, "English" if english else "中文")
    await h.press(user, "和苑小区")
    await h.press(user, "Building 1" if english else "1号楼")
    await h.send(user, unit)
    await h.press(user, "✅ I agree" if english else "✅ 同意")


async def test_a_proposal_becomes_a_secret_vote_and_its_result_is_posted(
    make_harness: MakeHarness,
) -> None:
    h = await make_harness({"polls": {"cosign_threshold": 2}})
    org = h.organizer
    await h.start(org)
    wang, li, zhao = h.user(2001, "王芳"), h.user(2002, "李强"), h.user(2003, "赵敏")
    bob, guest = h.user(2004, "Bob", lang="en"), h.user(2005, "新住户")
    for user, unit in ((wang, "3-201"), (li, "3-202"), (zhao, "3-203"), (guest, "3-205")):
        await join(h, user, unit)
    await join(h, bob, "3-204", english=True)
    for user in (wang, li, zhao, bob):
        await h.send(org, f"/verify {user.id}")
    group = h.group(GROUP, "和苑1号楼", [wang, li, zhao, bob, guest])
    await h.send(org, "/bind building heyuan/1", chat=group)

    # A proposal, co-signed to the threshold.
    await h.send(wang, "/propose")
    await h.send(wang, "楼道加装感应灯")
    await h.send(wang, "晚上楼道太黑，老人上下楼不安全。")
    await h.press(wang, "本楼（和苑小区1号楼）")
    await h.press(wang, "✅ 提交")
    await h.press(guest, "✍️ 附议（0/2）", group)
    assert "只有已认证的住户可以这样做" in (h.alerts(guest)[-1].text or "")
    await h.press(li, "✍️ 附议（0/2）", group)
    await h.press(zhao, "✍️ 附议（1/2）", group)
    assert "已获 2 人附议" in h.last_text(ORGANIZERS)

    # The organizer opens a secret vote with a quorum.
    await h.press(org, "🗳 发起表决", ORGANIZERS)
    await h.press(org, "3 天后")
    await h.press(org, "▫️ 无记名")
    for _ in range(5):  # 0 → 10 → 20 → 25 → 30 → 40
        await h.press(org, h.buttons(org)[4])
    assert "最低参与率 40%" in h.buttons(org)
    await h.press(org, "👀 预览")
    assert "目前有 4 位（户）可以投票" in h.last_text(org)
    await h.press(org, "✅ 发布")
    assert "感应灯" in h.last_text(group) and "无记名投票" in h.last_text(group)

    await h.press(wang, "👍 赞成", group)
    await h.press(li, "👎 反对", group)
    await h.press(guest, "👍 赞成", group)
    assert "只有已认证的住户可以投票" in (h.alerts(guest)[-1].text or "")
    await h.press(li, "👍 赞成", group)
    assert "不能修改" in (h.alerts(li)[-1].text or "")

    # 23 hours before closing, Bob and Zhao (not voted) are reminded; Bob votes from it.
    h.clock.advance(hours=2 * 24 + 1)
    await h.tick()
    assert "closes" in h.last_text(bob) and "you have not voted yet" in h.last_text(bob)
    assert "您还没有投票" in h.last_text(zhao)
    assert "您还没有投票" not in h.last_text(wang)
    await h.press(bob, "🗳 Vote now")
    await h.press(bob, "👍 Agree")
    assert "Your vote is recorded" in h.last_text(
        bob
    ) and "nobody can see what you chose" in h.last_text(bob)

    h.clock.advance(days=1)
    await h.restart()
    await h.tick()
    result = h.last_text(group)
    assert "1. 👍 赞成 — 2 票" in result and "2. 👎 反对 — 1 票" in result
    assert "参与：3 / 4 人（75%）" in result and "已达到 ✅" in result and "提案通过" in result
    await h.tick()
    assert sum("结果：楼道加装感应灯" in t for t in h.texts(group)) == 1
    await h.send(org, "/outcome 1 物业将于下周安装感应灯。")
    assert "物业将于下周安装感应灯。" in h.last_text(group)
    # Who voted is known; what each voted is only counted, in one box for the poll.
    voters = await h.db.fetchall("SELECT * FROM poll_voters")
    boxes = await h.db.fetchall("SELECT * FROM poll_ballot_boxes")
    assert len(voters) == 3 and [b["ballots"] for b in boxes] == ['{"0":2,"1":1}']
    assert set(voters[0].keys()) & set(boxes[0].keys()) == {"poll_id"}
