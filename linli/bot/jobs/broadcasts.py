"""Resuming broadcasts after a restart (the delivery itself is in linli/bot/views/broadcasts.py).

The tick `resume_broadcasts` restarts the delivery of any broadcast still `sending` that no
task in this process is delivering (after a restart): rows that were in flight when the bot
stopped may have arrived, so they are marked failed ("interrupted") and never sent again;
every pending row is then sent exactly once.
"""

from __future__ import annotations

import logging
from typing import Any, cast

from linli.bot.context import LinliApp, LinliContext
from linli.bot.jobs.tick import Tick
from linli.bot.limits import Limiter
from linli.bot.views.broadcasts import is_delivering, start_delivery
from linli.storage import broadcasts as bc_db

log = logging.getLogger(__name__)


async def resume_broadcasts(context: LinliContext) -> None:
    """Pick up broadcasts a restart interrupted (and any not yet started)."""
    app: LinliApp = context.application  # type: ignore[assignment]
    services = context.services
    for broadcast_id in await bc_db.sending_broadcasts(services.db):
        if is_delivering(app, broadcast_id):
            continue
        limiter = cast(Any, app.bot).rate_limiter
        if isinstance(limiter, Limiter):
            # The process before a restart may have sent a second's worth just before it
            # stopped: resume as if that second were full, so the first messages earn no 429.
            limiter.assume_full()
        interrupted = await bc_db.interrupt_in_flight(services.db, broadcast_id, services.now())
        if interrupted:
            log.warning(
                "broadcast %s: %s messages were in flight at the stop; not sent again",
                broadcast_id,
                interrupted,
            )
        start_delivery(app, broadcast_id)


TICKS: list[Tick] = [resume_broadcasts]
