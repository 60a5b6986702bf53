"""Exports as files: CSV (opens in Excel and the csv module) and XLSX, safe against formulas.

Values arrive as storage returns them (text, numbers, ISO times); the writers keep numbers
as numbers, and never let a resident's text become a spreadsheet formula ("=HYPERLINK(...)"
typed as a name stays text). XLSX says so in the file: every text is a text cell, kept
exactly. CSV cannot say it, so text that a spreadsheet would take for a formula gets a
leading apostrophe (OWASP's advice for CSV injection).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from linli.core.outcomes import Refused

Table = tuple[list[str], list[list[Any]]]
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class Format(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    OPEN311 = "open311"  # GeoReport v2 JSON, for reports only

    @property
    def extension(self) -> str:
        return "json" if self is Format.OPEN311 else self.value

    @property
    def mime(self) -> str:
        return {
            Format.CSV: "text/csv",
            Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format.OPEN311: "application/json",
        }[self]


@dataclass(frozen=True, slots=True)
class Open311Names:
    """What an Open311 file calls things, in one language: hazard categories by key, and
    buildings by id ("heyuan/3" -> "和苑小区 3号楼"). A key missing here is written as is."""

    services: Mapping[str, str] = field(default_factory=dict)
    places: Mapping[str, str] = field(default_factory=dict)

    def place(self, building_id: str | None, typed: str) -> str | None:
        """The address a person would read: the building's name, then what the reporter typed
        (unless it only repeats the building); None when neither is known."""
        building = self.places.get(building_id, building_id) if building_id else ""
        if typed and building and "".join(typed.split()) == "".join(building.split()):
            typed = ""
        return " ".join(filter(None, [building, typed])) or None


def parse_since(text: str | None, tz: ZoneInfo) -> datetime | Refused | None:
    """`--since 2026-11-01`: from that day's midnight in the community's time zone."""
    if text is None or not text.strip():
        return None
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        return Refused("bad_since", {"value": text.strip()[:20]})
    return datetime.combine(day, time(0, 0), tzinfo=tz)


_STORED_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(\+00:00|Z)$")


def _csv_text(value: Any) -> Any:
    """CSV has no text type: a value a spreadsheet would evaluate is marked with an apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _cell(value: Any, tz: ZoneInfo) -> Any:
    """A value as a spreadsheet should hold it: numbers stay numbers, times local, text as is."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, datetime):
        local = value.astimezone(tz) if value.tzinfo else value
        return local.replace(tzinfo=None, microsecond=0)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, str) and _STORED_INSTANT.match(value):
        # Instants as storage keeps them (ISO, UTC) become the community's local time too.
        return _cell(datetime.fromisoformat(value), tz)
    return str(value)


def to_csv(table: Table, tz: ZoneInfo) -> bytes:
    """UTF-8 with a byte-order mark, so Excel shows Chinese correctly."""
    headers, rows = table
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if (c := _cell(v, tz)) is None else _csv_text(c) for v in row])
    return buffer.getvalue().encode("utf-8-sig")


def _xlsx_cell(sheet: Any, value: Any) -> Any:
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        # openpyxl marks text starting with "=" as a formula; a text cell ('s') keeps the exact
        # characters and Excel evaluates nothing (an apostrophe would be shown as part of it).
        cell.data_type = "s"
        # Excel's own "this is text" mark (not shown in the cell): it stays text when edited.
        cell.quotePrefix = value.startswith(_FORMULA_START)
    return cell


def to_xlsx(table: Table, tz: ZoneInfo, title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    headers, rows = table
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31] or "export")
    header_cells = []
    for name in headers:
        cell = _xlsx_cell(sheet, name)
        cell.font = Font(bold=True)
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        sheet.append([_xlsx_cell(sheet, _cell(value, tz)) for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_json(items: Sequence[dict[str, Any]]) -> bytes:
    return json.dumps(list(items), ensure_ascii=False, indent=2, default=str).encode("utf-8")


def file_name(what: str, fmt: Format, now: datetime, tz: ZoneInfo) -> str:
    return f"linli-{what}-{now.astimezone(tz):%Y%m%d-%H%M}.{fmt.extension}"
