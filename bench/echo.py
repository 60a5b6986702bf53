"""The framework's ceiling: a bare python-telegram-bot Application that only echoes.

A message is sent back as it came; a button press is answered with its data. No database,
no templates, no rate limiter: what PTB itself costs per update on the same harness.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send the message's text back."""
    message = update.effective_message
    if message is not None and message.text:
        await context.bot.send_message(message.chat_id, message.text)


async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a button press with its data."""
    query = update.callback_query
    if query is not None:
        await query.answer(query.data)


def build_echo(
    token: str, *, base_url: str | None = None, request: BaseRequest | None = None
) -> Application[Any, Any, Any, Any, Any, Any]:
    builder = ApplicationBuilder().token(token)
    if base_url is not None:
        builder = builder.base_url(base_url)
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    app = builder.build()
    app.add_handler(MessageHandler(filters.ALL, echo))
    app.add_handler(CallbackQueryHandler(answer))
    return app
