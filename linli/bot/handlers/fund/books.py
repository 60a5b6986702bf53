"""/fund for residents: the open books, and receipts."""

from __future__ import annotations

from telegram import Update

from linli.bot.common import Actor, answer, refuse, reply
from linli.bot.context import LinliContext
from linli.bot.handlers.fund.shared import ROUTER, Args, resident_or_refuse, values
from linli.bot.views import fund as views
from linli.core.fund import Phase
from linli.core.outcomes import Refused
from linli.storage import fund as fund_db


async def on_books(update: Update, context: LinliContext, actor: Actor, args: Args) -> None:
    """/fund: the balance, what is reserved, the latest bookings, pending expenses, rounds."""
    if not await resident_or_refuse(update, context, actor):
        return
    services = context.services
    books = await fund_db.books(services.db, services.config.fund.history_size)
    rounds = await fund_db.open_rounds(services.db)
    now = services.now()
    voting = {r.id for r in rounds if r.phase(now) is Phase.VOTING}
    markup = views.books_markup(context, actor.locale, books.latest, rounds, voting)
    await reply(update, context, actor.locale, "fund/books", markup,
                **values(context, actor.locale, books=books, rounds=rounds, voting=voting,
                         organizer=actor.is_organizer))  # fmt: skip


@ROUTER.on(views.Receipt)
async def on_receipt(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Receipt
) -> None:
    """A booking's receipt photo, in the chat the button was pressed in."""
    if not await resident_or_refuse(update, context, actor):
        return
    txn = await fund_db.get_txn(context.services.db, pressed.txn_id)
    chat = update.effective_chat
    if txn is None or txn.receipt is None or chat is None:
        await refuse(update, context, actor.locale, Refused("unknown_entry"), "fund")
        return
    await answer(update, context, actor.locale)
    caption = context.services.renderer.render(actor.locale, "fund/receipt", txn=txn)
    await context.bot.send_photo(chat.id, txn.receipt, caption=caption)
