"""/poster [building]: organizers get the notice-board poster (A4 PDF) as a document."""

from __future__ import annotations

from typing import Any

from telegram import InputFile, Update
from telegram.ext import BaseHandler, CommandHandler

from linli.bot.commands import CommandSpec
from linli.bot.common import load_actor, refuse
from linli.bot.context import LinliContext
from linli.bot.views import poster as views
from linli.core.community import Role
from linli.core.hazards import match_building
from linli.core.outcomes import Refused


async def on_poster(update: Update, context: LinliContext) -> None:
    """/poster [building]: the poster for the community, or for one building."""
    actor = await load_actor(update, context)
    message = update.effective_message
    if actor is None or message is None:
        return
    if not actor.is_organizer:
        await refuse(update, context, actor.locale, Refused("not_organizer"), "poster")
        return
    services, typed = context.services, " ".join(context.args or [])
    found = match_building(typed, services.community) if typed else None
    building = services.community.building(found) if found else None
    if typed and building is None:
        await refuse(update, context, actor.locale, Refused("unknown_building", {"typed": typed}),
                     "poster")  # fmt: skip
        return
    doc = await views.document(services, context.bot.username, building, actor.locale)
    await message.reply_document(InputFile(doc.pdf, filename=doc.name), caption=doc.caption)


HANDLERS: list[BaseHandler[Any, Any, Any]] = [CommandHandler("poster", on_poster)]
COMMANDS: list[CommandSpec] = [CommandSpec("poster", "poster", role=Role.ORGANIZER)]
