"""/export: an organizer gets the file in private chat; nobody else gets anything."""

from __future__ import annotations

import csv
import io
import json

from linli.sim.harness import Harness
from linli.storage import members as members_db
from tests.conftest import MakeHarness
from tests.support.broadcasts import sim_bound_group, sim_organizer, sim_resident


def _document_rows(h: Harness, chat: int) -> list[dict[str, str]]:
    message = h.last(chat)
    assert message is not None and message.has_document and message.document is not None
    data = message.document.data
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


async def test_organizer_exports_members_with_personal_data(harness: Harness) -> None:
    h = harness
    org = sim_organizer(h)
    await sim_resident(h, 2001, "heyuan/1", name="王芳")
    await h.send(org, "/export")
    assert "居民名单" in h.buttons(org) and "积分流水" in h.buttons(org)
    await h.press(org, "居民名单")
    await h.press(org, "CSV（含个人信息）")
    rows = _document_rows(h, org.id)
    assert [(r["name"], r["compound"], r["building"]) for r in rows if r["name"] == "王芳"] == [
        ("王芳", "heyuan", "1")
    ]
    assert "含个人信息，请勿转发" in h.last_text(org)
    await h.send(org, "/export members 2099-01-01")
    await h.press(org, "CSV")
    assert _document_rows(h, org.id) == []
    await h.send(org, "/export members someday")
    await h.press(org, "CSV")
    assert "不是日期" in h.alerts(org)[-1].text


async def test_non_organizers_and_groups_get_nothing(harness: Harness) -> None:
    h = harness
    resident = await sim_resident(h, 2001, "heyuan/1")
    await h.send(resident, "/export")
    assert h.last_text(resident) == "只有组织者可以导出数据。"
    await h.callback(resident, "ex:f:members:csv:1")
    assert h.alerts(resident)[-1].text == "只有组织者可以导出数据。"
    assert not any(m.has_document for m in h.messages(resident))
    group = sim_bound_group(h, -600, "和苑群")
    await h.send(sim_organizer(h), "/export", chat=group)
    assert "请在和我的私聊里使用 /export" in h.last_text(group)
    assert not any(m.has_document for m in h.messages(group))


async def test_open311_names_the_category_and_the_building_in_the_organizers_language(
    make_harness: MakeHarness,
) -> None:
    compounds = [
        {"id": "heyuan", "name": "和苑小区", "name_en": "Heyuan", "buildings": ["1", "2", "3"]}
    ]
    h = await make_harness({"community": {"compounds": compounds}})
    wang = await sim_resident(h, 2001, "heyuan/3", name="王芳")
    await h.send(wang, "/report")
    await h.press(wang, "消防通道/楼道堵塞")
    await h.send(wang, "楼道里堆满纸箱")
    await h.press(wang, "跳过")
    await h.press(wang, "🏠 我的楼栋：和苑小区 3号楼")
    await h.press(wang, "👤 实名提交（可得积分）")
    await h.press(wang, "✅ 提交")
    org = sim_organizer(h)
    await h.send(org, "/export reports")
    await h.press(org, "Open311 JSON")
    message = h.last(org)
    assert message is not None and message.document is not None
    [request] = json.loads(message.document.data)
    assert request["service_code"] == "exit"
    assert request["service_name"] == "消防通道/楼道堵塞"
    assert request["address"] == "和苑小区 3号楼"
    assert request["address_id"] == "heyuan/3"
    organizer = await members_db.get_member_by_telegram(h.db, org.id)
    assert organizer is not None
    await members_db.set_locale(h.db, organizer.id, "en")
    await h.send(org, "/export reports")
    await h.press(org, "Open311 JSON")
    message = h.last(org)
    assert message is not None and message.document is not None
    [request] = json.loads(message.document.data)
    assert request["service_name"] == "Blocked fire exit or corridor"
    assert request["address"] == "Heyuan, building 3"
