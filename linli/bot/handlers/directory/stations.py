"""Rider stations (驿站): /stations nearest first with their facilities, the pointer a rider
gets on joining, and a station keeper's switches for their own station: its facilities,
its hours and its note (nothing else, and nobody else's station)."""

from __future__ import annotations

from telegram import Update

from linli.bot import flows
from linli.bot.common import Actor, answer, edit_card, load_actor, refuse, reply, text
from linli.bot.context import LinliContext
from linli.bot.handlers.directory.shared import FEATURE, ROUTER
from linli.bot.views import directory as views
from linli.core.directory import (
    FACILITIES,
    NOTE_MAX,
    KeeperEdit,
    KeeperField,
    NearbyPlace,
    Point,
    WeeklyHours,
    building_point,
    can_keep,
    community_centre,
    nearby,
)
from linli.core.outcomes import Refused, RefusedError
from linli.storage import directory as directory_db
from linli.storage.drafts import Draft


def _origin(context: LinliContext, actor: Actor) -> Point | None:
    community = context.services.community
    return building_point(community, actor.member.building_id) or community_centre(community)


async def _nearest(context: LinliContext, origin: Point | None, limit: int) -> list[NearbyPlace]:
    services = context.services
    found = await directory_db.stations(services.db)
    if origin is None:
        return []
    return nearby(origin, found, services.now().astimezone(services.config.tz), limit=limit)


async def on_stations(update: Update, context: LinliContext) -> None:
    """/stations: rider stations nearest first; a keeper gets switches for their own."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    listed = await _nearest(context, _origin(context, actor), 10)
    await reply(update, context, actor.locale, "directory/stations",
                views.location_keyboard(context, actor.locale), listed=listed)  # fmt: skip
    for near in listed:
        place = near.place
        if place.keeper_account == actor.user.id:
            await reply(update, context, actor.locale, "directory/keeper",
                        views.keeper_markup(context, actor.locale, place), place=place,
                        saved=False)  # fmt: skip


async def rider_joined(update: Update, context: LinliContext, actor: Actor, arg: str) -> None:
    """A rider who just joined: where the nearest station is (from the members' join)."""
    listed = await _nearest(context, _origin(context, actor), 1)
    await reply(update, context, actor.locale, "directory/rider_welcome",
                views.location_keyboard(context, actor.locale), listed=listed)  # fmt: skip


@ROUTER.on(views.Facility)
async def on_facility(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Facility
) -> None:
    """The keeper (or an organizer) switches one facility of their station."""
    services = context.services
    place = await directory_db.get_place(services.db, pressed.place_id)
    if place is None or pressed.facility not in FACILITIES:
        await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return
    have = set(place.facilities) ^ {pressed.facility}
    try:
        place = await directory_db.set_station_details(
            services.db, place.id, actor.user.id, actor.is_organizer,
            facilities=tuple(f for f in FACILITIES if f in have), now=services.now(),
        )  # fmt: skip
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, FEATURE)
        return
    await answer(update, context, actor.locale)
    await edit_card(update, text(context, actor.locale, "directory/keeper", place=place,
                                 saved=False),
                    views.keeper_markup(context, actor.locale, place))  # fmt: skip


@ROUTER.on(views.EditStation)
async def on_edit_station(
    update: Update, context: LinliContext, actor: Actor, pressed: views.EditStation
) -> None:
    """The keeper (or an organizer) changes the station's hours or note: asked next."""
    services = context.services
    place = await directory_db.get_place(services.db, pressed.place_id)
    refused = can_keep(place, actor.user.id, actor.is_organizer)
    if pressed.field not in KeeperField._value2member_map_ or refused is not None:
        await refuse(update, context, actor.locale, refused or Refused("unknown_station"), FEATURE)
        return
    edit = KeeperEdit(pressed.place_id, KeeperField(pressed.field))
    await flows.start_flow(context, actor.user.id, views.KEEPER_FLOW, edit.field.value,
                           **edit.to_data())  # fmt: skip
    await answer(update, context, actor.locale)
    await reply(update, context, actor.locale, f"directory/ask_keeper_{edit.field.value}",
                place=place, max=NOTE_MAX)  # fmt: skip


async def on_keeper_input(
    update: Update, context: LinliContext, actor: Actor, draft: Draft
) -> None:
    """The new hours or note: checked, saved if this is still their station, the card shown."""
    message, services = update.effective_message, context.services
    edit = KeeperEdit.from_data(draft.data)
    got = edit.answer(message.text if message and message.text else "")
    if isinstance(got, Refused):
        await refuse(update, context, actor.locale, got, FEATURE)
        return
    hours, note = (got, None) if isinstance(got, WeeklyHours) else (None, got)
    await flows.end_flow(context, actor.user.id, views.KEEPER_FLOW)
    try:
        place = await directory_db.set_station_details(
            services.db, edit.place_id, actor.user.id, actor.is_organizer,
            hours=hours, note=note, now=services.now(),
        )  # fmt: skip
    except RefusedError as exc:  # no longer their station (re-imported, keeper changed)
        await refuse(update, context, actor.locale, exc.refused, FEATURE)
        return
    await reply(update, context, actor.locale, "directory/keeper",
                views.keeper_markup(context, actor.locale, place), place=place, saved=True)  # fmt: skip


flows.register_flow(views.KEEPER_FLOW, on_keeper_input)
