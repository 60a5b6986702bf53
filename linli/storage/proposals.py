"""Proposals, their co-signatures and the messages posted for them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from linli.core.clock import from_iso, to_iso
from linli.core.community import Community
from linli.core.members import Audience, Member
from linli.core.outcomes import Refused, RefusedError
from linli.core.proposals import (
    Cosigned,
    Proposal,
    ProposalStatus,
    decide_cosign,
    decide_decision,
)
from linli.storage.audit import audit
from linli.storage.db import Database, Row, Tx

_SELECT = (
    "SELECT p.*, (SELECT COUNT(*) FROM proposal_cosigns c WHERE c.proposal_id = p.id)"
    " AS cosigns FROM proposals p"
)


def proposal_from_row(row: Row) -> Proposal:
    return Proposal(
        id=row["id"],
        author_id=row["author_id"],
        audience=Audience.decode(row["audience"]),
        title=row["title"],
        body=row["body"],
        threshold=row["threshold"],
        status=ProposalStatus(row["status"]),
        cosigns=row["cosigns"],
        created_at=from_iso(row["created_at"]),
        poll_id=row["poll_id"],
        decline_reason=row["decline_reason"],
    )


async def next_proposal_id(db: Database | Tx) -> int:
    """The number the next proposal gets (rowids; proposals are never deleted), for the preview."""
    return int(await db.scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM proposals") or 1)


async def get_proposal(db: Database | Tx, proposal_id: int) -> Proposal | None:
    row = await db.fetchone(_SELECT + " WHERE p.id = ?", (proposal_id,))
    return proposal_from_row(row) if row else None


async def create_proposal(
    db: Database,
    author: Member,
    audience: Audience,
    title: str,
    body: str,
    *,
    threshold: int,
    key: str,
    now: datetime,
) -> tuple[Proposal, bool]:
    """Save a checked proposal; the same `key` (a second tap on Submit) returns the first one."""
    async with db.transaction() as tx:
        row = await tx.fetchone(_SELECT + " WHERE p.create_key = ?", (key,))
        if row is not None:
            return proposal_from_row(row), False
        proposal_id = await tx.execute(
            "INSERT INTO proposals (author_id, audience, title, body, threshold, create_key,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (author.id, audience.encode(), title, body, threshold, key, to_iso(now)),
        )
        proposal = await get_proposal(tx, proposal_id)
    assert proposal is not None
    return proposal, True


@dataclass(frozen=True, slots=True)
class CosignResult:
    proposal: Proposal
    cosigned: Cosigned


async def cosign(
    db: Database, proposal_id: int, member: Member, community: Community, now: datetime
) -> CosignResult | Refused:
    """Add the member's co-signature; the first to reach the threshold moves it to 'ready'."""
    async with db.transaction() as tx:
        proposal = await get_proposal(tx, proposal_id)
        if proposal is None:
            return Refused("unknown_proposal")
        already = await tx.scalar(
            "SELECT 1 FROM proposal_cosigns WHERE proposal_id = ? AND member_id = ?",
            (proposal_id, member.id),
        )
        outcome = decide_cosign(proposal, member, bool(already), community)
        if isinstance(outcome, Refused):
            return outcome
        await tx.execute(
            "INSERT INTO proposal_cosigns (proposal_id, member_id, created_at) VALUES (?, ?, ?)",
            (proposal_id, member.id, to_iso(now)),
        )
        if outcome.reached:
            await tx.execute(
                "UPDATE proposals SET status = 'ready' WHERE id = ? AND status = 'collecting'",
                (proposal_id,),
            )
        updated = await get_proposal(tx, proposal_id)
    assert updated is not None
    return CosignResult(updated, outcome)


async def has_cosigned(db: Database | Tx, proposal_id: int, member_id: int) -> bool:
    return bool(
        await db.scalar(
            "SELECT 1 FROM proposal_cosigns WHERE proposal_id = ? AND member_id = ?",
            (proposal_id, member_id),
        )
    )


async def mark_opened(tx: Tx, proposal_id: int, poll_id: int, by: int, now: datetime) -> None:
    """Inside the poll's creating transaction: the proposal now has its vote."""
    changed = await tx.rowcount(
        "UPDATE proposals SET status = 'opened', poll_id = ?, decided_by = ?, decided_at = ?"
        " WHERE id = ? AND status IN ('collecting', 'ready')",
        (poll_id, by, to_iso(now), proposal_id),
    )
    if changed != 1:
        raise RefusedError(Refused("already_decided"))


async def check_decidable(db: Database | Tx, proposal_id: int, actor: Member) -> Proposal | Refused:
    proposal = await get_proposal(db, proposal_id)
    if proposal is None:
        return Refused("unknown_proposal")
    refused = decide_decision(proposal, actor)
    return refused if refused is not None else proposal


async def decline(
    db: Database, proposal_id: int, actor: Member, reason: str, now: datetime
) -> Proposal | Refused:
    async with db.transaction() as tx:
        checked = await check_decidable(tx, proposal_id, actor)
        if isinstance(checked, Refused):
            return checked
        await tx.execute(
            "UPDATE proposals SET status = 'declined', decline_reason = ?, decided_by = ?,"
            " decided_at = ? WHERE id = ?",
            (reason, actor.id, to_iso(now), proposal_id),
        )
        await audit(tx, actor.id, "proposal_decline", f"proposal:{proposal_id}", reason[:200], now)
        updated = await get_proposal(tx, proposal_id)
    assert updated is not None
    return updated


async def record_post(
    db: Database, proposal_id: int, kind: str, chat_id: int, message_id: int | None, now: datetime
) -> None:
    await db.write(
        "INSERT OR IGNORE INTO proposal_posts (proposal_id, kind, chat_id, message_id, posted_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (proposal_id, kind, chat_id, message_id, to_iso(now)),
    )


async def posts(db: Database | Tx, proposal_id: int, kind: str) -> list[tuple[int, int | None]]:
    rows = await db.fetchall(
        "SELECT chat_id, message_id FROM proposal_posts WHERE proposal_id = ? AND kind = ?"
        " ORDER BY chat_id",
        (proposal_id, kind),
    )
    return [(r["chat_id"], r["message_id"]) for r in rows]


async def pending_proposals(db: Database | Tx) -> list[Proposal]:
    """Proposals still waiting for an organizer's decision, the ready ones first."""
    rows = await db.fetchall(
        _SELECT + " WHERE p.status IN ('collecting', 'ready')"
        " ORDER BY p.status = 'ready' DESC, p.id"
    )
    return [proposal_from_row(r) for r in rows]


async def ready_unannounced(db: Database | Tx) -> list[Proposal]:
    """Proposals that reached their co-signatures but whose organizers' notice is not posted."""
    rows = await db.fetchall(
        _SELECT + " WHERE p.status = 'ready' AND NOT EXISTS (SELECT 1 FROM proposal_posts x"
        " WHERE x.proposal_id = p.id AND x.kind = 'ready') ORDER BY p.id"
    )
    return [proposal_from_row(r) for r in rows]
