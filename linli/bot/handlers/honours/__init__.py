"""/honours: recognition (最美家庭评选). Residents see the selections and past honours,
nominate and vote; organizers open selections and shortlist; `/story` tells the
community's stories. A photo captioned `/honours nominate …` or `/story …` carries it."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, MessageHandler, filters

from linli.bot.commands import CommandSpec
from linli.bot.common import Actor, load_actor
from linli.bot.context import LinliContext
from linli.bot.handlers.honours import ballots, nominations, selections, stories
from linli.bot.handlers.honours.shared import ROUTER, Args
from linli.core.community import Role

Action = Callable[[Update, LinliContext, Actor, Args], Awaitable[None]]

ACTIONS: dict[str, Action] = {
    "new": selections.on_new,
    "shortlist": selections.on_shortlist,
    "nominate": nominations.on_nominate,
    "vote": ballots.on_vote,
}
_CAPTION = re.compile(r"^/(?:honours(?:@\w+)?\s+nominate|story(?:@\w+)?)\b", re.DOTALL)


async def on_honours(update: Update, context: LinliContext) -> None:
    """/honours [action args...]: the selections and honours, or an action."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    args = list(context.args or [])
    action = ACTIONS.get(args[0].lower()) if args else None
    await (action or selections.on_list)(update, context, actor, args[1:] if action else [])


async def on_captioned_photo(update: Update, context: LinliContext) -> None:
    """A photo captioned /honours nominate … or /story …."""
    actor = await load_actor(update, context)
    message = update.effective_message
    if actor is None or message is None or not message.photo:
        return
    photo = message.photo[-1].file_id
    if (message.caption or "").startswith("/story"):
        await stories.story(update, context, actor, photo)
    else:
        await nominations.nominate(update, context, actor, photo)


HANDLERS: list[BaseHandler[Any, Any, Any]] = [
    CommandHandler("honours", on_honours),
    CommandHandler("story", stories.on_story),
    # Before the flows' photo fallback (a photo with no flow starts a hazard report).
    MessageHandler(filters.PHOTO & filters.CaptionRegex(_CAPTION), on_captioned_photo),
    ROUTER.handler(),
]
COMMANDS: list[CommandSpec] = [
    CommandSpec("honours", "honours"),
    CommandSpec("story", "honours", role=Role.ORGANIZER),
]
