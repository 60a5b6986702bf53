"""/help in private chat: the commands this member may use, given their roles."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, filters

from linli.bot.commands import CommandSpec, installed
from linli.bot.common import Actor, label, load_actor, reply
from linli.bot.context import LinliContext


async def on_help(update: Update, context: LinliContext) -> None:
    """/help: every command open to this member, grouped for residents and for their roles."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    await reply(update, context, actor.locale, "help/help",
                commands=_lines(context, actor, installed(context)),
                joined=actor.member.joined, community=context.services.community.title(actor.locale))  # fmt: skip


def _lines(
    context: LinliContext, actor: Actor, specs: Sequence[CommandSpec]
) -> list[dict[str, Any]]:
    """The commands this member may use, as the template lists them."""
    mine = [s for s in specs if s.role is None or actor.has(s.role) or actor.is_organizer]
    return [
        {
            "name": s.name,
            "about": label(context, actor.locale, s.label_key),
            "role": s.role.value if s.role else "",
            "group_only": s.group and not s.private,
        }
        for s in mine
    ]


HANDLERS: list[BaseHandler[Any, Any, Any]] = [
    CommandHandler("help", on_help, filters.ChatType.PRIVATE),
]
COMMANDS: list[CommandSpec] = [
    CommandSpec("help", "help", group=True),
    CommandSpec("cancel", "help"),
]
