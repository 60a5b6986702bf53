"""Secret ballots in the bytes on disk: no copy of the database file, its WAL or a backup
pairs a voter with a ballot, after any vote or in the instant between a vote's commit and
its checkpoint.

Voters are markers `m:NN` / `h:NN` (their voter keys, ids 10..21 so no marker is a prefix of
another) and ballots are ranked choices `a,b,c,d`, all different, so both can be found in
the raw pages. An attacker holding one copy sorts voters and ballots by their position in
it and pairs them in that order (or the reverse); that recovered every pair when ballots
were rows of their own.
"""

from __future__ import annotations

import random
import re
import secrets
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from itertools import permutations
from pathlib import Path

import pytest

from linli.core.members import Member
from linli.core.polls import Poll, PollKind, Tally, tally
from linli.storage import db as db_module
from linli.storage import polls as polls_db
from linli.storage.db import Database
from tests.support.polls import COMMUNITY, NOW, draft, resident

VOTERS = 12
RANKS = [",".join(map(str, p)).encode() for p in permutations(range(4))]


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "t.sqlite3")
    yield database
    await database.close()


def wal_commits(wal: bytes) -> list[bytes]:
    """The page images of a WAL, grouped by commit (stale frames of an older log included:
    they are on disk too)."""
    if len(wal) < 32:
        return []
    page_size = struct.unpack(">I", wal[8:12])[0]
    commits: list[bytes] = []
    current = b""
    for start in range(32, len(wal) - 24 - page_size + 1, 24 + page_size):
        current += wal[start + 24 : start + 24 + page_size]
        if struct.unpack(">I", wal[start + 4 : start + 8])[0] != 0:  # a commit frame
            commits.append(current)
            current = b""
    if current:
        commits.append(current)
    return commits


@dataclass
class Attack:
    """Pairs found by position in one copy, summed over every copy looked at."""

    pairs: int = 0
    recovered: int = 0
    copies: list[tuple[str, int, int]] = field(default_factory=list)

    def look(self, name: str, blob: bytes, cast: dict[bytes, bytes]) -> None:
        """Sort the voters and the ballots found in `blob` by position; pair them in order."""
        voters = sorted(
            (m.start(), key) for key in cast for m in re.finditer(key + rb"(?!\d)", blob)
        )
        ballots = sorted((blob.find(c), c) for c in set(cast.values()) if c in blob)
        if len(voters) < 2 or len(voters) != len(ballots):
            return
        by_order = [b for _, b in ballots]
        guesses = [by_order, by_order[::-1]]
        truth = [cast[key] for _, key in voters]
        best = max(sum(g == t for g, t in zip(guess, truth, strict=True)) for guess in guesses)
        self.pairs += len(truth)
        self.recovered += best
        self.copies.append((name, best, len(truth)))


def ballot_count(blob: bytes, choice: bytes) -> int:
    return len(re.findall(re.escape(choice) + rb"(?![\d,])", blob))


async def setup(db: Database, per_household: bool) -> tuple[Poll, list[tuple[bytes, Member]]]:
    organizer = await resident(db, 1000, "主任")
    for filler in range(2, 10):  # member and household ids 2..9: voters get 10..21
        await resident(db, 900 + filler)
    d = draft(PollKind.RANKED, ("a", "b", "c", "d"), secret=True, per_household=per_household)
    eligible = await polls_db.count_eligible_now(db, d.settings, COMMUNITY)
    poll, _ = await polls_db.create_poll(
        db, d, created_by=organizer.id, key="k", eligible=eligible, now=NOW
    )
    voters = []
    for i in range(VOTERS):
        member = await resident(db, 100 + i)
        assert member.id == member.household_id == 10 + i
        marker = f"{'h' if per_household else 'm'}:{member.id}".encode()
        voters.append((marker, member))
    return poll, voters


def snapshot(db: Database) -> tuple[bytes, bytes]:
    wal = Path(f"{db.path}-wal")
    return db.path.read_bytes(), wal.read_bytes() if wal.exists() else b""


@pytest.mark.parametrize("per_household", [False, True], ids=["members", "households"])
async def test_no_copy_pairs_a_voter_with_a_ballot(
    db: Database, tmp_path: Path, per_household: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    poll, voters = await setup(db, per_household)
    rng = random.Random(13)
    choices = rng.sample(RANKS, VOTERS)
    rng.shuffle(voters)
    cast: dict[bytes, bytes] = {}
    attack = Attack()

    # The instant between a vote's commit and its checkpoint: the file holds the state
    # before the vote, the WAL the state after it. Each alone must pair nothing.
    window: list[tuple[bytes, bytes]] = []
    windows_seen = 0
    checkpoint: Callable[[Database], Awaitable[bool]] = Database.checkpoint

    async def looked_at(self: Database) -> bool:
        window.append(snapshot(self))
        return await checkpoint(self)

    monkeypatch.setattr(Database, "checkpoint", looked_at)

    for n, ((marker, member), choice) in enumerate(zip(voters, choices, strict=True), 1):
        result = await polls_db.cast_vote(
            db, poll.id, member, tuple(int(c) for c in choice.split(b",")), COMMUNITY, NOW
        )
        assert isinstance(result, polls_db.VoteResult)
        cast[marker] = choice
        file, wal = snapshot(db)
        backup = tmp_path / f"backup-{n}.sqlite3"
        await db.backup_to(backup)
        copy = backup.read_bytes()
        # A consistent copy holds every ballot cast so far exactly once: no older state
        # of the ballots lingers in it to compare with.
        assert [ballot_count(copy, c) for c in cast.values()] == [1] * n
        attack.look(f"backup after vote {n}", copy, cast)
        attack.look(f"file after vote {n}", file, cast)
        # The WAL never keeps a history: at most one commit that carries ballots.
        with_ballots = [c for c in wal_commits(wal) if any(v in c for v in cast.values())]
        assert len(with_ballots) <= 1, f"after vote {n}: {len(with_ballots)} commits in the WAL"
        attack.look(f"WAL after vote {n}", wal, cast)
        windows_seen += len(window)
        for file_then, wal_then in window:
            assert (
                len([c for c in wal_commits(wal_then) if any(v in c for v in cast.values())]) <= 1
            )
            attack.look(f"file right after vote {n}", file_then, cast)
            attack.look(f"WAL right after vote {n}", wal_then, cast)
        window.clear()

    assert windows_seen >= VOTERS  # every vote was followed by a checkpoint, seen before it ran
    # Sorting by position recovers no more than chance would; with ballots as rows of their
    # own it recovered every pair in every copy.
    assert attack.pairs >= sum(range(2, VOTERS + 1))  # the backups alone, votes 2..12
    assert attack.recovered * 3 <= attack.pairs, attack.copies
    assert not [c for c in attack.copies if c[2] >= 5 and c[1] == c[2]], attack.copies


async def _final_ballot_order(path: Path, order: list[int]) -> tuple[list[bytes], bytes]:
    database = await Database.open(path)
    try:
        poll, voters = await setup(database, False)
        choices = random.Random(5).sample(RANKS, VOTERS)
        for i in order:
            rank = tuple(int(c) for c in choices[i].split(b","))
            await polls_db.cast_vote(database, poll.id, voters[i][1], rank, COMMUNITY, NOW)
        await database.backup_to(path.with_suffix(".backup"))
        copy = path.with_suffix(".backup").read_bytes()
        return [c for _, c in sorted((copy.find(c), c) for c in choices)], copy
    finally:
        await database.close()


async def test_the_stored_ballots_do_not_depend_on_the_order_of_voting(tmp_path: Path) -> None:
    forward = list(range(VOTERS))
    shuffled = random.Random(3).sample(forward, VOTERS)
    runs = [
        await _final_ballot_order(tmp_path / f"{name}.sqlite3", order)
        for name, order in [("a", forward), ("b", forward[::-1]), ("c", shuffled)]
    ]
    orders = [order for order, _ in runs]
    assert orders[0] == orders[1] == orders[2]


KINDS: list[tuple[PollKind, tuple[str, ...], int]] = [
    (PollKind.PROPOSAL, (), 1),
    (PollKind.SINGLE, ("a", "b", "c"), 1),
    (PollKind.MULTIPLE, ("a", "b", "c", "d"), 2),
    (PollKind.RANKED, ("a", "b", "c", "d"), 1),
]


def some_choice(rng: random.Random, kind: PollKind, options: int) -> tuple[int, ...]:
    if kind is PollKind.PROPOSAL:
        return (rng.randrange(3),)
    if kind is PollKind.SINGLE:
        return (rng.randrange(options),)
    if kind is PollKind.MULTIPLE:
        return tuple(sorted(rng.sample(range(options), rng.randint(1, 2))))
    return tuple(rng.sample(range(options), rng.randint(1, options)))


async def test_a_secret_poll_tallies_exactly_as_an_open_one(db: Database) -> None:
    organizer = await resident(db, 1000, "主任")
    voters = [await resident(db, 100 + i, unit=str(i // 2)) for i in range(40)]
    rng = random.Random(11)
    for number, (kind, options, max_picks) in enumerate(KINDS):
        for per_household in (False, True):
            polls = []
            for secret in (False, True):
                d = draft(
                    kind, options, max_picks=max_picks, secret=secret, per_household=per_household
                )
                poll, _ = await polls_db.create_poll(
                    db,
                    d,
                    created_by=organizer.id,
                    key=f"{number}{per_household}{secret}",
                    eligible=30,
                    now=NOW,
                )
                polls.append(poll)
            for voter in voters:
                choice = some_choice(rng, kind, len(options))
                for poll in polls:
                    await polls_db.cast_vote(db, poll.id, voter, choice, COMMUNITY, NOW)
            open_tally, secret_tally = [await polls_db.poll_tally(db, p) for p in polls]
            assert secret_tally == open_tally
            assert secret_tally.ballots == (20 if per_household else 40)


async def test_migration_moves_every_secret_ballot_into_its_box(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.sqlite3"
    every = db_module.load_migrations()
    # Every migration but 0008 (later ones add what today's code reads, e.g. members.blocked_at).
    monkeypatch.setattr(db_module, "load_migrations", lambda: [m for m in every if m.version != 8])
    old = await Database.open(path)
    organizer = await resident(old, 1000, "主任")
    voters = [await resident(old, 100 + i, unit=str(i // 2)) for i in range(30)]
    rng = random.Random(17)
    before: dict[int, Tally] = {}
    ballot_ids: list[str] = []
    for number, (kind, options, max_picks) in enumerate(KINDS):
        for secret in (True, False):
            d = draft(kind, options, max_picks=max_picks, secret=secret, per_household=secret)
            poll, _ = await polls_db.create_poll(
                old, d, created_by=organizer.id, key=f"{number}{secret}", eligible=30, now=NOW
            )
            cast: list[tuple[int, ...]] = []
            households: set[int | None] = set()
            async with old.transaction() as tx:  # as the code before 0008 stored votes
                for voter in voters:
                    choice = some_choice(rng, kind, len(options))
                    if voter.household_id in households and secret:
                        continue
                    households.add(voter.household_id)
                    cast.append(choice)
                    text = polls_db.encode_choice(choice)
                    if secret:
                        key = f"h:{voter.household_id}"
                        await tx.execute(
                            "INSERT INTO poll_voters (poll_id, voter_key, member_id,"
                            " household_id) VALUES (?, ?, NULL, ?)",
                            (poll.id, key, voter.household_id),
                        )
                        ballot_ids.append(secrets.token_hex(16))
                        await tx.execute(
                            "INSERT INTO poll_ballots (ballot_id, poll_id, choice)"
                            " VALUES (?, ?, ?)",
                            (ballot_ids[-1], poll.id, text),
                        )
                    else:
                        await tx.execute(
                            "INSERT INTO poll_votes (poll_id, voter_key, member_id,"
                            " household_id, choice, cast_at, updated_at)"
                            " VALUES (?, ?, ?, ?, ?, ?, ?)",
                            (
                                poll.id,
                                f"m:{voter.id}",
                                voter.id,
                                voter.household_id,
                                text,
                                "2026-11-26T02:00:00+00:00",
                                "2026-11-26T02:00:00+00:00",
                            ),
                        )
            turnout = len(households) if secret else len(cast)
            before[poll.id] = tally(poll, cast, turnout, poll.eligible)
    await old.close()
    monkeypatch.undo()

    db = await Database.open(path)
    try:
        for poll_id, expected in before.items():
            migrated = await polls_db.get_poll(db, poll_id)
            assert migrated is not None
            assert await polls_db.poll_tally(db, migrated) == expected
        tables = {r[0] for r in await db.fetchall("SELECT name FROM sqlite_master")}
        assert "poll_ballots" not in tables and "poll_ballot_boxes" in tables
        # The old rows, in the order they were cast, are gone from the file and the WAL
        # (not just unlisted) as soon as the bot has migrated, while it runs.
        file, wal = snapshot(db)
        assert len(ballot_ids) == 60
        assert [i for i in ballot_ids if i.encode() in file + wal] == []
    finally:
        await db.close()
