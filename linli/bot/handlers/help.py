"""/help in private chat: the commands this member may use, given their roles."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, filters

from linli.bot.commands import CommandSpec
from linli.bot.common import label, load_actor, reply
from linli.bot.context import LinliContext


async def on_help(update: Update, context: LinliContext) -> None:
    """/help: every command open to this member, grouped for residents and for their roles."""
    from linli.bot.app import all_commands  # the table lists this module too

    actor = await load_actor(update, context)
    if actor is None:
        return
    mine = [s for s in all_commands() if s.role is None or actor.has(s.role) or actor.is_organizer]
    lines = [
        {
            "name": s.name,
            "about": label(context, actor.locale, s.label_key),
            "role": s.role.value if s.role else "",
            "group_only": s.group and not s.private,
        }
        for s in mine
    ]
    await reply(
        update,
        context,
        actor.locale,
        "help/help",
        commands=lines,
        joined=actor.member.joined,
        community=context.services.community.name,
    )


HANDLERS: list[BaseHandler[Any, Any, Any]] = [
    CommandHandler("help", on_help, filters.ChatType.PRIVATE),
]
COMMANDS: list[CommandSpec] = [
    CommandSpec("help", "help", group=True),
    CommandSpec("cancel", "help"),
]
