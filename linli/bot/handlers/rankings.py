"""/rank: leaderboards by period and place, the household board, and opting out."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler

from linli.bot.buttons import Router
from linli.bot.commands import CommandSpec
from linli.bot.common import Actor, answer, edit, is_private, load_actor, reply, text
from linli.bot.context import LinliContext
from linli.bot.views import rankings as views
from linli.core.community import Binding
from linli.core.points import Period
from linli.core.rankings import choices_for, decode_where, parse_rank_args
from linli.storage import groups as groups_db
from linli.storage import members as members_db


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
    board = await views.load_board(context, period or Period.WEEK, where, homes, viewer)
    await reply(update, context, actor.locale, "rankings/board",
                views.board_markup(context, actor.locale, board, choices),
                **views.board_values(board, community, actor.locale))  # fmt: skip


ROUTER = Router("rk")


@ROUTER.on(views.Show)
async def on_show(update: Update, context: LinliContext, actor: Actor, pressed: views.Show) -> None:
    """Switch period, place or the household board on a leaderboard card."""
    community = context.services.community
    where = decode_where(pressed.where, community)
    if (
        where is None
        or pressed.period not in {p.value for p in Period}
        or not update.callback_query
    ):
        await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return
    choices = choices_for(actor.member, await _binding(update, context), community)
    choices = choices if where in choices else [where, *choices]
    viewer = actor.member if is_private(update) else None
    board = await views.load_board(
        context, Period(pressed.period), where, pressed.households, viewer
    )
    await answer(update, context, actor.locale)
    await edit(update.callback_query,
               text(context, actor.locale, "rankings/board", **views.board_values(board, community, actor.locale)),
               views.board_markup(context, actor.locale, board, choices))  # fmt: skip


HANDLERS: list[BaseHandler[Any, Any, Any]] = [
    CommandHandler("rank", on_rank),
    ROUTER.handler(),
]
COMMANDS: list[CommandSpec] = [CommandSpec("rank", "rankings", private=True, group=True)]
