"""What every part of the hazards handlers uses: the "hz" button router and two replies."""

from __future__ import annotations

import contextlib

from telegram import Update
from telegram.error import TelegramError

from linli.bot.buttons import Router
from linli.bot.common import reply
from linli.bot.context import LinliContext
from linli.core.outcomes import Refused

FEATURE = "hazards"
ROUTER = Router("hz")
# The private flows (names kept in drafts and in `common.flow_<name>` labels).
REPORT_FLOW = "report"
TRIAGE_FLOW = "triage"


async def say_no(update: Update, context: LinliContext, locale: str, refused: Refused) -> None:
    """A refusal as a message (the tap was already answered, or there was no tap)."""
    await reply(
        update, context, locale, "hazards/refused", reason=refused.reason, detail=refused.detail
    )


async def drop_keyboard(update: Update) -> None:
    """Take the buttons off the message whose button was pressed."""
    query = update.callback_query
    if query is None:
        return
    with contextlib.suppress(TelegramError):  # already without buttons
        await query.edit_message_reply_markup(None)
