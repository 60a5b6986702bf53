"""/newpoll: an organizer sets a poll up step by step in private chat, previews it, publishes it.

The steps and their rules are `core.polls.PollSetup` (kept in the flow's draft); what each
step asks, and its buttons, are `views.polls.setup_question`.
"""

from __future__ import annotations

from telegram import Update

from linli.bot import flows
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
from linli.bot.handlers.polls.router import ROUTER
from linli.bot.views import polls as views
from linli.bot.views import proposals as proposal_views
from linli.core.outcomes import Refused, RefusedError
from linli.core.polls import TYPED_STEPS, Poll, PollSetup
from linli.storage import polls as polls_db
from linli.storage.drafts import Draft

Step = str | Refused  # the step a setup went on to, or why it did not


async def on_newpoll(update: Update, context: LinliContext) -> None:
    """/newpoll: an organizer sets up a poll step by step, in private chat."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    refused = None if actor.is_organizer else Refused("organizers_only")
    refused = refused or (None if is_private(update) else Refused("private_only"))
    if refused is not None:
        await refuse(update, context, actor.locale, refused, "polls")
        return
    setup = PollSetup()
    await flows.start_flow(context, actor.user.id, views.FLOW, "kind", **setup.to_data())
    await _ask(update, context, actor, setup, "kind")


async def on_setup_input(update: Update, context: LinliContext, actor: Actor, draft: Draft) -> None:
    """Typed answers in /newpoll: the question, the options, a closing time."""
    typed = await flows.typed_answer(
        update, context, actor.locale, draft.step, TYPED_STEPS, "polls"
    )
    if typed is None:
        return
    setup, services = PollSetup.from_data(draft.data), context.services
    max_options, tz = services.config.polls.max_options, services.config.tz
    step = setup.answer(draft.step, typed, max_options, tz, services.now())
    await _advance(update, context, actor, draft, setup, step)


async def _ask(
    update: Update,
    context: LinliContext,
    actor: Actor,
    setup: PollSetup,
    step: str,
    *,
    edit: bool = False,
) -> None:
    """The question of `step`: in a new message, or (`edit`) on the card pressed."""
    body, markup = views.setup_question(context, actor.locale, setup, step)
    if edit and update.callback_query is not None:
        await edit_card(update, body, markup)
    else:
        await context.bot.send_message(actor.user.id, body, reply_markup=markup)


async def _advance(
    update: Update,
    context: LinliContext,
    actor: Actor,
    draft: Draft,
    setup: PollSetup,
    step: Step,
    *,
    edit: bool = False,
) -> None:
    """The setup saved at its next step and that step's question asked; or why not."""
    if isinstance(step, Refused):
        await refuse(update, context, actor.locale, step, "polls")
        return
    draft.data = setup.to_data()
    await flows.save(context, draft, step)
    await _ask(update, context, actor, setup, step, edit=edit)
    await answer(update, context, actor.locale)


async def _setup(
    update: Update, context: LinliContext, actor: Actor
) -> tuple[Draft, PollSetup] | None:
    """The organizer's /newpoll in progress; None (the press answered as stale) if none."""
    draft = await flows.current(context, actor.user.id)
    if draft is None or draft.flow != views.FLOW or not actor.is_organizer:
        await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return None
    return draft, PollSetup.from_data(draft.data)


@ROUTER.on(views.ChooseKind)
async def on_kind(
    update: Update, context: LinliContext, actor: Actor, pressed: views.ChooseKind
) -> None:
    """The kind of vote: then its question, on the same message."""
    if (found := await _setup(update, context, actor)) is not None:
        draft, setup = found
        step = setup.choose_kind(draft.step, pressed.code)
        await _advance(update, context, actor, draft, setup, step, edit=True)


@ROUTER.on(views.ChoosePicks)
async def on_picks(
    update: Update, context: LinliContext, actor: Actor, pressed: views.ChoosePicks
) -> None:
    """How many options each voter may pick: then who votes."""
    if (found := await _setup(update, context, actor)) is not None:
        draft, setup = found
        step = setup.choose_picks(draft.step, pressed.count)
        await _advance(update, context, actor, draft, setup, step)


@ROUTER.on(views.ChooseAudience)
async def on_audience(
    update: Update, context: LinliContext, actor: Actor, pressed: views.ChooseAudience
) -> None:
    """Who votes: then when it closes."""
    if (found := await _setup(update, context, actor)) is not None:
        draft, setup = found
        step = setup.choose_audience(draft.step, pressed.index, context.services.community)
        await _advance(update, context, actor, draft, setup, step)


@ROUTER.on(views.ChooseDays)
async def on_days(
    update: Update, context: LinliContext, actor: Actor, pressed: views.ChooseDays
) -> None:
    """Closes in so many days: then the settings."""
    if (found := await _setup(update, context, actor)) is not None:
        draft, setup = found
        step = setup.choose_days(draft.step, pressed.days, context.services.now())
        await _advance(update, context, actor, draft, setup, step)


@ROUTER.on(views.Toggle)
async def on_toggle(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Toggle
) -> None:
    """A setting switched (or a percentage moved on): the settings redrawn."""
    if (found := await _setup(update, context, actor)) is not None:
        draft, setup = found
        step = setup.toggle(draft.step, pressed.setting)
        await _advance(update, context, actor, draft, setup, step, edit=True)


@ROUTER.on(views.EditSettings)
async def on_edit_settings(
    update: Update, context: LinliContext, actor: Actor, pressed: views.EditSettings
) -> None:
    """Back from the preview to the settings."""
    if (found := await _setup(update, context, actor)) is not None:
        draft, setup = found
        step = setup.back_to_settings(draft.step)
        await _advance(update, context, actor, draft, setup, step, edit=True)


@ROUTER.on(views.Preview)
async def on_preview(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Preview
) -> None:
    """The card exactly as residents will see it, with Publish / Change settings."""
    if (found := await _setup(update, context, actor)) is None:
        return
    draft, setup = found
    services = context.services
    checked = setup.checked(
        draft.step, ("settings", "preview"), services.now(), services.config.polls.max_options
    )
    if isinstance(checked, Refused):
        await refuse(update, context, actor.locale, checked, "polls")
        return
    await flows.save(context, draft, "preview")
    body, markup = await views.preview_message(context, actor, checked)
    await context.bot.send_message(actor.user.id, body, reply_markup=markup)
    await answer(update, context, actor.locale)


@ROUTER.on(views.Publish)
async def on_publish(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Publish
) -> None:
    """Publish (once, whatever the taps): create the poll and post its card to the groups."""
    if (found := await _setup(update, context, actor)) is None:
        return
    created = await _create(context, actor, *found)
    if isinstance(created, Refused):
        await refuse(update, context, actor.locale, created, "polls")
        return
    poll, new = created
    await edit_card(update, text(context, actor.locale, "polls/publishing", poll=poll))
    sent = await views.deliver(context, poll, "card") if new else 0
    await reply(update, context, actor.locale, "polls/published", poll=poll, groups=sent)
    if new and poll.proposal_id is not None:
        await proposal_views.announce_opened(context, poll.proposal_id, poll)
    await answer(update, context, actor.locale)


async def _create(
    context: LinliContext, actor: Actor, draft: Draft, setup: PollSetup
) -> tuple[Poll, bool] | Refused:
    """The poll (and whether this tap created it: one poll per setup); the setup then ends."""
    services = context.services
    checked = setup.checked(
        draft.step, ("preview",), services.now(), services.config.polls.max_options
    )
    if isinstance(checked, Refused):
        return checked
    count = await polls_db.count_eligible_now(services.db, checked.settings, services.community)
    try:
        created: tuple[Poll, bool] | Refused = await polls_db.create_poll(
            services.db, checked, created_by=actor.member.id, key=f"{actor.user.id}:{setup.key}",
            eligible=count, now=services.now(), proposal_id=setup.proposal_id,
        )  # fmt: skip
    except RefusedError as exc:
        created = exc.refused
    await flows.end_flow(context, actor.user.id, views.FLOW)
    return created


flows.register_flow(views.FLOW, on_setup_input)
