"""Shared fixtures. Keep this small; feature fixtures belong in their own test folders."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from linli.sim.harness import Harness

MakeHarness = Callable[..., Awaitable[Harness]]


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    """The bot with the example config, a simulator, a fake clock and a fresh database."""
    async with Harness() as h:
        yield h


@pytest.fixture
async def make_harness() -> AsyncIterator[MakeHarness]:
    """`h = await make_harness({"community": {"verification": "none"}}, flood_limits=True)`."""
    opened: list[Harness] = []

    async def make(overrides: dict[str, Any] | None = None, **options: Any) -> Harness:
        h = Harness(overrides, **options)
        await h.__aenter__()
        opened.append(h)
        return h

    yield make
    for h in reversed(opened):
        await h.__aexit__(None, None, None)
