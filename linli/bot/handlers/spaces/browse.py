"""/spaces: the list, a space's week picture, day -> start -> length -> purpose -> confirm."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update

from linli.bot import flows
from linli.bot.common import (
    Actor,
    answer,
    deep_link,
    edit_card,
    is_private,
    label,
    load_actor,
    refuse,
    reply,
    text,
)
from linli.bot.context import LinliContext
from linli.bot.handlers.spaces import manage
from linli.bot.handlers.spaces.shared import FEATURE, ROUTER, ask_approval, ensure_spaces
from linli.bot.views import spaces as views
from linli.core.outcomes import Refused, RefusedError
from linli.core.spaces import (
    BookingDraft,
    Slot,
    Space,
    Status,
    clean_purpose,
    day_starts,
    decide_booking,
    household_key,
    is_staff,
    lengths_at,
    may_book,
    week_grid,
)
from linli.storage import drafts as drafts_db
from linli.storage import points as points_db
from linli.storage import spaces as spaces_db
from linli.storage.drafts import Draft

FLOW = "space_book"


async def on_spaces(update: Update, context: LinliContext) -> None:
    """/spaces: the spaces I may book (/spaces admin: today's and tomorrow's bookings)."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    if context.args and context.args[0].lower() == "admin":
        await manage.show_admin(update, context, actor)
        return
    if not is_private(update):
        link = InlineKeyboardButton(label(context, actor.locale, "spaces.open_private"),
                                    url=deep_link(context))  # fmt: skip
        await reply(update, context, actor.locale, "spaces/private_only",
                    InlineKeyboardMarkup([[link]]))  # fmt: skip
        return
    await ensure_spaces(context)
    services = context.services
    spaces = [s for s in await spaces_db.list_spaces(services.db)
              if may_book(s, actor.member, services.community) is None]  # fmt: skip
    markup = views.list_markup(context, actor.locale, spaces) if spaces else None
    await reply(update, context, actor.locale, "spaces/list", markup, spaces=spaces)


async def _bookable(
    update: Update, context: LinliContext, actor: Actor, space_id: int
) -> Space | None:
    services = context.services
    space = await spaces_db.get_space(services.db, space_id)
    refused = Refused("unknown_space") if space is None else may_book(
        space, actor.member, services.community)  # fmt: skip
    if refused is not None or space is None:
        await refuse(update, context, actor.locale, refused or Refused("unknown_space"), FEATURE)
        return None
    return space


@ROUTER.on(views.Open)
async def on_open(update: Update, context: LinliContext, actor: Actor, pressed: views.Open) -> None:
    """A space: its week as a picture, and a button per day that can be booked."""
    space = await _bookable(update, context, actor, pressed.space_id)
    if space is None:
        return
    services, tz = context.services, context.services.config.tz
    now = services.now()
    today = now.astimezone(tz).date()
    lo, hi = _day_start(today, tz), _day_start(today + timedelta(days=7), tz)
    grid = week_grid(space, today, await spaces_db.taken(services.db, space.id, lo, hi),
                     await spaces_db.emergencies(services.db, space.id, lo, hi), now, tz)  # fmt: skip
    days = [today + timedelta(days=i) for i in range(min(7, space.rules.window_days + 1))]
    days = [d for d in days if space.rules.hours_on(d) is not None]
    staff = is_staff(space, actor.member.id, actor.is_organizer)
    markup = views.days_markup(context, actor.locale, space, days, today, staff=staff)
    caption = text(context, actor.locale, "spaces/week", space=space)
    await answer(update, context, actor.locale)
    png = await views.week_png(services, actor.locale, space, grid)
    if png is None:
        await reply(update, context, actor.locale, "spaces/week", markup, space=space)
        return
    await context.bot.send_photo(actor.user.id, InputFile(png, filename=f"{space.key}.png"),
                                 caption=caption, reply_markup=markup)  # fmt: skip


def _day_start(day: date, tz: object) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz)  # type: ignore[arg-type]


@ROUTER.on(views.Day)
async def on_day(update: Update, context: LinliContext, actor: Actor, pressed: views.Day) -> None:
    """A day: the free start times."""
    space = await _bookable(update, context, actor, pressed.space_id)
    day = views.parse_day(pressed.day)
    if space is None or day is None:
        return
    services, tz = context.services, context.services.config.tz
    lo = _day_start(day, tz)
    facts = await spaces_db.facts(services.db, space, Slot(lo, space.rules.min_minutes),
                                  household_key(actor.member), services.now(), tz,
                                  lo=lo, hi=lo + timedelta(days=1))  # fmt: skip
    staff = is_staff(space, actor.member.id, actor.is_organizer)
    starts = day_starts(space, day, facts, services.now(), tz, staff=staff)
    if not starts:
        closed = space.rules.hours_on(day) is None
        refused = Refused("closed", {"hours": ""}) if closed else Refused("day_full")
        await refuse(update, context, actor.locale, refused, FEATURE)
        return
    await answer(update, context, actor.locale)
    await reply(update, context, actor.locale, "spaces/pick_start",
                views.starts_markup(context, space, starts, tz, actor.locale),
                space=space, day=lo)  # fmt: skip


@ROUTER.on(views.Start)
async def on_start(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Start
) -> None:
    """A start time: the lengths that fit."""
    space = await _bookable(update, context, actor, pressed.space_id)
    tz = context.services.config.tz
    at = views.parse_at(pressed.at, tz)
    if space is None or at is None:
        return
    services = context.services
    facts = await spaces_db.facts(services.db, space, Slot(at, space.rules.max_minutes),
                                  household_key(actor.member), services.now(), tz)  # fmt: skip
    staff = is_staff(space, actor.member.id, actor.is_organizer)
    lengths = lengths_at(space, at, facts, services.now(), tz, staff=staff)
    if not lengths:
        refused = decide_booking(space, Slot(at, space.rules.min_minutes), facts,
                                 services.now(), tz, staff=staff)  # fmt: skip
        await refuse(update, context, actor.locale, refused or Refused("taken"), FEATURE)
        return
    await answer(update, context, actor.locale)
    await edit_card(update, text(context, actor.locale, "spaces/pick_length", space=space, at=at),
                    views.lengths_markup(context, actor.locale, space, pressed.at, lengths))  # fmt: skip


@ROUTER.on(views.Length)
async def on_length(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Length
) -> None:
    """A length: checked, then the purpose is asked (one line)."""
    space = await _bookable(update, context, actor, pressed.space_id)
    tz = context.services.config.tz
    at = views.parse_at(pressed.at, tz)
    if space is None or at is None:
        return
    services, slot = context.services, Slot(at, pressed.minutes)
    facts = await spaces_db.facts(services.db, space, slot, household_key(actor.member),
                                  services.now(), tz)  # fmt: skip
    staff = is_staff(space, actor.member.id, actor.is_organizer)
    if (refused := decide_booking(space, slot, facts, services.now(), tz, staff=staff)) is not None:
        await refuse(update, context, actor.locale, refused, FEATURE)
        return
    draft = BookingDraft(space.id, at, pressed.minutes)
    await flows.start_flow(context, actor.user.id, FLOW, "purpose", **draft.to_data())
    await answer(update, context, actor.locale)
    await edit_card(update, text(context, actor.locale, "spaces/ask_purpose", space=space,
                                 start=slot.start, end=slot.end))  # fmt: skip


async def on_purpose(update: Update, context: LinliContext, actor: Actor, draft: Draft) -> None:
    """The purpose typed: the confirmation, with what it costs."""
    message = update.effective_message
    purpose = clean_purpose(message.text or "" if message else "")
    if isinstance(purpose, Refused):
        await refuse(update, context, actor.locale, purpose, FEATURE)
        return
    booking = BookingDraft.from_data(draft.data)
    booking.purpose = purpose
    draft.data = booking.to_data()
    await flows.save(context, draft, "confirm")
    space = await spaces_db.get_space(context.services.db, booking.space_id)
    balance = await points_db.balance(context.services.db, actor.member.id)
    await reply(update, context, actor.locale, "spaces/confirm",
                views.confirm_markup(context, actor.locale, booking.token),
                space=space, draft=booking, end=booking.slot.end, balance=balance)  # fmt: skip


@ROUTER.on(views.Confirm)
async def on_confirm(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Confirm
) -> None:
    """Book: every rule checked again in one transaction; one booking however often tapped."""
    services = context.services
    key = f"book:{actor.member.id}:{pressed.token}"
    if (made := await spaces_db.get_booking_by_key(services.db, key)) is not None:
        await answer(update, context, actor.locale, "spaces/already_booked", booking=made)
        return
    draft = await drafts_db.get_draft(services.db, actor.user.id)
    wanted = BookingDraft.from_data(draft.data) if draft and draft.flow == FLOW else None
    if wanted is None or wanted.token != pressed.token or not wanted.purpose:
        await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return
    await _book(update, context, actor, wanted, key)


async def _book(
    update: Update, context: LinliContext, actor: Actor, wanted: BookingDraft, key: str
) -> None:
    services = context.services
    space = await spaces_db.get_space(services.db, wanted.space_id)
    staff = space is not None and is_staff(space, actor.member.id, actor.is_organizer)
    try:
        booked = await spaces_db.book(
            services.db, space_id=wanted.space_id, member=actor.member, slot=wanted.slot,
            purpose=wanted.purpose, key=key, now=services.now(), tz=services.config.tz,
            community=services.community, staff=staff,
        )  # fmt: skip
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, FEATURE)
        return
    await flows.end_flow(context, actor.user.id, FLOW)
    booking = booked.booking
    await answer(update, context, actor.locale)
    await edit_card(update, text(context, actor.locale, "spaces/booked", booking=booking, space=space),
                    views.booking_markup(context, actor.locale, booking))  # fmt: skip
    if booking.status is Status.PENDING and space is not None:
        await ask_approval(context, booking, space, actor)


@ROUTER.on(views.Back)
async def on_back(update: Update, context: LinliContext, actor: Actor, pressed: views.Back) -> None:
    """Not now: the draft ends, the confirmation says so."""
    await flows.end_flow(context, actor.user.id, FLOW)
    await answer(update, context, actor.locale)
    await edit_card(update, text(context, actor.locale, "spaces/dismissed"))


flows.register_flow(FLOW, on_purpose)
