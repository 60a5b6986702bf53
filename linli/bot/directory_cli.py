"""`linli import places FILE.csv|xlsx`: the life circle's places from a spreadsheet.

Every row is checked (core.directory.check_places); if any row is bad, each bad row is named
with its reason and nothing is imported. Otherwise the list is replaced as a whole in one
transaction (export with `linli export places`, edit, import again).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import sys
from pathlib import Path
from typing import Any

from linli.bot.config import load_config
from linli.core.clock import system_clock
from linli.core.directory import RowError, check_places
from linli.storage import directory as directory_db
from linli.storage.db import Database

DEFAULT_CONFIG = "config.toml"
_REASONS = {
    "missing_columns": "missing columns: {columns}",
    "unknown_columns": "unknown columns: {columns}",
    "no_rows": "no places in the file",
    "empty": "{column} is empty",
    "too_long": "{column} is longer than {max} characters",
    "unknown_category": "unknown category {value!r} (see [directory] place_categories)",
    "bad_location": "lat/lon {lat!r}, {lon!r} is not a location",
    "unknown_facility": "unknown facility {value!r} (seats, water, charging, toilet, microwave)",
    "bad_keeper": "keeper {value!r} is not a Telegram user id",
    "bad_hours": "{column} hours {value!r}: use 08:00-21:00, 08:00-12:00,14:00-18:00, 24h or closed",
}


def add_subcommands(subparsers: Any) -> None:
    """Register `import` on the `linli` command line."""
    imp = subparsers.add_parser("import", help="import the life circle's places from CSV or XLSX")
    imp.add_argument("what", choices=["places"], help="what to import")
    imp.add_argument("file", help="a .csv (UTF-8) or .xlsx file with the export's columns")
    imp.add_argument("-c", "--config", default=DEFAULT_CONFIG, help="config file (TOML)")
    imp.set_defaults(func=run_import)


def describe(error: RowError) -> str:
    text = _REASONS.get(error.reason, error.reason).format(**error.detail)
    return f"row {error.row}: {text}"


def read_table(path: Path) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a CSV (UTF-8, with or without BOM) or the first sheet of an XLSX."""
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        sheet = load_workbook(path, read_only=True, data_only=True).worksheets[0]
        rows = [
            ["" if c is None else str(c) for c in row] for row in sheet.iter_rows(values_only=True)
        ]
    else:
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    return (rows[0], rows[1:]) if rows else ([], [])


def run_import(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    path = Path(args.file)
    if not path.is_file():
        print(f"linli: no file {path}", file=sys.stderr)
        return 1
    try:
        header, rows = read_table(path)
    except (OSError, UnicodeDecodeError, ValueError, csv.Error) as exc:
        print(f"linli: cannot read {path}: {exc}", file=sys.stderr)
        return 1
    categories = [c.key for c in config.directory.place_categories]
    checked = check_places(header, rows, categories)
    if not checked.ok:
        for error in checked.errors:
            print(f"linli: {describe(error)}", file=sys.stderr)
        print(f"linli: nothing imported ({len(checked.errors)} bad rows)", file=sys.stderr)
        return 1

    async def store() -> int:
        db = await Database.open(config.database_path)
        try:
            return await directory_db.replace_places(db, checked.rows, system_clock())
        finally:
            await db.close()

    count = asyncio.run(store())
    print(f"imported {count} places from {path} (the previous list was replaced)")
    return 0
