"""Recognition end to end with a real `linli run`: a 最美家庭 selection from the opening
through nominations, consent, the shortlist and the households' ballots to the honours roll
(in Chinese, the process SIGKILLed twice on the way, and the network failing under the
roll's text after its picture went out); a story scheduled a few seconds ahead
and posted once across a kill (in English), liked once per member; and bad input as a
resident meets it (self-nomination, forged `ho:` buttons, a late nomination, bad stories),
each answered clearly and changing nothing.

The process runs on the real clock, and a selection's windows are whole days (nominations
until the end of a day, and so on). Rather than waiting days or adding a test hook, the
test moves the calendar the way the days would: it writes the selection's due times
(`nominate_until`, `vote_from`, `vote_until`) into the database, the first and the last
while the process is dead, the middle one while it runs. The scheduler ticks every second
(`tick_seconds = 1` in the config). Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from linli.core.clock import to_iso
from linli.sim.client import Message, SimClient
from linli.sim.process import start_linli, stop
from tests.e2e.conftest import ORGANIZER, BotProcess, _until_polling
from tests.e2e.test_events import alert, join, say

TZ = ZoneInfo("Asia/Shanghai")  # config.example.toml's timezone
GROUP = -1004001
WANG, LI, ZHAO = 2001, 2002, 2003
TOM, AMY = 3001, 3002
TITLE = "2026 年度最美家庭"


# --- the process -----------------------------------------------------------------------------


async def _restart(bot: BotProcess, log: str) -> None:
    with (bot.config.parent / log).open("wb") as sink:
        bot.process = await start_linli(bot.config, bot.config.parent, sink)
    await _until_polling(bot)


async def _kill(bot: BotProcess) -> None:
    """SIGKILL: no clean shutdown, whatever was in flight is lost."""
    bot.process.kill()
    await bot.process.wait()


async def _reconfigure(bot: BotProcess, **settings: str) -> None:
    """Stop the fixture's process, change config lines (`key = value`), start again."""
    await stop(bot.process)
    text = bot.config.read_text(encoding="utf-8")
    for key, value in settings.items():
        text, found = re.subn(rf"^{key} = .*$", f"{key} = {value}", text, count=1, flags=re.M)
        assert found, key
    bot.config.write_text(text, encoding="utf-8")
    await _restart(bot, "bot-configured.log")


def _database(bot: BotProcess) -> Path:
    return bot.config.parent / "linli.sqlite3"


def _query(bot: BotProcess, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    with sqlite3.connect(_database(bot), timeout=10) as db:
        return db.execute(sql, params).fetchall()


def _move_calendar(bot: BotProcess, column: str, when: datetime) -> None:
    """The day a window ends has come: its due time, as the process stores it."""
    assert column in {"nominate_until", "vote_from", "vote_until"}
    with sqlite3.connect(_database(bot), timeout=10) as db:
        db.execute(f"UPDATE honours_selections SET {column} = ? WHERE id = 1", (to_iso(when),))


async def _until(condition: Callable[[], object], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


# --- what residents see ----------------------------------------------------------------------


async def _count(client: SimClient, chat: int, text: str) -> int:
    return sum(text in t for t in await client.texts(chat))


async def _photos(client: SimClient, chat: int) -> list[Message]:
    return [m for m in await client.transcript(chat) if m["photo"] and not m["deleted"]]


async def _tap(
    client: SimClient, user: int, label: str, expect: str, chat: int | None = None
) -> str:
    """Press `label`; the bot's message there (new or edited) that then contains `expect`."""
    where = chat if chat is not None else user
    before = await client.last_id(where)
    await client.wait_for_buttons(where, label)
    await client.press(user, label, chat=chat)
    found = await client.wait_for(
        where, lambda m: expect in m["text"] and (m["message_id"] > before or m["edits"] > 0)
    )
    return str(found["text"])


async def _forge(client: SimClient, user: int, data: str, chat: int | None = None) -> str:
    """A callback the bot never offered, on the user's last message there: its answer."""
    seen = len(await client.alerts(user))
    await client.callback(user, data, chat=chat)
    return await alert(client, user, seen)


async def _press_card(client: SimClient, user: int, label: str, card: Message) -> str:
    seen = len(await client.alerts(user))
    await client.press(user, label, chat=GROUP, message_id=card["message_id"])
    return await alert(client, user, seen)


async def _vote(client: SimClient, user: int) -> str:
    """/honours → the ballot → tick 王芳家 → cast; the confirmation."""
    await say(client, user, "/honours", "评选表彰")
    await _tap(client, user, f"🗳 投票：{TITLE}", "最多勾选 1 位")
    await _tap(client, user, "☐ 王芳家", "已勾选：1")
    return await _tap(client, user, "📮 投出本户选票", "选票已投出")


# --- the journeys ----------------------------------------------------------------------------


async def test_a_selection_from_nomination_to_the_honours_roll_across_kills(
    bot_process: BotProcess,
) -> None:
    bot, client = bot_process, bot_process.client
    await _reconfigure(bot, tick_seconds="1")
    try:
        await _selection_journey(bot, client)
    finally:
        await stop(bot.process)


async def _selection_journey(bot: BotProcess, client: SimClient) -> None:
    # Three households of 和苑小区 1号楼 join and the organizer confirms them; a group is bound.
    for user, name, unit in (
        (WANG, "王芳", "3-201"),
        (LI, "李强", "3-202"),
        (ZHAO, "赵敏", "3-203"),
    ):
        await client.user(user, name, username=f"u{user}")
        await join(client, user, unit)
    await client.start(ORGANIZER)
    for user in (WANG, LI, ZHAO):
        await say(client, ORGANIZER, f"/verify @u{user}", "已确认")
    await client.group(GROUP, "和苑小区群", owner=ORGANIZER, members=[WANG, LI, ZHAO],
                       bot_added_by=ORGANIZER)  # fmt: skip
    await client.wait_for(GROUP, "/bind")
    await say(client, ORGANIZER, "/bind compound heyuan", "本群已绑定", chat=GROUP)

    # The organizer opens the selection: nominations until tomorrow, and so on.
    today = datetime.now(TZ).date()
    days = [f"{today + timedelta(days=n):%Y-%m-%d}" for n in (1, 2, 3)]
    opened = await say(client, ORGANIZER, f"/honours new households nominate={days[0]} "
                       f"shortlist={days[1]} vote={days[2]} winners=1 points=50 for=heyuan {TITLE}",
                       "已发起")  # fmt: skip
    assert f"评选 #1 {TITLE}" in opened and "每位获评者 50 积分" in opened
    await client.wait_for(GROUP, "/honours nominate 1")

    # 李强 nominates 王芳's family; she is asked privately and agrees to be shown.
    nominated = await say(client, LI, "/honours nominate 1 @u2001 热心照顾楼里的老人\n二十年如一日",
                          "提名")  # fmt: skip
    assert "您对 王芳 的提名" in nominated and "私下询问" in nominated
    asked = await client.wait_for_buttons(WANG, "✅ 同意展示")
    assert "二十年如一日" in asked["text"] and TITLE in asked["text"]

    # Bad input, before she answers: each refused in words, nothing recorded.
    assert "不能提名自己。" in await say(client, WANG, "/honours nominate 1 @u2001 我很好", "不能")
    # Her own door is herself too (the household's contact).
    assert "不能提名自己" in await say(
        client, WANG, "/honours nominate 1 heyuan/1/3-201 好", "不能"
    )
    assert "没有这项评选" in await say(client, WANG, "/honours nominate 9 @u2002 好", "评选")
    # 赵敏 forges 王芳's answer (a decline) and a vote before voting: refused, nothing changed.
    await client.start(ZHAO)
    assert "不是问您的" in await _forge(client, ZHAO, "ho:cs:1:0")
    assert "不在投票阶段" in await _forge(client, ZHAO, "ho:bs:1:1")
    assert "不在投票阶段" in await _forge(client, ZHAO, "ho:bt:1:0:0")
    assert "按钮已失效" in await _forge(client, ZHAO, "ho:zz:1")
    assert _query(bot, "SELECT consent FROM honours_candidates") == [("asked",)]
    assert _query(bot, "SELECT COUNT(*) FROM honours_nominations") == [(1,)]
    assert _query(bot, "SELECT COUNT(*) FROM honours_voters") == [(0,)]

    assert "谢谢" in await _tap(client, WANG, "✅ 同意展示", "谢谢")
    # 赵敏 names the same family by its door: one candidate, asked once.
    nominated = await say(
        client, ZHAO, "/honours nominate 1 heyuan/1/3-201 家庭和睦，邻里互助", "提名"
    )
    assert "您对 王芳 的提名" in nominated and "私下询问" not in nominated
    assert "中提名过：每人限一次" in await say(
        client, LI, "/honours nominate 1 @u2003 又一个", "提名"
    )
    assert _query(bot, "SELECT consent FROM honours_candidates") == [("accepted",)]
    assert _query(bot, "SELECT COUNT(*) FROM honours_nominations") == [(2,)]

    # Killed; while it is down, nominations close (their day is over).
    await _kill(bot)
    now = datetime.now(TZ)
    _move_calendar(bot, "nominate_until", now - timedelta(seconds=1))
    await _restart(bot, "bot-2.log")

    assert "提名已经截止" in await say(
        client, WANG, "/honours nominate 1 @u2002 迟到的提名", "提名"
    )
    listing = await say(client, ORGANIZER, "/honours shortlist 1", "候选")
    assert "王芳家" in listing and "2 次提名" in listing and "家庭和睦" in listing
    shortlisted = await say(client, ORGANIZER, "/honours shortlist 1 1 邻里公认的好家庭", "入围")
    assert "王芳家 入围" in shortlisted

    # The voting day comes while it runs: the group is told once, with the shortlist.
    _move_calendar(bot, "vote_from", datetime.now(TZ))
    voting = await client.wait_for(GROUP, "开始投票", within=15)
    assert "王芳家" in voting["text"] and "邻里公认的好家庭" in voting["text"]
    assert "已投出" in await _vote(client, ZHAO)
    assert "已投出" in await _vote(client, LI)
    assert "已经在这项评选中投过票" in await say(client, LI, "/honours vote 1", "投过票")
    await asyncio.sleep(2.5)  # more ticks while voting: the notice is not posted again
    assert await _count(client, GROUP, "开始投票") == 1

    # Killed again with the ballots in; voting ends while it is down.
    await _kill(bot)
    assert _query(bot, "SELECT COUNT(*) FROM honours_voters") == [(2,)]
    assert _query(bot, "SELECT closed_at FROM honours_selections") == [(None,)]
    _move_calendar(bot, "vote_until", datetime.now(TZ) - timedelta(seconds=1))
    assert not [t for t in await client.texts(GROUP) if "光荣榜" in t]
    # The next start closes it. The picture goes out; the network fails under the text (a
    # 502: it never reached Telegram), so a later tick sends what is missing: the text.
    bot.server.hold("sendMessage")
    await _restart(bot, "bot-3.log")
    await _until(lambda: any(m == "sendMessage" for m, _ in bot.server.held_calls), within=20)
    assert len(await _photos(client, GROUP)) == 1
    bot.server.release()

    # The honours roll, a picture and its text, once.
    roll = await client.wait_for(GROUP, "光荣榜", within=20)
    assert "王芳家" in roll["text"] and "（2 票）" in roll["text"] and "共 2 户投票" in roll["text"]
    assert "每位获评者获得 50 积分" in roll["text"]
    pictures = await _photos(client, GROUP)
    assert len(pictures) == 1 and pictures[0]["message_id"] == roll["message_id"] - 1
    await asyncio.sleep(3)  # a few ticks: nothing is posted again
    assert await _count(client, GROUP, "光荣榜") == 1
    assert await _count(client, GROUP, "开始投票") == 1
    assert await _count(client, GROUP, "/honours nominate 1") == 1

    # Her points through the ledger, once; the badge on /me; the roll in /honours.
    ledger = "SELECT COUNT(*), SUM(amount) FROM points_ledger WHERE key LIKE 'honours:%'"
    assert _query(bot, ledger) == [(1, 50)]
    me = await say(client, WANG, "/me", "王芳")
    assert f"🏅 光荣榜：{TITLE}" in me
    assert f"🏆 {TITLE}：王芳家" in await say(client, LI, "/honours", "评选表彰")

    # A clean restart later: still one roll, one payment.
    await stop(bot.process)
    await _restart(bot, "bot-4.log")
    await asyncio.sleep(3)
    assert await _count(client, GROUP, "光荣榜") == 1
    assert len(await _photos(client, GROUP)) == 1
    assert _query(bot, ledger) == [(1, 50)]


async def test_a_story_scheduled_ahead_is_posted_once_across_a_kill_in_english(
    bot_process: BotProcess,
) -> None:
    bot, client = bot_process, bot_process.client
    await _reconfigure(bot, tick_seconds="1", default_locale='"en"')
    try:
        await _story_journey(bot, client)
    finally:
        await stop(bot.process)


async def _story_journey(bot: BotProcess, client: SimClient) -> None:
    # The organizer reads English; Tom and Amy join in English; their group is bound.
    await client.user(ORGANIZER, "Wang", language_code="en", username="wang_zhuren")
    await client.user(TOM, "Tom", language_code="en", username="tom")
    await client.user(AMY, "Amy", language_code="en", username="amy")
    await join(client, TOM, "5-501", english=True)
    await join(client, AMY, "5-502", english=True)
    await client.group(GROUP, "Heyuan neighbours", owner=ORGANIZER, members=[TOM, AMY],
                       bot_added_by=ORGANIZER)  # fmt: skip
    await client.wait_for(GROUP, "/bind")
    await say(client, ORGANIZER, "/bind compound heyuan", "bound", chat=GROUP)
    await client.start(ORGANIZER)

    # Bad stories: each refused in words, nothing stored.
    past = f"{datetime.now(TZ) - timedelta(minutes=5):%Y-%m-%dT%H:%M}"
    refusals = [
        (TOM, "/story consent=yes for=heyuan Tom's story\nHello", "Only organizers"),
        (ORGANIZER, "/story for=heyuan Mrs Li\nTwenty years of haircuts", "needs their consent"),
        (ORGANIZER, f"/story consent=in-person at={past} Mrs Li\nHaircuts", "That time has passed"),
        (ORGANIZER, "/story consent=in-person at=tomorrow Mrs Li\nHaircuts", "is not a time"),
        (ORGANIZER, "/story consent=in-person for=nowhere Mrs Li\nHaircuts", 'no compound or building "nowhere"'),
    ]  # fmt: skip
    for user, command, expected in refusals:
        assert expected in await say(client, user, command, expected), command
    assert _query(bot, "SELECT COUNT(*) FROM honours_stories") == [(0,)]

    # A story a few seconds ahead, with its subject's consent recorded.
    at = datetime.now(TZ).replace(microsecond=0) + timedelta(seconds=6)
    saved = await say(client, ORGANIZER, f"/story consent=agreed-in-person at={at:%Y-%m-%dT%H:%M:%S}"
                      " for=heyuan Mrs Li's haircuts\nTwenty years of free haircuts for the elderly.",
                      "Story #1")  # fmt: skip
    assert "will be posted at" in saved and "Consent recorded: agreed-in-person" in saved
    assert await _count(client, GROUP, "Mrs Li's haircuts") == 0

    # Killed before it is due; it comes due while the process is down.
    await _kill(bot)
    await asyncio.sleep(max(0.0, (at - datetime.now(TZ)).total_seconds()) + 1)
    assert await _count(client, GROUP, "Mrs Li's haircuts") == 0
    await _restart(bot, "bot-2.log")
    card = await client.wait_for(GROUP, "Mrs Li's haircuts", within=15)
    assert card["text"] == "📖 Mrs Li's haircuts\n\nTwenty years of free haircuts for the elderly."
    assert [b["text"] for row in card["buttons"] for b in row] == ["👍 0"]

    # 👍 once per member, counted on the card.
    assert "Thank you" in await _press_card(client, TOM, "👍 0", card)
    await client.wait_for(GROUP, lambda m: m["message_id"] == card["message_id"]
                          and m["buttons"][0][0]["text"] == "👍 1")  # fmt: skip
    assert "already liked" in await _press_card(client, TOM, "👍 1", card)
    assert "Thank you" in await _press_card(client, AMY, "👍 1", card)
    await client.wait_for(GROUP, lambda m: m["message_id"] == card["message_id"]
                          and m["buttons"][0][0]["text"] == "👍 2")  # fmt: skip
    # A forged 👍 for a story that is not there: refused, nothing counted.
    assert "no longer here" in await _forge(client, TOM, "ho:lk:99", chat=GROUP)
    assert _query(bot, "SELECT story_id, COUNT(*) FROM honours_story_likes GROUP BY story_id") == [
        (1, 2)
    ]

    # Killed and started again: the story is not posted twice, and the likes stay counted.
    await _kill(bot)
    await _restart(bot, "bot-3.log")
    await asyncio.sleep(3)  # a few ticks
    assert await _count(client, GROUP, "Mrs Li's haircuts") == 1
    assert "already liked" in await _press_card(client, AMY, "👍 2", card)
    assert _query(bot, "SELECT COUNT(*) FROM honours_story_likes") == [(2,)]
