"""Events: lectures, drills, care services and activities, with sign-up and waitlist.

Split along what a person does:
- create.py  -- an organizer's /newevent flow (its steps: core.events.NewEvent)
- signup.py  -- Sign up / Cancel sign-up on a card, and check-in at the venue
- manage.py  -- an organizer's attendees, check-in QR code, new time or place, cancelling
- lists.py   -- /events, /myevents, /event <number>, the details buttons, the .ics file
Every "ev:" button goes through the one router in base.py; buttons, keyboards, cards and
the work the jobs share are in linli/bot/views/events.py.
"""

from __future__ import annotations

from typing import Any

from telegram.ext import BaseHandler, CommandHandler

from linli.bot import flows
from linli.bot.commands import CommandSpec
from linli.bot.handlers.events.base import EDIT, FEATURE, NEW, ROUTER
from linli.bot.handlers.events.create import on_newevent, on_newevent_input
from linli.bot.handlers.events.lists import on_event_command, on_events, on_myevents
from linli.bot.handlers.events.manage import on_edit_input
from linli.bot.handlers.events.signup import checkin_from_link, on_checkin
from linli.core.community import Role

__all__ = ["COMMANDS", "HANDLERS", "checkin_from_link"]

HANDLERS: list[BaseHandler[Any, Any, Any]] = [
    CommandHandler("newevent", on_newevent),
    CommandHandler("events", on_events),
    CommandHandler("myevents", on_myevents),
    CommandHandler("event", on_event_command),
    CommandHandler("checkin", on_checkin),
    ROUTER.handler(),  # every "ev:" button (create, signup, manage and lists register on it)
]
COMMANDS: list[CommandSpec] = [
    CommandSpec("events", FEATURE),
    CommandSpec("myevents", FEATURE),
    CommandSpec("event", FEATURE),
    CommandSpec("checkin", FEATURE),
    CommandSpec("newevent", FEATURE, role=Role.ORGANIZER),
]

flows.register_flow(NEW, on_newevent_input)
flows.register_flow(EDIT, on_edit_input)
