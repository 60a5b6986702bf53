"""Export files: the csv module and openpyxl read back exactly the rows, formulas stay text."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from linli.core.exports import Format, file_name, parse_since, to_csv, to_xlsx
from linli.core.outcomes import Refused

TZ = ZoneInfo("Asia/Shanghai")
TABLE = (
    ["id", "name", "amount", "when", "note"],
    [
        [1, "王芳", 10, datetime(2026, 11, 26, 2, 0, tzinfo=UTC), None],
        [2, '=HYPERLINK("http://evil")', -5, "2026-11-26T02:00:00+00:00", 'a,b\n"c"'],
    ],
)


def test_csv_reads_back_with_the_csv_module() -> None:
    data = to_csv(TABLE, TZ)
    assert data.startswith(b"\xef\xbb\xbf")  # Excel needs the BOM to show Chinese
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows == [
        ["id", "name", "amount", "when", "note"],
        ["1", "王芳", "10", "2026-11-26 10:00:00", ""],
        ["2", '\'=HYPERLINK("http://evil")', "-5", "2026-11-26 10:00:00", 'a,b\n"c"'],
    ]


def test_xlsx_reads_back_with_openpyxl_and_keeps_types() -> None:
    book = load_workbook(io.BytesIO(to_xlsx(TABLE, TZ, "points")))
    sheet = book["points"]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["id", "name", "amount", "when", "note"]
    assert rows[1] == [1, "王芳", 10, datetime(2026, 11, 26, 10, 0), None]
    assert rows[2][1] == '=HYPERLINK("http://evil")' and rows[2][2] == -5
    assert sheet.cell(3, 2).data_type == "s"  # text, not a formula


def test_xlsx_keeps_formula_like_text_exactly_as_a_text_cell() -> None:
    names = ["=1+2 Formula", "+86 138 0000", "-负数", "@SUM(A1)", "=cmd|' /C calc'!A0"]
    data = to_xlsx((["=name"], [[n] for n in names]), TZ, "members")
    sheet = load_workbook(io.BytesIO(data))["members"]
    cells = [row[0] for row in sheet.iter_rows()]
    assert [c.value for c in cells] == ["=name", *names]  # no apostrophe for Excel to show
    assert {c.data_type for c in cells} == {"s"}  # text cells: nothing is evaluated
    assert all(c.quotePrefix for c in cells)  # and they stay text if someone edits them
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml


def test_since_is_a_local_day() -> None:
    assert parse_since("2026-11-01", TZ) == datetime(2026, 11, 1, tzinfo=TZ)
    assert parse_since(None, TZ) is None
    assert parse_since("yesterday", TZ) == Refused("bad_since", {"value": "yesterday"})


def test_file_name() -> None:
    when = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    assert file_name("points", Format.XLSX, when, TZ) == "linli-points-20261126-1000.xlsx"
    assert file_name("reports", Format.OPEN311, when, TZ).endswith(".json")


def test_stored_instants_are_exported_in_local_time() -> None:
    from zoneinfo import ZoneInfo

    from linli.core.exports import to_csv

    table = (["when", "note"], [["2026-11-26T02:00:00+00:00", "2026-11-26 is a date, left alone"]])
    text = to_csv(table, ZoneInfo("Asia/Shanghai")).decode("utf-8-sig")
    assert text.splitlines()[1] == '2026-11-26 10:00:00,"2026-11-26 is a date, left alone"'
