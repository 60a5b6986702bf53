"""Staff: today's and tomorrow's bookings, approval, /spaceadmin, weekly series."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from secrets import token_hex

from telegram import Update

from linli.bot import flows
from linli.bot.common import (
    Actor,
    answer,
    edit_card,
    load_actor,
    load_organizer,
    refuse,
    reply,
    text,
)
from linli.bot.context import LinliContext
from linli.bot.handlers.spaces.shared import (
    FEATURE,
    ROUTER,
    ensure_spaces,
    staff_space,
    tell_booker,
)
from linli.bot.views import spaces as views
from linli.core.outcomes import Refused, RefusedError
from linli.core.spaces import (
    DeclineDraft,
    Slot,
    clean_purpose,
    is_staff,
    parse_edit,
    parse_weeks,
    weekly,
)
from linli.storage import drafts as drafts_db
from linli.storage import spaces as spaces_db
from linli.storage.drafts import Draft

DECLINE_FLOW = "space_decline"


async def show_admin(update: Update, context: LinliContext, actor: Actor) -> None:
    """/spaces admin: today's and tomorrow's bookings of the spaces the actor runs."""
    await ensure_spaces(context)
    services, tz = context.services, context.services.config.tz
    spaces = [s for s in await spaces_db.list_spaces(services.db)
              if is_staff(s, actor.member.id, actor.is_organizer)]  # fmt: skip
    if not spaces:
        await refuse(update, context, actor.locale, Refused("not_staff"), FEATURE)
        return
    today = services.now().astimezone(tz).date()
    lo = datetime.combine(today, time(0), tzinfo=tz)
    ids = {s.id for s in spaces}
    bookings = [b for b in await spaces_db.bookings_between(services.db, lo, lo + timedelta(days=2))
                if b.space_id in ids]  # fmt: skip
    no_shows = {b.id: await spaces_db.no_show_count(services.db, b.household, services.now())
                for b in bookings}  # fmt: skip
    await reply(update, context, actor.locale, "spaces/admin",
                views.admin_markup(context, actor.locale, bookings, spaces),
                spaces=spaces, bookings=bookings, no_shows=no_shows, today=lo)  # fmt: skip


@ROUTER.on(views.Approve)
async def on_approve(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Approve
) -> None:
    """Staff approve: the booking is confirmed, the booker told."""
    services = context.services
    booking = await spaces_db.get_booking(services.db, pressed.booking_id)
    if booking is None or await staff_space(update, context, actor, booking.space_id) is None:
        return
    try:
        done = await spaces_db.decide(services.db, booking.id, True, actor.member.id,
                                      services.now(), services.config.tz)  # fmt: skip
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, FEATURE)
        return
    await answer(update, context, actor.locale)
    await edit_card(
        update, text(context, actor.locale, "spaces/decided", booking=done, by=actor.member)
    )
    await tell_booker(context, done, "spaces/approved")


@ROUTER.on(views.Decline)
async def on_decline(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Decline
) -> None:
    """Staff decline: the reason is asked in their private chat."""
    booking = await spaces_db.get_booking(context.services.db, pressed.booking_id)
    if booking is None or await staff_space(update, context, actor, booking.space_id) is None:
        return
    if booking.status.value != "pending":
        await refuse(update, context, actor.locale, Refused("booking_closed", {
            "code": booking.code, "status": booking.status.value}), FEATURE)  # fmt: skip
        return
    flow = (DECLINE_FLOW, "reason", DeclineDraft(booking.id).to_data())
    if await flows.ask_privately(update, context, actor, flow, FEATURE, "spaces/ask_decline",
                                 booking=booking):  # fmt: skip
        await answer(update, context, actor.locale)


async def on_decline_reason(
    update: Update, context: LinliContext, actor: Actor, draft: Draft
) -> None:
    """The reason typed: declined (points back), the booker told with the reason."""
    message = update.effective_message
    reason = clean_purpose(message.text or "" if message else "")
    if isinstance(reason, Refused):
        await refuse(update, context, actor.locale, Refused("reason_empty"), FEATURE)
        return
    services = context.services
    wanted = DeclineDraft.from_data(draft.data)
    await drafts_db.clear_draft(services.db, actor.user.id, DECLINE_FLOW)
    try:
        done = await spaces_db.decide(services.db, wanted.booking_id, False, actor.member.id,
                                      services.now(), services.config.tz, reason)  # fmt: skip
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, FEATURE)
        return
    await reply(update, context, actor.locale, "spaces/decided", booking=done, by=actor.member)
    await tell_booker(context, done, "spaces/declined", reason=reason)


async def on_spaceadmin(update: Update, context: LinliContext) -> None:
    """/spaceadmin [key field value] (organizers): every space, or one change."""
    if (actor := await load_organizer(update, context, FEATURE)) is None:
        return
    await ensure_spaces(context)
    services = context.services
    if not context.args:
        spaces = await spaces_db.list_spaces(services.db, active_only=False)
        await reply(update, context, actor.locale, "spaces/spaces_admin", spaces=spaces)
        return
    try:
        edit = parse_edit(list(context.args))
        if isinstance(edit, Refused):
            raise RefusedError(edit)
        space = await spaces_db.apply_edit(services.db, edit, actor.member.id, services.now())
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, FEATURE)
        return
    await reply(update, context, actor.locale, "spaces/space_saved", space=space, field=edit.field)


async def on_spaceseries(update: Update, context: LinliContext) -> None:
    """/spaceseries <key> <YYYY-MM-DD> <HH:MM> <minutes> <weeks> <purpose> (staff)."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    args, services, tz = list(context.args or []), context.services, context.services.config.tz
    await ensure_spaces(context)
    space = await spaces_db.get_space_by_key(services.db, args[0]) if args else None
    if space is None or not is_staff(space, actor.member.id, actor.is_organizer):
        refused = Refused("series_usage" if space is None else "not_staff")
        await refuse(update, context, actor.locale, refused, FEATURE)
        return
    parsed = _series_args(args[1:], tz)
    if isinstance(parsed, Refused):
        await refuse(update, context, actor.locale, parsed, FEATURE)
        return
    first, weeks, purpose = parsed
    result = await spaces_db.book_series(
        services.db, space_id=space.id, member=actor.member, slots=weekly(first, weeks),
        purpose=purpose, key=f"series:{actor.member.id}:{token_hex(4)}", now=services.now(),
        tz=tz, community=services.community,
    )  # fmt: skip
    await reply(update, context, actor.locale, "spaces/series_done", space=space,
                result=result, weeks=weeks)  # fmt: skip


def _series_args(args: list[str], tz: object) -> tuple[Slot, int, str] | Refused:
    if len(args) < 5 or not args[2].isdigit():
        return Refused("series_usage")
    try:
        start = datetime.combine(date.fromisoformat(args[0]), time.fromisoformat(args[1]),
                                 tzinfo=tz)  # type: ignore[arg-type]  # fmt: skip
    except ValueError:
        return Refused("series_usage")
    weeks = parse_weeks(args[3])
    purpose = clean_purpose(" ".join(args[4:]))
    if isinstance(weeks, Refused):
        return weeks
    if isinstance(purpose, Refused):
        return purpose
    return Slot(start, int(args[2])), weeks, purpose


flows.register_flow(DECLINE_FLOW, on_decline_reason)
