"""Groups: the bot joining and leaving, /bind and /unbind, /start and /help in a group."""

from __future__ import annotations

from linli.core.community import NodeKind
from linli.sim.harness import Harness
from linli.storage import groups as groups_db


async def test_bot_added_says_hello_and_is_remembered(harness: Harness) -> None:
    h = harness
    group = h.group(-2001, "和苑1号楼邻里群")
    await h.process()
    assert "/bind" in h.last_text(group)
    stored = await groups_db.get_group(h.db, -2001)
    assert stored is not None and stored.active and stored.binding is None
    h.sim.remove_bot_from_group(group, h.organizer)
    await h.process()
    gone = await groups_db.get_group(h.db, -2001)
    assert gone is not None and not gone.active


async def test_organizer_binds_with_buttons_and_checks_happen_at_each_press(
    harness: Harness,
) -> None:
    h = harness
    resident = h.user(2101, "居民")
    group = h.group(-2002, "1号楼群", [resident])
    await h.process()
    await h.send(h.organizer, "/bind", chat=group)
    assert h.last_text(group) == "本群对应什么范围？"
    assert h.buttons(group) == ["整个社区", "某个小区", "某栋楼", "某个角色团队"]
    await h.press(resident, "某栋楼", chat=group)  # a resident presses the organizer's keyboard
    assert "只有组织者" in h.alerts(resident)[-1].text
    await h.press(h.organizer, "某栋楼", chat=group)
    assert "和苑小区 2号楼" in h.buttons(group)
    await h.press(h.organizer, "和苑小区 1号楼", chat=group)
    assert "本群已绑定到和苑小区 1号楼" in h.last_text(group)
    stored = await groups_db.get_group(h.db, -2002)
    assert stored is not None and stored.binding is not None
    assert (stored.binding.kind, stored.binding.target) == (NodeKind.BUILDING, "heyuan/1")
    await h.send(resident, "/start", chat=group)
    assert "本群对应：和苑小区 1号楼。" in h.last_text(group)
    assert "私聊我" in h.last_text(group) and "t.me/" in h.last_text(group)


async def test_bind_by_typing_and_bad_targets(harness: Harness) -> None:
    h = harness
    group = h.group(-2003, "志愿者群")
    await h.process()
    await h.send(h.organizer, "/bind role volunteer", chat=group)
    assert h.last_text(group).startswith("✅ 本群已绑定到志愿者团队。")
    stored = await groups_db.get_group(h.db, -2003)
    assert stored is not None and stored.binding is not None
    assert stored.binding.target == "volunteer"
    await h.send(h.organizer, "/bind building heyuan/99", chat=group)
    assert "配置中没有楼栋“heyuan/99”" in h.last_text(group)
    await h.send(h.organizer, "/bind galaxy", chat=group)
    assert "用法" in h.last_text(group)
    unchanged = await groups_db.get_group(h.db, -2003)
    assert unchanged == stored
    await h.send(h.organizer, "/unbind", chat=group)
    assert "已解除绑定" in h.last_text(group)


async def test_non_organizer_cannot_bind(harness: Harness) -> None:
    h = harness
    resident = h.user(2102, "Resident", lang="en")
    group = h.group(-2004, "Compound group", [resident])
    await h.process()
    await h.send(resident, "/bind community", chat=group)
    assert h.last_text(group) == "Only organizers can bind groups."
    await h.callback(resident, "g:b:compound:0:0", chat=group)  # a forged button
    assert "Only organizers" in h.alerts(resident)[-1].text
    stored = await groups_db.get_group(h.db, -2004)
    assert stored is not None and stored.binding is None


async def test_forged_bind_button_with_bad_index(harness: Harness) -> None:
    h = harness
    group = h.group(-2005, "群")
    await h.process()
    await h.callback(h.organizer, "g:b:building:0:99", chat=group)
    assert h.alerts(h.organizer)[-1].text.startswith("这个按钮已失效")
    stored = await groups_db.get_group(h.db, -2005)
    assert stored is not None and stored.binding is None
