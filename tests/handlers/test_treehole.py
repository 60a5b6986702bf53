"""The tree hole and anonymous reports: no trace of the sender, replies through a code."""

from __future__ import annotations

import logging
import re
import sqlite3
from pathlib import Path

import pytest

from linli.core.community import Role
from linli.sim.harness import Harness
from linli.storage import drafts as drafts_db
from linli.storage import hazards as hazards_db
from tests.handlers.test_hazards import ORG_GROUP, resident

SENDER_ID = 6_123_457_891  # needs 6 bytes as a SQLite integer, so accidental matches are unlikely
SENDER_NAME = "Zhuge Kongming"
CODE_RE = re.compile(r"/followup ([A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4})")


def _varint(value: int) -> bytes:
    """SQLite's big-endian varint (how a rowid such as drafts.user_id is stored in b-tree cells)."""
    if value <= 0x7F:
        return bytes([value])
    groups: list[int] = []
    while value:
        groups.append(value & 0x7F)
        value >>= 7
    groups.reverse()
    return bytes([g | 0x80 for g in groups[:-1]] + [groups[-1]])


def identifying_patterns(telegram_id: int, name: str) -> dict[str, bytes]:
    return {
        "id as text": str(telegram_id).encode(),
        "id as 6-byte integer": telegram_id.to_bytes(6, "big"),
        "id as 8-byte integer": telegram_id.to_bytes(8, "big"),
        "id as varint": _varint(telegram_id),
        "name (utf-8)": name.encode(),
        "name (utf-16le)": name.encode("utf-16-le"),
    }


def member_pages(path: Path) -> set[int]:
    """Pages of the members and accounts tables and their indexes: the one place the sender
    may be known (their Telegram id is in accounts since 0011)."""
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT pageno FROM dbstat WHERE name IN ('members', 'accounts') OR name IN"
            " (SELECT name FROM sqlite_schema WHERE tbl_name IN ('members', 'accounts')"
            " AND type = 'index')"
        ).fetchall()
    return {r[0] for r in rows}


def pages_of(data: bytes, page_size: int) -> dict[int, bytes]:
    return {i // page_size + 1: data[i : i + page_size] for i in range(0, len(data), page_size)}


def wal_frames(data: bytes) -> list[tuple[int, bytes]]:
    """(page number, page image) for every frame in a WAL file."""
    if len(data) < 32:
        return []
    page_size = int.from_bytes(data[8:12], "big")
    frames, offset = [], 32
    while offset + 24 + page_size <= len(data):
        frames.append(
            (
                int.from_bytes(data[offset : offset + 4], "big"),
                data[offset + 24 : offset + 24 + page_size],
            )
        )
        offset += 24 + page_size
    return frames


async def send_anonymous_report(h: Harness, user) -> str:  # type: ignore[no-untyped-def]
    await h.send(user, "/report")
    await h.press(user, "🚨 燃气泄漏")
    await h.send(user, "三单元有燃气味")
    await h.photo(user)
    await h.press(user, "完成")
    await h.send(user, "和苑小区1号楼")
    await h.press(user, "🕶 匿名提交（不得积分）")
    assert "不获得积分" in h.last_text(user)
    await h.press(user, "✅ 提交")
    match = CODE_RE.search(h.last_text(user))
    assert match, h.last_text(user)
    return match.group(1)


async def send_treehole(h: Harness, user, body: str = "楼上装修噪音太大，不敢当面说") -> str:  # type: ignore[no-untyped-def]
    await h.send(user, "/treehole")
    assert "完全匿名" in h.last_text(user)
    await h.send(user, body)
    assert body in h.last_text(user)
    await h.press(user, "✅ 匿名发送")
    match = CODE_RE.search(h.last_text(user))
    assert match, h.last_text(user)
    return match.group(1)


async def test_no_trace_of_the_sender_outside_the_members_table(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    h = harness
    caplog.set_level(logging.INFO)
    caplog.set_level(logging.DEBUG, logger="linli")
    sender = h.user(SENDER_ID, SENDER_NAME, username=None)
    await resident(h, sender)
    await h.start(h.organizer)
    await send_anonymous_report(h, sender)
    await send_treehole(h, sender)
    # the organizers act on both (the things that happen after sending are covered too)
    await h.press(h.organizer, "✔ 确认受理", chat=ORG_GROUP)
    await h.send(h.organizer, "燃气公司已出发")
    await h.press(h.organizer, "💬 回复", chat=ORG_GROUP)
    await h.send(h.organizer, "已联系装修队")

    report = await hazards_db.get_report(h.db, 1)
    assert report is not None and report.anonymous and report.reporter_id is None
    assert await drafts_db.get_draft(h.db, SENDER_ID) is None
    assert await h.db.scalar("SELECT count(*) FROM points_ledger") == 0
    everything_sent = " ".join(m.content for m in h.messages(ORG_GROUP))
    assert SENDER_NAME not in everything_sent and "匿名" in everything_sent

    path = h.db.path
    page_size = int(await h.db.scalar("PRAGMA page_size"))
    allowed = member_pages(path)
    patterns = identifying_patterns(SENDER_ID, SENDER_NAME)
    main = path.read_bytes()
    # control: the search does find the sender where they are legitimately known
    members_bytes = b"".join(p for n, p in pages_of(main, page_size).items() if n in allowed)
    wal_path = Path(str(path) + "-wal")
    wal = wal_path.read_bytes() if wal_path.exists() else b""
    members_bytes += b"".join(p for n, p in wal_frames(wal) if n in allowed)
    assert patterns["id as text"] in members_bytes
    assert patterns["name (utf-8)"] in members_bytes

    elsewhere = [p for n, p in pages_of(main, page_size).items() if n not in allowed]
    elsewhere += [p for n, p in wal_frames(wal) if n not in allowed]
    for what, needle in patterns.items():
        hits = [i for i, page in enumerate(elsewhere) if needle in page]
        assert not hits, f"{what} found outside the members table"
    for what, needle in patterns.items():
        if what.startswith("id as text") or what.startswith("name"):
            assert needle.decode("utf-8", "ignore") not in caplog.text, f"{what} in the logs"


async def test_tree_hole_reply_and_follow_up(harness: Harness) -> None:
    h = harness
    wang = h.user(2001, "王芳")
    await resident(h, wang)
    await h.start(h.organizer)
    code = await send_treehole(h, wang, "希望<b>多装</b>路灯")
    card = h.last_text(ORG_GROUP)
    assert "树洞 T-0001" in card and "希望<b>多装</b>路灯" in card and "王芳" not in card
    assert h.buttons(ORG_GROUP) == ["💬 回复"]

    await h.send(wang, f"/followup {code}")
    assert "暂时还没有回复" in h.last_text(wang)
    # a resident forging the reply button
    await h.callback(wang, "th:r:1", chat=wang)
    assert "只有社区管理员可以回复" in h.alerts(wang)[-1].text
    await h.press(h.organizer, "💬 回复", chat=ORG_GROUP)
    assert "请输入对树洞" in h.last_text(h.organizer)
    await h.send(h.organizer, "下月安装两盏")
    assert "已回复 T-0001" in h.last_text(h.organizer)
    assert "已回复 1 条" in h.last_text(ORG_GROUP) and "下月安装两盏" in h.last_text(ORG_GROUP)
    await h.send(wang, f"/followup {code.lower().replace('-', '')}")
    assert "社区回复：下月安装两盏" in h.last_text(wang)


async def test_follow_up_of_an_anonymous_report(harness: Harness) -> None:
    h = harness
    wang = h.user(2001, "王芳")
    await resident(h, wang)
    await h.start(h.organizer)
    code = await send_anonymous_report(h, wang)
    assert "🕶" in h.last_text(ORG_GROUP) or "匿名" in h.last_text(ORG_GROUP)
    await h.send(wang, f"/followup {code}")
    assert "匿名报告 H-0001" in h.last_text(wang) and "待受理" in h.last_text(wang)
    await h.press(h.organizer, "✔ 确认受理", chat=ORG_GROUP)
    await h.send(h.organizer, "燃气公司已出发")
    assert "报告人获得" not in h.last_text(h.organizer)
    await h.send(wang, f"/followup {code}")
    assert "已受理" in h.last_text(wang) and "燃气公司已出发" in h.last_text(wang)
    # nobody is notified privately about an anonymous report
    assert "状态更新" not in h.last_text(wang)
    await h.send(wang, "/myreports")
    assert "还没有报告过" in h.last_text(wang)


async def test_bad_follow_up_codes(harness: Harness) -> None:
    h = harness
    tom = h.user(2003, "Tom", lang="en")
    await resident(h, tom)
    await h.send(tom, "/followup")
    assert "doesn't look like a follow-up code" in h.last_text(tom)
    await h.send(tom, "/followup <b>x</b>")
    assert "doesn't look like a follow-up code" in h.last_text(tom)
    await h.send(tom, "/followup ABCD-EFGH-JKMN")
    assert "Nothing matches that code" in h.last_text(tom)


async def test_tree_hole_bad_input_and_cancel(harness: Harness) -> None:
    h = harness
    tom = h.user(2003, "Tom", lang="en")
    await resident(h, tom)
    await h.send(tom, "/treehole")
    h.sim.send_sticker(tom, tom.id)
    await h.process()
    assert "A sticker can't be passed on" in h.last_text(tom)
    await h.send(tom, "x" * 1501)
    assert "at most 1500 characters, and it has 1501" in h.last_text(tom)
    await h.photo(tom, caption="broken swing")
    assert "with one photo" in h.last_text(tom) and "broken swing" in h.last_text(tom)
    await h.press(tom, "✖ Cancel")
    assert h.last_text(tom) == "Cancelled; nothing was sent."
    assert await h.db.scalar("SELECT count(*) FROM treehole_messages") == 0
    group = h.group(-2002, "Lihu", [tom])
    await h.send(tom, "/treehole", chat=group)
    assert "private chat" in h.last_text(group)


async def test_double_tap_sends_one_tree_hole_message(harness: Harness) -> None:
    h = harness
    wang = h.user(2001, "王芳")
    await resident(h, wang)
    await h.send(wang, "/treehole")
    await h.send(wang, "谢谢网格员")
    confirm = h.last(wang)
    assert confirm is not None
    await h.callback(wang, "th:send", message_id=confirm.message_id)
    await h.callback(wang, "th:send", message_id=confirm.message_id)
    assert await h.db.scalar("SELECT count(*) FROM treehole_messages") == 1


async def test_organizer_role_granted_in_chat_can_reply(harness: Harness) -> None:
    h = harness
    wang, staff = h.user(2001, "王芳"), h.user(2010, "社区干事")
    await resident(h, wang)
    await resident(h, staff, role=Role.ORGANIZER)
    await send_treehole(h, wang)
    await h.callback(staff, "th:r:1", chat=staff)
    await h.send(staff, "收到")
    assert "已回复 T-0001" in h.last_text(staff)


async def test_reply_needs_a_private_chat(harness: Harness) -> None:
    h = harness
    wang = h.user(2001, "王芳")
    await resident(h, wang)
    await send_treehole(h, wang, "楼道灯坏了")
    # the organizer never opened a private chat with the bot
    await h.press(h.organizer, "💬 回复", chat=ORG_GROUP)
    assert "请先私聊机器人" in h.alerts(h.organizer)[-1].text
    assert await drafts_db.get_draft(h.db, h.organizer.id) is None
