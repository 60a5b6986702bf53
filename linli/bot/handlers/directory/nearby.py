"""The 15-minute life circle (一刻钟便民生活圈): /nearby [category] from my building or a
location I send, nearest first with "open now", and the circle as a picture."""

from __future__ import annotations

import io

from telegram import InputFile, Update

from linli.bot.common import Actor, answer, load_actor, reply
from linli.bot.context import LinliContext
from linli.bot.handlers.directory.shared import ROUTER
from linli.bot.views import directory as views
from linli.core.directory import Point, building_point, nearby
from linli.storage import directory as directory_db

LIMIT = 10


async def on_nearby(update: Update, context: LinliContext) -> None:
    """/nearby [category]: places by walking distance from my building (or ask for a location)."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    wanted = context.args[0].lower() if context.args else ""
    category = wanted if wanted in views.place_keys(context.services) else None
    await _from_home(update, context, actor, category)


@ROUTER.on(views.Near)
async def on_near(update: Update, context: LinliContext, actor: Actor, pressed: views.Near) -> None:
    """A category button under the list."""
    await answer(update, context, actor.locale)
    category = pressed.category if pressed.category in views.place_keys(context.services) else None
    await _from_home(update, context, actor, category)


async def _from_home(
    update: Update, context: LinliContext, actor: Actor, category: str | None
) -> None:
    origin = building_point(context.services.community, actor.member.building_id)
    if origin is None:
        await reply(update, context, actor.locale, "directory/send_location",
                    views.location_keyboard(context, actor.locale))  # fmt: skip
        return
    await show(update, context, actor, origin, category, from_home=True)


async def on_location(update: Update, context: LinliContext, actor: Actor) -> None:
    """A location sent with no flow running: what is around it."""
    message = update.effective_message
    if message is None or message.location is None:
        return
    where = Point(message.location.latitude, message.location.longitude)
    await show(update, context, actor, where, None, from_home=False)


async def show(update: Update, context: LinliContext, actor: Actor, origin: Point,
               category: str | None, *, from_home: bool) -> None:  # fmt: skip
    """The list (with category buttons), then the picture (with the send-location button)."""
    services = context.services
    found = await directory_db.places_around(services.db, origin, category)
    listed = nearby(origin, found, services.now().astimezone(services.config.tz), limit=LIMIT)
    names = {n.place.id: views.category_name(services, actor.locale, n.place.category, place=True)
             for n in listed}  # fmt: skip
    present = list(dict.fromkeys(p.category for p in found))
    await reply(update, context, actor.locale, "directory/nearby",
                views.near_markup(context, actor.locale, present) if found else None,
                listed=listed, names=names, from_home=from_home,
                category=views.category_name(services, actor.locale, category, place=True)
                if category else "")  # fmt: skip
    if not listed or update.effective_chat is None:
        return
    png = await views.circle_png(services, actor.locale, origin, listed)
    if png is not None:
        await context.bot.send_photo(
            update.effective_chat.id, InputFile(io.BytesIO(png), filename="circle.png"),
            caption=context.services.renderer.render(actor.locale, "directory/circle_caption"),
            reply_markup=views.location_keyboard(context, actor.locale),
        )  # fmt: skip
