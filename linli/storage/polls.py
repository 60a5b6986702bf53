"""Polls, votes and secret ballots, their posts and reminders.

A secret vote writes two things that share nothing but the poll id: a row in `poll_voters`
(that a member or household voted; no choice, no time) and the poll's ballot box in
`poll_ballot_boxes`, one record holding how many ballots chose what, keys sorted. The box is
rewritten whole on each vote, so no copy of it has an order, a position or a time for a
single ballot: the voter rows may show in which order members voted (SQLite places new rows
one after another), and that order pairs with nothing. Right after the vote the WAL is
checkpointed and truncated (`secure_delete` is on), so neither the file nor the WAL keeps
an older box to compare with. The one limit: two copies taken around one vote differ by
that vote's voter and ballot.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from linli.core.clock import from_iso, to_iso
from linli.core.community import Community, NodeKind, Role
from linli.core.members import Audience, Member
from linli.core.outcomes import Refused
from linli.core.polls import (
    Choice,
    ExistingVote,
    Poll,
    PollDraft,
    PollKind,
    PollSettings,
    PollStatus,
    QuorumBasis,
    Recorded,
    Tally,
    count_eligible,
    decide_vote,
    tally,
    voter_key,
)
from linli.storage import ballot_boxes
from linli.storage import members as members_db
from linli.storage import proposals as proposals_db
from linli.storage.audit import audit
from linli.storage.db import Database, Row, Tx


def encode_choice(choice: Sequence[int]) -> str:
    return ",".join(str(i) for i in choice)


def decode_choice(text: str) -> Choice:
    return tuple(int(part) for part in text.split(",") if part)


def poll_from_row(row: Row) -> Poll:
    settings = PollSettings(
        audience=Audience.decode(row["audience"]),
        verified_only=bool(row["verified_only"]),
        per_household=bool(row["per_household"]),
        secret=bool(row["secret"]),
        hide_results=bool(row["hide_results"]),
        quorum_pct=row["quorum_pct"],
        quorum_basis=QuorumBasis(row["quorum_basis"]),
        pass_pct=row["pass_pct"],
    )
    return Poll(
        id=row["id"],
        kind=PollKind(row["kind"]),
        title=row["title"],
        body=row["body"],
        options=tuple(json.loads(row["options"])),
        max_picks=row["max_picks"],
        settings=settings,
        closes_at=from_iso(row["closes_at"]),
        created_by=row["created_by"],
        created_at=from_iso(row["created_at"]),
        status=PollStatus(row["status"]),
        proposal_id=row["proposal_id"],
        eligible=row["eligible"],
        closed_at=from_iso(row["closed_at"]) if row["closed_at"] else None,
        outcome=row["outcome"],
    )


async def get_poll(db: Database | Tx, poll_id: int) -> Poll | None:
    row = await db.fetchone("SELECT * FROM polls WHERE id = ?", (poll_id,))
    return poll_from_row(row) if row else None


async def eligible_members(
    db: Database | Tx, settings: PollSettings, community: Community
) -> list[Member]:
    """Members in the poll's audience (before the verified / household checks)."""
    audience = settings.audience
    if audience.kind is NodeKind.BUILDING:
        found = await members_db.members_of_building(db, audience.target)
    elif audience.kind is NodeKind.ROLE:
        found = await members_db.members_with_role(db, Role(audience.target))
    else:
        found = await members_db.all_members(db)
    return [m for m in found if audience.includes(m, community)]


async def next_poll_id(db: Database | Tx) -> int:
    """The number the next poll gets (ids are rowids and polls are never deleted), for the
    preview; a poll another organizer publishes first takes it, and the publisher is told the
    number it really got."""
    return int(await db.scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM polls") or 1)


async def count_eligible_now(
    db: Database | Tx, settings: PollSettings, community: Community
) -> int:
    return count_eligible(settings, await eligible_members(db, settings, community), community)


async def create_poll(
    db: Database,
    draft: PollDraft,
    *,
    created_by: int,
    key: str,
    eligible: int,
    now: datetime,
    proposal_id: int | None = None,
) -> tuple[Poll, bool]:
    """Publish a checked draft; the same `key` again returns the first poll (created=False).

    From a proposal, the proposal is marked opened in the same transaction, so a proposal
    opens at most one vote (RefusedError if it was decided meanwhile).
    """
    s = draft.settings
    async with db.transaction() as tx:
        row = await tx.fetchone("SELECT * FROM polls WHERE create_key = ?", (key,))
        if row is not None:
            return poll_from_row(row), False
        poll_id = await tx.execute(
            "INSERT INTO polls (kind, title, body, options, max_picks, audience, verified_only,"
            " per_household, secret, hide_results, quorum_pct, quorum_basis, pass_pct,"
            " closes_at, eligible, proposal_id, created_by, created_at, create_key)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                draft.kind.value,
                draft.title,
                draft.body,
                json.dumps(list(draft.options), ensure_ascii=False),
                draft.max_picks,
                s.audience.encode(),
                int(s.verified_only),
                int(s.per_household),
                int(s.secret),
                int(s.hide_results),
                s.quorum_pct,
                s.quorum_basis.value,
                s.pass_pct,
                to_iso(draft.closes_at),
                eligible,
                proposal_id,
                created_by,
                to_iso(now),
                key,
            ),
        )
        if proposal_id is not None:
            await proposals_db.mark_opened(tx, proposal_id, poll_id, created_by, now)
        await audit(tx, created_by, "poll_create", f"poll:{poll_id}", draft.title, now)
        poll = await get_poll(tx, poll_id)
    assert poll is not None
    return poll, True


async def _existing(tx: Tx, poll: Poll, key: str) -> ExistingVote | None:
    if poll.settings.secret:
        row = await tx.fetchone(
            "SELECT v.member_id, m.name FROM poll_voters v LEFT JOIN members m"
            " ON m.id = v.member_id WHERE v.poll_id = ? AND v.voter_key = ?",
            (poll.id, key),
        )
        return ExistingVote(row["member_id"], None, None) if row else None
    row = await tx.fetchone(
        "SELECT v.member_id, v.choice, m.name FROM poll_votes v JOIN members m"
        " ON m.id = v.member_id WHERE v.poll_id = ? AND v.voter_key = ?",
        (poll.id, key),
    )
    if row is None:
        return None
    return ExistingVote(row["member_id"], row["name"], decode_choice(row["choice"]))


@dataclass(frozen=True, slots=True)
class VoteResult:
    poll: Poll
    outcome: Recorded | Refused


async def cast_vote(
    db: Database,
    poll_id: int,
    member: Member,
    choice: Sequence[int],
    community: Community,
    now: datetime,
) -> VoteResult | Refused:
    """Record a vote if the rules allow it now; Refused('unknown_poll') for a missing poll.

    `member` is loaded by the caller for this very action, so eligibility (audience,
    verification, household) is the member's as they are at the moment of voting.
    """
    async with db.transaction() as tx:
        poll = await get_poll(tx, poll_id)
        if poll is None:
            return Refused("unknown_poll")
        key = voter_key(poll, member)
        existing = await _existing(tx, poll, key)
        outcome = decide_vote(poll, member, choice, existing, community, now)
        if isinstance(outcome, Refused) or outcome.unchanged:
            return VoteResult(poll, outcome)
        encoded = encode_choice(outcome.choice)
        if poll.settings.secret:
            by_household = key.startswith("h:")
            await tx.execute(
                "INSERT INTO poll_voters (poll_id, voter_key, member_id, household_id)"
                " VALUES (?, ?, ?, ?)",
                (poll.id, key, None if by_household else member.id, member.household_id),
            )
            await _drop_in_box(tx, poll.id, encoded)
        elif existing is None:
            await tx.execute(
                "INSERT INTO poll_votes (poll_id, voter_key, member_id, household_id, choice,"
                " cast_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (poll.id, key, member.id, member.household_id, encoded, to_iso(now), to_iso(now)),
            )
        else:
            await tx.execute(
                "UPDATE poll_votes SET choice = ?, updated_at = ? WHERE poll_id = ? AND voter_key = ?",
                (encoded, to_iso(now), poll.id, key),
            )
        await tx.execute("UPDATE polls SET card_dirty = 1 WHERE id = ?", (poll.id,))
    if poll.settings.secret:
        # The WAL now holds this vote's commit: the state after it, next to the file's
        # state before it. Fold it in and truncate the log at once (see the module doc).
        await seal(db)
    return VoteResult(poll, outcome)


_BOX = ballot_boxes.Box("poll_ballot_boxes", "poll_id", "ballots")


async def _drop_in_box(tx: Tx, poll_id: int, encoded: str) -> None:
    await ballot_boxes.drop_in(tx, _BOX, poll_id, [encoded])


async def seal(db: Database) -> bool:
    """Checkpoint the WAL into the file and truncate it, so no older ballot box is left in
    it. False if a reader held part of the log back: the next vote or card refresh retries."""
    return await db.checkpoint()


async def my_vote(db: Database | Tx, poll: Poll, member: Member) -> ExistingVote | None:
    """The vote counted for this member (theirs, or their household's), if any."""
    key = voter_key(poll, member)
    if poll.settings.secret:
        row = await db.fetchone(
            "SELECT member_id FROM poll_voters WHERE poll_id = ? AND voter_key = ?",
            (poll.id, key),
        )
        return ExistingVote(row["member_id"], None, None) if row else None
    row = await db.fetchone(
        "SELECT v.member_id, v.choice, m.name FROM poll_votes v JOIN members m"
        " ON m.id = v.member_id WHERE v.poll_id = ? AND v.voter_key = ?",
        (poll.id, key),
    )
    if row is None:
        return None
    return ExistingVote(row["member_id"], row["name"], decode_choice(row["choice"]))


async def ballots(db: Database | Tx, poll: Poll) -> list[Choice]:
    """Every ballot's choice (a secret poll's in the box's order: by choice)."""
    if poll.settings.secret:
        box = await ballot_boxes.read(db, _BOX, poll.id)
        return [decode_choice(text) for text, n in sorted(box.items()) for _ in range(n)]
    rows = await db.fetchall("SELECT choice FROM poll_votes WHERE poll_id = ?", (poll.id,))
    return [decode_choice(r["choice"]) for r in rows]


async def turnout(db: Database | Tx, poll: Poll) -> int:
    """Voters, or households with a vote, per the poll's counting unit."""
    table = "poll_voters" if poll.settings.secret else "poll_votes"
    if poll.counts_households:
        sql = f"SELECT COUNT(DISTINCT household_id) FROM {table} WHERE poll_id = ?"
    else:
        sql = f"SELECT COUNT(*) FROM {table} WHERE poll_id = ?"
    return int(await db.scalar(sql, (poll.id,)) or 0)


async def voter_keys(db: Database | Tx, poll: Poll) -> set[str]:
    table = "poll_voters" if poll.settings.secret else "poll_votes"
    rows = await db.fetchall(f"SELECT voter_key FROM {table} WHERE poll_id = ?", (poll.id,))
    return {r["voter_key"] for r in rows}


async def poll_tally(db: Database | Tx, poll: Poll) -> Tally:
    return tally(poll, await ballots(db, poll), await turnout(db, poll), poll.eligible)


async def open_polls(db: Database | Tx) -> list[Poll]:
    rows = await db.fetchall("SELECT * FROM polls WHERE status = 'open' ORDER BY closes_at, id")
    return [poll_from_row(r) for r in rows]


async def due_to_close(db: Database | Tx, now: datetime) -> list[Poll]:
    rows = await db.fetchall(
        "SELECT * FROM polls WHERE status = 'open' AND closes_at <= ? ORDER BY closes_at, id",
        (to_iso(now),),
    )
    return [poll_from_row(r) for r in rows]


async def close_poll(db: Database, poll_id: int, eligible: int, now: datetime) -> bool:
    """Close an open poll, recording the eligible count at closing; True the first time only."""
    changed = await db.write(
        "UPDATE polls SET status = 'closed', closed_at = ?, eligible = ?, card_dirty = 1"
        " WHERE id = ? AND status = 'open'",
        (to_iso(now), eligible, poll_id),
    )
    return changed == 1


async def reminders_pending(db: Database | Tx) -> list[Poll]:
    """Open polls whose reminder round has not finished (the caller decides if it is due)."""
    rows = await db.fetchall(
        "SELECT * FROM polls WHERE status = 'open' AND reminded_at IS NULL ORDER BY id"
    )
    return [poll_from_row(r) for r in rows]


async def claim_reminder(db: Database, poll_id: int, member_id: int, now: datetime) -> bool:
    """Note that this member is being reminded; False if they already were (never twice)."""
    async with db.transaction() as tx:
        changed = await tx.rowcount(
            "INSERT OR IGNORE INTO poll_reminders (poll_id, member_id, sent_at) VALUES (?, ?, ?)",
            (poll_id, member_id, to_iso(now)),
        )
    return changed == 1


async def finish_reminders(db: Database, poll_id: int, now: datetime) -> None:
    await db.write("UPDATE polls SET reminded_at = ? WHERE id = ?", (to_iso(now), poll_id))


# --- Posts: cards, results, outcome statements --------------------------------------------


async def claim_post(db: Database, poll_id: int, kind: str, chat_id: int, now: datetime) -> bool:
    """Take the right to post this poll's `kind` to `chat_id`; False if it was taken before
    (posted, or being posted): so a crash between sending and recording never sends twice."""
    async with db.transaction() as tx:
        taken = await tx.rowcount(
            "INSERT OR IGNORE INTO poll_posts (poll_id, kind, chat_id, message_id, posted_at)"
            " VALUES (?, ?, ?, NULL, ?)",
            (poll_id, kind, chat_id, to_iso(now)),
        )
    return taken == 1


async def set_post_message(
    db: Database, poll_id: int, kind: str, chat_id: int, message_id: int
) -> None:
    await db.write(
        "UPDATE poll_posts SET message_id = ? WHERE poll_id = ? AND kind = ? AND chat_id = ?",
        (message_id, poll_id, kind, chat_id),
    )


async def release_post(db: Database, poll_id: int, kind: str, chat_id: int) -> None:
    """Give the claim back after a send that failed for a passing reason: a later tick retries."""
    await db.write(
        "DELETE FROM poll_posts WHERE poll_id = ? AND kind = ? AND chat_id = ?"
        " AND message_id IS NULL",
        (poll_id, kind, chat_id),
    )


async def posts(db: Database | Tx, poll_id: int, kind: str) -> list[tuple[int, int | None]]:
    """(chat id, message id) of the posts of this kind."""
    rows = await db.fetchall(
        "SELECT chat_id, message_id FROM poll_posts WHERE poll_id = ? AND kind = ?"
        " ORDER BY chat_id",
        (poll_id, kind),
    )
    return [(r["chat_id"], r["message_id"]) for r in rows]


# Which polls still have posts of a kind to deliver: a card once published, a result once
# closed, an outcome once stated. Each flag is set when every target chat has its post.
_PENDING = {
    "card": "card_done = 0",
    "result": "status = 'closed' AND result_done = 0",
    "outcome": "outcome IS NOT NULL AND outcome_done = 0",
}


async def posts_pending(db: Database | Tx, kind: str) -> list[Poll]:
    rows = await db.fetchall(f"SELECT * FROM polls WHERE {_PENDING[kind]} ORDER BY id")
    return [poll_from_row(r) for r in rows]


async def mark_posted_everywhere(db: Database, poll_id: int, kind: str) -> None:
    column = {"card": "card_done", "result": "result_done", "outcome": "outcome_done"}[kind]
    await db.write(f"UPDATE polls SET {column} = 1 WHERE id = ?", (poll_id,))


async def dirty_polls(db: Database | Tx) -> list[Poll]:
    rows = await db.fetchall("SELECT * FROM polls WHERE card_dirty = 1 ORDER BY id")
    return [poll_from_row(r) for r in rows]


async def clear_dirty(db: Database, poll_id: int) -> None:
    await db.write("UPDATE polls SET card_dirty = 0 WHERE id = ?", (poll_id,))


async def set_outcome(
    db: Database, poll_id: int, statement: str, by: int, now: datetime
) -> Poll | Refused:
    """The organizer's outcome statement for a closed poll, once."""
    async with db.transaction() as tx:
        poll = await get_poll(tx, poll_id)
        if poll is None:
            return Refused("unknown_poll")
        if poll.status is not PollStatus.CLOSED:
            return Refused("outcome_before_close", {"poll": poll_id})
        if poll.outcome is not None:
            return Refused("outcome_exists", {"poll": poll_id})
        await tx.execute(
            "UPDATE polls SET outcome = ?, outcome_by = ?, outcome_at = ? WHERE id = ?",
            (statement, by, to_iso(now), poll_id),
        )
        await audit(tx, by, "poll_outcome", f"poll:{poll_id}", statement[:200], now)
        updated = await get_poll(tx, poll_id)
    assert updated is not None
    return updated


# --- Export -------------------------------------------------------------------------------

EXPORT_HEADERS = [
    "poll",
    "title",
    "kind",
    "status",
    "closes_at",
    "eligible",
    "turnout",
    "option",
    "count",
]


async def export_polls(db: Database, since: datetime) -> tuple[list[str], list[list[Any]]]:
    """One row per poll option with its count (ranked: first choices) — never who voted what.

    Polls created since `since`. Counts of polls with hidden results are included only
    once the poll has closed.
    """
    rows = await db.fetchall(
        "SELECT * FROM polls WHERE created_at >= ? ORDER BY id", (to_iso(since),)
    )
    out: list[list[Any]] = []
    for row in rows:
        poll = poll_from_row(row)
        result = await poll_tally(db, poll)
        hidden = poll.settings.hide_results and poll.status is PollStatus.OPEN
        labels = (
            ["agree", "disagree", "abstain"] if poll.kind is PollKind.PROPOSAL else poll.options
        )
        for index, label in enumerate(labels):
            out.append(
                [
                    poll.id,
                    poll.title,
                    poll.kind.value,
                    poll.status.value,
                    to_iso(poll.closes_at),
                    poll.eligible,
                    result.turnout,
                    label,
                    "" if hidden else result.counts[index],
                ]
            )
    return EXPORT_HEADERS, out
