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
from linli.core.points import Period
from linli.core.rankings import Board, Where, choices_for, decode_where, parse_rank_args
from linli.storage import groups as groups_db
from linli.storage import members as members_db


async def _choices(update: Update, context: LinliContext, actor: Actor) -> list[Where]:
    """The boards offered: around my home in private, around the group's node in a group."""
    chat, binding = update.effective_chat, None
    if chat is not None and not is_private(update):
        group = await groups_db.get_group(context.services.db, chat.id)
        binding = group.binding if group else None
    return choices_for(actor.member, binding, context.services.community)


async def _board(
    update: Update, context: LinliContext, actor: Actor, period: Period, where: Where, homes: bool
) -> Board:
    viewer = actor.member if is_private(update) else None  # a group's card is everyone's
    return await views.load_board(context, period, where, homes, viewer)


async def on_rank(update: Update, context: LinliContext) -> None:
    """/rank [week|month|all] [building|compound|community] [homes], /rank optout|optin."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    parsed = parse_rank_args(list(context.args or []))
    if isinstance(parsed, str):
        await _opt(update, context, actor, parsed)
        return
    period, scope, homes = parsed
    choices = await _choices(update, context, actor)
    where = next((w for w in choices if w.scope is scope), choices[0])
    board = await _board(update, context, actor, period or Period.WEEK, where, homes)
    await reply(update, context, actor.locale, "rankings/board",
                views.board_markup(context, actor.locale, board, choices),
                **views.board_values(board, context.services.community, actor.locale))  # fmt: skip


async def _opt(update: Update, context: LinliContext, actor: Actor, said: str) -> None:
    """/rank optout, /rank optin (my name hidden or shown), or the usage."""
    if said in ("optout", "optin"):
        await members_db.set_rank_optout(context.services.db, actor.member.id, said == "optout")
    await reply(update, context, actor.locale, f"rankings/{said}")


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
    choices = await _choices(update, context, actor)
    choices = choices if where in choices else [where, *choices]
    board = await _board(update, context, actor, Period(pressed.period), where, pressed.households)
    await answer(update, context, actor.locale)
    values = views.board_values(board, community, actor.locale)
    await edit(update.callback_query, text(context, actor.locale, "rankings/board", **values),
               views.board_markup(context, actor.locale, board, choices))  # fmt: skip


HANDLERS: list[BaseHandler[Any, Any, Any]] = [
    CommandHandler("rank", on_rank),
    ROUTER.handler(),
]
COMMANDS: list[CommandSpec] = [CommandSpec("rank", "rankings", private=True, group=True)]
