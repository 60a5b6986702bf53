"""Recognition in the chat: a selection from its opening through nominations, consent, the
shortlist and a household vote to the honours roll across restarts, in both languages;
bad input that changes nothing; stories posted now or later, exactly once, with 👍."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from linli.bot.jobs.digest import digest_text
from linli.core.community import Binding, NodeKind
from linli.core.digest import week_before
from linli.sim.core import SimGroup, SimUser
from linli.sim.harness import Harness
from linli.storage import digest as digest_db
from linli.storage import groups as groups_db
from linli.storage import members as members_db
from linli.storage import points as points_db
from tests.support.points import organizer, resident

START = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
OPEN = (
    "/honours new households nominate=2026-11-28 shortlist=2026-11-30 vote=2026-12-03"
    " winners=1 points=50 for=heyuan 2026 年度最美家庭"
)


async def bound_group(h: Harness, chat_id: int = -3001) -> SimGroup:
    _, org_id = await organizer(h)
    group = h.group(chat_id, "和苑小区群")
    await h.process()
    await groups_db.bind_group(h.db, chat_id, "和苑小区群", Binding(chat_id, NodeKind.COMPOUND, "heyuan"),
                               org_id, h.clock())  # fmt: skip
    return group


async def neighbours(h: Harness, lang: str = "zh-hans") -> dict[str, SimUser]:
    people = {}
    for tid, name, unit in ((2001, "王芳", "101"), (2002, "李强", "201"), (2003, "赵敏", "301")):
        people[name], _ = await resident(h, tid, name, unit=unit, lang=lang, username=f"u{tid}")
    people["stranger"], _ = await resident(h, 2009, "Stranger", "lihu/A", lang=lang, username="far")
    return people


async def test_a_selection_from_nomination_to_the_honours_roll_across_restarts(
    harness: Harness,
) -> None:
    h = harness
    h.clock.set(START)
    group = await bound_group(h)
    await h.send(h.organizer, OPEN)
    assert "评选 #1 2026 年度最美家庭 已发起" in h.last_text(h.organizer)
    assert "/honours nominate 1" in h.last_text(group)
    p = await neighbours(h)
    wang, li, zhao = p["王芳"], p["李强"], p["赵敏"]
    await h.send(li, "/honours nominate 1 @u2001 热心照顾楼里的老人\n二十年如一日")
    assert "您对 王芳 的提名" in h.last_text(li)
    assert "二十年如一日" in h.last_text(wang) and "同意展示" in h.buttons(wang)[0]
    await h.press(wang, "✅ 同意展示")
    assert "谢谢" in h.last_text(wang)
    await h.send(
        zhao, "/honours nominate 1 heyuan/1/101 家庭和睦"
    )  # the same family: one candidate
    assert "您对 王芳 的提名" in h.last_text(zhao)
    h.clock.set(START + timedelta(days=3))  # the shortlist step
    await h.send(h.organizer, "/honours shortlist 1")
    listing = h.last_text(h.organizer)
    assert "王芳家" in listing and "2 次提名" in listing and "家庭和睦" in listing
    await h.send(h.organizer, "/honours shortlist 1 1 邻里公认的好家庭")
    assert "王芳家 入围" in h.last_text(h.organizer)
    h.clock.set(START + timedelta(days=5))  # voting
    await h.tick()
    assert "开始投票" in h.last_text(group) and "邻里公认的好家庭" in h.last_text(group)
    await h.restart()
    await h.tick()
    assert sum("开始投票" in t for t in h.texts(group)) == 1
    await h.send(zhao, "/honours")
    await h.press(zhao, "🗳 投票：2026 年度最美家庭")
    await h.press(zhao, "☐ 王芳家")
    await h.press(zhao, "📮 投出本户选票")
    assert "选票已投出：王芳家" in h.last_text(zhao)
    await h.restart()
    h.clock.set(START + timedelta(days=8))
    await h.tick()
    roll = [t for t in h.texts(group) if "光荣榜" in t]
    assert len(roll) == 1 and "王芳家" in roll[0] and "1 票" in roll[0] and "共 1 户投票" in roll[0]
    pictures = [m for m in h.messages(group) if m.photo]
    assert len(pictures) == 1
    await h.restart()
    await h.tick()
    assert len([t for t in h.texts(group) if "光荣榜" in t]) == 1
    member = await _member_id(h, wang)
    assert await points_db.balance(h.db, member) == 50
    await h.send(wang, "/me")
    assert "🏅 光荣榜：2026 年度最美家庭" in h.last_text(wang)
    await h.send(li, "/honours")
    assert "🏆 2026 年度最美家庭：王芳家" in h.last_text(li)


async def _member_id(h: Harness, user: SimUser) -> int:
    member = await members_db.get_member_by_telegram(h.db, user.id)
    assert member is not None
    return member.id


async def test_bad_nominations_are_refused_in_english_and_change_nothing(harness: Harness) -> None:
    h = harness
    h.clock.set(START)
    await bound_group(h)
    await h.send(h.organizer, OPEN)
    p = await neighbours(h, lang="en")
    wang, li, zhao, stranger = p["王芳"], p["李强"], p["赵敏"], p["stranger"]
    cases = [
        (li, "/honours nominate 1 @u2002 me", "cannot nominate yourself"),
        (stranger, "/honours nominate 1 @u2001 kind", "another part of the community"),
        (li, "/honours nominate 1 @far kind", "not a verified resident of this selection"),
        (li, "/honours nominate 1 @nobody kind", "don't know that neighbour"),
        (li, "/honours nominate 9 @u2001 kind", "no such selection"),
        (li, "/honours nominate 1 @u2001", "Usage"),
    ]
    for user, command, expected in cases:
        await h.send(user, command)
        assert expected in h.last_text(user), command
    assert await h.db.scalar("SELECT COUNT(*) FROM honours_nominations") == 0
    await h.send(li, "/honours nominate 1 @u2003 helpful")
    await h.press(zhao, "🙅 No, thank you")
    assert "will not be shown" in h.last_text(zhao)
    await h.send(wang, "/honours nominate 1 @u2003 kind")
    assert "does not wish to be nominated" in h.last_text(wang)
    await h.send(li, "/honours nominate 1 @u2001 again")
    assert "already made your nomination" in h.last_text(li)
    h.clock.set(START + timedelta(days=3))
    await h.send(wang, "/honours nominate 1 @u2002 late")
    assert "closed" in h.last_text(wang)
    await h.send(h.organizer, "/honours shortlist 1")
    assert "Stranger" not in h.last_text(h.organizer) and "赵敏" not in h.last_text(h.organizer)
    for data in ("ho:cs:1:1", "ho:cs:99:1", "ho:bs:1:1", "ho:bt:1:0:7", "ho:lk:5", "ho:zz"):
        await h.callback(wang, data)
    assert await h.db.scalar("SELECT consent FROM honours_candidates WHERE id = 1") == "declined"
    assert await h.db.scalar("SELECT COUNT(*) FROM honours_voters") == 0
    await h.send(
        wang, "/honours new households nominate=2026-12-01 shortlist=2026-12-03 vote=2026-12-10 x"
    )
    assert "Only organizers" in h.last_text(wang)


async def test_a_scheduled_story_is_posted_once_and_liked_once_per_member(harness: Harness) -> None:
    h = harness
    h.clock.set(START)
    group = await bound_group(h)
    p = await neighbours(h)
    await h.send(h.organizer, "/story at=2026-11-27T09:00 王阿姨的故事\n二十年义务理发")
    assert "本人同意" in h.last_text(h.organizer)
    await h.send(
        h.organizer,
        "/story consent=本人当面同意 at=2026-11-27T09:00 for=heyuan 王阿姨的故事\n二十年义务理发",
    )
    assert "将于" in h.last_text(h.organizer)
    await h.tick()
    assert not any("王阿姨" in t for t in h.texts(group))
    h.clock.set(datetime(2026, 11, 27, 1, 0, tzinfo=UTC))
    await h.tick()
    await h.restart()
    await h.tick()
    stories = [t for t in h.texts(group) if "王阿姨的故事" in t]
    assert stories == ["📖 王阿姨的故事\n\n二十年义务理发"]
    group.members[p["王芳"].id] = "member"
    group.members[p["李强"].id] = "member"
    await h.press(p["王芳"], "👍 0", chat=group)
    assert h.buttons(group)[-1] == "👍 1"
    await h.press(p["王芳"], "👍 1", chat=group)
    assert "已经点过赞" in (h.alerts(p["王芳"])[-1].text or "")
    await h.press(p["李强"], "👍 1", chat=group)
    assert h.buttons(group)[-1] == "👍 2"
    await h.photo(
        h.organizer, caption="/story consent=家属同意 for=heyuan 社区花园\n大家一起种的花"
    )
    assert "已发布到 1 个群" in h.last_text(h.organizer)
    assert any(m.photo for m in h.messages(group))


async def test_the_weekly_digest_lists_the_weeks_stories_and_honours(harness: Harness) -> None:
    h = harness
    h.clock.set(START)
    await bound_group(h)
    await h.send(h.organizer, "/story consent=本人同意 for=heyuan 王阿姨的故事\n二十年义务理发")
    week = week_before(date(2026, 11, 30), h.config.tz)
    digest = await digest_db.weekly_digest(h.db, week, [])
    assert digest.stories == ("王阿姨的故事",) and not digest.quiet
    text = digest_text(h.services, "zh-CN", digest)
    assert "🏅 评选表彰" in text and "📖 王阿姨的故事" in text
    assert "📖 王阿姨的故事" in digest_text(h.services, "en", digest)
