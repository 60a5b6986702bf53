"""Broadcasts: an organizer's message to the bound groups or to residents privately.

Split along what a person does:
- audience.py -- /broadcast, then groups or private messages, the audience, a role filter
- send.py     -- the text (and photo), the preview, Send (once) or Cancel
- log.py      -- /broadcasts: the log of past broadcasts, and one in detail
Every "bc:" button goes through the one router in shared.py; the buttons, keyboards and the
delivery are in linli/bot/views/broadcasts.py; resuming a delivery after a restart is a
tick (linli/bot/jobs/broadcasts.py).
"""

from __future__ import annotations

from typing import Any

from telegram.ext import BaseHandler, CommandHandler

from linli.bot import flows
from linli.bot.commands import CommandSpec
from linli.bot.handlers.broadcasts.audience import on_broadcast
from linli.bot.handlers.broadcasts.log import on_broadcasts
from linli.bot.handlers.broadcasts.send import on_flow_input
from linli.bot.handlers.broadcasts.shared import FEATURE, FLOW, ROUTER
from linli.core.community import Role

HANDLERS: list[BaseHandler[Any, Any, Any]] = [
    CommandHandler("broadcast", on_broadcast),
    CommandHandler("broadcasts", on_broadcasts),
    ROUTER.handler(),  # every "bc:" button (audience, send and log register on it)
]
COMMANDS: list[CommandSpec] = [
    CommandSpec("broadcast", FEATURE, role=Role.ORGANIZER),
    CommandSpec("broadcasts", FEATURE, role=Role.ORGANIZER),
]

flows.register_flow(FLOW, on_flow_input)
