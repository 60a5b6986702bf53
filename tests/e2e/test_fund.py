"""The community fund end to end, in both languages, with residents who joined through
the real onboarding: an income split by rule, an expense recorded by one organizer and
approved by another, the monthly report across a restart, and a budget round from
submission to funded projects."""

from __future__ import annotations

from datetime import UTC, datetime

from linli.core.community import Binding, NodeKind
from linli.sim.harness import Harness
from linli.storage import fund as fund_db
from linli.storage import groups as groups_db
from linli.storage import members as members_db
from tests.e2e.test_points_journey import join

THURSDAY = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


async def test_the_fund_from_income_to_funded_projects(make_harness) -> None:  # type: ignore[no-untyped-def]
    h: Harness = await make_harness({"community": {"verification": "none"}})
    h.clock.set(THURSDAY)
    org = h.organizer
    await h.start(org)
    organizers = h.organizers_group
    assert organizers is not None
    wang = h.user(3001, "王芳", username="wangfang")
    tom = h.user(3002, "Tom", lang="en", username="tom")
    li = h.user(3003, "李主任", username="li_zhuren")
    await join(h, wang, english=False, building="1", unit="3-201")
    await join(h, tom, english=True, building="1", unit="5-502")
    await h.start(li)
    await h.send(org, "/grant @li_zhuren organizer")
    organizers.members[li.id] = "member"
    group = h.group(-3001, "和平社区群", [wang, tom])
    await h.process()
    org_member = await members_db.get_member_by_telegram(h.db, org.id)
    assert org_member is not None
    await groups_db.bind_group(h.db, -3001, "和平社区群", Binding(-3001, NodeKind.COMMUNITY, ""),
                               org_member.id, h.clock())  # fmt: skip

    # Income, split by rule: 70% provider, 25% hub, 5% (and the fen rounding leaves) to the fund.
    await h.send(org, "/fund income 20000.01 service_outsourcing 物业外包保洁十一月")
    assert "专业服务机构：¥14,000.00" in h.last_text(org) and "社区基金：¥1,000.01" in h.last_text(
        org
    )
    await h.send(org, "/fund income 12.345 donation 捐款")
    assert "两位小数" in h.last_text(org)
    await h.send(tom, "/fund")
    assert "Balance: ¥1,000.01" in h.last_text(tom)
    assert "Service outsourcing · 物业外包保洁十一月" in h.last_text(tom)

    # An expense: recorded with its receipt by one organizer, approved by another.
    await h.photo(org, caption="/fund expense 200.00 购买灭火器")
    await h.press(org, "✅ 批准（第二位组织者）", chat=organizers)
    assert "另一位组织者" in h.alerts(org)[-1].text
    await h.send(wang, "/fund")
    assert "已预留（待批支出、进行中的居民点单）：¥200.00" in h.last_text(wang)
    await h.press(li, "✅ 批准（第二位组织者）", chat=organizers)
    assert await fund_db.balance(h.db) == 80001

    # A budget round: projects from residents, accepted, a ballot per household, closed.
    await h.send(org, "/fund round 800 submit=2026-11-30 vote=2026-12-05 projects=1-2 楼道改造")
    assert "第 1 轮居民点单：楼道改造" in h.last_text(group)
    await h.send(wang, "/fund propose 1 500 楼道灯")
    await h.send(tom, "/fund propose 1 400 Bike shed")
    assert "Project 2 submitted" in h.last_text(tom)
    await h.press(org, "✅ 列入选票", chat=organizers)
    await h.send(org, "/fund accept 1")
    h.clock.set(datetime(2026, 11, 30, 17, 0, tzinfo=UTC))
    await h.tick()
    assert "开始投票" in h.last_text(group)
    await h.send(tom, "/fund")
    await h.press(tom, "🗳 Vote in budget round 1")
    await h.press(tom, "☐ Bike shed · ¥400.00")
    await h.press(tom, "☐ 楼道灯 · ¥500.00")
    assert "Over budget by ¥100.00" in h.last_text(tom)
    await h.press(tom, "☑ Bike shed · ¥400.00")
    await h.press(tom, "📮 Cast my household's ballot")
    assert 'ballot in "楼道改造" is in' in h.last_text(tom)
    await h.send(wang, "/fund vote 1")
    await h.press(wang, "☐ 楼道灯 · ¥500.00")
    await h.press(wang, "📮 提交本户选票")
    h.clock.set(datetime(2026, 12, 6, 0, 0, tzinfo=UTC))
    await h.tick()
    [result] = [t for t in h.texts(group) if "结果" in t]
    assert "✅ 楼道灯 · ¥500.00 · 2 票" in result and "▫️ Bike shed · ¥400.00 · 0 票" in result
    await h.send(li, "/fund approve 2")  # the funded project, a pending expense: paid
    assert await fund_db.balance(h.db) == 30001

    # The monthly report: from 1 January for December, once, across a restart.
    h.clock.set(datetime(2027, 1, 1, 1, 0, tzinfo=UTC))
    await h.tick()
    await h.restart()
    await h.tick()
    monthly = [t for t in h.texts(group) if "2026-12 月报" in t]
    assert len(monthly) == 1  # (November's went out on 1 December, when voting opened)
    assert "¥500.00 · 楼道灯" in monthly[0] and "月末基金余额：¥300.01" in monthly[0]

    # Done: the groups see their vote at work.
    await h.photo(org, caption="/fund done 1")
    done = h.last(group)
    assert done is not None and done.photo and "您的一票在这里" in done.content
