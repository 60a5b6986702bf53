"""The export registry and the members export against a real database."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from linli.core.community import Role
from linli.core.exports import Format
from linli.core.outcomes import Refused
from linli.storage import exports as exports_db
from linli.storage import members as members_db
from linli.storage.db import Database
from tests.support.broadcasts import resident

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
async def db(tmp_path: Path) -> Database:
    database = await Database.open(tmp_path / "t.sqlite3")
    yield database  # type: ignore[misc]
    await database.close()


async def test_members_without_and_with_personal_data(db: Database) -> None:
    a = await resident(
        db, 11, "heyuan/1", NOW - timedelta(days=10), Role.VOLUNTEER, name="王芳", unit="3-201"
    )
    b = await resident(db, 12, "lihu/A", NOW, name="李雷")
    gone = await resident(db, 13, "lihu/A", NOW, name="走了")
    await members_db.forget(db, gone.id, NOW)
    headers, rows = await exports_db.export_members(db, None, False)
    assert "name" not in headers and "telegram_id" not in headers
    assert [r[0] for r in rows] == [a.id, b.id]
    assert "王芳" not in repr(rows) and "3-201" not in repr(rows)
    first = dict(zip(headers, rows[0], strict=True))
    assert (first["compound"], first["building"], first["roles"], first["verified"]) == (
        "heyuan",
        "1",
        "resident volunteer",
        True,
    )
    headers, rows = await exports_db.export_members(db, NOW - timedelta(days=1), True)
    assert [dict(zip(headers, r, strict=True))["name"] for r in rows] == ["李雷"]
    assert dict(zip(headers, rows[0], strict=True))["telegram_id"] == 12


async def test_export_file_as_csv_and_xlsx(db: Database) -> None:
    await resident(db, 11, "heyuan/1", NOW, name="王芳")
    data = await exports_db.export_file(db, "members", Format.CSV, None, TZ, include_personal=True)
    assert isinstance(data, bytes)
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert [(r["name"], r["building"], r["verified"]) for r in rows] == [("王芳", "1", "True")]
    data = await exports_db.export_file(db, "members", Format.XLSX, None, TZ)
    assert isinstance(data, bytes)
    sheet = load_workbook(io.BytesIO(data))["members"]
    assert sheet.max_row == 2 and sheet.cell(2, 3).value == "1"


async def test_refusals(db: Database) -> None:
    assert await exports_db.export_file(db, "secrets", Format.CSV, None, TZ) == Refused(
        "unknown_export", {"what": "secrets", "names": ", ".join(exports_db.NAMES)}
    )
    assert await exports_db.export_file(db, "members", Format.OPEN311, None, TZ) == Refused(
        "open311_reports_only"
    )
    for name in exports_db.NAMES:
        result = await exports_db.export_file(db, name, Format.CSV, None, TZ)
        if exports_db.available(name):
            assert isinstance(result, bytes) and result.startswith(b"\xef\xbb\xbf")
        else:
            assert result == Refused("not_available", {"what": name})


async def test_signups_export_holds_every_signup_in_csv_and_xlsx(db: Database) -> None:
    from tests.support.digest_week import WEEK_START, seed_week

    people = await seed_week(db)  # three events, each with the same three sign-ups
    old, new_a, organizer = (people[k].name for k in ("old", "new_a", "organizer"))
    assert exports_db.available("signups")

    data = await exports_db.export_file(db, "signups", Format.CSV, None, TZ)
    assert isinstance(data, bytes)
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    got = [(r["title"], r["event_status"], r["name"], r["status"], bool(r["checked_in_at"]))
           for r in rows]  # fmt: skip
    # By start time: last week's drill, then this week's lecture and the cancelled one.
    assert got == [
        ("上周的演练", "open", old, "confirmed", False),
        ("上周的演练", "open", new_a, "confirmed", False),
        ("上周的演练", "open", organizer, "confirmed", False),
        ("防诈骗讲座", "open", old, "confirmed", True),
        ("防诈骗讲座", "open", new_a, "confirmed", True),
        ("防诈骗讲座", "open", organizer, "confirmed", False),
        ("取消了的讲座", "cancelled", old, "confirmed", False),
        ("取消了的讲座", "cancelled", new_a, "confirmed", False),
        ("取消了的讲座", "cancelled", organizer, "confirmed", False),
    ]
    assert {r["building"] for r in rows} == {"heyuan/1"}

    data = await exports_db.export_file(db, "signups", Format.XLSX, WEEK_START, TZ)
    assert isinstance(data, bytes)
    sheet = load_workbook(io.BytesIO(data))["signups"]
    table = [[cell.value for cell in row] for row in sheet.iter_rows()]
    headers, body = table[0], table[1:]
    assert headers[:3] == ["event_id", "kind", "title"]
    column = {name: i for i, name in enumerate(headers)}
    # --since keeps the events starting from that day: the drill of the week before is out.
    assert [(r[column["title"]], r[column["name"]]) for r in body] == [
        ("防诈骗讲座", old), ("防诈骗讲座", new_a), ("防诈骗讲座", organizer),
        ("取消了的讲座", old), ("取消了的讲座", new_a), ("取消了的讲座", organizer),
    ]  # fmt: skip
    assert [r[column["checked_in_at"]] is not None for r in body[:3]] == [True, True, False]
