"""Polls in the database: publishing once, votes under concurrency, households, secret ballots."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from itertools import permutations
from pathlib import Path

import pytest

from linli.core.community import NodeKind
from linli.core.members import Audience
from linli.core.outcomes import Refused
from linli.core.polls import Poll, PollKind, PollStatus, QuorumBasis, Recorded
from linli.storage import ballot_boxes
from linli.storage import members as members_db
from linli.storage import polls as polls_db
from linli.storage.db import Database
from tests.support.polls import COMMUNITY, NOW, draft, resident


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "t.sqlite3")
    yield database
    await database.close()


async def publish(db: Database, key: str = "k1", **kwargs: object) -> Poll:
    d = draft(**kwargs)  # type: ignore[arg-type]
    eligible = await polls_db.count_eligible_now(db, d.settings, COMMUNITY)
    organizer = await resident(db, 1000, "主任", None)
    poll, _ = await polls_db.create_poll(
        db, d, created_by=organizer.id, key=key, eligible=eligible, now=NOW
    )
    return poll


async def test_publishing_twice_with_the_same_key_makes_one_poll(db: Database) -> None:
    first = await publish(db, "same")
    second = await publish(db, "same")
    assert first.id == second.id
    assert await db.scalar("SELECT COUNT(*) FROM polls") == 1


async def test_vote_change_and_tally(db: Database) -> None:
    poll = await publish(db)
    a, b = await resident(db, 1), await resident(db, 2)
    r = await polls_db.cast_vote(db, poll.id, a, [0], COMMUNITY, NOW)
    assert isinstance(r, polls_db.VoteResult) and r.outcome == Recorded((0,), changed=False)
    await polls_db.cast_vote(db, poll.id, b, [0], COMMUNITY, NOW)
    changed = await polls_db.cast_vote(db, poll.id, a, [2], COMMUNITY, NOW)
    assert isinstance(changed, polls_db.VoteResult) and changed.outcome == Recorded(
        (2,), changed=True
    )
    result = await polls_db.poll_tally(db, poll)
    assert result.counts == (1, 0, 1) and result.ballots == 2 and result.turnout == 2


async def test_bad_votes_change_nothing(db: Database) -> None:
    poll = await publish(db, verified_only=True, audience=Audience(NodeKind.COMPOUND, "heyuan"))
    voter = await resident(db, 1)
    unverified = await resident(db, 2, verified=False)
    outsider = await resident(db, 3, building="lihu/A")
    rider = await resident(db, 4, building=None)
    for who, choice, when, reason in [
        (voter, [7], NOW, "bad_choice"),
        (voter, [0], poll.closes_at + timedelta(seconds=1), "poll_closed"),
        (unverified, [0], NOW, "not_verified"),
        (outsider, [0], NOW, "not_in_audience"),
        (rider, [0], NOW, "not_in_audience"),
    ]:
        r = await polls_db.cast_vote(db, poll.id, who, choice, COMMUNITY, when)
        assert isinstance(r, polls_db.VoteResult) and isinstance(r.outcome, Refused)
        assert r.outcome.reason == reason
    assert await polls_db.cast_vote(db, 999, voter, [0], COMMUNITY, NOW) == Refused("unknown_poll")
    assert await db.scalar("SELECT COUNT(*) FROM poll_votes") == 0


async def test_500_concurrent_votes_tally_equals_ballots(db: Database) -> None:
    poll = await publish(db, kind=PollKind.MULTIPLE, options=("a", "b", "c", "d"), max_picks=2)
    voters = [await resident(db, 10_000 + i) for i in range(500)]
    rng = random.Random(7)
    choices = [sorted(rng.sample(range(4), rng.randint(1, 2))) for _ in voters]
    # Every voter taps twice at once (a double tap): still one ballot each.
    casts = [
        polls_db.cast_vote(db, poll.id, v, c, COMMUNITY, NOW)
        for v, c in zip(voters, choices, strict=True)
    ]
    results = await asyncio.gather(*casts, *casts[:100])
    assert all(
        isinstance(r, polls_db.VoteResult) and not isinstance(r.outcome, Refused) for r in results
    )
    result = await polls_db.poll_tally(db, poll)
    expected = Counter(i for c in choices for i in c)
    assert result.counts == tuple(expected[i] for i in range(4))
    assert result.ballots == 500 == result.turnout


async def test_one_vote_per_household(db: Database) -> None:
    wife = await resident(db, 1, "王芳", unit="3-201")
    husband = await resident(db, 2, "李强", unit="3-201")
    neighbour = await resident(db, 3, unit="3-202")
    poll = await publish(db, per_household=True, quorum_pct=50)
    assert poll.eligible == 2  # two households
    await polls_db.cast_vote(db, poll.id, wife, [0], COMMUNITY, NOW)
    r = await polls_db.cast_vote(db, poll.id, husband, [1], COMMUNITY, NOW)
    assert isinstance(r, polls_db.VoteResult)
    assert r.outcome == Refused("household_voted", {"name": "王芳"})
    # The one who voted for the household may still change it.
    await polls_db.cast_vote(db, poll.id, wife, [2], COMMUNITY, NOW)
    await polls_db.cast_vote(db, poll.id, neighbour, [2], COMMUNITY, NOW)
    result = await polls_db.poll_tally(db, poll)
    assert result.counts == (0, 0, 2) and result.turnout == 2 and result.quorum_met


async def test_secret_household_vote_does_not_say_who(db: Database) -> None:
    poll = await publish(db, per_household=True, secret=True)
    wife = await resident(db, 1, "王芳", unit="3-201")
    husband = await resident(db, 2, "李强", unit="3-201")
    await polls_db.cast_vote(db, poll.id, wife, [0], COMMUNITY, NOW)
    r = await polls_db.cast_vote(db, poll.id, husband, [1], COMMUNITY, NOW)
    assert isinstance(r, polls_db.VoteResult) and r.outcome == Refused("household_voted_secret")
    again = await polls_db.cast_vote(db, poll.id, wife, [1], COMMUNITY, NOW)
    assert isinstance(again, polls_db.VoteResult) and again.outcome == Refused(
        "household_voted_secret"
    )
    assert await db.scalar("SELECT member_id FROM poll_voters") is None


async def test_household_quorum_counts_distinct_households(db: Database) -> None:
    a1, a2 = await resident(db, 1, unit="1"), await resident(db, 2, unit="1")
    await resident(db, 3, unit="2")
    poll = await publish(db, quorum_basis=QuorumBasis.HOUSEHOLDS, quorum_pct=60)
    assert poll.eligible == 2
    await polls_db.cast_vote(db, poll.id, a1, [0], COMMUNITY, NOW)
    await polls_db.cast_vote(db, poll.id, a2, [1], COMMUNITY, NOW)  # both count as ballots
    result = await polls_db.poll_tally(db, poll)
    assert result.ballots == 2 and result.turnout == 1 and not result.quorum_met


async def _secret_store(tmp_path: Path, name: str, order: list[int]) -> list[str]:
    """Cast 24 distinct ranked ballots, voter i always ranking permutation i, in `order`."""
    database = await Database.open(tmp_path / name)
    try:
        poll = await publish(
            database, kind=PollKind.RANKED, options=("a", "b", "c", "d"), secret=True
        )
        voters = [await resident(database, 100 + i) for i in range(24)]
        ranks = list(permutations(range(4)))
        for i in order:
            await polls_db.cast_vote(database, poll.id, voters[i], ranks[i], COMMUNITY, NOW)
        rows = await database.fetchall("SELECT * FROM poll_ballot_boxes")
        return [str(row["ballots"]) for row in rows]
    finally:
        await database.close()


async def test_secret_ballot_cannot_be_linked_to_the_voter(db: Database, tmp_path: Path) -> None:
    # 1. Voters and ballots share no column but the poll, and neither keeps a time.
    voters_cols = {r["name"] for r in await db.fetchall("PRAGMA table_info(poll_voters)")}
    box_cols = {r["name"] for r in await db.fetchall("PRAGMA table_info(poll_ballot_boxes)")}
    assert voters_cols & box_cols == {"poll_id"}
    assert not any("at" in c.split("_") or "time" in c for c in voters_cols | box_cols)
    # 2. Voter rows have no rowid (no hidden insertion sequence); ballots have no row at all.
    with pytest.raises(Exception, match="rowid"):
        await db.fetchall("SELECT rowid FROM poll_voters")
    # 3. The stored ballots say nothing about the order of voting: the same voters voting in
    # the opposite order leave the very same box, one record of how many chose what.
    forward = list(range(24))
    ranks = sorted(",".join(map(str, p)) for p in permutations(range(4)))
    stored_a = await _secret_store(tmp_path, "a.sqlite3", forward)
    stored_b = await _secret_store(tmp_path, "b.sqlite3", forward[::-1])
    assert stored_a == stored_b and len(stored_a) == 1
    assert list(ballot_boxes.decode_box(stored_a[0]).items()) == [(r, 1) for r in ranks]
    # 4. The tally is still right, and a secret vote cannot be changed (we could not find it).
    poll = await publish(db, secret=True)
    a = await resident(db, 1)
    await polls_db.cast_vote(db, poll.id, a, [1], COMMUNITY, NOW)
    r = await polls_db.cast_vote(db, poll.id, a, [2], COMMUNITY, NOW)
    assert isinstance(r, polls_db.VoteResult) and r.outcome == Refused("already_voted_secret")
    assert (await polls_db.poll_tally(db, poll)).counts == (0, 1, 0)
    assert await db.scalar("SELECT COUNT(*) FROM poll_votes") == 0


async def test_closing_once_and_recounting_eligible(db: Database) -> None:
    poll = await publish(db, closes_in=timedelta(hours=1))
    assert await polls_db.due_to_close(db, NOW) == []
    later = NOW + timedelta(hours=2)
    assert [p.id for p in await polls_db.due_to_close(db, later)] == [poll.id]
    await resident(db, 1)
    assert await polls_db.close_poll(db, poll.id, 5, later)
    assert not await polls_db.close_poll(db, poll.id, 9, later)
    closed = await polls_db.get_poll(db, poll.id)
    assert closed is not None and closed.status is PollStatus.CLOSED and closed.eligible == 5
    assert [p.id for p in await polls_db.posts_pending(db, "result")] == [poll.id]


async def test_reminder_claimed_once_per_member(db: Database) -> None:
    poll = await publish(db)
    a = await resident(db, 1)
    assert await polls_db.claim_reminder(db, poll.id, a.id, NOW)
    assert not await polls_db.claim_reminder(db, poll.id, a.id, NOW)


async def test_outcome_only_after_closing_and_once(db: Database) -> None:
    poll = await publish(db)
    org = await members_db.get_member_by_telegram(db, 1000)
    assert org is not None
    assert await polls_db.set_outcome(db, poll.id, "x", org.id, NOW) == Refused(
        "outcome_before_close", {"poll": poll.id}
    )
    await polls_db.close_poll(db, poll.id, 0, NOW)
    done = await polls_db.set_outcome(db, poll.id, "物业下周施工", org.id, NOW)
    assert not isinstance(done, Refused) and done.outcome == "物业下周施工"
    assert await polls_db.set_outcome(db, poll.id, "y", org.id, NOW) == Refused(
        "outcome_exists", {"poll": poll.id}
    )


async def test_export_has_counts_and_no_voters(db: Database) -> None:
    poll = await publish(db, kind=PollKind.PROPOSAL)
    hidden = await publish(db, "k2", hide_results=True)
    a = await resident(db, 1, "张三")
    await polls_db.cast_vote(db, poll.id, a, [0], COMMUNITY, NOW)
    await polls_db.cast_vote(db, hidden.id, a, [0], COMMUNITY, NOW)
    headers, rows = await polls_db.export_polls(db, NOW - timedelta(days=1))
    assert headers == polls_db.EXPORT_HEADERS
    assert [r[7:] for r in rows if r[0] == poll.id] == [
        ["agree", 1],
        ["disagree", 0],
        ["abstain", 0],
    ]
    assert [r[8] for r in rows if r[0] == hidden.id] == ["", "", ""]
    assert "张三" not in repr(rows)


async def test_a_post_is_claimed_once_and_a_passing_failure_gives_it_back(db: Database) -> None:
    poll = await publish(db)
    claims = await asyncio.gather(
        *(polls_db.claim_post(db, poll.id, "result", -100, NOW) for _ in range(10))
    )
    assert claims.count(True) == 1  # two ticks at once: one of them posts
    await polls_db.release_post(db, poll.id, "result", -100)  # the send failed for now
    assert await polls_db.claim_post(db, poll.id, "result", -100, NOW) is True
    await polls_db.set_post_message(db, poll.id, "result", -100, 77)
    await polls_db.release_post(db, poll.id, "result", -100)  # a sent post is never released
    assert await polls_db.posts(db, poll.id, "result") == [(-100, 77)]
    assert await polls_db.claim_post(db, poll.id, "result", -100, NOW) is False
