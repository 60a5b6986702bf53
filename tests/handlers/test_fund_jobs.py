"""The fund's scheduled work: the monthly report exactly once across a restart, and a
budget round closed once, its vote and result posted once, funded projects done."""

from __future__ import annotations

from datetime import UTC, datetime

from linli.bot.jobs import fund as fund_jobs
from linli.core.community import Binding, NodeKind
from linli.core.fund import MonthReport
from linli.sim.core import SimGroup
from linli.sim.harness import Harness
from linli.storage import fund as fund_db
from linli.storage import groups as groups_db
from tests.handlers.test_fund import second_organizer
from tests.support.points import organizer, resident


async def bound_group(h: Harness, chat_id: int = -3001) -> SimGroup:
    _, org_id = await organizer(h)
    group = h.group(chat_id, "和平社区群")
    await h.process()
    await groups_db.bind_group(h.db, chat_id, "和平社区群", Binding(chat_id, NodeKind.COMMUNITY, ""),
                               org_id, h.clock())  # fmt: skip
    return group


def reports(h: Harness, group: SimGroup) -> list[str]:
    return [t for t in h.texts(group) if "月报" in t or "Community fund ·" in t]


async def test_the_monthly_report_is_posted_once_across_a_restart(harness: Harness) -> None:
    h = harness
    group = await bound_group(h)
    await h.send(h.organizer, "/fund income 1200.00 service_outsourcing 物业外包保洁十一月")
    await h.photo(h.organizer, caption="/fund expense 10.00 购买灯泡")
    li = await second_organizer(h)
    await h.send(li, "/fund approve 1")
    await h.tick()
    assert reports(h, group) == []  # November is not over
    h.clock.set(datetime(2026, 12, 1, 1, 0, tzinfo=UTC))  # 09:00 on 1 December, Shanghai
    await h.tick()
    [report] = reports(h, group)
    assert "2026-11 月报" in report and "服务外包：¥1,200.00" in report
    assert "专业服务机构：¥840.00" in report and "社区基金：¥60.00" in report
    assert "¥10.00 · 购买灯泡" in report and "月末基金余额：¥50.00" in report
    chart = h.last(group)
    assert chart is not None and chart.photo and "社区基金 · 2026-11" in chart.content
    await h.restart()
    await h.tick()
    h.clock.advance(days=3)
    await h.tick()
    assert len(reports(h, group)) == 1


async def test_an_empty_fund_posts_no_report(harness: Harness) -> None:
    h = harness
    group = await bound_group(h)
    h.clock.set(datetime(2026, 12, 1, 2, 0, tzinfo=UTC))
    await h.tick()
    assert reports(h, group) == []


def test_the_chart_is_a_png() -> None:
    report = MonthReport("2026-11", (), (), 0, 0, (("2026-11", 0, 0, 0),))
    png = fund_jobs.render_chart(report, lambda key, **v: key, {}, None)
    assert png.startswith(b"\x89PNG")


async def test_a_budget_round_closes_once_and_funds_in_order_of_votes(harness: Harness) -> None:
    h = harness
    group = await bound_group(h)
    await h.send(h.organizer, "/fund income 3000 donation 捐款")
    await h.send(h.organizer, "/fund round 1000 submit=2026-11-30 vote=2026-12-05 楼道改造")
    assert "第 1 轮居民点单：楼道改造" in h.last_text(group)
    people = [(await resident(h, 2001 + i, f"居民{i}", unit=str(101 + i)))[0] for i in range(3)]
    for i, (cost, title) in enumerate([(600, "楼道灯"), (500, "车棚"), (300, "花坛")]):
        await h.send(people[i], f"/fund propose 1 {cost} {title}")
        await h.send(h.organizer, f"/fund accept {i + 1}")
    h.clock.set(datetime(2026, 11, 30, 17, 0, tzinfo=UTC))  # 1 December 01:00: voting
    await h.tick()
    assert "开始投票" in h.last_text(group) and "车棚 · ¥500.00" in h.last_text(group)
    for person, picks in zip(people, [["楼道灯"], ["楼道灯", "花坛"], ["车棚"]], strict=True):
        await h.send(person, "/fund vote 1")
        for title in picks:
            await h.press(person, next(b for b in h.buttons(person) if title in b))
        await h.press(person, "📮 提交本户选票")
    h.clock.set(datetime(2026, 12, 6, 0, 0, tzinfo=UTC))
    await h.tick()
    await h.restart()
    await h.tick()
    results = [t for t in h.texts(group) if "结果" in t]
    assert len(results) == 1
    assert "✅ 楼道灯 · ¥600.00 · 2 票" in results[0] and "▫️ 车棚 · ¥500.00 · 1 票" in results[0]
    assert "✅ 花坛 · ¥300.00" in results[0] and "留在基金中：¥100.00" in results[0]
    books = await fund_db.books(h.db)
    assert [e.purpose for e in books.pending] == ["楼道灯", "花坛"] and books.reserved == 90000
    await h.photo(h.organizer, caption="/fund done 1")
    done = h.last(group)
    assert done is not None and done.photo and "您的一票在这里" in done.content
