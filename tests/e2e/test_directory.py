"""`linli import places` and `linli export places`, as an organizer runs them: every bad
row named with its reason and nothing imported; a good file replaces the list; the export
imports again unchanged (CSV and XLSX)."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import pytest
from openpyxl import Workbook

from linli.bot.cli import main
from linli.bot.config import load_config
from linli.storage import directory as directory_db
from linli.storage.db import Database

HEADER = "name,category,address,lat,lon,phone,note,facilities,keeper,mon,tue,wed,thu,fri,sat,sun\n"
GOOD = [
    "老百姓大药房,pharmacy,和平路1号,39.1262,117.1950,022-1234,居民九折,,,08:00-21:00,08:00-21:00,08:00-21:00,08:00-21:00,08:00-21:00,08:00-21:00,closed\n",
    '和苑骑手驿站,station,和苑东门,39.1253,117.1950,,,"water,charging",2020,24h,24h,24h,24h,24h,24h,24h\n',
]


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        '[storage]\ndatabase = "linli.sqlite3"\n'
        '[[community.compounds]]\nid = "main"\nname = "和苑小区"\nbuildings = ["1"]\n',
        encoding="utf-8",
    )
    return path


def names(config_path: Path) -> list[str]:
    async def read() -> list[str]:
        db = await Database.open(load_config(config_path).database_path)
        try:
            _, rows = await directory_db.export_places(db, None)  # type: ignore[arg-type]
            return [r[0] for r in rows]
        finally:
            await db.close()

    return asyncio.run(read())


def test_a_file_with_bad_rows_imports_nothing_and_names_each(
    config_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.csv"
    good.write_text(HEADER + "".join(GOOD), encoding="utf-8-sig")
    assert main(["import", "places", str(good), "-c", str(config_path)]) == 0
    assert "imported 2 places" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text(
        HEADER + GOOD[0]
        + "赌场,casino,,39.1,117.1,,,,,,,,,,,\n"
        + "无名药店,pharmacy,,north,117.1,,,,,,,,,,,\n"
        + "午休诊所,clinic,,39.12,117.19,,,,,9-5,,,,,,\n",
        encoding="utf-8",
    )  # fmt: skip
    assert main(["import", "places", str(bad), "-c", str(config_path)]) == 1
    err = capsys.readouterr().err
    assert "row 3: unknown category 'casino'" in err
    assert "row 4: lat/lon 'north', '117.1' is not a location" in err
    assert "row 5: mon hours '9-5'" in err
    assert "nothing imported (3 bad rows)" in err
    assert names(config_path) == ["老百姓大药房", "和苑骑手驿站"]  # the good file's list stands


def test_export_then_import_again_csv_and_xlsx(
    config_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.csv"
    good.write_text(HEADER + "".join(GOOD), encoding="utf-8")
    assert main(["import", "places", str(good), "-c", str(config_path)]) == 0
    out = tmp_path / "places.csv"
    assert main(["export", "places", "-c", str(config_path), "-o", str(out)]) == 0
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert rows[0][:3] == ["name", "category", "address"]
    assert rows[2][7:10] == ["water,charging", "2020", "24h"]
    assert rows[1][-1] == "closed"
    assert main(["import", "places", str(out), "-c", str(config_path)]) == 0
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    xlsx = tmp_path / "places.xlsx"
    book.save(xlsx)
    capsys.readouterr()
    assert main(["import", "places", str(xlsx), "-c", str(config_path)]) == 0
    assert "imported 2 places" in capsys.readouterr().out
    assert names(config_path) == ["老百姓大药房", "和苑骑手驿站"]
