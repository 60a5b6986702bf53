"""Scheduled work for hazards."""

from __future__ import annotations

from linli.bot.jobs import Tick

TICKS: list[Tick] = []
