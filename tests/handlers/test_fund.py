"""/fund in the chat: open books, income split, two-organizer expenses with receipts,
corrections, bad input that changes nothing, and ballots with ☑/☐ toggles."""

from __future__ import annotations

from linli.core.community import Role
from linli.sim.core import SimUser
from linli.sim.harness import Harness
from linli.storage import fund as fund_db
from linli.storage import members as members_db
from tests.support.points import organizer, resident


async def second_organizer(h: Harness, tid: int = 3001, name: str = "李主任") -> SimUser:
    user, member_id = await resident(h, tid, name, building=None)
    await members_db.grant_role(h.db, member_id, Role.ORGANIZER, member_id, h.clock())
    return user


async def funded(h: Harness, amount: str = "1000.00") -> None:
    await organizer(h)
    await h.send(h.organizer, f"/fund income {amount} donation 街坊捐款")


async def test_income_is_split_by_rule_and_shown_to_residents(harness: Harness) -> None:
    h = harness
    await organizer(h)
    await h.send(h.organizer, "/fund income 1200.01 service_outsourcing 物业外包保洁十一月")
    said = h.last_text(h.organizer)
    assert "¥1,200.01" in said and "专业服务机构：¥840.00" in said and "社区基金：¥60.01" in said
    assert await fund_db.balance(h.db) == 6001 and await fund_db.balance(h.db, "hub") == 30000
    wang, _ = await resident(h, 2001, "王芳")
    await h.send(wang, "/fund")
    books = h.last_text(wang)
    assert "余额：¥60.01" in books and "物业外包保洁十一月" in books and "服务外包" in books
    bob, _ = await resident(h, 2002, "Bob", lang="en")
    await h.send(bob, "/fund")
    assert "Balance: ¥60.01" in h.last_text(bob) and "Service outsourcing" in h.last_text(bob)


async def test_unverified_members_do_not_see_the_books(harness: Harness) -> None:
    h = harness
    newcomer, _ = await resident(h, 2009, "新人", building=None)
    await h.send(newcomer, "/fund")
    assert "已认证的居民" in h.last_text(newcomer)


async def test_bad_income_is_refused_and_books_nothing(harness: Harness) -> None:
    h = harness
    await organizer(h)
    cases = {
        "/fund income 12.345 donation x": "两位小数",
        "/fund income -5 donation x": "正数",
        "/fund income 99999999999 donation x": "太大",
        "/fund income 100 lottery x": "没有“lottery”",
        "/fund income 100 donation": "用法",
    }
    for command, expected in cases.items():
        await h.send(h.organizer, command)
        assert expected in h.last_text(h.organizer), command
    wang, _ = await resident(h, 2001, "王芳")
    await h.send(wang, "/fund income 100 donation x")
    assert "只有组织者" in h.last_text(wang)
    assert await h.db.scalar("SELECT COUNT(*) FROM fund_txns") == 0


async def test_an_expense_needs_a_receipt_and_a_second_organizer(harness: Harness) -> None:
    h = harness
    await funded(h)
    await h.send(h.organizer, "/fund expense 300 灭火器")
    assert "票据照片" in h.last_text(h.organizer)
    await h.photo(h.organizer, caption="/fund expense 1000.01 太贵了")
    assert "可用 ¥1,000.00" in h.last_text(h.organizer)
    await h.photo(h.organizer, caption="/fund expense 300.00 购买灭火器")
    assert "支出 #1 已登记" in h.last_text(h.organizer)
    group = h.organizers_group
    assert group is not None
    card = h.last(group)
    assert card is not None and "购买灭火器" in card.content and card.photo
    assert (await fund_db.books(h.db)).available == 70000
    await h.press(h.organizer, "✅ 批准（第二位组织者）", chat=group)  # the recorder: refused
    assert "另一位组织者" in h.alerts(h.organizer)[-1].text
    assert await fund_db.balance(h.db) == 100000
    li = await second_organizer(h)
    group.members[li.id] = "member"
    await h.press(li, "✅ 批准（第二位组织者）", chat=group)
    assert "已由 李主任 批准" in h.last_text(group)
    assert await fund_db.balance(h.db) == 70000 and await fund_db.reserved(h.db) == 0
    assert "已由 李主任 批准" in h.last_text(h.organizer)  # the recorder is told
    await h.send(li, "/fund approve 1")
    assert "已经处理" in h.last_text(li)
    wang, _ = await resident(h, 2001, "王芳")
    await h.send(wang, "/fund")
    assert "购买灭火器 🧾" in h.last_text(wang)
    await h.press(wang, "🧾 #2 的票据")
    receipt = h.last(wang)
    assert receipt is not None and receipt.photo and "购买灭火器" in receipt.content


async def test_a_correction_reverses_a_booking_with_its_reason(harness: Harness) -> None:
    h = harness
    await funded(h, "100")
    await h.send(h.organizer, "/fund correct 1 金额录错")
    assert "冲正" in h.last_text(h.organizer) and "社区基金：¥-100.00" in h.last_text(h.organizer)
    assert await fund_db.balance(h.db) == 0
    await h.send(h.organizer, "/fund correct 1 again")
    assert "已由 #2 冲正" in h.last_text(h.organizer)
    actions = await h.db.fetchall(
        "SELECT action FROM audit_log WHERE action LIKE 'fund%' ORDER BY id"
    )
    assert [r["action"] for r in actions] == ["fund_income", "fund_correct"]


async def test_forged_fund_buttons_change_nothing(harness: Harness) -> None:
    h = harness
    await funded(h)
    wang, _ = await resident(h, 2001, "王芳")
    await h.send(wang, "/fund")
    for data in ("fd:ap:1", "fd:ap:x", "fd:bt:1:999:0", "fd:bs:9:1", "fd:zz"):
        await h.callback(wang, data)
    assert await fund_db.balance(h.db) == 100000
    assert await h.db.scalar("SELECT COUNT(*) FROM fund_round_voters") == 0


async def test_a_ballot_toggles_shows_the_running_total_and_refuses_over_budget(
    harness: Harness,
) -> None:
    h = harness
    await funded(h, "5000")
    await h.send(h.organizer, "/fund round 1000 submit=2026-11-30 vote=2026-12-05 楼道改造")
    assert "已从基金预留 ¥1,000.00" in h.last_text(h.organizer)
    wang, _ = await resident(h, 2001, "王芳")
    bob, _ = await resident(h, 2002, "Bob", lang="en", unit="102")
    await h.send(wang, "/fund propose 1 600 楼道灯")
    await h.send(bob, "/fund propose 1 500.5 Bike shed")
    await h.send(h.organizer, "/fund accept 1")
    await h.send(h.organizer, "/fund accept 2")
    assert "is on the ballot" in h.last_text(bob)
    await h.send(wang, "/fund vote 1")
    assert "不在投票期" in h.last_text(wang)
    h.clock.advance(days=5)
    await h.send(wang, "/fund vote 1")
    assert "合计 ¥0.00 / ¥1,000.00" in h.last_text(wang)
    await h.press(wang, "☐ 楼道灯 · ¥600.00")
    assert "合计 ¥600.00" in h.last_text(wang) and "剩余：¥400.00" in h.last_text(wang)
    await h.press(wang, "☐ Bike shed · ¥500.50")
    assert "超出预算 ¥100.50" in h.last_text(wang)
    await h.press(wang, "📮 提交本户选票")
    assert "超过预算" in h.alerts(wang)[-1].text
    assert await h.db.scalar("SELECT COUNT(*) FROM fund_round_voters") == 0
    await h.press(wang, "☑ 楼道灯 · ¥600.00")
    await h.press(wang, "📮 提交本户选票")
    assert "选票已提交" in h.last_text(wang)
    assert await fund_db.counts(h.db, 1) == {2: 1}
