"""Hazard reports: saving, duplicates and support, triage, what is due, lists and exports."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from linli.core import hazards as rules
from linli.core.clock import from_iso, to_iso
from linli.core.exports import Open311Names
from linli.core.hazards import Action, NewReport, Report, ReportChange, Status
from linli.core.outcomes import Refused, RefusedError
from linli.storage import drafts
from linli.storage.db import Database, Row, Tx
from linli.storage.drafts import Draft

# Credits the reporter inside the triage transaction; returns the points credited.
Award = Callable[[Tx, Report], Awaitable[int]]

_SELECT = """
SELECT h.*,
       (SELECT group_concat(file_id, ' ') FROM
            (SELECT file_id FROM hazard_photos p WHERE p.hazard_id = h.id ORDER BY position))
           AS photo_ids,
       (SELECT count(*) FROM hazard_supports s WHERE s.hazard_id = h.id) AS supporters
FROM hazards h
"""


def _opt_time(text: str | None) -> datetime | None:
    return from_iso(text) if text else None


def report_from_row(row: Row) -> Report:
    return Report(
        id=row["id"],
        category=row["category"],
        description=row["description"],
        status=Status(row["status"]),
        anonymous=bool(row["anonymous"]),
        reporter_id=row["reporter_id"],
        urgent=bool(row["urgent"]),
        created_at=from_iso(row["created_at"]),
        updated_at=from_iso(row["updated_at"]),
        lat=row["lat"],
        lon=row["lon"],
        address=row["address"],
        building_id=row["building_id"],
        photos=tuple((row["photo_ids"] or "").split()),
        supporters=row["supporters"],
        duplicate_of=row["duplicate_of"],
        acknowledged_at=_opt_time(row["acknowledged_at"]),
        resolved_at=_opt_time(row["resolved_at"]),
        escalations=row["escalations"],
        followup_sent_at=_opt_time(row["followup_sent_at"]),
        status_note=row["status_note"],
    )


async def get_report(db: Database | Tx, report_id: int) -> Report | None:
    row = await db.fetchone(_SELECT + " WHERE h.id = ?", (report_id,))
    return report_from_row(row) if row else None


async def named_report_times(db: Database | Tx, member_id: int, since: datetime) -> list[datetime]:
    """When the member filed reports under their name since `since` (for the hourly limit)."""
    rows = await db.fetchall(
        "SELECT created_at FROM hazards WHERE reporter_id = ? AND created_at >= ? ORDER BY id",
        (member_id, to_iso(since)),
    )
    return [from_iso(r["created_at"]) for r in rows]


async def create_report(
    db: Database,
    new: NewReport,
    *,
    reporter_id: int | None,
    ending: Draft,
    now: datetime,
    followup_hash: str | None = None,
) -> Report:
    """Save a confirmed report and end the draft it was written in, in one transaction.

    If that draft is already gone, this confirmation was handled before (a second tap, a
    redelivered update) and RefusedError("already_sent") is raised. An anonymous report
    gets reporter_id NULL; the caller passes only the follow-up hash.
    """
    if new.anonymous and (reporter_id is not None or not followup_hash):
        raise ValueError("an anonymous report takes a follow-up hash and no reporter")
    async with db.transaction() as tx:
        if not await drafts.end_draft(tx, ending):
            raise RefusedError(Refused("already_sent"))
        report_id = await tx.execute(
            "INSERT INTO hazards (category, description, anonymous, reporter_id, followup_hash,"
            " urgent, lat, lon, address, building_id, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                new.category,
                new.description,
                int(new.anonymous),
                reporter_id,
                followup_hash if new.anonymous else None,
                int(new.urgent),
                new.lat,
                new.lon,
                new.address,
                new.building_id,
                to_iso(now),
                to_iso(now),
            ),
        )
        await tx.executemany(
            "INSERT INTO hazard_photos (hazard_id, position, file_id) VALUES (?, ?, ?)",
            [(report_id, i, file_id) for i, file_id in enumerate(new.photos[: rules.MAX_PHOTOS])],
        )
        await tx.execute(
            "INSERT INTO hazard_events (hazard_id, status, actor_id, note, created_at)"
            " VALUES (?, 'new', ?, '', ?)",
            (report_id, reporter_id, to_iso(now)),
        )
        report = await get_report(tx, report_id)
    assert report is not None
    return report


async def checkpoint(db: Database) -> bool:
    """Fold the WAL into the database file and truncate it, so old frames (a finished
    anonymous draft) do not linger on disk. True if the whole log was checkpointed."""
    return await db.checkpoint()


async def open_reports_of_category(db: Database | Tx, category: str) -> list[Report]:
    rows = await db.fetchall(
        _SELECT + " WHERE h.category = ? AND h.status IN ('new', 'acknowledged', 'in_progress')"
        " ORDER BY h.id DESC LIMIT 200",
        (category,),
    )
    return [report_from_row(r) for r in rows]


async def find_duplicates(db: Database, new: NewReport, radius_m: float) -> list[Report]:
    """Open reports of the same category in the same building or within `radius_m`."""
    return rules.possible_duplicates(
        await open_reports_of_category(db, new.category), new, radius_m
    )


async def add_support(db: Database, report_id: int, member_id: int, now: datetime) -> Report:
    """ "Me too": count the member's support once; raises RefusedError when it does not apply."""
    async with db.transaction() as tx:
        report = await get_report(tx, report_id)
        if report is None:
            raise RefusedError(Refused("unknown_report"))
        if not report.is_open:
            raise RefusedError(Refused("report_closed", {"code": report.code}))
        if report.reporter_id == member_id:
            raise RefusedError(Refused("own_report", {"code": report.code}))
        added = await tx.rowcount(
            "INSERT OR IGNORE INTO hazard_supports (hazard_id, member_id, created_at)"
            " VALUES (?, ?, ?)",
            (report_id, member_id, to_iso(now)),
        )
        if not added:
            raise RefusedError(Refused("already_supported", {"code": report.code}))
        await tx.execute(
            "INSERT INTO hazard_events (hazard_id, status, actor_id, note, created_at)"
            " VALUES (?, 'supported', ?, '', ?)",
            (report_id, member_id, to_iso(now)),
        )
        report = await get_report(tx, report_id)
    assert report is not None
    return report


@dataclass(frozen=True, slots=True)
class Triaged:
    report: Report
    before: Status
    points: int


async def triage(
    db: Database,
    report_id: int,
    action: Action,
    *,
    actor_id: int,
    note: str,
    now: datetime,
    award: Award | None = None,
    duplicate_of: int | None = None,
) -> Triaged:
    """Move a report along (status check inside the transaction); the first move out of `new`
    that is not a rejection credits the reporter through `award`, which is idempotent by key."""
    async with db.transaction() as tx:
        report = await get_report(tx, report_id)
        if report is None:
            raise RefusedError(Refused("unknown_report"))
        outcome = rules.decide_triage(report, action)
        if isinstance(outcome, Refused):
            raise RefusedError(outcome)
        if duplicate_of is not None and (
            duplicate_of == report_id or await get_report(tx, duplicate_of) is None
        ):
            raise RefusedError(Refused("bad_duplicate", {"code": rules.format_code(duplicate_of)}))
        stamp = to_iso(now)
        await tx.execute(
            "UPDATE hazards SET status = ?, status_note = ?, updated_at = ?,"
            " acknowledged_at = CASE WHEN ? <> 'rejected' THEN COALESCE(acknowledged_at, ?)"
            "   ELSE acknowledged_at END,"
            " resolved_at = CASE WHEN ? = 'resolved' THEN ? ELSE resolved_at END,"
            " duplicate_of = COALESCE(?, duplicate_of)"
            " WHERE id = ?",
            (
                outcome.value,
                note,
                stamp,
                outcome.value,
                stamp,
                outcome.value,
                stamp,
                duplicate_of if action is Action.REJECT else None,
                report_id,
            ),
        )
        await tx.execute(
            "INSERT INTO hazard_events (hazard_id, status, actor_id, note, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (report_id, outcome.value, actor_id, note, stamp),
        )
        updated = await get_report(tx, report_id)
        assert updated is not None
        points = 0
        if award is not None and rules.earns_points(report.status, outcome, report.anonymous):
            points = await award(tx, updated)
    return Triaged(updated, report.status, points)


async def events(db: Database | Tx, report_id: int) -> list[ReportChange]:
    rows = await db.fetchall(
        "SELECT e.*, m.name AS actor_name FROM hazard_events e"
        " LEFT JOIN members m ON m.id = e.actor_id AND e.status NOT IN ('new', 'supported')"
        " WHERE e.hazard_id = ? ORDER BY e.id",
        (report_id,),
    )
    return [
        ReportChange(
            r["hazard_id"], r["status"], r["actor_name"], r["note"], from_iso(r["created_at"])
        )
        for r in rows
    ]


async def add_card(db: Database, report_id: int, chat_id: int, message_id: int) -> None:
    await db.write(
        "INSERT OR IGNORE INTO hazard_cards (hazard_id, chat_id, message_id) VALUES (?, ?, ?)",
        (report_id, chat_id, message_id),
    )


async def cards(db: Database | Tx, report_id: int) -> list[tuple[int, int]]:
    rows = await db.fetchall(
        "SELECT chat_id, message_id FROM hazard_cards WHERE hazard_id = ? ORDER BY rowid",
        (report_id,),
    )
    return [(r["chat_id"], r["message_id"]) for r in rows]


async def reports_of_member(
    db: Database | Tx, member_id: int, *, limit: int = 20, offset: int = 0
) -> tuple[list[Report], int]:
    """The member's own (named) reports, newest first, and how many there are."""
    rows = await db.fetchall(
        _SELECT + " WHERE h.reporter_id = ? ORDER BY h.id DESC LIMIT ? OFFSET ?",
        (member_id, limit, offset),
    )
    total = await db.scalar("SELECT count(*) FROM hazards WHERE reporter_id = ?", (member_id,))
    return [report_from_row(r) for r in rows], int(total or 0)


async def list_reports(
    db: Database | Tx,
    *,
    statuses: Iterable[Status],
    category: str | None = None,
    building_id: str | None = None,
    limit: int = 20,
    offset: int = 0,
) -> tuple[list[Report], int]:
    """Reports in these statuses (optionally one category / building), oldest first, and the total."""
    wanted = [s.value for s in statuses] or [s.value for s in Status]
    where = f"h.status IN ({', '.join('?' for _ in wanted)})"
    params: list[Any] = list(wanted)
    if category is not None:
        where += " AND h.category = ?"
        params.append(category)
    if building_id is not None:
        where += " AND h.building_id = ?"
        params.append(building_id)
    rows = await db.fetchall(
        _SELECT + f" WHERE {where} ORDER BY h.created_at, h.id LIMIT ? OFFSET ?",
        (*params, limit, offset),
    )
    total = await db.scalar(f"SELECT count(*) FROM hazards h WHERE {where}", params)
    return [report_from_row(r) for r in rows], int(total or 0)


async def report_by_followup(db: Database | Tx, code_hash: str) -> Report | None:
    row = await db.fetchone(_SELECT + " WHERE h.followup_hash = ?", (code_hash,))
    return report_from_row(row) if row else None


# --- What the scheduler does: escalations and follow-ups, each claimed before it is sent.


async def escalation_candidates(db: Database | Tx, max_escalations: int) -> list[Report]:
    rows = await db.fetchall(
        _SELECT + " WHERE h.urgent = 1 AND h.status = 'new' AND h.escalations < ?"
        " ORDER BY h.created_at",
        (max_escalations,),
    )
    return [report_from_row(r) for r in rows]


async def claim_escalation(db: Database, report: Report, now: datetime) -> bool:
    """Record escalation number escalations+1 as sent; False if another run claimed it or the
    report was acknowledged meanwhile. Claimed before sending, so it is never sent twice."""
    changed = await db.write(
        "UPDATE hazards SET escalations = escalations + 1, last_escalated_at = ?"
        " WHERE id = ? AND escalations = ? AND status = 'new'",
        (to_iso(now), report.id, report.escalations),
    )
    return changed == 1


async def followup_candidates(db: Database | Tx, resolved_before: datetime) -> list[Report]:
    rows = await db.fetchall(
        _SELECT + " WHERE h.status = 'resolved' AND h.followup_sent_at IS NULL"
        " AND h.reporter_id IS NOT NULL AND h.resolved_at <= ? ORDER BY h.resolved_at",
        (to_iso(resolved_before),),
    )
    return [report_from_row(r) for r in rows]


async def claim_followup(db: Database, report_id: int, now: datetime) -> bool:
    changed = await db.write(
        "UPDATE hazards SET followup_sent_at = ?, followup_answer = NULL"
        " WHERE id = ? AND status = 'resolved' AND followup_sent_at IS NULL",
        (to_iso(now), report_id),
    )
    return changed == 1


async def answer_followup(
    db: Database, report_id: int, member_id: int, fixed: bool, now: datetime
) -> Report:
    """The reporter's answer to "is it fixed?": "no" reopens the report (once)."""
    async with db.transaction() as tx:
        report = await get_report(tx, report_id)
        if report is None or report.reporter_id != member_id:
            raise RefusedError(Refused("not_your_report"))
        if report.status is not Status.RESOLVED or report.followup_sent_at is None:
            raise RefusedError(Refused("followup_answered", {"code": report.code}))
        answered = await tx.scalar("SELECT followup_answer FROM hazards WHERE id = ?", (report_id,))
        if answered is not None:
            raise RefusedError(Refused("followup_answered", {"code": report.code}))
        stamp = to_iso(now)
        if fixed:
            await tx.execute(
                "UPDATE hazards SET followup_answer = 'fixed' WHERE id = ?", (report_id,)
            )
            await tx.execute(
                "INSERT INTO hazard_events (hazard_id, status, actor_id, note, created_at)"
                " VALUES (?, 'fixed', ?, '', ?)",
                (report_id, member_id, stamp),
            )
        else:
            # Back to acknowledged (its points were already credited); a later resolution
            # asks again, so followup_sent_at is cleared.
            await tx.execute(
                "UPDATE hazards SET status = 'acknowledged', status_note = '', updated_at = ?,"
                " resolved_at = NULL, followup_sent_at = NULL, followup_answer = NULL"
                " WHERE id = ?",
                (stamp, report_id),
            )
            await tx.execute(
                "INSERT INTO hazard_events (hazard_id, status, actor_id, note, created_at)"
                " VALUES (?, 'reopened', ?, '', ?)",
                (report_id, member_id, stamp),
            )
        updated = await get_report(tx, report_id)
    assert updated is not None
    return updated


# --- Exports (the `linli export reports` command calls these).

EXPORT_HEADERS = (
    "code",
    "category",
    "status",
    "urgent",
    "anonymous",
    "reporter_id",
    "reporter_name",
    "building",
    "address",
    "lat",
    "lon",
    "description",
    "supporters",
    "photos",
    "duplicate_of",
    "status_note",
    "created_at",
    "updated_at",
    "acknowledged_at",
    "resolved_at",
)


async def export_reports(
    db: Database | Tx, since: datetime | None = None
) -> tuple[list[str], list[list[Any]]]:
    """Reports filed since `since` (all if None) as CSV-ready rows, oldest first.
    An anonymous report has empty reporter fields (the database has none to give)."""
    rows = await db.fetchall(
        "SELECT h.*, m.name AS reporter_name,"
        " (SELECT count(*) FROM hazard_supports s WHERE s.hazard_id = h.id) AS supporters,"
        " (SELECT count(*) FROM hazard_photos p WHERE p.hazard_id = h.id) AS photos"
        " FROM hazards h LEFT JOIN members m ON m.id = h.reporter_id"
        " WHERE h.created_at >= ? ORDER BY h.id",
        (to_iso(since) if since else "",),
    )
    out: list[list[Any]] = []
    for r in rows:
        anonymous = bool(r["anonymous"])
        out.append(
            [
                rules.format_code(r["id"]),
                r["category"],
                r["status"],
                int(r["urgent"]),
                int(anonymous),
                "" if anonymous else r["reporter_id"],
                "" if anonymous else (r["reporter_name"] or ""),
                r["building_id"] or "",
                r["address"],
                "" if r["lat"] is None else r["lat"],
                "" if r["lon"] is None else r["lon"],
                r["description"],
                r["supporters"],
                r["photos"],
                rules.format_code(r["duplicate_of"]) if r["duplicate_of"] else "",
                r["status_note"],
                r["created_at"],
                r["updated_at"],
                r["acknowledged_at"] or "",
                r["resolved_at"] or "",
            ]
        )
    return list(EXPORT_HEADERS), out


async def open311_reports(
    db: Database | Tx, since: datetime | None, names: Open311Names
) -> list[dict[str, Any]]:
    """Reports as Open311 GeoReport v2 service requests (GET requests.json fields), with the
    categories and buildings named by `names` (the key and the id stay in `service_code` and
    `address_id`).

    No reporter fields at all (Open311 requests are public); `media_url` is left out because
    Telegram file URLs carry the bot token and are not public."""
    rows = await db.fetchall(
        "SELECT * FROM hazards WHERE created_at >= ? ORDER BY id",
        (to_iso(since) if since else "",),
    )
    out: list[dict[str, Any]] = []
    for r in rows:
        item: dict[str, Any] = {
            "service_request_id": rules.format_code(r["id"]),
            "status": "open" if Status(r["status"]).is_open else "closed",
            "status_notes": r["status_note"] or None,
            "service_name": names.services.get(r["category"], r["category"]),
            "service_code": r["category"],
            "description": r["description"],
            "agency_responsible": None,
            "service_notice": None,
            "requested_datetime": r["created_at"],
            "updated_datetime": r["updated_at"],
            "expected_datetime": None,
            "address": names.place(r["building_id"], r["address"]),
            "address_id": r["building_id"],
            "zipcode": None,
            "lat": r["lat"],
            "long": r["lon"],
        }
        out.append(item)
    return out
