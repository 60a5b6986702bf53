"""Ballot boxes for secret votes (polls, budget rounds, honours): one record per vote,
holding how many ballots chose what, rewritten whole on each ballot with its keys sorted,
so the same ballots give the same bytes whatever the order they were cast in. Nothing in
it (no row, position or time per ballot) pairs a voter with a choice; the WAL is sealed
after a secret ballot by the caller (`Database.checkpoint`), see storage/polls.py."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import NamedTuple

from linli.storage.db import Database, Tx


class Box(NamedTuple):
    """Where a kind of vote keeps its boxes: table, the vote's key column, the counts column.
    Names come from code, never from input."""

    table: str
    key: str
    counts: str = "counts"


def encode_box(counts: dict[str, int]) -> str:
    """A ballot box as stored: the same ballots give the same text, whatever their order."""
    return json.dumps(counts, sort_keys=True, separators=(",", ":"))


def decode_box(text: str | None) -> dict[str, int]:
    return {} if text is None else {str(k): int(v) for k, v in json.loads(text).items()}


async def drop_in(tx: Tx, box: Box, vote_id: int, choices: Iterable[object]) -> None:
    """Count one ballot's choices into the vote's box, in the open transaction."""
    counts = await read(tx, box, vote_id)
    for choice in choices:
        counts[str(choice)] = counts.get(str(choice), 0) + 1
    await tx.execute(
        f"INSERT INTO {box.table} ({box.key}, {box.counts}) VALUES (?, ?)"
        f" ON CONFLICT ({box.key}) DO UPDATE SET {box.counts} = excluded.{box.counts}",
        (vote_id, encode_box(counts)),
    )


async def read(db: Database | Tx, box: Box, vote_id: int) -> dict[str, int]:
    """What the vote's box holds so far (choice as text -> ballots)."""
    return decode_box(
        await db.scalar(f"SELECT {box.counts} FROM {box.table} WHERE {box.key} = ?", (vote_id,))
    )


async def counts_by_id(db: Database | Tx, box: Box, vote_id: int) -> dict[int, int]:
    """The box's counts for votes whose choices are ids (projects, candidates)."""
    return {int(k): v for k, v in (await read(db, box, vote_id)).items()}
