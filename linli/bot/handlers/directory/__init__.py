"""The neighbourhood directory: neighbours' services, the life circle, rider stations and
the community's organizations.

offers.py    /offer (the typed draft), /services, /myoffers, asking, accepting, take-downs
requests.py  /need, /needs, "I can help", choosing a helper, providers' notices
after.py     "did it happen?" (a free service into the time bank), thanks and a comment
nearby.py    /nearby [category] and a sent location: the 15-minute circle and its picture
stations.py  /stations, a rider's pointer on joining, a keeper's switches
orgs.py      /org, joining a volunteer team
All buttons share one router (prefix "dr").
"""

from __future__ import annotations

from typing import Any

from telegram.ext import BaseHandler, CommandHandler

from linli.bot import flows
from linli.bot.commands import CommandSpec
from linli.bot.handlers.directory import after, nearby, offers, orgs, requests, stations
from linli.bot.handlers.directory.shared import ROUTER
from linli.bot.handlers.directory.stations import rider_joined

HANDLERS: list[BaseHandler[Any, Any, Any]] = [
    CommandHandler("services", offers.on_services),
    CommandHandler("offer", offers.on_offer),
    CommandHandler("myoffers", offers.on_myoffers),
    CommandHandler("need", requests.on_need),
    CommandHandler("needs", requests.on_needs),
    CommandHandler("nearby", nearby.on_nearby),
    CommandHandler("stations", stations.on_stations),
    CommandHandler("org", orgs.on_org),
    ROUTER.handler(),
]
COMMANDS: list[CommandSpec] = [
    CommandSpec("services", "directory"),
    CommandSpec("offer", "directory"),
    CommandSpec("myoffers", "directory"),
    CommandSpec("need", "directory"),
    CommandSpec("needs", "directory"),
    CommandSpec("nearby", "directory"),
    CommandSpec("stations", "directory"),
    CommandSpec("org", "directory", group=True),
]
# A location sent with no flow running: what is around it.
flows.register_fallback("location", nearby.on_location)

__all__ = ["COMMANDS", "HANDLERS", "after", "rider_joined"]
