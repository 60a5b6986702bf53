"""What can be exported, and the members export (the other tables come from their features).

Each exporter is `async (db, since) -> (headers, rows)`. Features provide theirs in their own
storage modules; they are looked up by name, so an export whose feature is not installed
is reported as unavailable instead of breaking the rest.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from linli.core.clock import to_iso
from linli.core.exports import Format, Open311Names, to_csv, to_json, to_xlsx
from linli.core.outcomes import Refused
from linli.storage.db import Database

Table = tuple[list[str], list[list[Any]]]
_BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)
Exporter = Callable[[Database, datetime | None], Awaitable[Table]]


@dataclass(frozen=True, slots=True)
class Source:
    name: str  # what `linli export <name>` and /export call it
    module: str  # linli.storage.<module>
    function: str
    open311: str | None = None  # a function giving GeoReport v2 dicts, if any


SOURCES: tuple[Source, ...] = (
    Source("members", "exports", "export_members_public"),
    Source("reports", "hazards", "export_reports", open311="open311_reports"),
    Source("signups", "events", "export_signups"),
    Source("points", "points", "export_ledger"),
    Source("hours", "timebank", "export_hours"),
    Source("polls", "polls", "export_polls"),
    Source("fund", "fund", "export_fund"),
    Source("bookings", "spaces", "export_bookings"),
    Source("places", "directory", "export_places"),
)
NAMES: tuple[str, ...] = tuple(s.name for s in SOURCES)


def source(name: str) -> Source | None:
    return next((s for s in SOURCES if s.name == name), None)


def _function(module: str, function: str) -> Any | None:
    try:
        loaded = importlib.import_module(f"linli.storage.{module}")
    except ImportError:
        return None
    return getattr(loaded, function, None)


def available(name: str) -> bool:
    found = source(name)
    return found is not None and _function(found.module, found.function) is not None


async def export_table(
    db: Database, name: str, since: datetime | None, *, include_personal: bool = False
) -> Table | None:
    """The rows of one export, or None if that feature is not installed."""
    if name == "members":
        return await export_members(db, since, include_personal)
    found = source(name)
    function = _function(found.module, found.function) if found else None
    if function is None:
        return None
    # Every exporter gets a real instant (some features' exporters do not accept None).
    table: Table = await function(db, since or _BEGINNING)
    return table


async def open311(
    db: Database, since: datetime | None, names: Open311Names
) -> list[dict[str, Any]] | None:
    function = _function("hazards", "open311_reports")
    if function is None:
        return None
    items: list[dict[str, Any]] = await function(db, since or _BEGINNING, names)
    return items


async def export_members(db: Database, since: datetime | None, include_personal: bool) -> Table:
    """Members who joined since `since`; names, usernames, Telegram ids and units only with
    `include_personal`. Forgotten members (/forgetme) are left out."""
    personal = ["name", "username", "telegram_id", "unit"] if include_personal else []
    headers = [
        "member_id", *personal, "compound", "building", "roles", "verified", "joined",
        "created_at", "verified_at",
    ]  # fmt: skip
    rows = await db.fetchall(
        "SELECT m.id, m.name, m.username, (SELECT CAST(a.external_id AS INTEGER) FROM accounts a"
        "   WHERE a.platform = 'telegram' AND a.member_id = m.id) AS telegram_id,"
        " h.unit, m.building_id, m.verified,"
        " m.joined, m.created_at, m.verified_at,"
        " (SELECT group_concat(role, ' ') FROM (SELECT role FROM member_roles r"
        "   WHERE r.member_id = m.id ORDER BY role)) AS roles"
        " FROM members m LEFT JOIN households h ON h.id = m.household_id"
        " WHERE m.forgotten_at IS NULL AND m.created_at >= ? ORDER BY m.id",
        (to_iso(since) if since else "",),
    )
    out: list[list[Any]] = []
    for r in rows:
        compound, _, building = (r["building_id"] or "").partition("/")
        roles = " ".join(filter(None, ["resident" if r["unit"] else "", r["roles"] or ""]))
        values = [r["name"], r["username"], r["telegram_id"], r["unit"]] if include_personal else []
        out.append([
            r["id"], *values, compound, building, roles, bool(r["verified"]),
            bool(r["joined"]), r["created_at"], r["verified_at"],
        ])  # fmt: skip
    return headers, out


async def export_members_public(db: Database, since: datetime | None) -> Table:
    return await export_members(db, since, False)


async def export_file(
    db: Database,
    name: str,
    fmt: Format,
    since: datetime | None,
    tz: ZoneInfo,
    *,
    include_personal: bool = False,
    names: Open311Names | None = None,
) -> bytes | Refused:
    """One export as the bytes of its file, or why not (unknown, not installed, wrong format).
    An Open311 file needs `names` (what to call categories and buildings; the caller knows the
    config and the language). It reads whole tables: off the loop (`offloaded`), so taps
    meanwhile are not held up."""
    db = db.offloaded()
    if source(name) is None:
        return Refused("unknown_export", {"what": name[:30], "names": ", ".join(NAMES)})
    if fmt is Format.OPEN311:
        if name != "reports":
            return Refused("open311_reports_only")
        if names is None:
            raise ValueError("an Open311 export needs the names of categories and buildings")
        items = await open311(db, since, names)
        return Refused("not_available", {"what": name}) if items is None else to_json(items)
    table = await export_table(db, name, since, include_personal=include_personal)
    if table is None:
        return Refused("not_available", {"what": name})
    return to_csv(table, tz) if fmt is Format.CSV else to_xlsx(table, tz, name)
