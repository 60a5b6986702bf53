"""/export: organizers receive an export as a document in their private chat."""

from __future__ import annotations

from typing import Any

from telegram import InputFile, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from linli.bot import callbacks
from linli.bot.commands import CommandSpec
from linli.bot.common import Actor, answer, is_private, keyboard, label, load_actor, refuse, reply
from linli.bot.context import LinliContext
from linli.bot.exports_cli import open311_names
from linli.core.community import Role
from linli.core.exports import Format, file_name, parse_since
from linli.core.outcomes import Refused
from linli.storage import exports as exports_db


async def _organizer(update: Update, context: LinliContext) -> Actor | None:
    actor = await load_actor(update, context)
    if actor is None:
        return None
    if not actor.is_organizer:
        await refuse(update, context, actor.locale, Refused("not_organizer"), "exports")
        return None
    if not is_private(update):  # personal data never goes to a group
        await refuse(update, context, actor.locale, Refused("private_only"), "exports")
        return None
    return actor


def _formats(context: LinliContext, actor: Actor, what: str) -> list[list[tuple[str, str]]]:
    def lbl(key: str) -> str:
        return label(context, actor.locale, f"exports.{key}")

    rows = [[(lbl("csv"), callbacks.pack("ex", "f", what, "csv", 0)),
             (lbl("xlsx"), callbacks.pack("ex", "f", what, "xlsx", 0))]]  # fmt: skip
    base = what.partition("@")[0]
    if base == "members":
        rows.append([(lbl("csv_personal"), callbacks.pack("ex", "f", what, "csv", 1)),
                     (lbl("xlsx_personal"), callbacks.pack("ex", "f", what, "xlsx", 1))])  # fmt: skip
    if base == "reports":
        rows.append([(lbl("open311"), callbacks.pack("ex", "f", what, "open311", 0))])
    return rows


async def on_export(update: Update, context: LinliContext) -> None:
    """/export [what] [since YYYY-MM-DD]: choose an export, then a format."""
    actor = await _organizer(update, context)
    if actor is None:
        return
    args = context.args or []
    if args and args[0] in exports_db.NAMES:
        since = args[1] if len(args) > 1 else ""
        markup = keyboard(_formats(context, actor, args[0] + (f"@{since}" if since else "")))
        await reply(update, context, actor.locale, "exports/choose_format", markup, what=args[0])
        return
    names = [n for n in exports_db.NAMES if exports_db.available(n)]
    rows = [
        [(label(context, actor.locale, f"exports.what_{n}"), callbacks.pack("ex", "w", n))]
        for n in names
    ]
    await reply(update, context, actor.locale, "exports/choose", keyboard(rows))


async def on_button(update: Update, context: LinliContext) -> None:
    """The export buttons: a choice of what, then of the format, which sends the file."""
    actor = await _organizer(update, context)
    query = update.callback_query
    if actor is None or query is None:
        return
    chosen = callbacks.unpack(query.data, "ex", str)
    if chosen is not None and chosen[0] == "w" and chosen[1] in exports_db.NAMES:
        await answer(update, context, actor.locale)
        await reply(update, context, actor.locale, "exports/choose_format",
                    keyboard(_formats(context, actor, chosen[1])), what=chosen[1])  # fmt: skip
        return
    parsed = callbacks.unpack(query.data, "ex", str, str, int)
    if parsed is None or parsed[0] != "f" or parsed[2] not in {f.value for f in Format}:
        await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return
    await _send_export(update, context, actor, parsed[1], Format(parsed[2]), parsed[3] == 1)


async def _send_export(
    update: Update, context: LinliContext, actor: Actor, what: str, fmt: Format, personal: bool
) -> None:
    services = context.services
    what, _, since_text = what.partition("@")
    since = parse_since(since_text, services.config.tz)
    data = (
        since if isinstance(since, Refused) else await exports_db.export_file(
            services.db, what, fmt, since, services.config.tz, include_personal=personal,
            names=open311_names(services.config, services.renderer, actor.locale),
        )
    )  # fmt: skip
    if isinstance(data, Refused):
        await refuse(update, context, actor.locale, data, "exports")
        return
    await answer(update, context, actor.locale)
    name = file_name(what, fmt, services.now(), services.config.tz)
    caption = context.services.renderer.render(
        actor.locale, "exports/document", what=what, personal=personal, since=since
    )
    await context.bot.send_document(actor.user.id, InputFile(data, filename=name), caption=caption)


HANDLERS: list[BaseHandler[Any, Any, Any]] = [
    CommandHandler("export", on_export),
    CallbackQueryHandler(on_button, pattern=callbacks.pattern("ex")),
]
COMMANDS: list[CommandSpec] = [CommandSpec("export", "exports", role=Role.ORGANIZER)]
