"""What approval ballots share (budget rounds, honours): the ticks a ballot button carries as
a bit mask over the ballot's positions."""

from __future__ import annotations


def picks_of(mask: int, count: int) -> tuple[int, ...] | None:
    """The ballot positions a bit mask ticks, or None if it names a position not there."""
    if mask < 0 or mask >= 1 << count:
        return None
    return tuple(i for i in range(count) if mask >> i & 1)
