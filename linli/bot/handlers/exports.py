"""/export: organizers receive an export as a document in their private chat."""

from __future__ import annotations

from typing import Any

from telegram import InputFile, Update
from telegram.ext import BaseHandler, CommandHandler

from linli.bot.buttons import Router
from linli.bot.commands import CommandSpec
from linli.bot.common import Actor, answer, is_private, load_actor, refuse, reply
from linli.bot.context import LinliContext
from linli.bot.views import exports as views
from linli.core.community import Role
from linli.core.exports import Format, file_name, parse_since
from linli.core.outcomes import Refused
from linli.storage import exports as exports_db

FEATURE = "exports"


async def _refused(update: Update, context: LinliContext, actor: Actor) -> bool:
    """Exports are for organizers, in private: True after saying why not."""
    if not actor.is_organizer:
        await refuse(update, context, actor.locale, Refused("not_organizer"), FEATURE)
        return True
    if not is_private(update):  # personal data never goes to a group
        await refuse(update, context, actor.locale, Refused("private_only"), FEATURE)
        return True
    return False


async def on_export(update: Update, context: LinliContext) -> None:
    """/export [what] [since YYYY-MM-DD]: choose an export, then a format."""
    actor = await load_actor(update, context)
    if actor is None or await _refused(update, context, actor):
        return
    args = context.args or []
    if args and args[0] in exports_db.NAMES:
        what = args[0] + (f"@{args[1]}" if len(args) > 1 and args[1] else "")
        await reply(update, context, actor.locale, "exports/choose_format",
                    views.formats_markup(context, actor.locale, what), what=args[0])  # fmt: skip
        return
    names = [n for n in exports_db.NAMES if exports_db.available(n)]
    await reply(update, context, actor.locale, "exports/choose",
                views.what_markup(context, actor.locale, names))  # fmt: skip


ROUTER = Router("ex")


@ROUTER.on(views.ChooseWhat)
async def on_what(
    update: Update, context: LinliContext, actor: Actor, pressed: views.ChooseWhat
) -> None:
    """What to export was chosen: the formats it comes in."""
    if await _refused(update, context, actor):
        return
    if pressed.what not in exports_db.NAMES:
        await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return
    await answer(update, context, actor.locale)
    await reply(update, context, actor.locale, "exports/choose_format",
                views.formats_markup(context, actor.locale, pressed.what),
                what=pressed.what)  # fmt: skip


@ROUTER.on(views.ChooseFormat)
async def on_format(
    update: Update, context: LinliContext, actor: Actor, pressed: views.ChooseFormat
) -> None:
    """A format was chosen: the file, as a document in the organizer's private chat."""
    if await _refused(update, context, actor):
        return
    if pressed.fmt not in {f.value for f in Format}:
        await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return
    await _send(update, context, actor, pressed.what, Format(pressed.fmt), pressed.personal)


async def _send(
    update: Update, context: LinliContext, actor: Actor, what: str, fmt: Format, personal: bool
) -> None:
    services = context.services
    what, _, since_text = what.partition("@")
    since = parse_since(since_text, services.config.tz)
    data = since if isinstance(since, Refused) else await exports_db.export_file(
        services.db, what, fmt, since, services.config.tz, include_personal=personal,
        names=views.open311_names(services.config, services.renderer, actor.locale),
    )  # fmt: skip
    if isinstance(data, Refused):
        await refuse(update, context, actor.locale, data, FEATURE)
        return
    await answer(update, context, actor.locale)
    name = file_name(what, fmt, services.now(), services.config.tz)
    caption = services.renderer.render(
        actor.locale, "exports/document", what=what, personal=personal, since=since
    )
    await context.bot.send_document(actor.user.id, InputFile(data, filename=name), caption=caption)


HANDLERS: list[BaseHandler[Any, Any, Any]] = [
    CommandHandler("export", on_export),
    ROUTER.handler(),
]
COMMANDS: list[CommandSpec] = [CommandSpec("export", "exports", role=Role.ORGANIZER)]
