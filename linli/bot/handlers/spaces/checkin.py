"""Check-in at the door: the door's code or QR code (`/start space_<code>`), or by staff."""

from __future__ import annotations

import io
from datetime import timedelta

import segno
from telegram import InputFile, Update

from linli.bot.common import Actor, answer, deep_link, edit_card, load_actor, refuse, reply, text
from linli.bot.context import LinliContext
from linli.bot.handlers.spaces.shared import FEATURE, ROUTER, staff_space, tell_booker
from linli.bot.views import spaces as views
from linli.core.outcomes import Refused, RefusedError
from linli.core.spaces import can_check_in, normalize_code
from linli.storage import spaces as spaces_db


async def on_spacein(update: Update, context: LinliContext) -> None:
    """/spacein <code>: the door's code checks in my booking; a booking code, staff only."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    await checkin_from_link(update, context, actor, " ".join(context.args or []))


async def checkin_from_link(update: Update, context: LinliContext, actor: Actor, raw: str) -> None:
    """Check in with a code typed, or from the door's QR code (`/start space_<code>`)."""
    code = normalize_code(raw[:20])
    services = context.services
    if code is not None and code.startswith("B-"):
        booking = await spaces_db.get_booking_by_code(services.db, code)
        if booking is None or await staff_space(update, context, actor, booking.space_id) is None:
            return
        await _check_in(update, context, actor, booking.id)
        return
    space = await spaces_db.get_space_by_door(services.db, code) if code else None
    if space is None:
        await refuse(update, context, actor.locale, Refused("bad_code"), FEATURE)
        return
    now, grace = services.now(), timedelta(minutes=space.rules.checkin_grace_minutes)
    booking = await spaces_db.active_booking_at_door(
        services.db, space.id, actor.member.id, now - grace, now + timedelta(minutes=15)
    )
    if booking is None:
        await refuse(update, context, actor.locale, Refused("no_booking_now"), FEATURE)
        return
    await _check_in(update, context, actor, booking.id)


async def _check_in(update: Update, context: LinliContext, actor: Actor, booking_id: int) -> None:
    services = context.services
    booking = await spaces_db.get_booking(services.db, booking_id)
    space = await spaces_db.get_space(services.db, booking.space_id) if booking else None
    refused = can_check_in(booking, space.rules, services.now()) if booking and space else None
    try:
        if refused is not None:
            raise RefusedError(refused)
        done = await spaces_db.check_in(services.db, booking_id, actor.member.id, services.now())
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, FEATURE)
        return
    await answer(update, context, actor.locale)
    if update.callback_query is not None:
        await edit_card(update, text(context, actor.locale, "spaces/checked_in", booking=done))
    else:
        await reply(update, context, actor.locale, "spaces/checked_in", booking=done)
    if done.member_id != actor.member.id:
        await tell_booker(context, done, "spaces/checked_in")


@ROUTER.on(views.CheckIn)
async def on_checkin_button(
    update: Update, context: LinliContext, actor: Actor, pressed: views.CheckIn
) -> None:
    """Staff check a booking in from the admin list."""
    booking = await spaces_db.get_booking(context.services.db, pressed.booking_id)
    if booking is None or await staff_space(update, context, actor, booking.space_id) is None:
        return
    await _check_in(update, context, actor, booking.id)


@ROUTER.on(views.Door)
async def on_door(update: Update, context: LinliContext, actor: Actor, pressed: views.Door) -> None:
    """Staff: the door code and its QR code, to put up at the door."""
    space = await staff_space(update, context, actor, pressed.space_id)
    if space is None:
        return
    link = deep_link(context, f"space_{space.door_code}")
    image = io.BytesIO()
    segno.make(link, error="m").save(image, kind="png", scale=8, border=4)
    await answer(update, context, actor.locale)
    await context.bot.send_photo(
        actor.user.id, InputFile(image.getvalue(), filename=f"door-{space.key}.png"),
        caption=text(context, actor.locale, "spaces/door_code", space=space, link=link),
    )  # fmt: skip
