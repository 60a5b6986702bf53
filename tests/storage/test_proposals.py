"""Proposals in the database: one per tap, co-signatures once each, opened or declined once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from linli.core.community import NodeKind, Role
from linli.core.members import Audience
from linli.core.outcomes import Refused, RefusedError
from linli.core.polls import PollKind
from linli.core.proposals import ProposalStatus
from linli.storage import polls as polls_db
from linli.storage import proposals as proposals_db
from linli.storage.db import Database
from tests.support.polls import COMMUNITY, NOW, draft, resident

BUILDING = Audience(NodeKind.BUILDING, "heyuan/1")


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "t.sqlite3")
    yield database
    await database.close()


async def test_cosigning_reaches_the_threshold_once(db: Database) -> None:
    author = await resident(db, 1)
    p, created = await proposals_db.create_proposal(
        db, author, BUILDING, "加装电梯", "理由", threshold=3, key="k", now=NOW
    )
    again, created_again = await proposals_db.create_proposal(
        db, author, BUILDING, "加装电梯", "理由", threshold=3, key="k", now=NOW
    )
    assert created and not created_again and again.id == p.id
    signers = [await resident(db, 10 + i) for i in range(5)]
    # Everyone taps at once, and the first signer twice: three reach, exactly one "reached".
    results = await asyncio.gather(
        *(proposals_db.cosign(db, p.id, s, COMMUNITY, NOW) for s in [*signers, signers[0]])
    )
    reached = [
        r for r in results if isinstance(r, proposals_db.CosignResult) and r.cosigned.reached
    ]
    refused = [r for r in results if isinstance(r, Refused)]
    assert len(reached) == 1 and refused == [Refused("already_cosigned")]
    final = await proposals_db.get_proposal(db, p.id)
    assert final is not None and final.cosigns == 5 and final.status is ProposalStatus.READY
    assert await proposals_db.cosign(db, p.id, author, COMMUNITY, NOW) == Refused("own_proposal")


async def test_opening_a_vote_and_declining_happen_once(db: Database) -> None:
    author = await resident(db, 1)
    organizer = await resident(db, 2, roles=(Role.ORGANIZER,))
    p, _ = await proposals_db.create_proposal(
        db, author, BUILDING, "T", "B", threshold=1, key="k", now=NOW
    )
    poll, _ = await polls_db.create_poll(
        db,
        draft(PollKind.PROPOSAL, audience=BUILDING),
        created_by=organizer.id,
        key="p1",
        eligible=2,
        now=NOW,
        proposal_id=p.id,
    )
    opened = await proposals_db.get_proposal(db, p.id)
    assert (
        opened is not None and opened.status is ProposalStatus.OPENED and opened.poll_id == poll.id
    )
    with pytest.raises(RefusedError):
        await polls_db.create_poll(
            db,
            draft(PollKind.PROPOSAL, audience=BUILDING),
            created_by=organizer.id,
            key="p2",
            eligible=2,
            now=NOW,
            proposal_id=p.id,
        )
    assert await db.scalar("SELECT COUNT(*) FROM polls") == 1
    assert await proposals_db.decline(db, p.id, organizer, "no", NOW) == Refused(
        "already_decided", {"status": "opened"}
    )
    q, _ = await proposals_db.create_proposal(
        db, author, BUILDING, "T2", "B", threshold=1, key="k2", now=NOW
    )
    assert await proposals_db.decline(db, q.id, author, "no", NOW) == Refused("organizers_only")
    declined = await proposals_db.decline(db, q.id, organizer, "预算不足", NOW)
    assert not isinstance(declined, Refused) and declined.decline_reason == "预算不足"
