"""Events' buttons, keyboards and cards, and the work handlers and jobs share: posting the
cards that are due, refreshing the cards of an event, delivering the queued notices.

Whatever a handler could not finish (a group that did not answer, an edit held back by
`card_edit_min_seconds`), the next tick of linli/bot/jobs/events.py does.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from telegram import InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden

from linli.bot.buttons import button, pack
from linli.bot.common import keyboard, label, locale_of, notify, text
from linli.bot.context import LinliContext
from linli.core import events as core
from linli.core.clock import from_iso
from linli.core.community import NodeKind
from linli.core.events import Event, EventKind, Seats, SignupStatus, Step
from linli.storage import events as events_db
from linli.storage import groups as groups_db
from linli.storage import members as members_db

log = logging.getLogger(__name__)

# --- Buttons: "ev:<action>:<fields>" (old buttons in chats keep these exact shapes) ---------


@button("ev", "nk")
@dataclass(frozen=True, slots=True)
class ChooseKind:
    """/newevent: what kind of event (an EventKind value)."""

    kind: str


@button("ev", "na")
@dataclass(frozen=True, slots=True)
class ChooseAudience:
    """/newevent: whom it is for (a NodeKind value and its target; "" for everyone)."""

    kind: str
    target: str = ""


@button("ev", "nab")
@dataclass(frozen=True, slots=True)
class ListBuildings:
    """/newevent: show the buildings to choose from."""


@button("ev", "nar")
@dataclass(frozen=True, slots=True)
class ListRoles:
    """/newevent: show the roles to choose from."""


@button("ev", "sk")
@dataclass(frozen=True, slots=True)
class Skip:
    """/newevent: skip an optional step."""


@button("ev", "np")
@dataclass(frozen=True, slots=True)
class Publish:
    """/newevent: publish the previewed event."""


@button("ev", "nr")
@dataclass(frozen=True, slots=True)
class Restart:
    """/newevent: start over."""


@button("ev", "nx")
@dataclass(frozen=True, slots=True)
class Discard:
    """/newevent: drop the draft."""


@button("ev", "su")
@dataclass(frozen=True, slots=True)
class SignUp:
    event_id: int


@button("ev", "sc")
@dataclass(frozen=True, slots=True)
class CancelSignup:
    event_id: int


@button("ev", "ics")
@dataclass(frozen=True, slots=True)
class Calendar:
    """The event's .ics file, privately."""

    event_id: int


@button("ev", "show")
@dataclass(frozen=True, slots=True)
class Show:
    """The event's details, privately."""

    event_id: int


@button("ev", "ls")
@dataclass(frozen=True, slots=True)
class ListPage:
    """◀ ▶ under /events (`event_id` is always 0: the pager shares the attendees' shape)."""

    event_id: int
    page: int


@button("ev", "att")
@dataclass(frozen=True, slots=True)
class Attendees:
    """Organizers: the attendees, in a new message."""

    event_id: int
    page: int


@button("ev", "atp")
@dataclass(frozen=True, slots=True)
class AttendeesPage:
    """Organizers: ◀ ▶ under the attendees (edits that message)."""

    event_id: int
    page: int


@button("ev", "qr")
@dataclass(frozen=True, slots=True)
class CheckinCode:
    event_id: int


@button("ev", "et")
@dataclass(frozen=True, slots=True)
class EditTime:
    event_id: int


@button("ev", "ep")
@dataclass(frozen=True, slots=True)
class EditPlace:
    event_id: int


@button("ev", "cx")
@dataclass(frozen=True, slots=True)
class CancelEvent:
    """Organizers: cancel the event (asks once more)."""

    event_id: int


@button("ev", "cxy")
@dataclass(frozen=True, slots=True)
class ConfirmCancel:
    event_id: int


# --- Keyboards -----------------------------------------------------------------------------

Rows = list[list[tuple[str, str]]]
T = TypeVar("T")


def _lbl(context: LinliContext, locale: str, key: str, **values: Any) -> str:
    return label(context, locale, f"events.{key}", **values)


def _kind_rows(context: LinliContext, loc: str) -> Rows:
    return [[(_lbl(context, loc, f"kind_{k.value}"), pack(ChooseKind(k.value))) for k in EventKind]]


def _skip_rows(context: LinliContext, loc: str) -> Rows:
    return [[(_lbl(context, loc, "skip"), pack(Skip()))]]


def _audience_rows(context: LinliContext, loc: str) -> Rows:
    everyone = pack(ChooseAudience(NodeKind.COMMUNITY.value))
    rows = [[(_lbl(context, loc, "audience_community"), everyone)]]
    rows += [
        [(c.title(loc), pack(ChooseAudience(NodeKind.COMPOUND.value, c.id)))]
        for c in context.services.community.compounds
    ]
    rows.append([(_lbl(context, loc, "audience_building"), pack(ListBuildings())),
                 (_lbl(context, loc, "audience_role"), pack(ListRoles()))])  # fmt: skip
    return rows


def _building_rows(context: LinliContext, loc: str) -> Rows:
    buttons = [
        (_lbl(context, loc, "building", compound=c.title(loc), name=b.name),
         pack(ChooseAudience(NodeKind.BUILDING.value, b.id)))
        for c in context.services.community.compounds
        for b in c.buildings
    ]  # fmt: skip
    return [buttons[i : i + 3] for i in range(0, len(buttons), 3)]


def _role_rows(context: LinliContext, loc: str) -> Rows:
    return [
        [(_lbl(context, loc, f"role_{r.value}"), pack(ChooseAudience(NodeKind.ROLE.value, r.value)))]
        for r in core.AUDIENCE_ROLES
    ]  # fmt: skip


def _preview_rows(context: LinliContext, loc: str) -> Rows:
    return [
        [(_lbl(context, loc, "publish"), pack(Publish()))],
        [(_lbl(context, loc, "restart"), pack(Restart())),
         (_lbl(context, loc, "discard"), pack(Discard()))],
    ]  # fmt: skip


# The buttons each question shows (the text steps not listed have none); "audience_building"
# and "audience_role" are the second lists the audience step can show in place of the first.
_STEP_ROWS: dict[str, Callable[[LinliContext, str], Rows]] = {
    Step.KIND: _kind_rows,
    Step.DESCRIPTION: _skip_rows,
    Step.DEADLINE: _skip_rows,
    Step.AUDIENCE: _audience_rows,
    "audience_building": _building_rows,
    "audience_role": _role_rows,
    Step.PREVIEW: _preview_rows,
}


def step_markup(context: LinliContext, locale: str, step: str) -> InlineKeyboardMarkup | None:
    rows = _STEP_ROWS.get(step)
    return keyboard(rows(context, locale)) if rows else None


def details_rows(context: LinliContext, locale: str, events: list[Event]) -> Rows:
    """A details button per event, one a row."""
    return [
        [(_lbl(context, locale, "details", id=e.id, title=e.title[:30]), pack(Show(e.id)))]
        for e in events
    ]


def pager_row(
    context: LinliContext, locale: str, page: int, pages: int, to: Callable[[int], object]
) -> list[tuple[str, str]]:
    """◀ ▶ where there is a page to go to; `to(page)` is the button for that page."""
    row: list[tuple[str, str]] = []
    if page > 1:
        row.append((_lbl(context, locale, "prev"), pack(to(page - 1))))
    if page < pages:
        row.append((_lbl(context, locale, "next"), pack(to(page + 1))))
    return row


def page_of(items: Sequence[T], page: int, size: int) -> tuple[list[T], int, int]:
    """The items on `page` (clamped to the pages there are), the page, and how many pages."""
    pages = max(1, math.ceil(len(items) / size))
    page = min(max(page, 1), pages)
    return list(items[(page - 1) * size : page * size]), page, pages


def card_markup(context: LinliContext, locale: str, event: Event) -> InlineKeyboardMarkup | None:
    """Under a group card: sign up, cancel, the calendar (nothing once cancelled)."""
    if event.cancelled:
        return None
    return keyboard([
        [(_lbl(context, locale, "signup"), pack(SignUp(event.id))),
         (_lbl(context, locale, "cancel_signup"), pack(CancelSignup(event.id)))],
        [(_lbl(context, locale, "calendar"), pack(Calendar(event.id)))],
    ])  # fmt: skip


def mine_markup(context: LinliContext, locale: str, event: Event) -> InlineKeyboardMarkup:
    """Under a member's own sign-up, notice or reminder: cancel, the calendar."""
    return keyboard([[
        (_lbl(context, locale, "cancel_signup"), pack(CancelSignup(event.id))),
        (_lbl(context, locale, "calendar"), pack(Calendar(event.id))),
    ]])  # fmt: skip


# What each button under the details (core.detail_buttons names them) presses.
_DETAIL_BUTTONS: dict[str, Callable[[int], object]] = {
    "signup": SignUp,
    "cancel_signup": CancelSignup,
    "calendar": Calendar,
    "attendees": lambda event_id: Attendees(event_id, 1),
    "checkin_qr": CheckinCode,
    "edit_time": EditTime,
    "edit_place": EditPlace,
    "cancel_event": CancelEvent,
}


def detail_markup(
    context: LinliContext, locale: str, event: Event, status: str, manage: bool
) -> InlineKeyboardMarkup:
    rows = core.detail_buttons(event, status, manage)
    return keyboard([
        [(_lbl(context, locale, key), pack(_DETAIL_BUTTONS[key](event.id))) for key in row]
        for row in rows
    ])  # fmt: skip


def cancel_confirm_markup(context: LinliContext, locale: str, event: Event) -> InlineKeyboardMarkup:
    return keyboard(
        [[(_lbl(context, locale, "cancel_event_confirm"), pack(ConfirmCancel(event.id)))]]
    )


def attendee_rows(everyone: list[events_db.Attendee]) -> tuple[list[dict[str, Any]], Seats]:
    """The attendees list's rows (confirmed and waiting numbered apart) and the counts."""
    rows: list[dict[str, Any]] = []
    confirmed_n = waiting_n = 0
    for person in everyone:
        waiting = person.signup.status is SignupStatus.WAITLISTED
        confirmed_n, waiting_n = confirmed_n + (not waiting), waiting_n + waiting
        rows.append({
            "number": waiting_n if waiting else confirmed_n,
            "name": person.name, "username": person.username, "unit": person.unit,
            "waiting": waiting, "first_waiting": waiting and waiting_n == 1,
            "checked_in": person.signup.checked_in_at is not None,
        })  # fmt: skip
    return rows, Seats(confirmed_n, waiting_n)


# --- Cards in the groups, and notices (handlers and jobs) ----------------------------------


async def card(context: LinliContext, event: Event) -> tuple[str, InlineKeyboardMarkup | None, str]:
    """The card's text and buttons (in the community's language) and a hash of both."""
    locale = context.services.config.community.default_locale
    seats = await events_db.seats(context.services.db, event.id)
    body = text(context, locale, "events/card",
                event=event, seats=seats, community=context.services.community)  # fmt: skip
    markup = card_markup(context, locale, event)
    shown = body + repr(markup.to_dict() if markup else None)
    return body, markup, hashlib.sha256(shown.encode("utf-8")).hexdigest()[:32]


async def publish_due(context: LinliContext) -> None:
    """Post the cards of events that are due in their audience's groups, once per group."""
    services = context.services
    for event in await events_db.events_to_publish(services.db, services.now()):
        body, markup, digest = await card(context, event)
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
    for shown in await events_db.cards_due_for_edit(services.db, services.now(), gap, event_id):
        event = await events_db.get_event(services.db, shown.event_id)
        if event is None or shown.message_id is None:
            continue
        body, markup, digest = await card(context, event)
        if digest == shown.text_hash:
            await events_db.claim_card_edit(services.db, shown, services.now(), timedelta(0))
            continue
        if not await events_db.claim_card_edit(services.db, shown, services.now(), gap):
            continue
        try:
            await context.bot.edit_message_text(
                body, shown.chat_id, shown.message_id, reply_markup=markup
            )
        except (Forbidden, BadRequest) as exc:
            if "not modified" not in str(exc):
                log.warning("event %s: card in %s not edited: %s", event.id, shown.chat_id, exc)
        await events_db.set_card_hash(services.db, shown, digest)


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
        markup = None if event.cancelled else mine_markup(context, locale, event)
        before = {k: from_iso(v) if k.endswith("_at") else v for k, v in notice.detail.items()}
        try:
            await notify(context, member, "events/notice", markup,
                         kind=notice.kind, event=event, before=before)  # fmt: skip
        except Exception:
            await events_db.release_notice(services.db, notice.id)
            raise
