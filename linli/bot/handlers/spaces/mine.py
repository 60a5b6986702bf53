"""/mybookings, cancelling a booking, and its calendar file."""

from __future__ import annotations

import io

from telegram import InputFile, Update
from telegram.error import BadRequest, Forbidden

from linli.bot.common import Actor, answer, edit_card, load_actor, refuse, reply, text
from linli.bot.context import LinliContext
from linli.bot.handlers.spaces.shared import FEATURE, ROUTER, tell_booker
from linli.bot.views import spaces as views
from linli.core.outcomes import Refused, RefusedError
from linli.core.spaces import may_cancel, to_ics
from linli.storage import spaces as spaces_db


async def on_mybookings(update: Update, context: LinliContext) -> None:
    """/mybookings: my bookings still to come, each with Cancel and 📅."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    services = context.services
    bookings = await spaces_db.member_bookings(services.db, actor.member.id, services.now())
    await reply(update, context, actor.locale, "spaces/mine",
                views.mine_markup(context, actor.locale, bookings), bookings=bookings)  # fmt: skip


@ROUTER.on(views.Cancel)
async def on_cancel(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Cancel
) -> None:
    """The booker, or staff of the space, cancels; points back before the deadline."""
    services = context.services
    booking = await spaces_db.get_booking(services.db, pressed.booking_id)
    space = await spaces_db.get_space(services.db, booking.space_id) if booking else None
    if (refused := may_cancel(booking, space, actor.member.id, actor.is_organizer)) or not booking:
        await refuse(update, context, actor.locale, refused or Refused("not_yours"), FEATURE)
        return
    try:
        done = await spaces_db.cancel(services.db, booking.id, actor.member.id, services.now(),
                                      services.config.tz)  # fmt: skip
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, FEATURE)
        return
    await answer(update, context, actor.locale)
    await edit_card(update, text(context, actor.locale, "spaces/cancelled", booking=done.booking,
                                 refunded=done.refunded))  # fmt: skip
    if booking.member_id != actor.member.id:
        await tell_booker(
            context, done.booking, "spaces/cancelled_by_staff", refunded=done.refunded
        )


@ROUTER.on(views.Calendar)
async def on_calendar(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Calendar
) -> None:
    """The booking as an .ics file, in the member's private chat."""
    services = context.services
    booking = await spaces_db.get_booking(services.db, pressed.booking_id)
    space = await spaces_db.get_space(services.db, booking.space_id) if booking else None
    if booking is None or space is None or booking.member_id != actor.member.id:
        await refuse(update, context, actor.locale, Refused("not_yours"), FEATURE)
        return
    name = services.community.title(actor.locale)
    data = to_ics(booking, space.place, services.config.tz, calendar_name=name)
    try:
        await context.bot.send_document(
            actor.user.id, InputFile(io.BytesIO(data), filename=f"{booking.code}.ics"),
            caption=text(context, actor.locale, "spaces/ics_caption", booking=booking),
        )  # fmt: skip
    except (Forbidden, BadRequest):
        await refuse(update, context, actor.locale, Refused("open_private_chat"), FEATURE)
        return
    await answer(update, context, actor.locale)
