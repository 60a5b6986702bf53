"""/newevent: an organizer creates an event step by step in private chat, previews it and
publishes it (the steps themselves are core.events.NewEvent)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from telegram import Update

from linli.bot import flows
from linli.bot.common import Actor, answer, edit_card, keyboard, load_actor, reply, text
from linli.bot.context import LinliContext
from linli.bot.handlers.events.base import NEW, ROUTER, said_no, say_no
from linli.bot.views import events as views
from linli.core import events as core
from linli.core.events import Event, NewEvent, Step
from linli.core.outcomes import Refused
from linli.storage import events as events_db
from linli.storage.drafts import Draft


async def on_newevent(update: Update, context: LinliContext) -> None:
    """/newevent: an organizer starts creating an event (private chat)."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    if not actor.is_organizer:
        await say_no(update, context, actor, "not_organizer")
        return
    await _start(update, context, actor)


async def _start(update: Update, context: LinliContext, actor: Actor) -> None:
    flow = NewEvent()
    await flows.start_flow(context, actor.user.id, NEW, flow.step, **flow.draft.to_data())
    await _ask(update, context, actor, flow.step)


async def _ask(update: Update, context: LinliContext, actor: Actor, step: str) -> None:
    await reply(update, context, actor.locale, "events/ask",
                views.step_markup(context, actor.locale, step),
                step=step, limit=core.STEP_LIMITS.get(step, 0), tz=context.services.config.tz.key)  # fmt: skip


async def on_newevent_input(
    update: Update, context: LinliContext, actor: Actor, draft: Draft
) -> None:
    """A typed answer to the current /newevent step."""
    if not actor.is_organizer:
        await flows.end_flow(context, actor.user.id, NEW)
        await say_no(update, context, actor, "not_organizer")
        return
    message, services = update.effective_message, context.services
    typed = (message.text or "") if message else ""
    flow = NewEvent.resume(draft.step, draft.data)
    refused = (
        flow.type(typed, services.config.tz, services.now()) if flow else Refused("use_buttons")
    )
    if not await said_no(update, context, actor, refused) and flow is not None:
        await _taken(update, context, actor, draft, flow)


async def _taken(
    update: Update, context: LinliContext, actor: Actor, draft: Draft, flow: NewEvent
) -> None:
    """An answer taken: saved, and the next question (or the preview)."""
    await answer(update, context, actor.locale)  # a button's tap (nothing for a typed answer)
    draft.data = flow.draft.to_data()
    await flows.save(context, draft, flow.step)
    if flow.step is not Step.PREVIEW:
        await _ask(update, context, actor, flow.step)
        return
    await reply(update, context, actor.locale, "events/preview",
                views.step_markup(context, actor.locale, Step.PREVIEW),
                event=flow.draft.preview(context.services.now()), seats=core.Seats(),
                community=context.services.community, weeks=flow.draft.weeks)  # fmt: skip


async def _flow(
    update: Update, context: LinliContext, actor: Actor, *at: Step
) -> tuple[Draft, NewEvent] | None:
    """For a /newevent button: the organizer's draft and its flow (at one of `at`, if given),
    or why not."""
    draft = await flows.current(context, actor.user.id)
    flow = NewEvent.resume(draft.step, draft.data) if draft and draft.flow == NEW else None
    if not actor.is_organizer or draft is None or flow is None or (at and flow.step not in at):
        await say_no(update, context, actor, "no_draft" if actor.is_organizer else "not_organizer")
        return None
    return draft, flow


async def _take(
    update: Update, context: LinliContext, actor: Actor, given: Callable[[NewEvent], Refused | None]
) -> None:
    """A button's answer to the current step: `given` puts it into the flow, or says why not."""
    if (found := await _flow(update, context, actor)) is None:
        return
    draft, flow = found
    if not await said_no(update, context, actor, given(flow)):
        await _taken(update, context, actor, draft, flow)


@ROUTER.on(views.ChooseKind)
async def on_kind(
    update: Update, context: LinliContext, actor: Actor, pressed: views.ChooseKind
) -> None:
    """What kind of event."""
    await _take(update, context, actor, lambda flow: flow.choose_kind(pressed.kind))


@ROUTER.on(views.ChooseAudience)
async def on_audience(
    update: Update, context: LinliContext, actor: Actor, pressed: views.ChooseAudience
) -> None:
    """Whom it is for: everyone, a compound, a building or a role."""
    community = context.services.community
    await _take(update, context, actor,
                lambda flow: flow.choose_audience(pressed.kind, pressed.target, community))  # fmt: skip


@ROUTER.on(views.Skip)
async def on_skip(update: Update, context: LinliContext, actor: Actor, pressed: views.Skip) -> None:
    """Skip an optional step (the description, the deadline)."""
    tz, now = context.services.config.tz, context.services.now()
    await _take(update, context, actor, lambda flow: flow.skip(tz, now))


@ROUTER.on(views.ListBuildings)
async def on_list_buildings(
    update: Update, context: LinliContext, actor: Actor, pressed: views.ListBuildings
) -> None:
    """The buildings, in place of the first list (the step stays "audience")."""
    await _audience_list(update, context, actor, "audience_building")


@ROUTER.on(views.ListRoles)
async def on_list_roles(
    update: Update, context: LinliContext, actor: Actor, pressed: views.ListRoles
) -> None:
    """The roles, in place of the first list (the step stays "audience")."""
    await _audience_list(update, context, actor, "audience_role")


async def _audience_list(update: Update, context: LinliContext, actor: Actor, step: str) -> None:
    if await _flow(update, context, actor, Step.AUDIENCE) is None:
        return
    await answer(update, context, actor.locale)
    tz = context.services.config.tz.key
    body = text(context, actor.locale, "events/ask", step=step, limit=0, tz=tz)
    await edit_card(update, body, views.step_markup(context, actor.locale, step))


@ROUTER.on(views.Restart)
async def on_restart(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Restart
) -> None:
    """Start over: an empty draft, from the first question."""
    if await _flow(update, context, actor, Step.PREVIEW) is not None:
        await answer(update, context, actor.locale)
        await _start(update, context, actor)


@ROUTER.on(views.Discard)
async def on_discard(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Discard
) -> None:
    """Drop the draft."""
    if await _flow(update, context, actor, Step.PREVIEW) is not None:
        await answer(update, context, actor.locale)
        await flows.end_flow(context, actor.user.id, NEW)
        await edit_card(update, text(context, actor.locale, "events/discarded"))


@ROUTER.on(views.Publish)
async def on_publish(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Publish
) -> None:
    """Publish: the event (or a weekly series) is created and its cards posted."""
    found, now = await _flow(update, context, actor, Step.PREVIEW), context.services.now()
    if found is None or await said_no(update, context, actor, found[1].ready(now)):
        return
    await answer(update, context, actor.locale)
    created, groups = await _publish(context, actor, found[1], now)
    await edit_card(update, text(context, actor.locale, "events/published", events=created, groups=groups),
                    keyboard(views.details_rows(context, actor.locale, created[:5])))  # fmt: skip


async def _publish(
    context: LinliContext, actor: Actor, flow: NewEvent, now: datetime
) -> tuple[list[Event], int]:
    """The events created (one, or a weekly series) and how many groups got the first's card."""
    db = context.services.db
    occurrences = core.occurrences(flow.draft, now)
    created, _ = await events_db.create_events(db, flow.draft, occurrences, actor.member.id, now)
    await flows.end_flow(context, actor.user.id, NEW)
    await views.publish_due(context)
    cards = await events_db.cards_of(db, created[0].id)
    return created, sum(1 for c in cards if c.message_id is not None)
