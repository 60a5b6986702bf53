"""The vote: a household's approval ballot over the shortlist, in the private chat."""

from __future__ import annotations

from telegram import Update

from linli.bot import outbox
from linli.bot.common import Actor, answer, edit_card, is_private, refuse, reply, text
from linli.bot.context import LinliContext
from linli.bot.handlers.honours.shared import ROUTER, Args, number
from linli.bot.views import honours as views
from linli.core.honours import Selection, may_vote
from linli.core.outcomes import Refused, RefusedError
from linli.storage import honours as honours_db


async def on_vote(update: Update, context: LinliContext, actor: Actor, args: Args) -> None:
    """/honours vote <selection>: my household's ballot."""
    selection_id = number(args[0]) if args else None
    if selection_id is None:
        await refuse(update, context, actor.locale, Refused("vote_usage"), "honours")
        return
    await _ballot(update, context, actor, selection_id)


@ROUTER.on(views.OpenBallot)
async def on_open_ballot(
    update: Update, context: LinliContext, actor: Actor, pressed: views.OpenBallot
) -> None:
    """The ballot button under /honours or under the groups' notice."""
    await _ballot(update, context, actor, pressed.selection_id)


async def _may_vote(
    context: LinliContext, selection: Selection | None, actor: Actor
) -> Refused | None:
    services = context.services
    if selection is None:
        return Refused("unknown_selection")
    refused = may_vote(selection, actor.member, services.community, services.now())
    if refused is None and await honours_db.has_voted(services.db, selection.id, actor.member):
        return Refused("household_voted")
    return refused


async def _ballot(update: Update, context: LinliContext, actor: Actor, selection_id: int) -> None:
    if not is_private(update):
        await reply(
            update,
            context,
            actor.locale,
            "honours/private_only",
            views.private_link(context, actor.locale),
        )
        await answer(update, context, actor.locale)
        return
    services = context.services
    selection = await honours_db.get_selection(services.db, selection_id)
    refused = await _may_vote(context, selection, actor)
    if refused is not None or selection is None:
        await refuse(
            update, context, actor.locale, refused or Refused("unknown_selection"), "honours"
        )
        return
    on_ballot = await honours_db.ballot_candidates(services.db, selection.id)
    await answer(update, context, actor.locale)
    await reply(update, context, actor.locale, "honours/ballot",
                views.ballot_markup(context, actor.locale, selection, on_ballot, 0),
                **views.ballot_values(services, actor.locale, selection, on_ballot, 0))  # fmt: skip


@ROUTER.on(views.Toggle)
async def on_toggle(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Toggle
) -> None:
    """☑/☐: the ballot again with this candidate ticked or not."""
    services = context.services
    selection = await honours_db.get_selection(services.db, pressed.selection_id)
    on_ballot = await honours_db.ballot_candidates(services.db, pressed.selection_id)
    refused = await _may_vote(context, selection, actor)
    if selection is None or refused is not None or not 0 <= pressed.index < len(on_ballot):
        await refuse(update, context, actor.locale, refused or Refused("stale_ballot"), "honours")
        return
    mask = pressed.mask ^ (1 << pressed.index)
    await answer(update, context, actor.locale)
    values = views.ballot_values(services, actor.locale, selection, on_ballot, mask)
    await edit_card(update, text(context, actor.locale, "honours/ballot", **values),
                    views.ballot_markup(context, actor.locale, selection, on_ballot, mask))  # fmt: skip


@ROUTER.on(views.Cast)
async def on_cast(update: Update, context: LinliContext, actor: Actor, pressed: views.Cast) -> None:
    """Cast the ballot (a secret one leaves no trace of this chat on disk)."""
    services = context.services
    selection = await honours_db.get_selection(services.db, pressed.selection_id)
    if selection is not None and selection.secret:
        outbox.keep_off_disk(actor.user.id)
    try:
        selection, chosen = await honours_db.cast_ballot(
            services.db,
            pressed.selection_id,
            actor.member,
            pressed.mask,
            services.community,
            services.now(),
        )
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, "honours")
        return
    await answer(update, context, actor.locale)
    await edit_card(update, text(context, actor.locale, "honours/ballot_cast", selection=selection,
                                 names=views.names(services, actor.locale, selection, chosen), picked=chosen))  # fmt: skip
