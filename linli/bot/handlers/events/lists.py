"""Finding events: /events (upcoming, a page at a time), /myevents, /event <number> and the
details buttons, and an event's .ics calendar file."""

from __future__ import annotations

import io
from typing import Any

from telegram import InlineKeyboardMarkup, InputFile, Update
from telegram.error import BadRequest, Forbidden

from linli.bot.common import Actor, answer, edit_card, keyboard, load_actor, reply, text
from linli.bot.context import LinliContext
from linli.bot.handlers.events.base import ROUTER, say_no, send_privately
from linli.bot.views import events as views
from linli.core import events as core
from linli.core.events import Event
from linli.storage import events as events_db

LIST_PAGE = 8


async def on_events(update: Update, context: LinliContext) -> None:
    """/events: upcoming events the member may join, with seats left."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    values, markup = await _upcoming(context, actor, 1)
    await reply(update, context, actor.locale, "events/list", markup, **values)


@ROUTER.on(views.ListPage)
async def on_list_page(
    update: Update, context: LinliContext, actor: Actor, pressed: views.ListPage
) -> None:
    """◀ ▶ under /events."""
    await answer(update, context, actor.locale)
    values, markup = await _upcoming(context, actor, pressed.page)
    await edit_card(update, text(context, actor.locale, "events/list", **values), markup)


async def _upcoming(
    context: LinliContext, actor: Actor, page: int
) -> tuple[dict[str, Any], InlineKeyboardMarkup]:
    """One page of the upcoming events this member may see (organizers see all)."""
    services = context.services
    listed = [
        item
        for item in await events_db.upcoming_events(services.db, services.now(), 200)
        if actor.is_organizer or item.event.audience.includes(actor.member, services.community)
    ]
    items, page, pages = views.page_of(listed, page, LIST_PAGE)
    rows = views.details_rows(context, actor.locale, [i.event for i in items])
    rows.append(views.pager_row(context, actor.locale, page, pages, lambda p: views.ListPage(0, p)))
    markup = keyboard([r for r in rows if r])
    return {"items": items, "page": page, "pages": pages}, markup


async def on_myevents(update: Update, context: LinliContext) -> None:
    """/myevents: the member's sign-ups and waitlist places."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    services = context.services
    items = await events_db.member_events(services.db, actor.member.id, services.now())
    markup = keyboard(views.details_rows(context, actor.locale, [i.event for i in items[:20]]))
    await reply(update, context, actor.locale, "events/mine", markup, items=items)


async def on_event_command(update: Update, context: LinliContext) -> None:
    """/event <number>: details, and for organizers the management buttons."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    arg = context.args[0] if context.args else ""
    if not arg.lstrip("#").isdigit() or len(arg) > 12:
        await reply(update, context, actor.locale, "events/usage", command="event")
        return
    await _send_detail(update, context, actor, int(arg.lstrip("#")), private=False)


@ROUTER.on(views.Show)
async def on_show(update: Update, context: LinliContext, actor: Actor, pressed: views.Show) -> None:
    """A details button (lists, published message): the details, privately."""
    await _send_detail(update, context, actor, pressed.event_id, private=True)


async def _send_detail(
    update: Update, context: LinliContext, actor: Actor, event_id: int, *, private: bool
) -> None:
    if (event := await events_db.get_event(context.services.db, event_id)) is None:
        await say_no(update, context, actor, "unknown_event")
        return
    await answer(update, context, actor.locale)  # a details button's tap (nothing for /event)
    values = await _detail(context, actor, event)
    markup = views.detail_markup(context, actor.locale, event, values["status"], values["manage"])
    if private:
        await send_privately(context, actor, "events/detail", markup, **values)
    else:
        await reply(update, context, actor.locale, "events/detail", markup, **values)


async def _detail(context: LinliContext, actor: Actor, event: Event) -> dict[str, Any]:
    """What events/detail shows this member: seats, how they stand, whether they manage it."""
    db = context.services.db
    return {
        "event": event, "seats": await events_db.seats(db, event.id),
        "community": context.services.community,
        "status": core.signup_state(await events_db.get_signup(db, event.id, actor.member.id)),
        "manage": core.may_manage(actor.member, event),
        "position": await events_db.waitlist_position(db, event.id, actor.member.id),
    }  # fmt: skip


@ROUTER.on(views.Calendar)
async def on_calendar(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Calendar
) -> None:
    """The calendar button: the event's .ics file, in the member's private chat."""
    if (event := await events_db.get_event(context.services.db, pressed.event_id)) is None:
        await say_no(update, context, actor, "unknown_event")
        return
    services = context.services
    name = services.community.title(actor.locale)
    data = core.to_ics(event, services.config.tz, calendar_name=name)
    caption = text(context, actor.locale, "events/ics_caption", event=event)
    try:
        await context.bot.send_document(
            actor.user.id, InputFile(io.BytesIO(data), filename=core.ics_filename(event)), caption=caption
        )  # fmt: skip
    except (Forbidden, BadRequest):  # no private chat with the bot yet
        await answer(update, context, actor.locale, "events/toast", alert=True, what="ics_private", position=None)  # fmt: skip
        return
    await answer(update, context, actor.locale, "events/toast", what="ics_sent", position=None)
