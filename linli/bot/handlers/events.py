"""Events: /newevent, cards in the groups, sign-up and waitlist, lists, check-in, .ics.

The helpers at the bottom (publishing cards, refreshing them, delivering notices) are also
run by linli/bot/jobs/events.py, so whatever a handler could not finish, the next tick does.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import math
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import segno
from telegram import InlineKeyboardMarkup, InputFile, Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from linli.bot import callbacks, flows
from linli.bot.commands import CommandSpec
from linli.bot.common import (
    Actor,
    answer,
    deep_link,
    edit,
    keyboard,
    label,
    load_actor,
    locale_of,
    notify,
    refuse,
    reply,
    stale_button,
    text,
)
from linli.bot.context import LinliContext
from linli.core import events as core
from linli.core.clock import from_iso
from linli.core.community import NodeKind, Role
from linli.core.events import Confirmed, Event, EventDraft, EventKind, SignupStatus
from linli.core.members import Audience
from linli.core.outcomes import Refused
from linli.storage import events as events_db
from linli.storage import groups as groups_db
from linli.storage import members as members_db
from linli.storage.drafts import Draft

log = logging.getLogger(__name__)

F = "ev"  # callback prefix
FEATURE = "events"
NEW = "newevent"  # flow names
EDIT = "eventedit"
LIST_PAGE = 8
ATTENDEES_PAGE = 30
_LIMITS = {
    "title": core.TITLE_MAX,
    "description": core.DESCRIPTION_MAX,
    "place": core.PLACE_MAX,
    "capacity": core.CAPACITY_MAX,
    "points": core.POINTS_MAX,
    "weeks": core.REPEAT_WEEKS_MAX,
    "edit_place": core.PLACE_MAX,
}


def _lbl(context: LinliContext, locale: str, key: str, **values: Any) -> str:
    return label(context, locale, f"events.{key}", **values)


def _opens_before(context: LinliContext) -> timedelta:
    return timedelta(minutes=context.services.config.events.checkin_opens_minutes)


def _refused(reason: str, **detail: Any) -> Refused:
    return Refused(reason, detail)


async def _button(
    update: Update, context: LinliContext, *types: type
) -> tuple[Actor, tuple[Any, ...]] | None:
    """The actor and the parsed button data; a malformed (forged) button is answered as stale."""
    actor = await load_actor(update, context)
    data = update.callback_query.data if update.callback_query else None
    parsed = callbacks.unpack(data, F, *types)
    if actor is None:
        return None
    if parsed is None:
        await stale_button(update, context)
        return None
    return actor, parsed


# --- /newevent ---------------------------------------------------------------------------


async def on_newevent(update: Update, context: LinliContext) -> None:
    """/newevent: an organizer starts creating an event (private chat)."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    if not actor.is_organizer:
        await refuse(update, context, actor.locale, _refused("not_organizer"), FEATURE)
        return
    draft = EventDraft()
    await flows.start_flow(context, actor.user.id, NEW, "kind", **draft.to_data())
    await _ask(update, context, actor, "kind", draft)


async def _ask(
    update: Update, context: LinliContext, actor: Actor, step: str, draft: EventDraft
) -> None:
    await reply(
        update,
        context,
        actor.locale,
        "events/ask",
        _step_markup(context, actor, step),
        step=step,
        limit=_LIMITS.get(step, 0),
        tz=context.services.config.tz.key,
    )


Rows = list[list[tuple[str, str]]]


def _kind_rows(context: LinliContext, loc: str) -> Rows:
    return [
        [
            (_lbl(context, loc, f"kind_{k.value}"), callbacks.pack(F, "nk", k.value))
            for k in EventKind
        ]
    ]


def _skip_rows(context: LinliContext, loc: str) -> Rows:
    return [[(_lbl(context, loc, "skip"), callbacks.pack(F, "sk"))]]


def _audience_rows(context: LinliContext, loc: str) -> Rows:
    everyone = callbacks.pack(F, "na", NodeKind.COMMUNITY.value, "")
    rows = [[(_lbl(context, loc, "audience_community"), everyone)]]
    rows += [
        [(c.title(loc), callbacks.pack(F, "na", NodeKind.COMPOUND.value, c.id))]
        for c in context.services.community.compounds
    ]
    rows.append(
        [
            (_lbl(context, loc, "audience_building"), callbacks.pack(F, "nab")),
            (_lbl(context, loc, "audience_role"), callbacks.pack(F, "nar")),
        ]
    )
    return rows


def _building_rows(context: LinliContext, loc: str) -> Rows:
    buttons = [
        (
            _lbl(context, loc, "building", compound=c.title(loc), name=b.name),
            callbacks.pack(F, "na", NodeKind.BUILDING.value, b.id),
        )
        for c in context.services.community.compounds
        for b in c.buildings
    ]
    return [buttons[i : i + 3] for i in range(0, len(buttons), 3)]


def _role_rows(context: LinliContext, loc: str) -> Rows:
    return [
        [
            (
                _lbl(context, loc, f"role_{r.value}"),
                callbacks.pack(F, "na", NodeKind.ROLE.value, r.value),
            )
        ]
        for r in core.AUDIENCE_ROLES
    ]


def _preview_rows(context: LinliContext, loc: str) -> Rows:
    return [
        [(_lbl(context, loc, "publish"), callbacks.pack(F, "np"))],
        [
            (_lbl(context, loc, "restart"), callbacks.pack(F, "nr")),
            (_lbl(context, loc, "discard"), callbacks.pack(F, "nx")),
        ],
    ]


# The buttons each /newevent step shows (the text steps not listed have none).
_STEP_ROWS: dict[str, Callable[[LinliContext, str], Rows]] = {
    "kind": _kind_rows,
    "description": _skip_rows,
    "deadline": _skip_rows,
    "audience": _audience_rows,
    "audience_building": _building_rows,
    "audience_role": _role_rows,
    "preview": _preview_rows,
}


def _step_markup(context: LinliContext, actor: Actor, step: str) -> InlineKeyboardMarkup | None:
    rows = _STEP_ROWS.get(step)
    return keyboard(rows(context, actor.locale)) if rows else None


async def on_newevent_input(
    update: Update, context: LinliContext, actor: Actor, draft: Draft
) -> None:
    """A typed answer to the current /newevent step."""
    message = update.effective_message
    if not actor.is_organizer:
        await flows.end_flow(context, actor.user.id, NEW)
        await refuse(update, context, actor.locale, _refused("not_organizer"), FEATURE)
        return
    event_draft = EventDraft.from_data(draft.data)
    services = context.services
    refused = core.apply_text(
        event_draft,
        draft.step,
        (message.text or "") if message else "",
        services.config.tz,
        services.now(),
    )
    if refused is not None:
        await refuse(update, context, actor.locale, refused, FEATURE)
        return
    await _advance(update, context, actor, draft, event_draft)


async def _advance(
    update: Update, context: LinliContext, actor: Actor, draft: Draft, event_draft: EventDraft
) -> None:
    step = core.next_step(event_draft, draft.step)
    draft.data = event_draft.to_data()
    await flows.save(context, draft, step)
    if step == "preview":
        await reply(
            update,
            context,
            actor.locale,
            "events/preview",
            _step_markup(context, actor, "preview"),
            event=_preview_event(event_draft, context),
            seats=core.Seats(),
            community=context.services.community,
            weeks=event_draft.weeks,
        )
    else:
        await _ask(update, context, actor, step, event_draft)


def _preview_event(draft: EventDraft, context: LinliContext) -> Event:
    assert draft.kind and draft.audience and draft.starts_at and draft.ends_at
    deadline = draft.effective_deadline
    assert deadline is not None
    return Event(
        0,
        draft.kind,
        draft.title,
        draft.description,
        draft.place,
        draft.starts_at,
        draft.ends_at,
        deadline,
        draft.capacity,
        draft.points,
        draft.audience,
        core.EventStatus.OPEN,
        "",
        None,
        context.services.now(),
    )


async def on_newevent_button(update: Update, context: LinliContext) -> None:
    """Buttons of the /newevent flow: kind, audience, skip, publish, start over, discard."""
    actor = await load_actor(update, context)
    query = update.callback_query
    if actor is None or query is None:
        return
    draft = await flows.current(context, actor.user.id)
    if not actor.is_organizer or draft is None or draft.flow != NEW:
        reason = "not_organizer" if not actor.is_organizer else "no_draft"
        await refuse(update, context, actor.locale, _refused(reason), FEATURE)
        return
    action = callbacks.action_of(query.data, F) or ""
    steps, handle = _NEW_BUTTONS.get(action, ((), None))
    if handle is None or draft.step not in steps:
        await refuse(update, context, actor.locale, _refused("no_draft"), FEATURE)
        return
    await handle(update, context, actor, draft, action)


async def _filled(
    update: Update, context: LinliContext, actor: Actor, draft: Draft, event_draft: EventDraft
) -> None:
    """A button answered the step: on to the next one."""
    await answer(update, context, actor.locale)
    await _advance(update, context, actor, draft, event_draft)


async def _on_kind(
    update: Update, context: LinliContext, actor: Actor, draft: Draft, action: str
) -> None:
    parsed = callbacks.unpack(_data(update), F, str)
    kind = core.parse_kind(parsed[1]) if parsed else None
    if kind is None:
        await refuse(update, context, actor.locale, _refused("use_buttons"), FEATURE)
        return
    event_draft = EventDraft.from_data(draft.data)
    event_draft.kind = kind
    await _filled(update, context, actor, draft, event_draft)


async def _on_audience(
    update: Update, context: LinliContext, actor: Actor, draft: Draft, action: str
) -> None:
    audience = _audience_from(_data(update), context)
    if audience is None:
        await refuse(update, context, actor.locale, _refused("use_buttons"), FEATURE)
        return
    event_draft = EventDraft.from_data(draft.data)
    event_draft.audience = audience
    await _filled(update, context, actor, draft, event_draft)


async def _on_skip(
    update: Update, context: LinliContext, actor: Actor, draft: Draft, action: str
) -> None:
    event_draft = EventDraft.from_data(draft.data)
    services = context.services
    refused = core.apply_text(
        event_draft, draft.step, core.SKIP, services.config.tz, services.now()
    )
    if refused is not None:
        await refuse(update, context, actor.locale, refused, FEATURE)
        return
    await _filled(update, context, actor, draft, event_draft)


async def _on_audience_list(
    update: Update, context: LinliContext, actor: Actor, draft: Draft, action: str
) -> None:
    """Buildings or roles: a second list in place of the first (the step stays "audience")."""
    query = update.callback_query
    assert query is not None
    step = "audience_building" if action == "nab" else "audience_role"
    await answer(update, context, actor.locale)
    tz = context.services.config.tz.key
    body = text(context, actor.locale, "events/ask", step=step, limit=0, tz=tz)
    await edit(query, body, _step_markup(context, actor, step))


def _data(update: Update) -> str | None:
    return update.callback_query.data if update.callback_query else None


def _audience_from(data: str | None, context: LinliContext) -> Audience | None:
    parsed = callbacks.unpack(data, F, str, str)
    if parsed is None or parsed[1] not in {k.value for k in NodeKind}:
        return None
    audience = Audience(NodeKind(parsed[1]), parsed[2])
    return audience if core.audience_allowed(audience, context.services.community) else None


async def _discard_draft(
    update: Update, context: LinliContext, actor: Actor, draft: Draft, action: str
) -> None:
    query = update.callback_query
    assert query is not None
    await answer(update, context, actor.locale)
    await flows.end_flow(context, actor.user.id, NEW)
    await edit(query, text(context, actor.locale, "events/discarded"))


async def _restart_draft(
    update: Update, context: LinliContext, actor: Actor, draft: Draft, action: str
) -> None:
    await answer(update, context, actor.locale)
    await flows.start_flow(context, actor.user.id, NEW, "kind", **EventDraft().to_data())
    await _ask(update, context, actor, "kind", EventDraft())


async def _publish_draft(
    update: Update, context: LinliContext, actor: Actor, draft: Draft, action: str
) -> None:
    query = update.callback_query
    assert query is not None
    await answer(update, context, actor.locale)
    event_draft, now = EventDraft.from_data(draft.data), context.services.now()
    refused = core.validate_draft(event_draft, now)
    if refused is not None:
        await refuse(update, context, actor.locale, refused, FEATURE)
        return
    created, _ = await events_db.create_events(
        context.services.db, event_draft, core.occurrences(event_draft, now), actor.member.id, now
    )
    await flows.end_flow(context, actor.user.id, NEW)
    await publish_due(context)
    cards = await events_db.cards_of(context.services.db, created[0].id)
    groups = sum(1 for c in cards if c.message_id is not None)
    body = text(context, actor.locale, "events/published", events=created, groups=groups)
    await edit(query, body, keyboard(_details_rows(context, actor.locale, created[:5])))


def _details_rows(context: LinliContext, locale: str, events: list[Event]) -> Rows:
    """A details button per event, one a row."""
    return [
        [
            (
                _lbl(context, locale, "details", id=e.id, title=e.title[:30]),
                callbacks.pack(F, "show", e.id),
            )
        ]
        for e in events
    ]


NewEventButton = Callable[[Update, LinliContext, Actor, Draft, str], Awaitable[None]]
# ev:<action>: the /newevent steps that show the button, and what it does.
_NEW_BUTTONS: dict[str, tuple[tuple[str, ...], NewEventButton]] = {
    "nk": (("kind",), _on_kind),
    "nab": (("audience",), _on_audience_list),
    "nar": (("audience",), _on_audience_list),
    "na": (("audience",), _on_audience),
    "sk": (("description", "deadline"), _on_skip),
    "np": (("preview",), _publish_draft),
    "nr": (("preview",), _restart_draft),
    "nx": (("preview",), _discard_draft),
}


# --- Sign-up and cancel (group cards and private messages) -------------------------------


async def on_signup(update: Update, context: LinliContext) -> None:
    """The Sign up button: a seat, a place on the waitlist, or why not."""
    found = await _button(update, context, int)
    if found is None:
        return
    actor, parsed = found
    services = context.services
    outcome, event = await events_db.sign_up(
        services.db, parsed[1], actor.member.id, services.community, services.now()
    )
    if isinstance(outcome, Refused) or event is None:
        await refuse(
            update,
            context,
            actor.locale,
            outcome if isinstance(outcome, Refused) else _refused("unknown_event"),
            FEATURE,
        )
        return
    confirmed = isinstance(outcome, Confirmed)
    position = None if confirmed else getattr(outcome, "position", None)
    await answer(
        update,
        context,
        actor.locale,
        "events/toast",
        alert=True,
        what="confirmed" if confirmed else "waitlisted",
        position=position,
    )
    await _tell_actor(
        context,
        actor,
        "events/signed_up",
        _mine_markup(context, actor.locale, event),
        event=event,
        confirmed=confirmed,
        position=position,
    )
    await refresh_cards(context, event.id)


async def on_cancel_signup(update: Update, context: LinliContext) -> None:
    """The Cancel sign-up button: frees the seat; the first on the waitlist moves up."""
    found = await _button(update, context, int)
    if found is None:
        return
    actor, parsed = found
    result = await events_db.cancel_signup(
        context.services.db, parsed[1], actor.member.id, context.services.now()
    )
    if isinstance(result, Refused):
        await refuse(update, context, actor.locale, result, FEATURE)
        return
    await answer(update, context, actor.locale, "events/toast", what="cancelled", position=None)
    await _tell_actor(context, actor, "events/signup_cancelled", None, event=result.event)
    await deliver_notices(context)
    await refresh_cards(context, result.event.id)


async def _tell_actor(
    context: LinliContext,
    actor: Actor,
    template: str,
    markup: InlineKeyboardMarkup | None,
    **values: Any,
) -> None:
    """A private line to the member who just tapped (in a group too), in their language."""
    # No private chat yet (Forbidden): the tap's answer already told them.
    with contextlib.suppress(Forbidden, BadRequest):
        await context.bot.send_message(
            actor.user.id, text(context, actor.locale, template, **values), reply_markup=markup
        )


def _mine_markup(context: LinliContext, locale: str, event: Event) -> InlineKeyboardMarkup:
    return keyboard(
        [
            [
                (_lbl(context, locale, "cancel_signup"), callbacks.pack(F, "sc", event.id)),
                (_lbl(context, locale, "calendar"), callbacks.pack(F, "ics", event.id)),
            ]
        ]
    )


async def on_calendar(update: Update, context: LinliContext) -> None:
    """The calendar button: the event's .ics file, in the member's private chat."""
    found = await _button(update, context, int)
    if found is None:
        return
    actor, parsed = found
    event = await events_db.get_event(context.services.db, parsed[1])
    if event is None:
        await refuse(update, context, actor.locale, _refused("unknown_event"), FEATURE)
        return
    data = core.to_ics(
        event, context.services.config.tz, calendar_name=context.services.config.community.name
    )
    try:
        await context.bot.send_document(
            actor.user.id,
            InputFile(io.BytesIO(data), filename=core.ics_filename(event)),
            caption=text(context, actor.locale, "events/ics_caption", event=event),
        )
    except (Forbidden, BadRequest):
        await answer(
            update,
            context,
            actor.locale,
            "events/toast",
            alert=True,
            what="ics_private",
            position=None,
        )
        return
    await answer(update, context, actor.locale, "events/toast", what="ics_sent", position=None)


# --- Lists and details -------------------------------------------------------------------


async def on_events(update: Update, context: LinliContext) -> None:
    """/events: upcoming events the member may join, with seats left."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    await _send_list(update, context, actor, 1, edit_query=False)


async def _send_list(
    update: Update, context: LinliContext, actor: Actor, page: int, *, edit_query: bool
) -> None:
    services = context.services
    listed = [
        item
        for item in await events_db.upcoming_events(services.db, services.now(), 200)
        if actor.is_organizer or item.event.audience.includes(actor.member, services.community)
    ]
    pages = max(1, math.ceil(len(listed) / LIST_PAGE))
    page = min(max(page, 1), pages)
    items = listed[(page - 1) * LIST_PAGE : page * LIST_PAGE]
    rows = _details_rows(context, actor.locale, [i.event for i in items])
    rows.append(_pager(context, actor.locale, "ls", 0, page, pages))
    values = {"items": items, "page": page, "pages": pages}
    markup = keyboard([r for r in rows if r])
    if edit_query and update.callback_query is not None:
        await edit(
            update.callback_query, text(context, actor.locale, "events/list", **values), markup
        )
    else:
        await reply(update, context, actor.locale, "events/list", markup, **values)


def _pager(
    context: LinliContext, locale: str, action: str, event_id: int, page: int, pages: int
) -> list[tuple[str, str]]:
    row: list[tuple[str, str]] = []
    if page > 1:
        row.append((_lbl(context, locale, "prev"), callbacks.pack(F, action, event_id, page - 1)))
    if page < pages:
        row.append((_lbl(context, locale, "next"), callbacks.pack(F, action, event_id, page + 1)))
    return row


async def on_list_page(update: Update, context: LinliContext) -> None:
    """◀ ▶ under /events."""
    found = await _button(update, context, int, int)
    if found is None:
        return
    actor, parsed = found
    await answer(update, context, actor.locale)
    await _send_list(update, context, actor, parsed[2], edit_query=True)


async def on_myevents(update: Update, context: LinliContext) -> None:
    """/myevents: the member's sign-ups and waitlist places."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    items = await events_db.member_events(
        context.services.db, actor.member.id, context.services.now()
    )
    markup = keyboard(_details_rows(context, actor.locale, [i.event for i in items[:20]]))
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
    await _send_detail(update, context, actor, int(arg.lstrip("#")))


async def on_show(update: Update, context: LinliContext) -> None:
    """A details button (lists, published message)."""
    found = await _button(update, context, int)
    if found is None:
        return
    actor, parsed = found
    await answer(update, context, actor.locale)
    await _send_detail(update, context, actor, parsed[1], private=True)


# What each detail button sends: its callback action and the arguments after the event id.
_DETAIL_DATA: dict[str, tuple[str, tuple[int, ...]]] = {
    "signup": ("su", ()),
    "cancel_signup": ("sc", ()),
    "calendar": ("ics", ()),
    "attendees": ("att", (1,)),  # page 1
    "checkin_qr": ("qr", ()),
    "edit_time": ("et", ()),
    "edit_place": ("ep", ()),
    "cancel_event": ("cx", ()),
}


def _detail_markup(
    context: LinliContext, locale: str, event: Event, status: str, manage: bool
) -> InlineKeyboardMarkup:
    rows = core.detail_buttons(event, status, manage)
    return keyboard(
        [
            [
                (
                    _lbl(context, locale, key),
                    callbacks.pack(F, _DETAIL_DATA[key][0], event.id, *_DETAIL_DATA[key][1]),
                )
                for key in row
            ]
            for row in rows
        ]
    )


async def _send_detail(
    update: Update, context: LinliContext, actor: Actor, event_id: int, *, private: bool = False
) -> None:
    db = context.services.db
    event = await events_db.get_event(db, event_id)
    if event is None:
        await refuse(update, context, actor.locale, _refused("unknown_event"), FEATURE)
        return
    status = core.signup_state(await events_db.get_signup(db, event_id, actor.member.id))
    manage = core.may_manage(actor.member, event)
    values = {
        "event": event,
        "seats": await events_db.seats(db, event.id),
        "community": context.services.community,
        "status": status,
        "manage": manage,
        "position": await events_db.waitlist_position(db, event.id, actor.member.id),
    }
    body = text(context, actor.locale, "events/detail", **values)
    markup = _detail_markup(context, actor.locale, event, status, manage)
    await context.bot.send_message(
        actor.user.id if private else _chat_id(update), body, reply_markup=markup
    )


def _chat_id(update: Update) -> int:
    chat = update.effective_chat
    assert chat is not None
    return chat.id


# --- Organizers: attendees, check-in code, edit, cancel ----------------------------------


async def _organizer_event(
    update: Update, context: LinliContext, *types: type
) -> tuple[Actor, Event, tuple[Any, ...]] | None:
    """The acting organizer and the event a management button names (checked now)."""
    found = await _button(update, context, int, *types)
    if found is None:
        return None
    actor, parsed = found
    if not actor.is_organizer:
        await refuse(update, context, actor.locale, _refused("not_organizer"), FEATURE)
        return None
    event = await events_db.get_event(context.services.db, parsed[1])
    if event is None:
        await refuse(update, context, actor.locale, _refused("unknown_event"), FEATURE)
        return None
    return actor, event, parsed


async def on_attendees(update: Update, context: LinliContext) -> None:
    """Organizers: the sign-up list and the waitlist, a page at a time."""
    found = await _organizer_event(update, context, int)
    if found is None or update.callback_query is None:
        return
    actor, event, parsed = found
    everyone = await events_db.attendees(context.services.db, event.id)
    rows: list[dict[str, Any]] = []
    confirmed_n = waiting_n = 0
    for person in everyone:
        waiting = person.signup.status is SignupStatus.WAITLISTED
        confirmed_n, waiting_n = confirmed_n + (not waiting), waiting_n + waiting
        rows.append(
            {
                "number": waiting_n if waiting else confirmed_n,
                "name": person.name,
                "username": person.username,
                "unit": person.unit,
                "waiting": waiting,
                "first_waiting": waiting and waiting_n == 1,
                "checked_in": person.signup.checked_in_at is not None,
            }
        )
    pages = max(1, math.ceil(len(rows) / ATTENDEES_PAGE))
    page = min(max(parsed[2], 1), pages)
    await answer(update, context, actor.locale)
    body = text(
        context,
        actor.locale,
        "events/attendees",
        event=event,
        page=page,
        pages=pages,
        rows=rows[(page - 1) * ATTENDEES_PAGE : page * ATTENDEES_PAGE],
        seats=core.Seats(confirmed_n, waiting_n),
    )
    markup = keyboard([_pager(context, actor.locale, "atp", event.id, page, pages)])
    if parsed[0] == "att":  # from the details: a new message; ◀ ▶ edit it
        await context.bot.send_message(actor.user.id, body, reply_markup=markup)
    else:
        await edit(update.callback_query, body, markup)


async def on_checkin_code(update: Update, context: LinliContext) -> None:
    """Organizers: the check-in code and its QR code (a deep link) to show at the venue."""
    found = await _organizer_event(update, context)
    if found is None:
        return
    actor, event, _ = found
    link = deep_link(context, f"checkin_{event.checkin_code}")
    image = io.BytesIO()
    segno.make(link, error="m").save(image, kind="png", scale=8, border=4)
    await answer(update, context, actor.locale)
    caption = text(
        context,
        actor.locale,
        "events/checkin_code",
        event=event,
        link=link,
        opens=core.checkin_window(event, _opens_before(context))[0],
    )
    await context.bot.send_photo(
        actor.user.id,
        InputFile(image.getvalue(), filename=f"checkin-{event.id}.png"),
        caption=caption,
    )


async def on_edit_button(update: Update, context: LinliContext) -> None:
    """Organizers: Change time / Change place start a one-step flow."""
    found = await _organizer_event(update, context)
    if found is None or update.callback_query is None:
        return
    actor, event, parsed = found
    refused = core.decide_edit(event, context.services.now())
    if refused is not None:
        await refuse(update, context, actor.locale, refused, FEATURE)
        return
    step = "edit_time" if parsed[0] == "et" else "edit_place"
    await flows.start_flow(context, actor.user.id, EDIT, step, event_id=event.id)
    await answer(update, context, actor.locale)
    await context.bot.send_message(
        actor.user.id,
        text(
            context,
            actor.locale,
            "events/ask",
            step=step,
            limit=_LIMITS.get(step, 0),
            tz=context.services.config.tz.key,
        ),
    )


async def on_edit_input(update: Update, context: LinliContext, actor: Actor, draft: Draft) -> None:
    """The new time or place typed by an organizer."""
    message = update.effective_message
    typed = (message.text or "") if message else ""
    services = context.services
    event = await events_db.get_event(services.db, int(draft.data.get("event_id", 0)))
    if not actor.is_organizer or event is None:
        await flows.end_flow(context, actor.user.id, EDIT)
        reason = "not_organizer" if not actor.is_organizer else "unknown_event"
        await refuse(update, context, actor.locale, _refused(reason), FEATURE)
        return
    result = await _apply_edit(context, actor, event, draft.step, typed)
    if isinstance(result, Refused):
        await refuse(update, context, actor.locale, result, FEATURE)
        return
    await flows.end_flow(context, actor.user.id, EDIT)
    await reply(
        update,
        context,
        actor.locale,
        "events/edited",
        event=result.event,
        told=result.told,
        what="time" if draft.step == "edit_time" else "place",
    )
    await deliver_notices(context)
    await refresh_cards(context, event.id)


async def _apply_edit(
    context: LinliContext, actor: Actor, event: Event, step: str, typed: str
) -> events_db.Changed | Refused:
    services = context.services
    now = services.now()
    if step == "edit_place":
        place = core.clean_line(typed, "place", core.PLACE_MAX)
        if isinstance(place, Refused):
            return place
        return await events_db.move_event(services.db, event.id, place, actor.member.id, now)
    span = core.parse_span(typed, services.config.tz, now)
    if isinstance(span, Refused):
        return span
    planned = core.reschedule(event, span[0], span[1], now)
    if isinstance(planned, Refused):
        return planned
    return await events_db.reschedule_event(services.db, event.id, *planned, actor.member.id, now)


async def on_cancel_event(update: Update, context: LinliContext) -> None:
    """Organizers: Cancel event asks once more; the confirmation cancels and tells everyone."""
    found = await _organizer_event(update, context)
    if found is None or update.callback_query is None:
        return
    actor, event, parsed = found
    if parsed[0] == "cx":
        seats = await events_db.seats(context.services.db, event.id)
        await answer(update, context, actor.locale)
        await context.bot.send_message(
            actor.user.id,
            text(
                context,
                actor.locale,
                "events/cancel_confirm",
                event=event,
                count=seats.confirmed + seats.waitlisted,
            ),
            reply_markup=keyboard(
                [
                    [
                        (
                            _lbl(context, actor.locale, "cancel_event_confirm"),
                            callbacks.pack(F, "cxy", event.id),
                        )
                    ]
                ]
            ),
        )
        return
    result = await events_db.cancel_event(
        context.services.db, event.id, actor.member.id, context.services.now()
    )
    if isinstance(result, Refused):
        await refuse(update, context, actor.locale, result, FEATURE)
        return
    await answer(update, context, actor.locale)
    await edit(
        update.callback_query,
        text(context, actor.locale, "events/event_cancelled", event=result.event, told=result.told),
    )
    await deliver_notices(context)
    await refresh_cards(context, event.id)


# --- Check-in ----------------------------------------------------------------------------


async def on_checkin(update: Update, context: LinliContext) -> None:
    """/checkin <code>: attendance at the venue, and the event's points, once."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    await checkin_from_link(update, context, actor, " ".join(context.args or []))


async def checkin_from_link(update: Update, context: LinliContext, actor: Actor, code: str) -> None:
    """Check in with a code (typed, or from the QR code's deep link `/start checkin_<code>`)."""
    normalized = core.normalize_code(code[:40])
    if normalized is None:
        await refuse(update, context, actor.locale, _refused("bad_code"), FEATURE)
        return
    services = context.services
    result = await events_db.check_in(
        services.db,
        normalized,
        actor.member.id,
        services.now(),
        _opens_before(context),
        services.config.points.earn_rules(services.config.tz),
    )
    if isinstance(result, Refused):
        await refuse(update, context, actor.locale, result, FEATURE)
        return
    await reply(
        update, context, actor.locale, "events/checked_in", event=result.event, points=result.points
    )


# --- Shared with the jobs: cards, notices ------------------------------------------------


def _card_markup(context: LinliContext, locale: str, event: Event) -> InlineKeyboardMarkup | None:
    if event.cancelled:
        return None
    return keyboard(
        [
            [
                (_lbl(context, locale, "signup"), callbacks.pack(F, "su", event.id)),
                (_lbl(context, locale, "cancel_signup"), callbacks.pack(F, "sc", event.id)),
            ],
            [(_lbl(context, locale, "calendar"), callbacks.pack(F, "ics", event.id))],
        ]
    )


async def _card(
    context: LinliContext, event: Event
) -> tuple[str, InlineKeyboardMarkup | None, str]:
    """The card's text and buttons (in the community's language) and a hash of both."""
    locale = context.services.config.community.default_locale
    seats = await events_db.seats(context.services.db, event.id)
    body = text(
        context,
        locale,
        "events/card",
        event=event,
        seats=seats,
        community=context.services.community,
    )
    markup = _card_markup(context, locale, event)
    digest = hashlib.sha256(
        (body + repr(markup.to_dict() if markup else None)).encode("utf-8")
    ).hexdigest()[:32]
    return body, markup, digest


async def publish_due(context: LinliContext) -> None:
    """Post the cards of events that are due in their audience's groups, once per group."""
    services = context.services
    for event in await events_db.events_to_publish(services.db, services.now()):
        body, markup, digest = await _card(context, event)
        for group in await groups_db.groups_for_audience(
            services.db, event.audience, services.community
        ):
            if not await events_db.claim_card(services.db, event.id, group.chat_id, services.now()):
                continue
            try:
                sent = await context.bot.send_message(group.chat_id, body, reply_markup=markup)
            except (Forbidden, BadRequest) as exc:
                log.warning("event %s: could not post to %s: %s", event.id, group.chat_id, exc)
                continue
            except Exception:
                await events_db.release_card(services.db, event.id, group.chat_id)
                raise
            await events_db.set_card_posted(
                services.db, event.id, group.chat_id, sent.message_id, digest, services.now()
            )
        await events_db.mark_published(services.db, event.id, services.now())


async def refresh_cards(context: LinliContext, event_id: int | None = None) -> None:
    """Edit the cards whose event changed, at most once per `card_edit_min_seconds` each,
    and only when what they show actually changed."""
    services = context.services
    gap = timedelta(seconds=services.config.events.card_edit_min_seconds)
    for card in await events_db.cards_due_for_edit(services.db, services.now(), gap, event_id):
        event = await events_db.get_event(services.db, card.event_id)
        if event is None or card.message_id is None:
            continue
        body, markup, digest = await _card(context, event)
        if digest == card.text_hash:
            await events_db.claim_card_edit(services.db, card, services.now(), timedelta(0))
            continue
        if not await events_db.claim_card_edit(services.db, card, services.now(), gap):
            continue
        try:
            await context.bot.edit_message_text(
                body, card.chat_id, card.message_id, reply_markup=markup
            )
        except (Forbidden, BadRequest) as exc:
            if "not modified" not in str(exc):
                log.warning("event %s: card in %s not edited: %s", event.id, card.chat_id, exc)
        await events_db.set_card_hash(services.db, card, digest)


async def deliver_notices(context: LinliContext) -> None:
    """Send the private notices queued with a change (moved up, moved, cancelled), once each."""
    services = context.services
    for notice in await events_db.pending_notices(services.db):
        event = await events_db.get_event(services.db, notice.event_id)
        member = await members_db.get_member(services.db, notice.member_id)
        if not await events_db.claim_notice(services.db, notice.id, services.now()):
            continue
        if event is None or member is None:
            continue
        locale = locale_of(member, services)
        markup = None if event.cancelled else _mine_markup(context, locale, event)
        before = {k: from_iso(v) if k.endswith("_at") else v for k, v in notice.detail.items()}
        try:
            await notify(
                context,
                member,
                "events/notice",
                markup,
                kind=notice.kind,
                event=event,
                before=before,
            )
        except Exception:
            await events_db.release_notice(services.db, notice.id)
            raise


HANDLERS: list[BaseHandler[Any, Any, Any]] = [
    CommandHandler("newevent", on_newevent),
    CommandHandler("events", on_events),
    CommandHandler("myevents", on_myevents),
    CommandHandler("event", on_event_command),
    CommandHandler("checkin", on_checkin),
    CallbackQueryHandler(on_newevent_button, pattern=rf"^{F}:(nk|na|nab|nar|sk|np|nr|nx)(:|$)"),
    CallbackQueryHandler(on_signup, pattern=rf"^{F}:su:"),
    CallbackQueryHandler(on_cancel_signup, pattern=rf"^{F}:sc:"),
    CallbackQueryHandler(on_calendar, pattern=rf"^{F}:ics:"),
    CallbackQueryHandler(on_show, pattern=rf"^{F}:show:"),
    CallbackQueryHandler(on_list_page, pattern=rf"^{F}:ls:"),
    CallbackQueryHandler(on_attendees, pattern=rf"^{F}:(att|atp):"),
    CallbackQueryHandler(on_checkin_code, pattern=rf"^{F}:qr:"),
    CallbackQueryHandler(on_edit_button, pattern=rf"^{F}:(et|ep):"),
    CallbackQueryHandler(on_cancel_event, pattern=rf"^{F}:(cx|cxy):"),
]
COMMANDS: list[CommandSpec] = [
    CommandSpec("events", FEATURE),
    CommandSpec("myevents", FEATURE),
    CommandSpec("event", FEATURE),
    CommandSpec("checkin", FEATURE),
    CommandSpec("newevent", FEATURE, role=Role.ORGANIZER),
]

flows.register_flow(NEW, on_newevent_input)
flows.register_flow(EDIT, on_edit_input)
