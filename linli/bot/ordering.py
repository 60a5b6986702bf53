"""Updates from different people at once; one person's updates in the order they came.

PTB handles updates one after the other by default, so while one resident's answer is on
its way to Telegram every other resident waits. `concurrent_updates` lifts that, but in no
order at all: a resident who types a description and taps "Send" a moment later could
have the tap handled first. This processor runs updates concurrently across people and in
order per person (per chat where an update has no sender). What one person does is then
exactly as if the bot handled their updates one by one; what two people do at once was
already safe, because every rule that compares (seats, stock, votes) runs inside one
`BEGIN IMMEDIATE` transaction.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# Enough to keep the Bot API connection busy while handlers wait for Telegram's answers;
# more would only queue behind the one core Python runs on (bench/: 8 and 16 alike).
CONCURRENT_UPDATES = 16
ADMITTED = 1024  # updates admitted at once, most of them waiting for their sender's turn


_LIVE: weakref.WeakSet[PerSenderUpdateProcessor] = weakref.WeakSet()


def in_progress() -> int:
    """Updates being handled (or waiting for their turn) in this process right now: the demo
    waits for none before it calls the bot quiet (a handler may think for a while, e.g.
    drawing a picture, without calling Telegram)."""
    return sum(p.updates_in_progress for p in _LIVE)


def ordering_key(update: object) -> tuple[str, int] | None:
    """Whose updates must keep their order: the sender's, else the chat's."""
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None:
        return ("user", update.effective_user.id)
    if update.effective_chat is not None:
        return ("chat", update.effective_chat.id)
    return None


class PerSenderUpdateProcessor(BaseUpdateProcessor):
    """At most `running` updates at once, each sender's in arrival order."""

    __slots__ = ("_lanes", "_running", "updates_in_progress")

    def __init__(self, running: int = CONCURRENT_UPDATES) -> None:
        # PTB's own limit is taken first, in arrival order (its semaphore is first come,
        # first served); it is set high so that a sender whose updates wait for each other
        # holds one place, not all of them. `running` is what limits the work.
        super().__init__(ADMITTED)
        self._running = asyncio.Semaphore(running)
        # A lock per sender with updates in progress or waiting, and how many hold or wait.
        self._lanes: dict[tuple[str, int], tuple[asyncio.Lock, int]] = {}
        self.updates_in_progress = 0
        _LIVE.add(self)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        self.updates_in_progress += 1
        try:
            await self._in_order(update, coroutine)
        finally:
            self.updates_in_progress -= 1

    async def _in_order(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = ordering_key(update)
        if key is None:
            async with self._running:
                await coroutine
            return
        # PTB starts one task per update in arrival order and each reaches this lock before
        # it waits for anything else; the lock wakes its waiters first come, first served.
        lock, users = self._lanes.get(key, (asyncio.Lock(), 0))
        self._lanes[key] = (lock, users + 1)
        try:
            async with lock, self._running:
                await coroutine
        finally:
            lock, users = self._lanes[key]
            if users == 1:
                del self._lanes[key]
            else:
                self._lanes[key] = (lock, users - 1)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release: PTB waits for the updates in progress before it stops."""

    @property
    def senders_in_progress(self) -> int:
        return len(self._lanes)
