"""The weekly digest's figures, read from the other features' tables, and the scheduler's
once-a-week (digest) and once-a-day (backup) bookkeeping."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from linli.core.clock import from_iso, to_iso
from linli.core.digest import Digest, DigestWeek, EventLine, HazardLine, PollLine, order_hazards
from linli.storage import fund as fund_db
from linli.storage import honours as honours_db
from linli.storage import points as points_db
from linli.storage import polls as polls_db
from linli.storage import spaces as spaces_db
from linli.storage.db import Database, Tx

# --- The figures ------------------------------------------------------------------------


async def hazard_lines(db: Database | Tx, start: datetime, end: datetime) -> list[HazardLine]:
    """Per category: reports filed in [start, end), resolved or rejected then, open at the end
    (filed before it and not closed since). Anonymous reports count like the others."""
    window = (to_iso(start), to_iso(end))
    counts: dict[str, dict[str, int]] = {}
    for row in await db.fetchall(
        "SELECT category,"
        " SUM(created_at >= ? AND created_at < ?) AS new,"
        " SUM(status IN ('new', 'acknowledged', 'in_progress') AND created_at < ?) AS still_open"
        " FROM hazards GROUP BY category",
        (*window, window[1]),
    ):
        counts[row["category"]] = {"new": row["new"] or 0, "still_open": row["still_open"] or 0}
    # A report closed twice in a week (resolved, reopened, resolved) counts once.
    for row in await db.fetchall(
        "SELECT h.category, e.status, COUNT(DISTINCT e.hazard_id) AS n"
        " FROM hazard_events e JOIN hazards h ON h.id = e.hazard_id"
        " WHERE e.status IN ('resolved', 'rejected') AND e.created_at >= ? AND e.created_at < ?"
        " GROUP BY h.category, e.status",
        window,
    ):
        counts.setdefault(row["category"], {})[row["status"]] = row["n"]
    return [HazardLine(category, **values) for category, values in counts.items()]


async def events_held(db: Database | Tx, start: datetime, end: datetime) -> list[EventLine]:
    """Events (not cancelled) that started in [start, end), with sign-ups and check-ins."""
    rows = await db.fetchall(
        "SELECT e.id, e.title, e.kind, e.starts_at,"
        " (SELECT COUNT(*) FROM event_signups s WHERE s.event_id = e.id"
        "   AND (s.status = 'confirmed' OR s.checked_in_at IS NOT NULL)) AS signed_up,"
        " (SELECT COUNT(*) FROM event_signups s WHERE s.event_id = e.id"
        "   AND s.checked_in_at IS NOT NULL) AS checked_in"
        " FROM events e WHERE e.status = 'open' AND e.starts_at >= ? AND e.starts_at < ?"
        " ORDER BY e.starts_at, e.id",
        (to_iso(start), to_iso(end)),
    )
    return [
        EventLine(
            r["id"],
            r["title"],
            r["kind"],
            from_iso(r["starts_at"]),
            r["signed_up"],
            r["checked_in"],
        )
        for r in rows
    ]


async def member_counts(db: Database | Tx, start: datetime, end: datetime) -> tuple[int, int, int]:
    """(joined, verified, total): members who joined (accepted the privacy notice) in
    [start, end), members verified then, and everyone joined by the end. Forgotten members
    are left out."""
    window = (to_iso(start), to_iso(end))
    row = await db.fetchone(
        "SELECT"
        " COALESCE(SUM(joined = 1 AND joined_at >= ? AND joined_at < ?), 0),"
        " COALESCE(SUM(verified_at >= ? AND verified_at < ?), 0),"
        " COALESCE(SUM(joined = 1 AND joined_at < ?), 0)"
        " FROM members WHERE forgotten_at IS NULL",
        (*window, *window, window[1]),
    )
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


async def polls_closed(db: Database | Tx, start: datetime, end: datetime) -> list[PollLine]:
    """Polls closed in [start, end), each with its decision as the polls feature tallies it."""
    rows = await db.fetchall(
        "SELECT * FROM polls WHERE status = 'closed' AND closed_at >= ? AND closed_at < ?"
        " ORDER BY closed_at, id",
        (to_iso(start), to_iso(end)),
    )
    lines = []
    for row in rows:
        poll = polls_db.poll_from_row(row)
        tally = await polls_db.poll_tally(db, poll)
        lines.append(PollLine(poll.id, poll.title, tally.passed, tally.turnout, tally.eligible))
    return lines


async def weekly_digest(db: Database, week: DigestWeek, categories: Sequence[str]) -> Digest:
    """Everything the digest says about `week`; hazard categories in the config's order.
    It reads a week of everything: off the loop (`offloaded`)."""
    db = db.offloaded()
    start, end = week.start, week.end
    issued, redeemed = await points_db.issued_and_redeemed(db, start, end)
    joined, verified, total = await member_counts(db, start, end)
    fund_in, fund_out, fund_balance = await fund_db.week_figures(db, start, end)
    return Digest(
        week=week,
        hazards=order_hazards(await hazard_lines(db, start, end), categories),
        events=tuple(await events_held(db, start, end)),
        points_issued=issued,
        points_redeemed=redeemed,
        members_joined=joined,
        members_verified=verified,
        members_total=total,
        polls=tuple(await polls_closed(db, start, end)),
        fund_in=fund_in,
        fund_out=fund_out,
        fund_balance=fund_balance,
        stories=tuple(s.title for s in await honours_db.stories_posted(db, start, end)),
        honours=tuple(s.title for s in await honours_db.selections_closed(db, start, end)),
        spaces=tuple(await spaces_db.space_weeks(db, start, end, week.first_day)),
    )


# --- Once a week: the digest -------------------------------------------------------------


async def digest_status(db: Database | Tx, week: str) -> str | None:
    """sending | sent | failed, or None if this week's digest was never claimed."""
    value = await db.scalar("SELECT status FROM digests WHERE week = ?", (week,))
    return str(value) if value is not None else None


async def claim_digest(db: Database, week: str, chat_id: int, now: datetime) -> bool:
    """Claim the week before sending; False if it is already claimed (sent, or being sent)."""
    # rowcount, not Tx.execute's lastrowid: an ignored INSERT leaves the connection's
    # previous lastrowid in place, which would read as a successful claim.
    async with db.transaction() as tx:
        changed = await tx.rowcount(
            "INSERT OR IGNORE INTO digests (week, status, chat_id, created_at)"
            " VALUES (?, 'sending', ?, ?)",
            (week, chat_id, to_iso(now)),
        )
    return changed == 1


async def record_digest(db: Database, week: str, message_id: int, now: datetime) -> None:
    await db.write(
        "UPDATE digests SET status = 'sent', message_id = ?, sent_at = ? WHERE week = ?",
        (message_id, to_iso(now), week),
    )


async def fail_digest(db: Database, week: str, now: datetime) -> None:
    """The week's digest cannot be delivered (or may have been): never tried again."""
    await db.write(
        "UPDATE digests SET status = 'failed', sent_at = ? WHERE week = ?", (to_iso(now), week)
    )


async def release_digest(db: Database, week: str) -> None:
    """Sending failed before Telegram took it (a passing error): the next tick tries again."""
    await db.write("DELETE FROM digests WHERE week = ? AND status = 'sending'", (week,))


# --- Once a day: backups -----------------------------------------------------------------


async def last_backup_day(db: Database) -> str | None:
    value = await db.scalar("SELECT max(day) FROM backups")
    return str(value) if value is not None else None


async def claim_backup(db: Database, day: str, path: str, now: datetime) -> bool:
    """Claim the day's backup; False if it was already taken (or tried) that day."""
    async with db.transaction() as tx:  # rowcount: see claim_digest
        changed = await tx.rowcount(
            "INSERT OR IGNORE INTO backups (day, path, status, created_at)"
            " VALUES (?, ?, 'running', ?)",
            (day, path, to_iso(now)),
        )
    return changed == 1


async def finish_backup(db: Database, day: str, *, ok: bool, size: int | None, detail: str) -> None:
    await db.write(
        "UPDATE backups SET status = ?, bytes = ?, detail = ? WHERE day = ?",
        ("done" if ok else "failed", size, detail[:300], day),
    )
