"""`linli export` and `linli backup`: take the community's data out, while the bot runs."""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
from pathlib import Path
from typing import Any

from linli.bot.config import load_config
from linli.bot.render import Renderer
from linli.bot.views.exports import open311_names
from linli.core.clock import system_clock
from linli.core.exports import Format, file_name, parse_since
from linli.core.outcomes import Refused
from linli.storage import backup as backup_db
from linli.storage import exports as exports_db
from linli.storage.db import Database

DEFAULT_CONFIG = "config.toml"


def add_subcommands(subparsers: Any) -> None:
    """Register `export` and `backup` on the `linli` command line."""
    export = subparsers.add_parser(
        "export", help="export members, reports, sign-ups, ledgers or polls as CSV or XLSX"
    )
    export.add_argument("what", choices=exports_db.NAMES, help="what to export")
    export.add_argument("-c", "--config", default=DEFAULT_CONFIG, help="config file (TOML)")
    export.add_argument(
        "--format",
        choices=[f.value for f in Format],
        default="csv",
        help="csv (default), xlsx, or open311 (GeoReport v2 JSON, reports only)",
    )
    export.add_argument("--since", help="only rows from this day on (YYYY-MM-DD, community time)")
    export.add_argument(
        "--include-personal",
        action="store_true",
        help="members: include names, usernames, Telegram ids and units",
    )
    export.add_argument(
        "-o", "--output", help="file to write (default: linli-<what>-<time>.<ext>; '-' = stdout)"
    )
    export.set_defaults(func=run_export)

    backup = subparsers.add_parser(
        "backup", help="copy the live database consistently (safe while the bot runs)"
    )
    backup.add_argument("path", help="the backup file, or a folder to put a dated one in")
    backup.add_argument("-c", "--config", default=DEFAULT_CONFIG, help="config file (TOML)")
    backup.add_argument("--force", action="store_true", help="overwrite an existing file")
    backup.set_defaults(func=run_backup)


def _fail(message: str) -> int:
    print(f"linli: {message}", file=sys.stderr)
    return 1


def run_export(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if not config.database_path.exists():
        return _fail(f"no database at {config.database_path}")
    since = parse_since(args.since, config.tz)
    if isinstance(since, Refused):
        return _fail(f"--since {args.since!r}: expected a date like 2026-11-01")
    fmt = Format(args.format)
    locale = config.community.default_locale
    names = open311_names(config, Renderer(config.tz), locale)

    async def produce() -> bytes | Refused:
        db = await Database.open(config.database_path, migrate=False)
        try:
            return await exports_db.export_file(
                db,
                args.what,
                fmt,
                since,
                config.tz,
                include_personal=args.include_personal,
                names=names,
            )
        finally:
            await db.close()

    data = asyncio.run(produce())
    if isinstance(data, Refused):
        if data.reason == "open311_reports_only":
            return _fail("--format open311 is for reports only")
        return _fail(f"{args.what}: this export is not available in this installation")
    if args.output == "-":
        sys.stdout.buffer.write(data)
        return 0
    target = Path(args.output or file_name(args.what, fmt, system_clock(), config.tz))
    target.write_bytes(data)
    print(f"wrote {target} ({len(data)} bytes)")
    return 0


def backup_target(path: Path, stamp: str) -> Path:
    return path / f"linli-{stamp}.sqlite3" if path.is_dir() else path


def run_backup(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    if not config.database_path.exists():
        return _fail(f"no database at {config.database_path}")
    stamp = f"{system_clock().astimezone(config.tz):%Y%m%d-%H%M%S}"
    target = backup_target(Path(args.path), stamp)
    if target.exists() and not args.force:
        return _fail(f"{target} exists (use --force to overwrite it)")
    if not target.parent.is_dir():
        return _fail(f"no folder {target.parent}")

    async def copy() -> int:
        db = await Database.open(config.database_path, migrate=False)
        try:
            return await backup_db.backup(db, target)
        finally:
            await db.close()

    try:
        size = asyncio.run(copy())
    except (RuntimeError, sqlite3.Error, OSError) as exc:
        return _fail(f"backup failed: {exc}")
    print(f"backed up {config.database_path} to {target} ({size} bytes, integrity ok)")
    return 0
