"""The one router of the polls' buttons ("pl"): each module of the package adds its handlers."""

from __future__ import annotations

from linli.bot.buttons import Router

ROUTER = Router("pl")
