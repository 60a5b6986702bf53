"""Voting: one tap on a card, or a private ballot whose picks or order travel in its buttons.

Whatever a button carries is checked again when the vote is cast (eligibility too, in the
same transaction as the vote).
"""

from __future__ import annotations

from telegram import Update
from telegram.error import BadRequest, Forbidden

from linli.bot import outbox
from linli.bot.common import Actor, answer, edit_card, is_private, refuse, text
from linli.bot.context import LinliContext
from linli.bot.handlers.polls.router import ROUTER
from linli.bot.views import polls as views
from linli.core.outcomes import Refused
from linli.core.polls import Poll, PollKind, eligible, mask_picks, parse_order
from linli.storage import polls as polls_db

Ballot = tuple[Poll, tuple[int, ...]]  # a poll and the picks or order a button carries


async def _stale(update: Update, context: LinliContext, actor: Actor) -> None:
    await answer(update, context, actor.locale, "common/stale_button", alert=True)


@ROUTER.on(views.OpenBallot)
async def on_open_ballot(
    update: Update, context: LinliContext, actor: Actor, pressed: views.OpenBallot
) -> None:
    """Send me my ballot in private chat (a card's, /polls' or a reminder's button)."""
    poll = await polls_db.get_poll(context.services.db, pressed.poll_id)
    if poll is None:
        await _stale(update, context, actor)
        return
    await send_ballot(update, context, actor, poll)


@ROUTER.on(views.Vote)
async def on_vote(update: Update, context: LinliContext, actor: Actor, pressed: views.Vote) -> None:
    """One tap votes for one option (a proposal, a single choice)."""
    poll = await polls_db.get_poll(context.services.db, pressed.poll_id)
    if poll is None or pressed.option < 0:
        await _stale(update, context, actor)
        return
    await cast(update, context, actor, poll, (pressed.option,))


async def _ballot(
    update: Update, context: LinliContext, actor: Actor, poll_id: int, state: int | str
) -> Ballot | None:
    """The poll of a multiple-choice (mask) or ranked (order) button and what it carries;
    None (the press answered as stale) for a missing poll or a forged state."""
    poll = await polls_db.get_poll(context.services.db, poll_id)
    found = None
    if poll is not None and poll.kind is PollKind.MULTIPLE and isinstance(state, int):
        found = mask_picks(state, poll.option_count)
    elif poll is not None and poll.kind is PollKind.RANKED and isinstance(state, str):
        found = parse_order(state, poll.option_count)
    if poll is None or found is None:
        await _stale(update, context, actor)
        return None
    return poll, found


@ROUTER.on(views.Pick)
async def on_pick(update: Update, context: LinliContext, actor: Actor, pressed: views.Pick) -> None:
    """Multiple choice: the ballot redrawn with these picks (if not too many)."""
    if (found := await _ballot(update, context, actor, pressed.poll_id, pressed.mask)) is None:
        return
    poll, picks = found
    if len(picks) > poll.max_picks:
        refused = Refused("too_many_picks", {"max": poll.max_picks})
        await refuse(update, context, actor.locale, refused, "polls")
        return
    await show_ballot(update, context, actor, poll, picks)


@ROUTER.on(views.SubmitPicks)
async def on_submit_picks(
    update: Update, context: LinliContext, actor: Actor, pressed: views.SubmitPicks
) -> None:
    """Multiple choice: vote for the picks."""
    if (found := await _ballot(update, context, actor, pressed.poll_id, pressed.mask)) is not None:
        await cast(update, context, actor, *found)


@ROUTER.on(views.Rank)
async def on_rank(update: Update, context: LinliContext, actor: Actor, pressed: views.Rank) -> None:
    """Ranked choice: the ballot redrawn with the order so far."""
    if (found := await _ballot(update, context, actor, pressed.poll_id, pressed.order)) is not None:
        await show_ballot(update, context, actor, *found)


@ROUTER.on(views.SubmitRanking)
async def on_submit_ranking(
    update: Update, context: LinliContext, actor: Actor, pressed: views.SubmitRanking
) -> None:
    """Ranked choice: vote the order."""
    if (found := await _ballot(update, context, actor, pressed.poll_id, pressed.order)) is not None:
        await cast(update, context, actor, *found)


async def show_ballot(
    update: Update, context: LinliContext, actor: Actor, poll: Poll, state: tuple[int, ...]
) -> None:
    """Redraw the private ballot with the picks or order so far."""
    if not poll.is_open(context.services.now()):
        refused = Refused("poll_closed", {"poll": poll.id})
        await refuse(update, context, actor.locale, refused, "polls")
        return
    await answer(update, context, actor.locale)
    body = await views.ballot_text(context, actor, poll, state)
    await edit_card(update, body, views.ballot_markup(context, actor.locale, poll, state))


async def send_ballot(update: Update, context: LinliContext, actor: Actor, poll: Poll) -> None:
    """Send the member their own ballot in private chat (after checking they may vote)."""
    services = context.services
    refused = None if poll.is_open(services.now()) else Refused("poll_closed", {"poll": poll.id})
    refused = refused or eligible(poll, actor.member, services.community)
    if refused is not None:
        await refuse(update, context, actor.locale, refused, "polls")
        return
    body = await views.ballot_text(context, actor, poll, ())
    markup = views.ballot_markup(context, actor.locale, poll, ())
    try:  # nothing is written before it: it is sent at once, and a failure is known
        await context.bot.send_message(actor.user.id, body, reply_markup=markup)
    except (Forbidden, BadRequest):
        await answer(update, context, actor.locale, "polls/open_private_first", alert=True)
        return
    toast = None if is_private(update) else "polls/ballot_sent"
    await answer(update, context, actor.locale, toast)


async def cast(
    update: Update, context: LinliContext, actor: Actor, poll: Poll, choice: tuple[int, ...]
) -> None:
    """Record the vote (eligibility checked now, in the same transaction) and say what counted."""
    services = context.services
    if poll.settings.secret:  # what the voter is shown of their choice is never written down
        outbox.keep_off_disk(actor.user.id)
    result = await polls_db.cast_vote(
        services.db, poll.id, actor.member, choice, services.community, services.now()
    )
    outcome = result if isinstance(result, Refused) else result.outcome
    if isinstance(outcome, Refused):
        await refuse(update, context, actor.locale, outcome, "polls")
        return
    shown = views.voted_values(context, actor.locale, poll, outcome)
    await answer(update, context, actor.locale, "polls/voted_toast", **shown)
    if is_private(update):
        await edit_card(update, text(context, actor.locale, "polls/voted", **shown))
