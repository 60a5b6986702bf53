"""Shared spaces (公共空间): booking the community's rooms, and the emergency switch (平急两用).

browse: /spaces, the week picture, day -> start -> length -> purpose -> confirm
mine: /mybookings, cancel, the .ics file
manage: /spaces admin, approval, /spaceadmin, /spaceseries
checkin: /spacein, the door's QR code (`/start space_<code>`, from the members' /start)
emergency: /emergency
"""

from __future__ import annotations

from typing import Any

from telegram.ext import BaseHandler, CommandHandler

from linli.bot.commands import CommandSpec
from linli.bot.handlers.spaces import browse, checkin, emergency, manage, mine
from linli.bot.handlers.spaces.checkin import checkin_from_link
from linli.bot.handlers.spaces.shared import ROUTER
from linli.core.community import Role

HANDLERS: list[BaseHandler[Any, Any, Any]] = [
    CommandHandler("spaces", browse.on_spaces),
    CommandHandler("mybookings", mine.on_mybookings),
    CommandHandler("spacein", checkin.on_spacein),
    CommandHandler("spaceadmin", manage.on_spaceadmin),
    CommandHandler("spaceseries", manage.on_spaceseries),
    CommandHandler("emergency", emergency.on_emergency),
    ROUTER.handler(),
]
COMMANDS: list[CommandSpec] = [
    CommandSpec("spaces", "spaces"),
    CommandSpec("mybookings", "spaces"),
    CommandSpec("spacein", "spaces"),
    CommandSpec("spaceadmin", "spaces", role=Role.ORGANIZER),
    CommandSpec("spaceseries", "spaces", role=Role.ORGANIZER),
    CommandSpec("emergency", "spaces", role=Role.ORGANIZER),
]

__all__ = ["COMMANDS", "HANDLERS", "checkin_from_link"]
