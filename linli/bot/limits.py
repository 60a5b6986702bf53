"""Telegram's flood limits, kept with a margin: every message the bot sends waits here for its turn.

Telegram takes about 30 messages a second from a bot, 20 a minute in one group, and about
one a second in one chat (short bursts allowed); past that it answers 429 and makes the bot
wait. The limiter keeps each with a margin, on the times requests actually leave:

- overall: at most 29 messages in any one-second window, and none closer than 1/30 s to the
  one before (so a burst after a pause is paced, not sent at once);
- one chat (private or group): up to 3 at once, then one every 1.1 s;
- one group: at most 19 in any 60 s window.

A media group counts as one message per item. An edit counts in the overall pace only
(Telegram's per-chat pace is about new messages; a resident tapping through a flow edits
one card quickly). Answers to button taps, chat actions, reads and deletions are not
messages and are not limited. A 429 that gets through anyway (another
process using the same token) pauses every message for its `retry_after`, and the request is
retried (`SendOptions.retries`).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
import weakref
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from telegram._utils.types import JSONDict
from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

log = logging.getLogger(__name__)

OVERALL_MESSAGES_PER_SECOND = 29  # Telegram: 30
OVERALL_SPACING = 1 / 30  # seconds between two messages at the least
CHAT_BURST = 3  # messages at once in one chat...
CHAT_INTERVAL = 1.1  # ...then one every this many seconds (Telegram: about one a second)
GROUP_MESSAGES_PER_MINUTE = 19  # Telegram: 20
DEFAULT_RETRIES = 3
_AFTER = 1e-6  # a window's oldest message has surely left it (float rounding)
_FORGET_CHATS_PAST = 2048  # idle chats' state is dropped once this many are known

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
Callback = Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]]


class Limit(Protocol):
    def ready_at(self, now: float, weight: int) -> float:
        """The earliest time (>= now) at which `weight` more messages keep this limit."""

    def record(self, at: float, weight: int) -> None:
        """`weight` messages left at `at`."""

    def idle(self, now: float) -> bool:
        """Nothing recorded still counts: the state can be forgotten."""


class Window:
    """At most `count` messages in any `seconds`-long window (a sliding log of send times)."""

    def __init__(self, count: int, seconds: float) -> None:
        self.count = count
        self.seconds = seconds
        self.times: deque[float] = deque()

    def _forget(self, now: float) -> None:
        while self.times and self.times[0] <= now - self.seconds:
            self.times.popleft()

    def ready_at(self, now: float, weight: int) -> float:
        self._forget(now)
        over = len(self.times) + min(weight, self.count) - self.count
        return now if over <= 0 else max(now, self.times[over - 1] + self.seconds + _AFTER)

    def record(self, at: float, weight: int) -> None:
        self.times.extend([at] * min(weight, self.count))

    def idle(self, now: float) -> bool:
        self._forget(now)
        return not self.times


class Bucket:
    """Up to `burst` messages at once, then one every `interval` seconds (a token bucket,
    kept as the time it will be full again)."""

    def __init__(self, burst: int, interval: float) -> None:
        self.burst = burst
        self.interval = interval
        self.full_at = -math.inf

    def ready_at(self, now: float, weight: int) -> float:
        cost = min(weight, self.burst) * self.interval
        return max(now, self.full_at + cost - self.burst * self.interval)

    def record(self, at: float, weight: int) -> None:
        self.full_at = max(self.full_at, at) + min(weight, self.burst) * self.interval

    def idle(self, now: float) -> bool:
        return self.full_at <= now


@dataclass(frozen=True, slots=True)
class SendOptions:
    """Per request (`rate_limit_args=`): retries after a 429, and a hook run as it leaves."""

    retries: int | None = None  # None: the limiter's default
    # Called when the request has its turn, just before it leaves; False: it is not sent
    # (NotReleased is raised). A broadcast claims its row here, so a crash while the
    # request waits for its turn leaves the row pending, not "in flight".
    on_release: Callable[[], Awaitable[bool]] | None = None


class NotReleased(Exception):
    """The request's `on_release` hook said not to send it."""


def weight_of(endpoint: str, data: JSONDict) -> int:
    """How many messages a request counts as (0: not limited)."""
    name = endpoint.lower()
    if name == "sendmediagroup":
        media = data.get("media")
        return max(1, len(media) if isinstance(media, list | tuple) else 1)
    if name == "sendchataction":
        return 0
    return 1 if name.startswith(("send", "edit", "copymessage", "forwardmessage")) else 0


def chat_key(chat_id: object) -> int | str | None:
    """The chat a request goes to: an id, "@username" (a channel or group), or None."""
    if isinstance(chat_id, bool) or chat_id is None:
        return None
    if isinstance(chat_id, int):
        return chat_id
    text = str(chat_id)
    try:
        return int(text)
    except ValueError:
        return text


_LIVE: weakref.WeakSet[Limiter] = weakref.WeakSet()


def holding() -> int:
    """Requests the limiters of this process are holding back right now (the demo waits for
    them before it calls the bot quiet)."""
    return sum(limiter.waiting for limiter in _LIVE)


class Limiter(BaseRateLimiter[SendOptions]):
    """The bot's rate limiter (see the module's docstring); `clock` and `sleep` for tests."""

    def __init__(
        self,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        retries: int = DEFAULT_RETRIES,
    ) -> None:
        self.clock = clock
        self.sleep = sleep
        self.retries = retries
        self._overall: list[Limit] = [
            Window(OVERALL_MESSAGES_PER_SECOND, 1.0),
            Bucket(1, OVERALL_SPACING),
        ]
        self._chats: dict[int | str, list[Limit]] = {}
        self._chat_locks: dict[int | str, asyncio.Lock] = {}
        self._lock = asyncio.Lock()
        self._paused_until = -math.inf
        self.waiting = 0  # requests waiting for their turn
        _LIVE.add(self)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    def _chat(self, key: int | str) -> tuple[list[Limit], asyncio.Lock]:
        limits = self._chats.get(key)
        if limits is None:
            if len(self._chats) > _FORGET_CHATS_PAST:
                self._forget_idle_chats()
            limits = [Bucket(CHAT_BURST, CHAT_INTERVAL)]
            if isinstance(key, str) or key < 0:
                limits.append(Window(GROUP_MESSAGES_PER_MINUTE, 60.0))
            self._chats[key] = limits
            self._chat_locks[key] = asyncio.Lock()
        return limits, self._chat_locks[key]

    def _forget_idle_chats(self) -> None:
        now = self.clock()
        for key, limits in list(self._chats.items()):
            if not self._chat_locks[key].locked() and all(limit.idle(now) for limit in limits):
                del self._chats[key], self._chat_locks[key]

    async def _wait(self, limits: list[Limit], weight: int) -> float:
        """Sleep until every limit takes `weight` more messages; the time it does."""
        while True:
            now = self.clock()
            ready = max([self._paused_until, *(lim.ready_at(now, weight) for lim in limits)])
            if ready <= now:
                return now
            await self.sleep(max(ready - now, _AFTER))

    async def acquire(self, chat_id: object, weight: int = 1) -> float:
        """Wait for the turn of `weight` messages to `chat_id` (None: no chat), and take it."""
        key = chat_key(chat_id)
        if key is None:
            async with self._lock:
                now = await self._wait(self._overall, weight)
                for limit in self._overall:
                    limit.record(now, weight)
                return now
        chat_limits, chat_lock = self._chat(key)
        # The chat's own turn first (other chats go meanwhile), then a place in the overall pace.
        async with chat_lock:
            await self._wait(chat_limits, weight)
            async with self._lock:
                now = await self._wait([*chat_limits, *self._overall], weight)
                for limit in (*chat_limits, *self._overall):
                    limit.record(now, weight)
                return now

    def assume_full(self) -> None:
        """Take the last second as full: another process (the one before a restart) may have
        sent a whole second's worth just now."""
        now = self.clock()
        for limit in self._overall:
            limit.record(now, OVERALL_MESSAGES_PER_SECOND)

    def pause(self, seconds: float) -> None:
        """Telegram said wait: no message leaves for `seconds`."""
        self._paused_until = max(self._paused_until, self.clock() + seconds)

    async def process_request(
        self,
        callback: Callback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: SendOptions | None,
    ) -> bool | JSONDict | list[JSONDict]:
        options = rate_limit_args or SendOptions()
        weight = weight_of(endpoint, data)
        retries = self.retries if options.retries is None else options.retries
        attempt = 0
        while True:
            if weight:
                edit = endpoint.lower().startswith("edit")
                self.waiting += 1
                try:
                    await self.acquire(None if edit else data.get("chat_id"), weight)
                finally:
                    self.waiting -= 1
            if options.on_release is not None and not await options.on_release():
                raise NotReleased(endpoint)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                value: Any = exc.retry_after
                wait = value.total_seconds() if isinstance(value, timedelta) else float(value)
                self.pause(wait)
                if attempt >= retries:
                    raise
                attempt += 1
                log.warning("429 on %s: every message waits %.1f s, then retries", endpoint, wait)
