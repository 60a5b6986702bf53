"""Organizers look after an event: its attendees, the check-in code and QR code to show at
the venue, a new time or place (a one-step flow), and cancelling it (asked once more)."""

from __future__ import annotations

import io

import segno
from telegram import InlineKeyboardMarkup, InputFile, Update

from linli.bot import flows
from linli.bot.common import Actor, answer, deep_link, edit_card, keyboard, refuse, reply, text
from linli.bot.context import LinliContext
from linli.bot.handlers.events.base import (
    EDIT,
    FEATURE,
    ROUTER,
    opens_before,
    organizer_event,
    say_no,
    send_privately,
)
from linli.bot.views import events as views
from linli.core import events as core
from linli.core.events import EDIT_PLACE, EDIT_TIME, Event, EventEdit, NewPlace
from linli.core.outcomes import Refused
from linli.storage import events as events_db
from linli.storage.drafts import Draft

ATTENDEES_PAGE = 30


@ROUTER.on(views.Attendees)
async def on_attendees(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Attendees
) -> None:
    """Organizers: the sign-up list and the waitlist, in a new message."""
    if (event := await organizer_event(update, context, actor, pressed.event_id)) is not None:
        body, markup = await _attendees(context, actor, event, pressed.page)
        await answer(update, context, actor.locale)
        await context.bot.send_message(actor.user.id, body, reply_markup=markup)


@ROUTER.on(views.AttendeesPage)
async def on_attendees_page(
    update: Update, context: LinliContext, actor: Actor, pressed: views.AttendeesPage
) -> None:
    """◀ ▶ under the attendees: that message shows another page."""
    if (event := await organizer_event(update, context, actor, pressed.event_id)) is not None:
        body, markup = await _attendees(context, actor, event, pressed.page)
        await answer(update, context, actor.locale)
        await edit_card(update, body, markup)


async def _attendees(
    context: LinliContext, actor: Actor, event: Event, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    """The attendees' page `page` (clamped) and its ◀ ▶."""
    rows, seats = views.attendee_rows(await events_db.attendees(context.services.db, event.id))
    shown, page, pages = views.page_of(rows, page, ATTENDEES_PAGE)
    body = text(context, actor.locale, "events/attendees",
                event=event, page=page, pages=pages, rows=shown, seats=seats)  # fmt: skip
    to_page = views.pager_row(
        context, actor.locale, page, pages, lambda p: views.AttendeesPage(event.id, p)
    )
    return body, keyboard([to_page])


@ROUTER.on(views.CheckinCode)
async def on_checkin_code(
    update: Update, context: LinliContext, actor: Actor, pressed: views.CheckinCode
) -> None:
    """Organizers: the check-in code and its QR code (a deep link) to show at the venue."""
    if (event := await organizer_event(update, context, actor, pressed.event_id)) is None:
        return
    link = deep_link(context, f"checkin_{event.checkin_code}")
    image = io.BytesIO()
    segno.make(link, error="m").save(image, kind="png", scale=8, border=4)
    await answer(update, context, actor.locale)
    opens = core.checkin_window(event, opens_before(context))[0]
    caption = text(
        context, actor.locale, "events/checkin_code", event=event, link=link, opens=opens
    )
    photo = InputFile(image.getvalue(), filename=f"checkin-{event.id}.png")
    await context.bot.send_photo(actor.user.id, photo, caption=caption)


@ROUTER.on(views.EditTime)
async def on_edit_time(
    update: Update, context: LinliContext, actor: Actor, pressed: views.EditTime
) -> None:
    """Organizers: Change time asks for the new start and end."""
    await _start_edit(update, context, actor, pressed.event_id, EDIT_TIME)


@ROUTER.on(views.EditPlace)
async def on_edit_place(
    update: Update, context: LinliContext, actor: Actor, pressed: views.EditPlace
) -> None:
    """Organizers: Change place asks for the new place."""
    await _start_edit(update, context, actor, pressed.event_id, EDIT_PLACE)


async def _start_edit(
    update: Update, context: LinliContext, actor: Actor, event_id: int, step: str
) -> None:
    if (event := await organizer_event(update, context, actor, event_id)) is None:
        return
    if (refused := core.decide_edit(event, context.services.now())) is not None:
        await refuse(update, context, actor.locale, refused, FEATURE)
        return
    await flows.start_flow(context, actor.user.id, EDIT, step, **EventEdit(event.id).to_data())
    await answer(update, context, actor.locale)
    await send_privately(context, actor, "events/ask", step=step,
                         limit=core.STEP_LIMITS.get(step, 0), tz=context.services.config.tz.key)  # fmt: skip


async def on_edit_input(update: Update, context: LinliContext, actor: Actor, draft: Draft) -> None:
    """The new time or place typed by an organizer."""
    if (event := await _edited_event(update, context, actor, draft)) is None:
        return
    message = update.effective_message
    typed = (message.text or "") if message else ""
    result = await _apply_edit(context, actor, event, draft.step, typed)
    if isinstance(result, Refused):
        await refuse(update, context, actor.locale, result, FEATURE)  # the question stands
        return
    await flows.end_flow(context, actor.user.id, EDIT)
    what = "time" if draft.step == EDIT_TIME else "place"
    await reply(update, context, actor.locale, "events/edited", event=result.event, told=result.told, what=what)  # fmt: skip
    await views.deliver_notices(context)
    await views.refresh_cards(context, event.id)


async def _edited_event(
    update: Update, context: LinliContext, actor: Actor, draft: Draft
) -> Event | None:
    """The event being changed, while the actor still organizes and it still exists;
    otherwise the flow ends, saying why."""
    event_id = EventEdit.from_data(draft.data).event_id
    event = await events_db.get_event(context.services.db, event_id)
    if actor.is_organizer and event is not None:
        return event
    await flows.end_flow(context, actor.user.id, EDIT)
    await say_no(update, context, actor, "unknown_event" if actor.is_organizer else "not_organizer")
    return None


async def _apply_edit(
    context: LinliContext, actor: Actor, event: Event, step: str, typed: str
) -> events_db.Changed | Refused:
    services, now = context.services, context.services.now()
    plan = core.plan_edit(event, step, typed, services.config.tz, now)
    if isinstance(plan, Refused):
        return plan
    if isinstance(plan, NewPlace):
        return await events_db.move_event(services.db, event.id, plan.place, actor.member.id, now)
    return await events_db.reschedule_event(
        services.db, event.id, plan.starts_at, plan.ends_at, plan.deadline, actor.member.id, now
    )


@ROUTER.on(views.CancelEvent)
async def on_cancel_event(
    update: Update, context: LinliContext, actor: Actor, pressed: views.CancelEvent
) -> None:
    """Organizers: Cancel event asks once more, privately, with how many it will tell."""
    if (event := await organizer_event(update, context, actor, pressed.event_id)) is None:
        return
    seats = await events_db.seats(context.services.db, event.id)
    await answer(update, context, actor.locale)
    await send_privately(context, actor, "events/cancel_confirm",
                         views.cancel_confirm_markup(context, actor.locale, event),
                         event=event, count=seats.confirmed + seats.waitlisted)  # fmt: skip


@ROUTER.on(views.ConfirmCancel)
async def on_confirm_cancel(
    update: Update, context: LinliContext, actor: Actor, pressed: views.ConfirmCancel
) -> None:
    """Organizers: the confirmation cancels the event and tells everyone signed up."""
    if (event := await organizer_event(update, context, actor, pressed.event_id)) is None:
        return
    services = context.services
    result = await events_db.cancel_event(services.db, event.id, actor.member.id, services.now())
    if isinstance(result, Refused):
        await refuse(update, context, actor.locale, result, FEATURE)
        return
    await answer(update, context, actor.locale)
    await edit_card(update, text(context, actor.locale, "events/event_cancelled", event=result.event, told=result.told))  # fmt: skip
    await views.deliver_notices(context)
    await views.refresh_cards(context, event.id)
