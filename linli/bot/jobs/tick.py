"""What a scheduled job is: one pass over what is due, given the bot's context."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from linli.bot.context import LinliContext

Tick = Callable[[LinliContext], Awaitable[None]]
