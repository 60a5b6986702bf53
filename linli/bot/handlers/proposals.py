"""Proposals: /propose (verified residents), co-signing on the card, organizers open a vote or decline.

The /propose steps are `core.proposals.ProposalDraft`; the buttons, cards and notices are in
linli/bot/views/proposals.py. Opening a vote hands over to /newpoll's setup
(`views.polls.start_from_proposal`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import BaseHandler, CommandHandler

from linli.bot import flows, outbox
from linli.bot.buttons import Router
from linli.bot.commands import CommandSpec
from linli.bot.common import (
    Actor,
    answer,
    edit_card,
    is_private,
    load_actor,
    refuse,
    reply,
    text,
)
from linli.bot.context import LinliContext
from linli.bot.views import polls as poll_views
from linli.bot.views import proposals as views
from linli.core.outcomes import Refused
from linli.core.proposals import (
    TYPED_STEPS,
    DeclineDraft,
    Proposal,
    ProposalDraft,
    audiences_for,
    check_proposal,
    clean_reason,
    may_propose,
    preview,
)
from linli.storage import proposals as proposals_db
from linli.storage.drafts import Draft

FLOW = "propose"
DECLINE_FLOW = "propdecline"
ROUTER = Router("pr")
# What an organizer's decision starts in their private chat.
Start = Callable[[LinliContext, Actor, Proposal], Awaitable[None]]


# --- /propose --------------------------------------------------------------------------------


async def on_propose(update: Update, context: LinliContext) -> None:
    """/propose: a verified resident drafts a proposal for their building or compound."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    refused = may_propose(actor.member) or (None if is_private(update) else Refused("private_only"))
    if refused is not None:
        await refuse(update, context, actor.locale, refused, "proposals")
        return
    await flows.start_flow(context, actor.user.id, FLOW, "title", **ProposalDraft().to_data())
    threshold = context.services.config.polls.cosign_threshold
    await reply(update, context, actor.locale, "proposals/ask_title", threshold=threshold)


async def on_input(update: Update, context: LinliContext, actor: Actor, draft: Draft) -> None:
    """Typed answers in /propose: the title, then the text (then the audience, by button)."""
    typed = await flows.typed_answer(
        update, context, actor.locale, draft.step, TYPED_STEPS, "polls"
    )
    if typed is None:
        return
    proposal = ProposalDraft.from_data(draft.data)
    step = proposal.answer(draft.step, typed)
    if isinstance(step, Refused):
        await refuse(update, context, actor.locale, step, "proposals")
        return
    await _save(context, draft, proposal, step)
    await _ask(update, context, actor, step)


async def _ask(update: Update, context: LinliContext, actor: Actor, step: str) -> None:
    """The text after the title; the audience (by button) after the text."""
    if step == "body":
        await reply(update, context, actor.locale, "proposals/ask_body")
        return
    choices = audiences_for(actor.member, context.services.community)
    markup = views.audience_markup(context, actor.locale, choices)
    await reply(update, context, actor.locale, "proposals/ask_audience", markup)


async def _save(context: LinliContext, draft: Draft, proposal: ProposalDraft, step: str) -> None:
    draft.data = proposal.to_data()
    await flows.save(context, draft, step)


async def _draft(
    update: Update, context: LinliContext, actor: Actor
) -> tuple[Draft, ProposalDraft] | None:
    """The member's /propose in progress; None (the press answered as stale) if none."""
    draft = await flows.current(context, actor.user.id)
    if draft is None or draft.flow != FLOW:
        await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return None
    return draft, ProposalDraft.from_data(draft.data)


@ROUTER.on(views.ChooseAudience)
async def on_audience(
    update: Update, context: LinliContext, actor: Actor, pressed: views.ChooseAudience
) -> None:
    """The audience: then the preview with Submit and Cancel."""
    if (found := await _draft(update, context, actor)) is None:
        return
    draft, proposal = found
    choices = audiences_for(actor.member, context.services.community)
    step = proposal.choose_audience(draft.step, pressed.index, choices)
    if isinstance(step, Refused):
        await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return
    await _save(context, draft, proposal, step)
    await answer(update, context, actor.locale)
    card, _ = await views.card(context, actor.locale, await _preview(context, actor, proposal))
    body = text(context, actor.locale, "proposals/preview", card=card)
    await edit_card(update, body, views.preview_markup(context, actor.locale))


async def _preview(context: LinliContext, actor: Actor, draft: ProposalDraft) -> Proposal:
    """The proposal as its card will show it, with the number it will get."""
    services = context.services
    assert draft.audience is not None
    number = await proposals_db.next_proposal_id(services.db)
    threshold = services.config.polls.cosign_threshold
    return preview(
        number, actor.member.id, draft.audience, draft.title, draft.body, threshold, services.now()
    )


@ROUTER.on(views.Submit)
async def on_submit(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Submit
) -> None:
    """Save the proposal (once, however many taps) and post its card to the audience's groups."""
    if (found := await _draft(update, context, actor)) is None:
        return
    draft, proposal = found
    if draft.step != "preview" or proposal.audience is None:
        await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return
    created = await _create(context, actor, proposal)
    if isinstance(created, Refused):
        await refuse(update, context, actor.locale, created, "proposals")
        return
    await flows.end_flow(context, actor.user.id, FLOW)
    await answer(update, context, actor.locale)
    sent = await views.post_cards(context, created[0]) if created[1] else 0
    body = text(context, actor.locale, "proposals/submitted", proposal=created[0], groups=sent)
    await edit_card(update, body)


async def _create(
    context: LinliContext, actor: Actor, draft: ProposalDraft
) -> tuple[Proposal, bool] | Refused:
    """The proposal (and whether this tap created it: one per draft), if the rules allow it."""
    services = context.services
    assert draft.audience is not None
    checked = check_proposal(
        actor.member, draft.audience, draft.title, draft.body, services.community
    )
    if isinstance(checked, Refused):
        return checked
    return await proposals_db.create_proposal(
        services.db, actor.member, draft.audience, *checked,
        threshold=services.config.polls.cosign_threshold,
        key=f"{actor.user.id}:{draft.key}", now=services.now(),
    )  # fmt: skip


@ROUTER.on(views.Cancel)
async def on_cancel(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Cancel
) -> None:
    """Cancel on the preview: the draft is dropped."""
    if await _draft(update, context, actor) is None:
        return
    await flows.end_flow(context, actor.user.id, FLOW)
    await answer(update, context, actor.locale)
    await edit_card(update, text(context, actor.locale, "proposals/cancelled"))


# --- Co-signing and the organizers' decision ---------------------------------------------------


@ROUTER.on(views.Cosign)
async def on_cosign(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Cosign
) -> None:
    """The Co-sign button on a proposal card."""
    services = context.services
    result = await proposals_db.cosign(
        services.db, pressed.proposal_id, actor.member, services.community, services.now()
    )
    if isinstance(result, Refused):
        await refuse(update, context, actor.locale, result, "proposals")
        return
    proposal = result.proposal
    await answer(update, context, actor.locale, "proposals/cosigned_toast", proposal=proposal)
    await views.refresh_cards(context, proposal)
    if result.cosigned.reached:
        await views.announce_ready(context, proposal)


@ROUTER.on(views.OpenVote)
async def on_open_vote(
    update: Update, context: LinliContext, actor: Actor, pressed: views.OpenVote
) -> None:
    """Open a vote (organizers, checked now): /newpoll continues in the organizer's private chat."""
    await _decide(update, context, actor, pressed.proposal_id, poll_views.start_from_proposal)


@ROUTER.on(views.Decline)
async def on_decline(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Decline
) -> None:
    """Decline (organizers, checked now): the reason is asked for in private chat."""
    await _decide(update, context, actor, pressed.proposal_id, _ask_reason)


async def _ask_reason(context: LinliContext, actor: Actor, proposal: Proposal) -> None:
    body = text(context, actor.locale, "proposals/ask_reason", proposal=proposal)
    with outbox.sending_now():  # whether it arrives decides what the organizer is told
        await context.bot.send_message(actor.user.id, body)
    data = DeclineDraft(proposal.id).to_data()
    await flows.start_flow(context, actor.user.id, DECLINE_FLOW, "reason", **data)


async def _decide(
    update: Update, context: LinliContext, actor: Actor, proposal_id: int, start: Start
) -> None:
    """Whether the actor may decide on the proposal now; then `start` it in private chat."""
    checked = await proposals_db.check_decidable(context.services.db, proposal_id, actor.member)
    if isinstance(checked, Refused):
        await refuse(update, context, actor.locale, checked, "proposals")
        return
    try:
        await start(context, actor, checked)
    except (Forbidden, BadRequest):
        await flows.end_flow(context, actor.user.id)
        await answer(update, context, actor.locale, "polls/open_private_first", alert=True)
        return
    toast = None if is_private(update) else "proposals/continue_private"
    await answer(update, context, actor.locale, toast)


async def on_reason_input(
    update: Update, context: LinliContext, actor: Actor, draft: Draft
) -> None:
    """The organizer's reason for declining: saved, the author told, the cards updated."""
    message = update.effective_message
    reason = clean_reason(message.text or "" if message else "")
    if isinstance(reason, Refused):
        await refuse(update, context, actor.locale, reason, "proposals")
        return
    services, declining = context.services, DeclineDraft.from_data(draft.data)
    result = await proposals_db.decline(
        services.db, declining.proposal_id, actor.member, reason, services.now()
    )
    await flows.end_flow(context, actor.user.id, DECLINE_FLOW)
    if isinstance(result, Refused):
        await refuse(update, context, actor.locale, result, "proposals")
        return
    await views.announce_declined(context, result)
    await reply(update, context, actor.locale, "proposals/declined", proposal=result)


flows.register_flow(FLOW, on_input)
flows.register_flow(DECLINE_FLOW, on_reason_input)

HANDLERS: list[BaseHandler[Any, Any, Any]] = [
    CommandHandler("propose", on_propose),
    # Every "pr" button: the /propose preview, co-signing, the organizers' decision.
    ROUTER.handler(),
]
COMMANDS: list[CommandSpec] = [CommandSpec("propose", "proposals")]
