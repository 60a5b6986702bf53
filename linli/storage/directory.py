"""The neighbourhood directory: offers, requests, their matches, places, notices, joins.

Every change that a rule guards (asking, answering, choosing, confirming a service) reads
and writes in one BEGIN IMMEDIATE transaction with a status check, so two taps at once
change it once. A confirmed free service becomes a time-bank log, confirmed through the
time bank's own rules (hours, floor, volunteer points under the key `timebank:<log id>`),
in the same transaction, and the match keeps the log's id (unique): exactly once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from linli.core.clock import from_iso, to_iso
from linli.core.community import Community, Role
from linli.core.directory import (
    PLACE_COLUMNS,
    HelpRequest,
    Match,
    MatchStatus,
    Offer,
    OfferDraft,
    OfferStatus,
    Payment,
    Place,
    PlaceRow,
    Point,
    RequestStatus,
    Visibility,
    WeeklyHours,
    can_answer,
    can_choose,
    can_confirm,
    can_keep,
    can_offer_help,
    can_request,
    can_thank,
    cell_of,
    cells_around,
    place_cells,
    visible_to,
    within_rate,
)
from linli.core.outcomes import Refused, RefusedError
from linli.core.points import EarnRules
from linli.core.timebank import ServiceLog
from linli.storage import timebank as timebank_db
from linli.storage.audit import audit
from linli.storage.db import Database, Row, Tx

Table = tuple[list[str], list[list[str]]]
_DAY = timedelta(days=1)


def _offer(row: Row) -> Offer:
    return Offer(
        id=row["id"], member_id=row["member_id"], building_id=row["building_id"],
        category=row["category"], title=row["title"], description=row["description"],
        payment=Payment(row["payment"]), price=row["price"], available=row["available"],
        visibility=Visibility(row["visibility"]), status=OfferStatus(row["status"]),
        thanks=row["thanks"], created_at=from_iso(row["created_at"]), reason=row["reason"],
    )  # fmt: skip


def _request(row: Row) -> HelpRequest:
    return HelpRequest(
        id=row["id"], member_id=row["member_id"], building_id=row["building_id"],
        category=row["category"], text=row["text"], when=row["when_text"],
        status=RequestStatus(row["status"]), created_at=from_iso(row["created_at"]),
    )  # fmt: skip


def _match(row: Row) -> Match:
    return Match(
        id=row["id"], offer_id=row["offer_id"], request_id=row["request_id"],
        provider_id=row["provider_id"], requester_id=row["requester_id"],
        status=MatchStatus(row["status"]), payment=Payment(row["payment"]), what=row["what"],
        created_at=from_iso(row["created_at"]),
        decided_at=from_iso(row["decided_at"]) if row["decided_at"] else None,
        log_id=row["log_id"], thanked=bool(row["thanked"]), comment=row["comment"],
    )  # fmt: skip


def _place(row: Row) -> Place:
    return Place(
        id=row["id"], name=row["name"], category=row["category"], address=row["address"],
        lat=row["lat"], lon=row["lon"], hours=WeeklyHours.decode(row["hours"]),
        phone=row["phone"], note=row["note"],
        facilities=tuple(f for f in row["facilities"].split(",") if f),
        keeper_account=row["keeper_account"],
    )  # fmt: skip


# --- Offers ---------------------------------------------------------------------------------


async def create_offer(
    db: Database,
    member_id: int,
    building_id: str | None,
    draft: OfferDraft,
    *,
    needs_approval: bool,
    per_day: int,
    now: datetime,
) -> Offer:
    """Save a complete draft as an offer (pending approval, or active); rate-limited per day."""
    if not draft.complete or draft.payment is None or draft.visibility is None:
        raise RefusedError(Refused("incomplete"))
    async with db.transaction() as tx:
        recent = await tx.scalar(
            "SELECT COUNT(*) FROM directory_offers WHERE member_id = ? AND created_at > ?",
            (member_id, to_iso(now - _DAY)),
        )
        refused = within_rate(int(recent), per_day)
        if refused is not None:
            raise RefusedError(refused)
        status = OfferStatus.PENDING if needs_approval else OfferStatus.ACTIVE
        offer_id = await tx.execute(
            "INSERT INTO directory_offers (member_id, building_id, category, title, description,"
            " payment, price, available, visibility, status, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (member_id, building_id, draft.category, draft.title, draft.description,
             draft.payment.value, draft.price, draft.available, draft.visibility.value,
             status.value, to_iso(now)),
        )  # fmt: skip
        offer = await get_offer(tx, offer_id)
    assert offer is not None
    return offer


async def get_offer(db: Database | Tx, offer_id: int) -> Offer | None:
    row = await db.fetchone("SELECT * FROM directory_offers WHERE id = ?", (offer_id,))
    return _offer(row) if row else None


async def member_offers(db: Database | Tx, member_id: int) -> list[Offer]:
    rows = await db.fetchall(
        "SELECT * FROM directory_offers WHERE member_id = ? AND status NOT IN"
        " ('withdrawn', 'taken_down') ORDER BY id",
        (member_id,),
    )
    return [_offer(r) for r in rows]


async def pending_offers(db: Database | Tx, limit: int = 20) -> list[Offer]:
    rows = await db.fetchall(
        "SELECT * FROM directory_offers WHERE status = 'pending' ORDER BY id LIMIT ?", (limit,)
    )
    return [_offer(r) for r in rows]


async def browse(
    db: Database,
    category: str,
    viewer_building: str | None,
    buildings_nearest_first: Sequence[str],
    community: Community,
    *,
    limit: int = 10,
) -> list[Offer]:
    """Active offers of a category the viewer may see: nearest buildings first, most thanked
    first within a building. One indexed query per building, each stopping at `limit`, so
    the cost follows the page, not the number of offers."""
    viewer = community.building(viewer_building) if viewer_building else None
    found: list[Offer] = []
    for building_id in buildings_nearest_first:
        if len(found) >= limit:
            break
        building = community.building(building_id)
        if building is None:
            continue
        allowed: tuple[str, ...]
        if building_id == viewer_building:
            allowed = ("building", "compound", "community")
        elif viewer is not None and building.compound_id == viewer.compound_id:
            allowed = ("compound", "community")
        else:
            allowed = ("community",)
        marks = ",".join("?" * len(allowed))
        rows = await db.fetchall(
            "SELECT * FROM directory_offers WHERE category = ? AND status = 'active'"
            f" AND building_id = ? AND visibility IN ({marks}) ORDER BY thanks DESC, id LIMIT ?",
            (category, building_id, *allowed, limit - len(found)),
        )
        found.extend(_offer(r) for r in rows)
    return found


async def set_offer_status(
    db: Database,
    offer_id: int,
    status: OfferStatus,
    *,
    actor_id: int,
    organizer: bool,
    now: datetime,
    reason: str = "",
) -> Offer:
    """The provider pauses, resumes or withdraws; an organizer approves or takes down."""
    async with db.transaction() as tx:
        offer = await get_offer(tx, offer_id)
        if offer is None:
            raise RefusedError(Refused("unknown_offer"))
        staff_only = status is OfferStatus.TAKEN_DOWN or (
            offer.status is OfferStatus.PENDING and status is OfferStatus.ACTIVE
        )
        if (staff_only and not organizer) or (not staff_only and offer.member_id != actor_id):
            raise RefusedError(Refused("not_yours"))
        if offer.status in (OfferStatus.WITHDRAWN, OfferStatus.TAKEN_DOWN):
            raise RefusedError(Refused("offer_closed"))
        if offer.status is OfferStatus.PENDING and status is OfferStatus.PAUSED:
            raise RefusedError(Refused("offer_pending"))
        await tx.execute(
            "UPDATE directory_offers SET status = ?, reason = ? WHERE id = ?",
            (status.value, reason, offer_id),
        )
        if staff_only:
            await audit(tx, actor_id, f"offer_{status.value}", f"offer:{offer_id}", reason, now)
        offer = await get_offer(tx, offer_id)
    assert offer is not None
    return offer


async def hide_all(db: Database, member_id: int) -> int:
    """Pause every active offer of the member at once; how many."""
    async with db.transaction() as tx:
        return await tx.rowcount(
            "UPDATE directory_offers SET status = 'paused' WHERE member_id = ?"
            " AND status = 'active'",
            (member_id,),
        )


# --- Asking for an offered service -------------------------------------------------------


async def ask(
    db: Database,
    offer_id: int,
    requester_id: int,
    requester_building: str | None,
    community: Community,
    *,
    per_day: int,
    now: datetime,
) -> tuple[Match, Offer]:
    async with db.transaction() as tx:
        offer = await get_offer(tx, offer_id)
        refused = can_request(offer, requester_id, requester_building, community)
        if refused is not None:
            raise RefusedError(refused)
        assert offer is not None
        waiting = await tx.scalar(
            "SELECT id FROM directory_matches WHERE offer_id = ? AND requester_id = ?"
            " AND status = 'asked'",
            (offer_id, requester_id),
        )
        if waiting is not None:
            raise RefusedError(Refused("already_asked"))
        recent = await tx.scalar(
            "SELECT COUNT(*) FROM directory_matches WHERE requester_id = ? AND offer_id IS NOT"
            " NULL AND created_at > ?",
            (requester_id, to_iso(now - _DAY)),
        )
        refused = within_rate(int(recent), per_day)
        if refused is not None:
            raise RefusedError(refused)
        match_id = await tx.execute(
            "INSERT INTO directory_matches (offer_id, provider_id, requester_id, status, payment,"
            " what, created_at) VALUES (?, ?, ?, 'asked', ?, ?, ?)",
            (offer_id, offer.member_id, requester_id, offer.payment.value, offer.title,
             to_iso(now)),
        )  # fmt: skip
        match = await get_match(tx, match_id)
    assert match is not None
    return match, offer


async def get_match(db: Database | Tx, match_id: int) -> Match | None:
    row = await db.fetchone("SELECT * FROM directory_matches WHERE id = ?", (match_id,))
    return _match(row) if row else None


async def answer(
    db: Database, match_id: int, provider_id: int, *, accept: bool, now: datetime
) -> Match:
    """The provider accepts (they are introduced) or declines a request, once."""
    async with db.transaction() as tx:
        match = await get_match(tx, match_id)
        refused = can_answer(match, provider_id)
        if refused is not None:
            raise RefusedError(refused)
        status = MatchStatus.ACCEPTED if accept else MatchStatus.DECLINED
        await tx.execute(
            "UPDATE directory_matches SET status = ?, decided_at = ? WHERE id = ?"
            " AND status = 'asked'",
            (status.value, to_iso(now), match_id),
        )
        match = await get_match(tx, match_id)
    assert match is not None
    return match


# --- Requests for help ----------------------------------------------------------------------


async def create_request(
    db: Database,
    member_id: int,
    building_id: str | None,
    category: str,
    text: str,
    when: str,
    *,
    per_day: int,
    now: datetime,
) -> HelpRequest:
    async with db.transaction() as tx:
        recent = await tx.scalar(
            "SELECT COUNT(*) FROM directory_requests WHERE member_id = ? AND created_at > ?",
            (member_id, to_iso(now - _DAY)),
        )
        refused = within_rate(int(recent), per_day)
        if refused is not None:
            raise RefusedError(refused)
        request_id = await tx.execute(
            "INSERT INTO directory_requests (member_id, building_id, category, text, when_text,"
            " status, created_at) VALUES (?, ?, ?, ?, ?, 'open', ?)",
            (member_id, building_id, category, text, when, to_iso(now)),
        )
        req = await get_request(tx, request_id)
    assert req is not None
    return req


async def get_request(db: Database | Tx, request_id: int) -> HelpRequest | None:
    row = await db.fetchone("SELECT * FROM directory_requests WHERE id = ?", (request_id,))
    return _request(row) if row else None


async def open_requests(
    db: Database | Tx, community: Community, viewer_building: str | None, limit: int = 10
) -> list[HelpRequest]:
    """The newest open requests from the viewer's compound (all, if they have no building)."""
    viewer = community.building(viewer_building) if viewer_building else None
    rows = await db.fetchall(
        "SELECT * FROM directory_requests WHERE status = 'open' AND"
        " (? IS NULL OR building_id LIKE ? || '/%') ORDER BY id DESC LIMIT ?",
        (viewer.compound_id if viewer else None, viewer.compound_id if viewer else "", limit),
    )
    return [_request(r) for r in rows]


async def offer_help(
    db: Database, request_id: int, helper_id: int, now: datetime
) -> tuple[Match, HelpRequest]:
    """A neighbour says "I can help" (once per request)."""
    async with db.transaction() as tx:
        req = await get_request(tx, request_id)
        refused = can_offer_help(req, helper_id)
        if refused is not None:
            raise RefusedError(refused)
        assert req is not None
        done = await tx.scalar(
            "SELECT 1 FROM directory_matches WHERE request_id = ? AND provider_id = ?",
            (request_id, helper_id),
        )
        if done:
            raise RefusedError(Refused("already_offered"))
        match_id = await tx.execute(
            "INSERT INTO directory_matches (request_id, provider_id, requester_id, status,"
            " payment, what, created_at) VALUES (?, ?, ?, 'offered', 'free', ?, ?)",
            (request_id, helper_id, req.member_id, req.text[:200], to_iso(now)),
        )
        match = await get_match(tx, match_id)
    assert match is not None
    return match, req


async def choose(db: Database, match_id: int, requester_id: int, now: datetime) -> list[Match]:
    """The requester picks one helper: introduced; the others not chosen; the request matched.
    The chosen match first, then the others."""
    async with db.transaction() as tx:
        match = await get_match(tx, match_id)
        refused = can_choose(match, requester_id)
        if refused is not None:
            raise RefusedError(refused)
        assert match is not None and match.request_id is not None
        await tx.execute(
            "UPDATE directory_matches SET status = 'accepted', decided_at = ? WHERE id = ?",
            (to_iso(now), match_id),
        )
        others = await tx.fetchall(
            "SELECT id FROM directory_matches WHERE request_id = ? AND status = 'offered'",
            (match.request_id,),
        )
        await tx.execute(
            "UPDATE directory_matches SET status = 'not_chosen', decided_at = ?"
            " WHERE request_id = ? AND status = 'offered'",
            (to_iso(now), match.request_id),
        )
        await tx.execute(
            "UPDATE directory_requests SET status = 'matched' WHERE id = ?", (match.request_id,)
        )
        out = [await get_match(tx, match_id)] + [await get_match(tx, r["id"]) for r in others]
    return [m for m in out if m is not None]


async def close_request(db: Database, request_id: int, member_id: int) -> bool:
    return (
        await db.write(
            "UPDATE directory_requests SET status = 'closed' WHERE id = ? AND member_id = ?"
            " AND status = 'open'",
            (request_id, member_id),
        )
        == 1
    )


async def member_requests(db: Database | Tx, member_id: int) -> list[HelpRequest]:
    rows = await db.fetchall(
        "SELECT * FROM directory_requests WHERE member_id = ? AND status = 'open' ORDER BY id",
        (member_id,),
    )
    return [_request(r) for r in rows]


async def providers_to_tell(
    db: Database, req: HelpRequest, community: Community, day: str
) -> list[int]:
    """Providers with an active offer of the request's category that the requester could
    see, not opted out, and not told yet today: claimed now (so told at most once a day)."""
    rows = await db.fetchall(
        "SELECT DISTINCT member_id, building_id, visibility FROM directory_offers"
        " WHERE category = ? AND status = 'active' AND member_id != ? AND member_id NOT IN"
        " (SELECT member_id FROM directory_optouts)",
        (req.category, req.member_id),
    )
    wanted = sorted({
        r["member_id"] for r in rows
        if visible_to(r["building_id"], Visibility(r["visibility"]), req.building_id, community)
    })  # fmt: skip
    claimed: list[int] = []
    async with db.transaction() as tx:
        for member_id in wanted:
            if await tx.rowcount(
                "INSERT OR IGNORE INTO directory_notices (member_id, day) VALUES (?, ?)",
                (member_id, day),
            ):
                claimed.append(member_id)
    return claimed


async def set_optout(db: Database, member_id: int, out: bool) -> None:
    if out:
        await db.write(
            "INSERT OR IGNORE INTO directory_optouts (member_id) VALUES (?)", (member_id,)
        )
    else:
        await db.write("DELETE FROM directory_optouts WHERE member_id = ?", (member_id,))


async def opted_out(db: Database | Tx, member_id: int) -> bool:
    return bool(
        await db.scalar("SELECT 1 FROM directory_optouts WHERE member_id = ?", (member_id,))
    )


# --- After the service ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Confirmed:
    match: Match
    log: ServiceLog | None  # the time bank's log, for a free service that happened
    points: int


async def confirm_service(
    db: Database,
    match_id: int,
    requester_id: int,
    *,
    happened: bool,
    minutes: int,
    floor_minutes: int,
    from_pool: bool,
    rules: EarnRules,
    now: datetime,
) -> Confirmed:
    """The requester says whether it happened. A free one that did becomes a time-bank log,
    confirmed by the requester through the time bank's rules; all in one transaction."""
    async with db.transaction() as tx:
        match = await get_match(tx, match_id)
        refused = can_confirm(match, requester_id)
        if refused is not None:
            raise RefusedError(refused)
        assert match is not None
        log, points = None, 0
        if happened and match.payment is Payment.FREE and minutes > 0:
            pending = await timebank_db.log_service_in(
                tx, giver_id=match.provider_id, receiver_id=requester_id, minutes=minutes,
                what=match.what[:200], from_pool=from_pool, now=now,
            )  # fmt: skip
            log, points = await timebank_db.confirm_in(
                tx, pending.id, actor_id=requester_id, is_organizer=False,
                floor_minutes=floor_minutes, rules=rules, now=now,
            )  # fmt: skip
        status = MatchStatus.DONE if happened else MatchStatus.NOT_DONE
        changed = await tx.rowcount(
            "UPDATE directory_matches SET status = ?, log_id = ?, decided_at = ? WHERE id = ?"
            " AND status = 'accepted'",
            (status.value, log.id if log else None, to_iso(now), match_id),
        )
        if changed != 1:  # pragma: no cover - the check above read the same row
            raise RefusedError(Refused("already_confirmed"))
        match = await get_match(tx, match_id)
    assert match is not None
    return Confirmed(match, log, points)


async def thank(db: Database, match_id: int, requester_id: int, comment: str = "") -> Match:
    """A thumbs-up (and a short comment) for a service that happened, once."""
    async with db.transaction() as tx:
        match = await get_match(tx, match_id)
        refused = can_thank(match, requester_id)
        if refused is not None:
            raise RefusedError(refused)
        assert match is not None
        await tx.execute(
            "UPDATE directory_matches SET thanked = 1, comment = ? WHERE id = ? AND thanked = 0",
            (comment, match_id),
        )
        if match.offer_id is not None:
            await tx.execute(
                "UPDATE directory_offers SET thanks = thanks + 1 WHERE id = ?", (match.offer_id,)
            )
        match = await get_match(tx, match_id)
    assert match is not None
    return match


async def set_comment(db: Database, match_id: int, requester_id: int, comment: str) -> bool:
    return (
        await db.write(
            "UPDATE directory_matches SET comment = ? WHERE id = ? AND requester_id = ?"
            " AND thanked = 1 AND comment = ''",
            (comment, match_id, requester_id),
        )
        == 1
    )


async def due_followups(db: Database | Tx, before: datetime, limit: int = 50) -> list[Match]:
    """Introductions made before `before` whose requester has not said whether it happened."""
    rows = await db.fetchall(
        "SELECT * FROM directory_matches WHERE status = 'accepted' AND decided_at < ?"
        " AND id NOT IN (SELECT match_id FROM directory_followups) ORDER BY id LIMIT ?",
        (to_iso(before), limit),
    )
    return [_match(r) for r in rows]


async def claim_followup(db: Database, match_id: int, now: datetime) -> bool:
    """Claimed before it is sent: a second tick or a restart finds it taken."""
    return (
        await db.write(
            "INSERT OR IGNORE INTO directory_followups (match_id, sent_at) VALUES (?, ?)",
            (match_id, to_iso(now)),
        )
        == 1
    )


async def release_followup(db: Database, match_id: int) -> None:
    """Given back only when the message surely did not leave."""
    await db.write("DELETE FROM directory_followups WHERE match_id = ?", (match_id,))


@dataclass(frozen=True, slots=True)
class Thanked:
    """An offer as organizers see its thanks: the count and the latest comments."""

    offer: Offer
    comments: tuple[str, ...]


async def most_thanked(db: Database | Tx, limit: int = 10, comments: int = 3) -> list[Thanked]:
    """Offers with thanks, most thanked first, each with its latest comments (organizers)."""
    rows = await db.fetchall(
        "SELECT * FROM directory_offers WHERE thanks > 0 ORDER BY thanks DESC, id LIMIT ?",
        (limit,),
    )
    out = []
    for row in rows:
        said = await db.fetchall(
            "SELECT comment FROM directory_matches WHERE offer_id = ? AND thanked = 1"
            " AND comment != '' ORDER BY decided_at DESC, id DESC LIMIT ?",
            (row["id"], comments),
        )
        out.append(Thanked(_offer(row), tuple(r["comment"] for r in said)))
    return out


# --- Places and stations --------------------------------------------------------------------


def _place_params(row: PlaceRow, now: datetime) -> tuple[object, ...]:
    return (
        row.name, row.category, row.address, row.lat, row.lon, cell_of(row.lat, row.lon),
        row.hours.encode(), row.phone, row.note, ",".join(row.facilities),
        row.keeper_account, to_iso(now),
    )  # fmt: skip


_INSERT_PLACE = (
    "INSERT INTO directory_places (name, category, address, lat, lon, cell, hours, phone, note,"
    " facilities, keeper_account, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


async def replace_places(db: Database, rows: Sequence[PlaceRow], now: datetime) -> int:
    """The whole list replaced by the spreadsheet's rows, in one transaction."""
    async with db.transaction() as tx:
        await tx.execute("DELETE FROM directory_places")
        await tx.executemany(_INSERT_PLACE, [_place_params(r, now) for r in rows])
        count = await tx.scalar("SELECT COUNT(*) FROM directory_places")
    return int(count)


async def add_places(db: Database, rows: Sequence[PlaceRow], now: datetime) -> None:
    async with db.transaction() as tx:
        await tx.executemany(_INSERT_PLACE, [_place_params(r, now) for r in rows])


async def places_around(db: Database | Tx, origin: Point, category: str | None) -> list[Place]:
    """The places in the cells around `origin` (the 15-minute circle and a margin)."""
    cells = cells_around(origin)
    marks = ",".join("?" * len(cells))
    sql = f"SELECT * FROM directory_places WHERE cell IN ({marks})"
    params: list[object] = list(cells)
    if category is not None:
        sql += " AND category = ?"
        params.append(category)
    return [_place(r) for r in await db.fetchall(sql, params)]


async def stations(db: Database | Tx) -> list[Place]:
    rows = await db.fetchall("SELECT * FROM directory_places WHERE category = 'station'")
    return [_place(r) for r in rows]


async def get_place(db: Database | Tx, place_id: int) -> Place | None:
    row = await db.fetchone("SELECT * FROM directory_places WHERE id = ?", (place_id,))
    return _place(row) if row else None


async def set_station_details(
    db: Database, place_id: int, keeper_account: int, organizer: bool, *,
    facilities: tuple[str, ...] | None = None, note: str | None = None,
    hours: WeeklyHours | None = None, now: datetime,
) -> Place:  # fmt: skip
    """A station's keeper (or an organizer) changes its facilities, hours or note; nothing else."""
    async with db.transaction() as tx:
        place = await get_place(tx, place_id)
        refused = can_keep(place, keeper_account, organizer)
        if refused is not None:
            raise RefusedError(refused)
        assert place is not None
        await tx.execute(
            "UPDATE directory_places SET facilities = ?, note = ?, hours = ?, updated_at = ?"
            " WHERE id = ?",
            (",".join(facilities if facilities is not None else place.facilities),
             note if note is not None else place.note,
             (hours if hours is not None else place.hours).encode(), to_iso(now), place_id),
        )  # fmt: skip
        place = await get_place(tx, place_id)
    assert place is not None
    return place


async def export_places(db: Database, since: datetime) -> Table:
    """Every place, in the import's columns (export, edit, import again)."""
    rows = await db.offloaded().fetchall("SELECT * FROM directory_places ORDER BY id")
    out: list[list[str]] = []
    for i, row in enumerate(rows):
        out.append(place_cells(_place(row)))
        if i % 1000 == 999:
            await asyncio.sleep(0)
    return list(PLACE_COLUMNS), out


# --- Organizations --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JoinAsk:
    id: int
    org_key: str
    member_id: int
    status: str


async def ask_to_join(db: Database, org_key: str, member_id: int, now: datetime) -> JoinAsk:
    async with db.transaction() as tx:
        if await tx.scalar(
            "SELECT 1 FROM directory_org_joins WHERE org_key = ? AND member_id = ?"
            " AND status IN ('pending', 'approved')",
            (org_key, member_id),
        ):
            raise RefusedError(Refused("already_asked_to_join"))
        join_id = await tx.execute(
            "INSERT INTO directory_org_joins (org_key, member_id, status, created_at)"
            " VALUES (?, ?, 'pending', ?)",
            (org_key, member_id, to_iso(now)),
        )
    return JoinAsk(join_id, org_key, member_id, "pending")


async def get_join(db: Database | Tx, join_id: int) -> JoinAsk | None:
    row = await db.fetchone("SELECT * FROM directory_org_joins WHERE id = ?", (join_id,))
    return JoinAsk(row["id"], row["org_key"], row["member_id"], row["status"]) if row else None


async def decide_join(db: Database, join_id: int, approve: bool, by: int, now: datetime) -> JoinAsk:
    """Approve (the member gets the volunteer role) or decline a pending ask, once."""
    async with db.transaction() as tx:
        ask_row = await get_join(tx, join_id)
        if ask_row is None or ask_row.status != "pending":
            raise RefusedError(Refused("already_answered"))
        status = "approved" if approve else "declined"
        await tx.execute(
            "UPDATE directory_org_joins SET status = ?, decided_by = ?, decided_at = ?"
            " WHERE id = ?",
            (status, by, to_iso(now), join_id),
        )
        if approve:
            await tx.execute(
                "INSERT OR IGNORE INTO member_roles (member_id, role, granted_by, granted_at)"
                " VALUES (?, ?, ?, ?)",
                (ask_row.member_id, Role.VOLUNTEER.value, by, to_iso(now)),
            )
            await audit(tx, by, "team_join", f"member:{ask_row.member_id}", ask_row.org_key, now)
    return JoinAsk(join_id, ask_row.org_key, ask_row.member_id, status)


async def teams_of(db: Database | Tx, member_id: int) -> list[str]:
    rows = await db.fetchall(
        "SELECT org_key FROM directory_org_joins WHERE member_id = ? AND status = 'approved'",
        (member_id,),
    )
    return [r["org_key"] for r in rows]


# --- Forgetting -----------------------------------------------------------------------------


async def forget_member(tx: Tx, member_id: int) -> None:
    """/forgetme: the member's offers, requests and introductions go (their time-bank hours
    stay in the time bank's ledger, anonymous like every ledger)."""
    await tx.execute(
        "DELETE FROM directory_matches WHERE provider_id = ? OR requester_id = ?"
        " OR offer_id IN (SELECT id FROM directory_offers WHERE member_id = ?)"
        " OR request_id IN (SELECT id FROM directory_requests WHERE member_id = ?)",
        (member_id, member_id, member_id, member_id),
    )
    for table in ("directory_offers", "directory_requests", "directory_optouts",
                  "directory_notices", "directory_org_joins"):  # fmt: skip
        await tx.execute(f"DELETE FROM {table} WHERE member_id = ?", (member_id,))
