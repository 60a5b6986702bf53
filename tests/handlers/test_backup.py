"""The daily backup job: once a day at the configured time, intact, keeping the last N."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from linli.core.broadcasts import backup_due, backups_to_delete
from linli.sim.harness import Harness


def test_due_once_a_day_after_the_time() -> None:
    tz = ZoneInfo("Asia/Shanghai")
    assert backup_due(datetime(2026, 11, 26, 3, 29, tzinfo=tz), "03:30", None) is None
    assert backup_due(datetime(2026, 11, 26, 3, 30, tzinfo=tz), "03:30", None) == "2026-11-26"
    assert backup_due(datetime(2026, 11, 26, 23, 0, tzinfo=tz), "03:30", "2026-11-26") is None
    assert (
        backup_due(datetime(2026, 11, 27, 9, 0, tzinfo=tz), "03:30", "2026-11-25") == "2026-11-27"
    )
    names = [f"linli-daily-2026-11-2{d}.sqlite3" for d in range(1, 6)] + ["mine.sqlite3"]
    assert backups_to_delete(names, 3) == [
        "linli-daily-2026-11-21.sqlite3",
        "linli-daily-2026-11-22.sqlite3",
    ]


async def test_daily_backups_keep_the_last_two(make_harness: object, tmp_path: Path) -> None:
    folder = tmp_path / "b"
    h: Harness = await make_harness(
        {
            "broadcasts": {  # type: ignore[operator]
                "backup_enabled": True,
                "backup_dir": str(folder),
                "backup_keep": 2,
                "backup_time": "03:30",
            }
        }
    )
    h.clock.set(datetime(2026, 11, 25, 19, 0, tzinfo=ZoneInfo("UTC")))  # 03:00 in Shanghai
    await h.tick()
    assert not folder.exists()
    for _ in range(4):
        h.clock.advance(hours=1)
        await h.tick()  # 04:00 .. 07:00: one backup that day, not four
    assert sorted(p.name for p in folder.iterdir()) == ["linli-daily-2026-11-26.sqlite3"]
    for _ in range(3):
        h.clock.advance(days=1)
        await h.tick()
    assert sorted(p.name for p in folder.iterdir()) == [
        "linli-daily-2026-11-28.sqlite3",
        "linli-daily-2026-11-29.sqlite3",
    ]
    conn = sqlite3.connect(folder / "linli-daily-2026-11-29.sqlite3")
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM backups").fetchone()[0] >= 3
    finally:
        conn.close()
