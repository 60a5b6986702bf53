"""Polls: /newpoll (organizers) with a preview, voting on cards and private ballots, /polls,
/outcome. Split along what a person does: `create` (/newpoll and its steps), `vote` (ballots
and voting), `results` (/polls, /outcome). The buttons, cards and ballots are in
linli/bot/views/polls.py; closing and posting results are jobs (linli/bot/jobs/polls.py).
"""

from __future__ import annotations

from typing import Any

from telegram.ext import BaseHandler, CommandHandler

from linli.bot.commands import CommandSpec
from linli.bot.handlers.polls import create, results, vote
from linli.bot.handlers.polls.router import ROUTER
from linli.core.community import Role

# Each module adds its button handlers to ROUTER when imported (`vote` only that way).
__all__ = ["COMMANDS", "HANDLERS", "create", "results", "vote"]

HANDLERS: list[BaseHandler[Any, Any, Any]] = [
    CommandHandler("newpoll", create.on_newpoll),
    CommandHandler("polls", results.on_polls),
    CommandHandler("outcome", results.on_outcome),
    # Every "pl" button: the /newpoll steps and voting (linli/bot/views/polls.py).
    ROUTER.handler(),
]
COMMANDS: list[CommandSpec] = [
    CommandSpec("polls", "polls", private=True, group=True),
    CommandSpec("newpoll", "polls", role=Role.ORGANIZER),
    CommandSpec("outcome", "polls", role=Role.ORGANIZER),
]
