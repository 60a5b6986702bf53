"""The members' buttons (prefix "m"): joining, /me, /forgetme and verification share one router."""

from __future__ import annotations

from linli.bot.buttons import Router

ROUTER = Router("m")
