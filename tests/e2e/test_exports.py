"""`linli export` and `linli backup` on a database file, as an operator runs them."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from linli.bot.cli import main
from linli.bot.config import load_config
from linli.core.hazards import NewReport
from linli.storage import drafts as drafts_db
from linli.storage import hazards as hazards_db
from linli.storage import points as points_db
from linli.storage.db import Database
from linli.storage.drafts import Draft
from tests.support.broadcasts import resident

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        '[storage]\ndatabase = "linli.sqlite3"\n'
        '[[community.compounds]]\nid = "main"\nname = "和苑小区"\nbuildings = ["1", "3"]\n',
        encoding="utf-8",
    )
    return path


async def _populate(config_path: Path) -> None:
    config = load_config(config_path)
    db = await Database.open(config.database_path)
    try:
        a = await resident(db, 11, "main/1", NOW, name="王芳", unit="201")
        await resident(db, 12, "main/1", datetime(2026, 11, 20, tzinfo=UTC), name="李雷")
        async with db.transaction() as tx:
            await points_db.award(
                tx,
                member_id=a.id,
                amount=5,
                reason="清扫楼道",
                actor_id=a.id,
                key="k1",
                rules=config.points.earn_rules(config.tz),
                now=NOW,
            )
    finally:
        await db.close()


def test_export_members_and_points(
    config_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_populate(config_path))
    out = tmp_path / "m.csv"
    assert (
        main(["export", "members", "-c", str(config_path), "--since", "2026-11-25", "-o", str(out)])
        == 0
    )
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"), newline="")))
    assert len(rows) == 1 and "name" not in rows[0] and rows[0]["building"] == "1"
    assert (
        main(
            [
                "export",
                "members",
                "-c",
                str(config_path),
                "--include-personal",
                "--format",
                "xlsx",
                "-o",
                str(tmp_path / "m.xlsx"),
            ]
        )
        == 0
    )
    sheet = load_workbook(tmp_path / "m.xlsx")["members"]
    names = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert names == ["王芳", "李雷"]
    assert (
        main(
            [
                "export",
                "points",
                "-c",
                str(config_path),
                "--format",
                "xlsx",
                "-o",
                str(tmp_path / "p.xlsx"),
            ]
        )
        == 0
    )
    sheet = load_workbook(tmp_path / "p.xlsx")["points"]
    header = [c.value for c in sheet[1]]
    entry = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert sheet.max_row == 2 and entry["amount"] == 5 and entry["member"] == "王芳"
    capsys.readouterr()
    assert main(["export", "members", "-c", str(config_path), "--since", "soon"]) == 1
    assert "expected a date" in capsys.readouterr().err
    assert main(["export", "members", "-c", str(config_path), "--format", "open311"]) == 1
    assert "reports only" in capsys.readouterr().err


async def _report(db: Database, tg: int, new: NewReport) -> None:
    draft = Draft(tg, "report", "confirm", {})
    await drafts_db.put_draft(db, draft, NOW)
    reporter = None if new.anonymous else (await resident(db, tg, "main/1", NOW)).id
    followup = "h" if new.anonymous else None
    await hazards_db.create_report(
        db, new, reporter_id=reporter, ending=draft, now=NOW, followup_hash=followup
    )


def test_open311_export_names_categories_and_places(config_path: Path, tmp_path: Path) -> None:
    async def populate() -> None:
        db = await Database.open(load_config(config_path).database_path)
        try:
            await _report(db, 1, NewReport("exit", "纸箱", False, False, building_id="main/3"))
            gas = NewReport("gas", "气味", True, True, address="地下车库入口", building_id="main/1")
            await _report(db, 2, gas)
            await _report(db, 3, NewReport("water", "漏水", False, False, lat=39.1, lon=117.2))
        finally:
            await db.close()

    asyncio.run(populate())
    out = tmp_path / "reports.json"
    argv = ["export", "reports", "-c", str(config_path), "--format", "open311", "-o", str(out)]
    assert main(argv) == 0
    requests = json.loads(out.read_text(encoding="utf-8"))
    assert [(r["service_code"], r["service_name"], r["address"]) for r in requests] == [
        ("exit", "消防通道/楼道堵塞", "和苑小区 3号楼"),
        ("gas", "燃气泄漏", "和苑小区 1号楼 地下车库入口"),
        ("water", "漏水", None),
    ]
    assert [r["address_id"] for r in requests] == ["main/3", "main/1", None]


async def test_backup_under_concurrent_writes_is_intact(config_path: Path, tmp_path: Path) -> None:
    await _populate(config_path)
    config = load_config(config_path)
    db = await Database.open(config.database_path)  # the running bot
    stop = asyncio.Event()

    async def keep_writing() -> int:
        n = 0
        while not stop.is_set():
            async with db.transaction() as tx:
                await tx.execute(
                    "INSERT INTO audit_log (actor_id, action, subject, detail, created_at)"
                    " VALUES (NULL, 'load', ?, ?, ?)",
                    (f"row:{n}", "x" * 500, NOW.isoformat()),
                )
            n += 1
            await asyncio.sleep(0)
        return n

    writer = asyncio.create_task(keep_writing())
    await asyncio.sleep(0.05)
    target = tmp_path / "backups"
    target.mkdir()
    code = await asyncio.to_thread(main, ["backup", str(target), "-c", str(config_path)])
    stop.set()
    written = await writer
    await db.close()
    assert code == 0 and written > 0
    [copy] = list(target.iterdir())
    assert copy.name.startswith("linli-") and copy.suffix == ".sqlite3"
    conn = sqlite3.connect(copy)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM members").fetchone()[0] == 2
        assert (
            0
            < conn.execute("SELECT count(*) FROM audit_log WHERE action = 'load'").fetchone()[0]
            <= written
        )
    finally:
        conn.close()
    # an existing file is not overwritten without --force
    assert await asyncio.to_thread(main, ["backup", str(copy), "-c", str(config_path)]) == 1
    again = ["backup", str(copy), "-c", str(config_path), "--force"]
    assert await asyncio.to_thread(main, again) == 0
