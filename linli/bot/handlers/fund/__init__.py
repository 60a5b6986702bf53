"""/fund: the community fund's open books (residents), its bookings (organizers) and
participatory budgeting. `/fund <what> ...` picks the action; a photo captioned
`/fund expense ...` or `/fund done ...` carries its receipt or its proof."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, MessageHandler, filters

from linli.bot.commands import CommandSpec
from linli.bot.common import Actor, load_actor
from linli.bot.context import LinliContext
from linli.bot.handlers.fund import books, budget, ledger
from linli.bot.handlers.fund.shared import ROUTER, Args

Action = Callable[[Update, LinliContext, Actor, Args], Awaitable[None]]
PhotoAction = Callable[[Update, LinliContext, Actor, Args, str], Awaitable[None]]

ACTIONS: dict[str, Action] = {
    "income": ledger.on_income,
    "expense": ledger.on_expense_text,
    "approve": ledger.on_approve_command,
    "reject": ledger.on_reject,
    "correct": ledger.on_correct,
    "round": budget.on_round,
    "propose": budget.on_propose,
    "accept": budget.on_accept_command,
    "decline": budget.on_decline,
    "vote": budget.on_vote,
    "done": budget.on_done_text,
}
PHOTO_ACTIONS: dict[str, PhotoAction] = {"expense": ledger.on_expense, "done": budget.on_done}
_CAPTION = re.compile(r"^/fund(?:@\w+)?\s+(expense|done)\b(.*)$", re.DOTALL)


async def on_fund(update: Update, context: LinliContext) -> None:
    """/fund [action args...]: the books, or an organizer's or a resident's action."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    args = list(context.args or [])
    action = ACTIONS.get(args[0].lower()) if args else None
    await (action or books.on_books)(update, context, actor, args[1:] if action else [])


async def on_captioned_photo(update: Update, context: LinliContext) -> None:
    """A photo captioned /fund expense … (the receipt) or /fund done … (the proof)."""
    actor = await load_actor(update, context)
    message = update.effective_message
    found = _CAPTION.match(message.caption or "") if message is not None else None
    if actor is None or message is None or found is None or not message.photo:
        return
    action = PHOTO_ACTIONS[found.group(1)]
    await action(update, context, actor, found.group(2).split(), message.photo[-1].file_id)


HANDLERS: list[BaseHandler[Any, Any, Any]] = [
    CommandHandler("fund", on_fund),
    # Before the flows' photo fallback (a photo with no flow starts a hazard report).
    MessageHandler(filters.PHOTO & filters.CaptionRegex(_CAPTION), on_captioned_photo),
    ROUTER.handler(),
]
COMMANDS: list[CommandSpec] = [CommandSpec("fund", "fund")]
