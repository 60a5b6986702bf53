"""Scheduled work. Every tick asks the database what is due at `now`, so a restart loses
nothing and a second run sends nothing twice. Each feature's job module exposes `TICKS`."""

from __future__ import annotations

import logging

from linli.bot.context import LinliContext
from linli.bot.jobs import (
    broadcasts,
    digest,
    directory,
    events,
    fund,
    hazards,
    honours,
    polls,
    rankings,
    spaces,
    system,
)
from linli.bot.jobs.tick import Tick

log = logging.getLogger(__name__)


def all_ticks() -> list[Tick]:
    """The ordered table of scheduled work."""
    return [
        *system.TICKS,
        *hazards.TICKS,  # escalations first: an unacknowledged urgent report is the most pressing
        *events.TICKS,
        *spaces.TICKS,
        *directory.TICKS,
        *polls.TICKS,
        *broadcasts.TICKS,
        *rankings.TICKS,
        *fund.TICKS,
        *honours.TICKS,
        *digest.TICKS,  # last: the week's figures include whatever the ticks above just closed
    ]


async def run_ticks(context: LinliContext) -> None:
    """One pass over everything due; one feature's failure does not stop the others."""
    for tick in all_ticks():
        try:
            await tick(context)
        except Exception:
            log.exception("scheduled job %s failed", getattr(tick, "__qualname__", tick))
    # What waits for a write (the marks of updates that wrote nothing) waits one tick at most.
    await context.services.db.flush()
