"""The weekly digest job through the harness: posted to the organizers' group at the due
time, text and chart, exactly once across ticks and restarts; late after downtime, but not
days late."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import Image

from linli.bot.config import HazardsSection
from linli.bot.jobs.digest import _charset, _drawable, digest_text, find_cjk_font, render_chart
from linli.bot.render import Renderer
from linli.core.digest import Digest, EventLine, HazardLine, PollLine, week_before
from linli.core.spaces import Slot
from linli.sim.core import SentMessage
from linli.sim.harness import Harness
from linli.storage import members as members_db
from linli.storage import spaces as spaces_db
from tests.conftest import MakeHarness
from tests.support.digest_week import DUE, seed_week

GROUP = -1001000


def digests(h: Harness) -> list[SentMessage]:
    """The digest's messages in the organizers' group: its text and its chart."""
    return [
        m
        for m in h.messages(GROUP)
        if m.photo is not None or "社区周报" in m.content or "Weekly digest" in m.content
    ]


async def test_posted_once_at_the_due_time_with_text_and_chart(harness: Harness) -> None:
    h = harness
    await seed_week(h.db)
    h.clock.set(DUE - timedelta(minutes=1))  # Monday 08:59 in Shanghai
    await h.tick()
    assert digests(h) == []

    h.clock.set(DUE)
    await h.tick()
    text, chart = digests(h)
    assert "社区周报 · 2026年第48周" in text.content
    assert "2026年11月23日（周一） 至 2026年11月29日（周日）" in text.content
    assert "本周新增 3 件 · 解决 1 件 · 驳回 1 件 · 仍待处理 3 件" in text.content
    # Numbers first, padded to one width, names last: the columns line up on a phone.
    assert "1 0 0 2  火灾隐患\n1 1 1 0  漏水\n1 0 0 1  电梯故障" in text.content
    assert "举办 1 场 · 报名 3 人 · 签到 2 人（到场率 67%）" in text.content
    assert "3 2  11/25 防诈骗讲座" in text.content
    assert "发放 20 分 · 兑换 5 分" in text.content
    assert "新加入 2 人 · 新认证 2 人 · 累计 4 人" in text.content
    assert "结束 2 项：通过 1 项 · 未通过 1 项" in text.content
    assert "✅ 加装电梯（参与 2/3）" in text.content and "❌ 停车位怎么分？" in text.content
    assert len(text.content) <= 4096

    assert chart.photo is not None and chart.reply_to == text.message_id
    assert "2026年第48周一览图" in chart.content
    image = Image.open(io.BytesIO(chart.photo.data))
    assert image.format == "PNG" and image.size == (1080, 1350)
    status = await h.db.fetchone("SELECT status, message_id FROM digests WHERE week = '2026-W48'")
    assert status is not None and tuple(status) == ("sent", text.message_id)

    # Later ticks, a restart, another tick: nothing more.
    h.clock.advance(minutes=30)
    await h.tick()
    await h.restart()
    await h.tick()
    h.clock.advance(hours=30)
    await h.tick()
    assert len(digests(h)) == 2


async def test_a_bot_down_at_the_time_posts_late_but_not_days_late(
    make_harness: MakeHarness,
) -> None:
    h = await make_harness({"community": {"default_locale": "en"}})
    await seed_week(h.db)
    h.clock.set(DUE + timedelta(hours=30))  # came back on Tuesday afternoon
    await h.tick()
    text, chart = digests(h)
    assert "Weekly digest · week 48, 2026" in text.content
    assert "Mon 23 Nov 2026 to Sun 29 Nov 2026" in text.content
    assert "3 new · 1 resolved · 1 rejected · 3 still open" in text.content
    assert "1 0 0 2  Fire risk" in text.content
    assert "20 issued · 5 redeemed" in text.content
    assert "Week 48, 2026 at a glance" in chart.content

    # Down for the whole of the next catch-up window (48 h): week 49 is skipped, not posted
    # on Wednesday; week 50 comes on time.
    h.clock.set(DUE + timedelta(days=7, hours=49))
    await h.tick()
    assert len(digests(h)) == 2
    assert await h.db.scalar("SELECT count(*) FROM digests WHERE week = '2026-W49'") == 0
    h.clock.set(DUE + timedelta(days=14))
    await h.tick()
    assert len(digests(h)) == 4
    assert "week 50, 2026" in digests(h)[2].content
    # The poll still open in the seed was closed by the polls job's tick on 9 Dec: week 50's.
    assert "1 closed: 0 passed · 1 did not pass" in digests(h)[2].content


async def test_a_quiet_week_still_gets_a_digest(harness: Harness) -> None:
    harness.clock.set(DUE)
    await harness.tick()
    text, chart = digests(harness)
    assert "本周很平静" in text.content and "本周没有举办活动。" in text.content
    assert chart.photo is not None


async def test_turned_off_or_no_group_means_no_digest(make_harness: MakeHarness) -> None:
    off = await make_harness({"broadcasts": {"digest_enabled": False}})
    off.clock.set(DUE)
    await off.tick()
    assert digests(off) == []
    assert await off.db.scalar("SELECT count(*) FROM digests") == 0


async def test_a_group_that_refuses_is_not_retried_every_tick(make_harness: MakeHarness) -> None:
    # The bot is not in the organizers' group: Telegram refuses, and the week is marked
    # failed instead of being tried again every tick all week.
    h = await make_harness(with_organizers_group=False)
    h.clock.set(DUE)
    await h.tick()
    await h.tick()
    assert await h.db.scalar("SELECT status FROM digests WHERE week = '2026-W48'") == "failed"
    assert [m for m in h.sim.sent_log if m.chat_id == GROUP] == []


async def test_a_busy_week_fits_one_message_and_escapes_user_text(
    make_harness: MakeHarness,
) -> None:
    categories = [
        {"key": f"c{i}", "zh": f"很长的隐患类别名称第{i}号", "en": f"A rather long category {i}"}
        for i in range(30)
    ]
    h = await make_harness({"hazards": {"categories": categories}})
    week = week_before(date(2026, 11, 30), h.config.tz)
    when = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    title = "<b>讲座</b>" + "很长的标题" * 40
    digest = Digest(
        week,
        hazards=tuple(HazardLine(f"c{i}", 1000 + i, 3, 0, 12) for i in range(30)),
        events=tuple(EventLine(i, title, "lecture", when, 120, 9) for i in range(60)),
        polls=tuple(PollLine(i, title, i % 2 == 0, 3, 400) for i in range(40)),
    )
    for locale in ("zh-CN", "en"):
        text = digest_text(h.services, locale, digest)
        assert len(text) <= 4096
        assert "<b>讲座</b>" not in text and "&lt;b&gt;讲座&lt;/b&gt;" in text
        # Every number padded to the widest one: "1000" and "   3" line up.
        assert "1000    3    0   12  " in text
        assert "120   9  " in text
    assert "……另有 50 场活动" in digest_text(h.services, "zh-CN", digest)
    assert "…and 30 more" in digest_text(h.services, "en", digest)


def test_the_chart_is_a_phone_sized_png_with_or_without_a_chinese_font() -> None:
    tz = ZoneInfo("Asia/Shanghai")
    renderer = Renderer(tz)
    names = {c.key: c.en for c in HazardsSection().categories}
    busy = Digest(
        week_before(date(2026, 11, 30), tz),
        hazards=(HazardLine("fire", 3, 1, 0, 4), HazardLine("exit", 5, 2, 1, 6)),
        events=tuple(
            EventLine(i, "防诈骗讲座", "lecture", datetime(2026, 11, 25, 2, tzinfo=UTC), 30, 24)
            for i in range(8)
        ),
        points_issued=320,
        points_redeemed=150,
        polls=(PollLine(1, "加装电梯", True, 40, 60),),
    )
    quiet = Digest(week_before(date(2026, 11, 30), tz))
    fonts = [None, find_cjk_font("")]  # the second is None too where no Chinese font is installed
    for font, digest in zip(fonts, (busy, quiet), strict=True):
        locale = "zh-CN" if font else "en"
        png = render_chart(digest, partial(chart_label, renderer, locale), names, font, tz)
        image = Image.open(io.BytesIO(png))
        image.verify()
        assert image.format == "PNG" and image.size == (1080, 1350)


def chart_label(renderer: Renderer, locale: str, key: str, **values: object) -> str:
    return renderer.label(locale, f"digest.{key}", **values)


def test_titles_the_fonts_cannot_draw_are_named_by_number() -> None:
    from matplotlib import font_manager

    latin = _charset((str(font_manager.findfont("DejaVu Sans")),))
    assert _drawable("Fire drill", latin)
    assert not _drawable("防诈骗讲座", latin)
    font = find_cjk_font("")
    if font is not None:  # with a Chinese font installed, Chinese titles are drawn as they are
        assert _drawable("防诈骗讲座", _charset((font,)))


def test_a_configured_font_that_is_missing_falls_back(tmp_path: Path) -> None:
    assert find_cjk_font(str(tmp_path / "nowhere.ttf")) == find_cjk_font("")
    not_chinese = str(font_manager_path())
    assert find_cjk_font(not_chinese) != not_chinese


def font_manager_path() -> str:
    from matplotlib import font_manager

    return str(font_manager.findfont("DejaVu Sans"))


async def test_the_digest_has_a_line_per_space(make_harness: MakeHarness) -> None:
    for locale, lines in (
        ("zh-CN", ("阅览室：预约 2 小时 · 占用率 2% · 未到 1 次",
                   "党群服务中心活动室：预约 0 小时 · 占用率 0% · 未到 0 次 · 应急使用 5 小时")),
        ("en", ("Reading room: 2 h booked · 2% occupied · 1 no-show",
                "Activity room, Party-Masses Service Centre: 0 h booked · 0% occupied · 0 no-shows"
                " · 5 h emergency use")),
    ):  # fmt: skip
        h = await make_harness({"community": {"default_locale": locale}})
        await seed_spaces_week(h)
        h.clock.set(DUE)
        await h.tick()  # the spaces' tick releases the no-show first, then the digest
        text = digests(h)[0].content
        assert all(line in text for line in lines), text
        assert "本周很平静" not in text


async def seed_spaces_week(h: Harness) -> None:
    """In week 48 (23-29 Nov): the reading room used 2 h, one no-show; the activity room a
    shelter for 5 h."""
    await h.tick()  # the scheduler creates the config's spaces
    reading = await spaces_db.get_space_by_key(h.db, "reading")
    activity = await spaces_db.get_space_by_key(h.db, "activity")
    assert reading is not None and activity is not None
    member = await members_db.ensure_member(h.db, 2001, "王芳", None, h.clock())
    await members_db.set_home(h.db, member.id, "heyuan/1", "101", h.clock())
    tz, community = h.config.tz, h.services.community
    for day, token in ((27, "used"), (28, "missed")):
        await spaces_db.book(h.db, space_id=reading.id, member=member,
                             slot=Slot(datetime(2026, 11, day, 10, tzinfo=tz), 120 if day == 27 else 60),
                             purpose="看书", key=token, now=h.clock(), tz=tz, community=community,
                             staff=True)  # fmt: skip
    used = await spaces_db.get_booking_by_key(h.db, "used")
    assert used is not None
    await spaces_db.check_in(h.db, used.id, member.id, used.starts_at)
    await spaces_db.switch_on(h.db, [activity], "shelter", "寒潮",
                              datetime(2026, 11, 28, 9, tzinfo=tz),
                              datetime(2026, 11, 28, 14, tzinfo=tz), member.id, h.clock(), tz)  # fmt: skip
