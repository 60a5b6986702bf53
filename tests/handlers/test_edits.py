"""An edited message never answers a question the bot is asking; only new messages do."""

from __future__ import annotations

from linli.sim.core import SimUser
from linli.sim.harness import Harness
from linli.storage import drafts as drafts_db
from linli.storage import points as points_db
from tests.handlers.test_events import neighbour
from tests.handlers.test_hazards import resident as hazard_resident
from tests.support.points import organizer
from tests.support.points import resident as points_resident


async def said(h: Harness, user: SimUser, text: str) -> int:
    """`user` sends `text` in their private chat; returns the message's id (to edit it)."""
    message_id = h.sim.send_text(user, user.id, text)
    await h.process()
    return message_id


async def test_editing_the_description_at_the_location_step_is_not_taken_as_the_location(
    harness: Harness,
) -> None:
    h = harness
    wang = h.user(2001, "王芳")
    await hazard_resident(h, wang)
    await h.send(wang, "/report")
    await h.press(wang, "🚨 火灾隐患")
    description = await said(h, wang, "楼道里堆满纸箱")
    await h.press(wang, "跳过")
    before = await drafts_db.get_draft(h.db, wang.id)
    assert before is not None and before.step == "location"
    replies = await h.edit(wang, description, "楼道里堆满纸箱和旧家具")
    assert [m.content for m in replies] == [
        "✏️ 编辑过的消息不会被采用，什么也没有改变。「隐患上报」仍在等你回答上一个问题，请发一条新消息。"
    ]
    assert await drafts_db.get_draft(h.db, wang.id) == before
    await h.send(wang, "和苑小区1号楼")
    await h.press(wang, "👤 实名提交（可得积分）")
    await h.press(wang, "✅ 提交")
    row = await h.db.fetchone("SELECT description, address FROM hazards")
    assert row is not None
    assert (row["description"], row["address"]) == ("楼道里堆满纸箱", "和苑小区1号楼")


async def test_editing_the_title_during_newevent_is_not_taken_as_the_description(
    harness: Harness,
) -> None:
    h = harness
    await neighbour(h, 1000, "组织者", lang="en")
    org = h.organizer
    await h.send(org, "/newevent")
    await h.press(org, "Lecture")
    title = await said(h, org, "Fire safety talk")
    before = await drafts_db.get_draft(h.db, org.id)
    assert before is not None
    replies = await h.edit(org, title, "Fire-safety talk")
    assert [m.content for m in replies] == [
        "✏️ Edits are not taken: nothing changed. Your new event still waits for your answer"
        " to the last question — send it as a new message."
    ]
    after = await drafts_db.get_draft(h.db, org.id)
    assert after == before and after.data.get("title") == "Fire safety talk"


async def test_an_edited_command_does_not_run_again(harness: Harness) -> None:
    h = harness
    org, _ = await organizer(h)
    _, wang_id = await points_resident(h, 2001, "王芳", username="wangfang")
    award = await said(h, org, "/award @wangfang 30 helped")
    assert await points_db.balance(h.db, wang_id) == 30
    replies = await h.edit(org, award, "/award @wangfang 30 helped clean the stairs")
    assert [m.content for m in replies] == [
        "✏️ 编辑过的消息不会被采用，什么也没有改变。如要执行这条命令，请重新发送一条新消息。"
    ]
    assert await points_db.balance(h.db, wang_id) == 30


async def test_edits_in_a_group_and_live_locations_say_nothing(harness: Harness) -> None:
    h = harness
    wang = h.user(2001, "王芳")
    await hazard_resident(h, wang)
    group = h.group(-2001, "群", [wang], admin=True)
    await h.process()
    chat_said = h.sim.send_text(wang, group.id, "大家好")
    await h.process()
    assert await h.edit(wang, chat_said, "大家好！", chat=group) == []
    await h.send(wang, "/report")
    located = h.sim.send_location(wang, wang.id, 39.1, 117.2)
    await h.process()
    sent = len(h.sim.sent_log)
    h.sim.move_location(wang, wang.id, located, 39.2, 117.3)
    assert await h.process() == [] and len(h.sim.sent_log) == sent
