"""Part of measurement 3: the directory's /nearby over 100 / 10,000 places and /services over
50 / 5,000 offers. Goal: large/small < 2 (both read what is near the member, never the
whole table).

/nearby: the same 100 places lie within the member's 15-minute circle in both databases;
the large one adds 9,900 elsewhere in a city-sized box around it (a city-wide list), which
the cell index leaves unread. /services: offers spread over every building and the ten
categories; a category's first page, nearest buildings first.
"""

from __future__ import annotations

import random
from pathlib import Path

from bench import community
from bench.fund import _median_ms
from bench.table import Plan, Row
from linli.core.clock import system_clock
from linli.core.directory import (
    PlaceRow,
    Point,
    WeeklyHours,
    buildings_nearest_first,
    nearby,
    parse_day_hours,
)
from linli.storage import directory as directory_db
from linli.storage.db import Database

M = "3 storage"
HOME = Point(39.1250, 117.1950)
CATEGORIES = ("repairs", "electrical", "tutoring", "haircut", "elder", "childcare", "health",
              "advice", "computer", "other")  # fmt: skip
PLACE_KINDS = ("grocery", "pharmacy", "clinic", "barber", "bank", "lockers", "station")


def _places(count: int, rng: random.Random) -> list[PlaceRow]:
    hours = parse_day_hours("08:00-21:00")
    assert isinstance(hours, tuple)
    week = WeeklyHours((hours,) * 7)
    near = [(HOME.lat + rng.uniform(-0.008, 0.008), HOME.lon + rng.uniform(-0.008, 0.008))
            for _ in range(min(count, 100))]  # fmt: skip
    # The rest: a 40 km box around the community, outside its 15-minute circle.
    far: list[tuple[float, float]] = []
    while len(near) + len(far) < count:
        lat, lon = HOME.lat + rng.uniform(-0.2, 0.2), HOME.lon + rng.uniform(-0.25, 0.25)
        if abs(lat - HOME.lat) > 0.03 or abs(lon - HOME.lon) > 0.04:
            far.append((lat, lon))
    return [PlaceRow(f"P{i}", PLACE_KINDS[i % len(PLACE_KINDS)], "", lat, lon, week)
            for i, (lat, lon) in enumerate(near + far)]  # fmt: skip


async def _database(plan: Plan, places: int, offers: int) -> Path:
    path = Path(plan.workdir) / f"directory-{places}p-{offers}o.sqlite3"
    path.unlink(missing_ok=True)
    rng = random.Random(16)
    db = await Database.open(path)
    try:
        now = system_clock()
        await directory_db.add_places(db, _places(places, rng), now)
        buildings = community.building_ids()
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO members (id, name, referral_code, created_at)"
                " VALUES (1, 'p', 'bench', ?)",
                (now.isoformat(),),
            )
            await tx.executemany(
                "INSERT INTO directory_offers (member_id, building_id, category, title,"
                " description, payment, price, available, visibility, status, thanks, created_at)"
                " VALUES (1, ?, ?, ?, '', 'free', '', '', 'community', 'active', ?, ?)",
                [(buildings[i % len(buildings)], CATEGORIES[i % len(CATEGORIES)], f"O{i}",
                  rng.randint(0, 20), now.isoformat()) for i in range(offers)],
            )  # fmt: skip
    finally:
        await db.close()
    return path


async def _timings(path: Path, calls: int) -> dict[str, float]:
    db = await Database.open(path, migrate=False)
    structure = community.config(path).structure()
    home = community.building_ids()[0]
    order = buildings_nearest_first(structure, home)
    try:

        async def around() -> object:  # what /nearby reads and sorts
            found = await directory_db.places_around(db, HOME, None)
            return nearby(HOME, found, system_clock(), limit=10)

        async def services() -> object:  # what /services <category> reads
            return await directory_db.browse(db, "repairs", home, order, structure)

        return {"/nearby": await _median_ms(around, calls),
                "/services": await _median_ms(services, calls)}  # fmt: skip
    finally:
        await db.close()


async def rows(plan: Plan) -> list[Row]:
    calls = 30 if plan.quick else 200
    small = await _timings(await _database(plan, 100, 50), calls)
    large = await _timings(await _database(plan, 10_000, 5_000), calls)
    sizes = {"/nearby": "100 / 10,000 places", "/services": "50 / 5,000 offers"}
    out = []
    for name, ms in small.items():
        ratio = large[name] / ms
        out.append(Row(M, f"{name}: ms at {sizes[name]}, ratio", ratio, "x", "< 2", ratio < 2,
                       f"{ms:.2f} / {large[name]:.2f} ms"))  # fmt: skip
    return out
