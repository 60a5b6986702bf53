"""/rank: leaderboards by period and place, the household board, and opting out."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from linli.bot import callbacks
from linli.bot.commands import CommandSpec
from linli.bot.common import answer, edit, is_private, keyboard, label, load_actor, reply, text
from linli.bot.context import LinliContext
from linli.core.community import Binding, Community
from linli.core.members import Member
from linli.core.points import Period, period_range
from linli.core.rankings import (
    Board,
    Scope,
    Where,
    choices_for,
    decode_where,
    encode_where,
    parse_rank_args,
    place_parts,
)
from linli.storage import groups as groups_db
from linli.storage import members as members_db
from linli.storage import rankings as rankings_db

F = "rk"


async def load_board(
    context: LinliContext, period: Period, where: Where, homes: bool, viewer: Member | None
) -> Board:
    services = context.services
    days = period_range(period, services.now(), services.config.tz)
    size = services.config.rankings.size
    if homes:
        household = viewer.household_id if viewer else None
        lines = await rankings_db.household_board(services.db, days, where, size, household)
    else:
        lines = await rankings_db.member_board(
            services.db, days, where, size, viewer.id if viewer else None
        )
    return Board(period, days, where, lines, homes)


def board_values(board: Board, community: Community) -> dict[str, Any]:
    """What rankings/board.html.j2 needs, with building names resolved from the config."""
    names = {
        b.id: place_parts(Where(Scope.BUILDING, b.id), community) for b in community.all_buildings()
    }
    return {"board": board, "place": place_parts(board.where, community), "buildings": names}


def board_markup(
    context: LinliContext, locale: str, board: Board, choices: list[Where]
) -> InlineKeyboardMarkup:
    community = context.services.community
    here = encode_where(board.where, community)
    h = int(board.households)

    def mark(on: bool, name: str) -> str:
        return ("• " if on else "") + name

    periods = [
        (mark(p is board.period, label(context, locale, f"rankings.{p.value}")),
         callbacks.pack(F, "v", p.value, here, h))
        for p in Period
    ]  # fmt: skip
    places = [
        (mark(w == board.where, label(context, locale, f"rankings.{w.scope.value}")),
         callbacks.pack(F, "v", board.period.value, encode_where(w, community), h))
        for w in choices
    ]  # fmt: skip
    toggle = label(context, locale, "rankings.members" if h else "rankings.households")
    return keyboard(
        [periods, places, [(toggle, callbacks.pack(F, "v", board.period.value, here, 1 - h))]]
    )


async def _binding(update: Update, context: LinliContext) -> Binding | None:
    chat = update.effective_chat
    if chat is None or is_private(update):
        return None
    group = await groups_db.get_group(context.services.db, chat.id)
    return group.binding if group else None


async def on_rank(update: Update, context: LinliContext) -> None:
    """/rank [week|month|all] [building|compound|community] [homes], /rank optout|optin."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    parsed = parse_rank_args(list(context.args or []))
    if isinstance(parsed, str):
        if parsed in ("optout", "optin"):
            await members_db.set_rank_optout(
                context.services.db, actor.member.id, parsed == "optout"
            )
        await reply(update, context, actor.locale, f"rankings/{parsed}")
        return
    period, scope, homes = parsed
    community = context.services.community
    choices = choices_for(actor.member, await _binding(update, context), community)
    where = next((w for w in choices if w.scope is scope), choices[0])
    viewer = actor.member if is_private(update) else None  # a group's card is everyone's
    board = await load_board(context, period or Period.WEEK, where, homes, viewer)
    await reply(update, context, actor.locale, "rankings/board",
                board_markup(context, actor.locale, board, choices), **board_values(board, community))  # fmt: skip


async def on_button(update: Update, context: LinliContext) -> None:
    """Switch period, place or the household board on a leaderboard card."""
    query = update.callback_query
    actor = await load_actor(update, context)
    if query is None or actor is None:
        return
    parsed = callbacks.unpack(query.data, F, str, str, int)
    community = context.services.community
    where = decode_where(parsed[2], community) if parsed else None
    if (
        parsed is None
        or where is None
        or parsed[1] not in {p.value for p in Period}
        or parsed[3] not in (0, 1)
    ):
        await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return
    choices = choices_for(actor.member, await _binding(update, context), community)
    if where not in choices:
        choices = [where, *choices]
    viewer = actor.member if is_private(update) else None
    board = await load_board(context, Period(parsed[1]), where, bool(parsed[3]), viewer)
    await answer(update, context, actor.locale)
    await edit(query, text(context, actor.locale, "rankings/board", **board_values(board, community)),
               board_markup(context, actor.locale, board, choices))  # fmt: skip


HANDLERS: list[BaseHandler[Any, Any, Any]] = [
    CommandHandler("rank", on_rank),
    CallbackQueryHandler(on_button, pattern=callbacks.pattern(F)),
]
COMMANDS: list[CommandSpec] = [CommandSpec("rank", "rankings", private=True, group=True)]
