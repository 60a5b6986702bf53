"""Hazard reports' buttons, keyboards and cards: what the handlers, the jobs and the tree
hole (/followup shows an anonymous report) all show."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    KeyboardButton,
    ReplyKeyboardMarkup,
)
from telegram.error import TelegramError

from linli.bot.buttons import ButtonTooLong, button, pack
from linli.bot.common import (
    building_label,
    deep_link,
    keyboard,
    label,
    locale_of,
    text,
    with_chats,
)
from linli.bot.context import LinliContext, Services
from linli.core import hazards as rules
from linli.core.community import Role
from linli.core.hazards import Action, Category, Report, ReportDraft, ReportFilter
from linli.core.members import Member
from linli.storage import hazards as hazards_db
from linli.storage import members as members_db

# --- Buttons (callback data "hz:<action>:<fields>", as the buttons already in chats carry).


@button("hz", "t")
@dataclass(frozen=True, slots=True)
class Triage:
    """A triage card's button: `action` is an `Action` value."""

    action: str
    report_id: int


@button("hz", "fu")
@dataclass(frozen=True, slots=True)
class FollowUp:
    """The reporter's answer to "is it fixed?": `answer` is "y" or "n"."""

    answer: str
    report_id: int

    @property
    def fixed(self) -> bool | None:
        """True for "y", False for "n", None for anything else (a forged button)."""
        return {"y": True, "n": False}.get(self.answer)


@button("hz", "nn")
@dataclass(frozen=True, slots=True)
class NoNote:
    """Triage without a note."""


@button("hz", "cancel")
@dataclass(frozen=True, slots=True)
class Cancel:
    """End the report flow, or a triage note."""


@button("hz", "pg")
@dataclass(frozen=True, slots=True)
class Page:
    """The next page of /reports; `wanted` is an encoded `ReportFilter`."""

    offset: int
    wanted: str


@button("hz", "cat")
@dataclass(frozen=True, slots=True)
class ChooseCategory:
    key: str


@button("hz", "same")
@dataclass(frozen=True, slots=True)
class MeToo:
    """Support an open report that looks the same instead of filing a new one."""

    report_id: int


@button("hz", "anon")
@dataclass(frozen=True, slots=True)
class ChooseAnonymous:
    anonymous: bool


@button("hz", "send")
@dataclass(frozen=True, slots=True)
class Send:
    anonymous: bool


@button("hz", "back")
@dataclass(frozen=True, slots=True)
class Back:
    pass


@button("hz", "done")
@dataclass(frozen=True, slots=True)
class PhotosDone:
    pass


@button("hz", "new")
@dataclass(frozen=True, slots=True)
class NewOne:
    """None of the look-alikes: a new report."""


@button("hz", "desc")
@dataclass(frozen=True, slots=True)
class AddDescription:
    """Photo-first: add a description from the confirm screen."""


# --- Names.


def categories(services: Services) -> tuple[Category, ...]:
    return tuple(Category(c.key, c.zh, c.en, c.urgent) for c in services.config.hazards.categories)


def category_name(services: Services, key: str, locale: str) -> str:
    found = rules.category_by_key(categories(services), key)
    return found.name(locale) if found else key


def status_name(context: LinliContext, locale: str, status: str) -> str:
    return label(context, locale, f"hazards.status_{status}")


def report_view(context: LinliContext, report: Report, locale: str) -> dict[str, Any]:
    """What templates show of a report (names resolved in the reader's language)."""
    services = context.services
    return {
        "code": report.code,
        "category": category_name(services, report.category, locale),
        "status": report.status.value,
        "status_name": status_name(context, locale, report.status.value),
        "urgent": report.urgent,
        "anonymous": report.anonymous,
        "description": report.description,
        "address": report.address,
        "building": building_label(services, locale, report.building_id),
        "lat": report.lat,
        "lon": report.lon,
        "photos": len(report.photos),
        "supporters": report.supporters,
        "note": report.status_note,
        "duplicate_of": rules.format_code(report.duplicate_of) if report.duplicate_of else "",
        "created_at": report.created_at,
        "updated_at": report.updated_at,
    }


def draft_view(context: LinliContext, draft: ReportDraft, locale: str) -> dict[str, Any]:
    """What the confirm screen shows of a report not sent yet."""
    services = context.services
    return {
        "category": category_name(services, draft.category, locale),
        "urgent": draft.urgent,
        "description": draft.description,
        "photos": len(draft.photos),
        "address": draft.address,
        "building": building_label(services, locale, draft.building_id),
        "has_location": draft.lat is not None,
        "anonymous": draft.anonymous,
    }


async def changes_view(
    context: LinliContext, report: Report, locale: str, last: int = 5
) -> list[dict[str, Any]]:
    """The report's last visible changes (status, who, note, when)."""
    history = rules.visible_changes(await hazards_db.events(context.services.db, report.id))
    return [
        {
            "status_name": status_name(context, locale, e.status),
            "who": e.actor_name or "",
            "note": e.note,
            "when": e.created_at,
        }
        for e in history[-last:]
    ]


# --- Keyboards.


def _button(
    context: LinliContext, locale: str, key: str, pressed: Any, **values: Any
) -> tuple[str, str]:
    return label(context, locale, f"hazards.{key}", **values), pack(pressed)


def triage_markup(
    context: LinliContext, report: Report, locale: str
) -> InlineKeyboardMarkup | None:
    """A card's buttons: what its status still allows."""
    actions = rules.ALLOWED[report.status]
    buttons = [
        _button(context, locale, f"act_{a.value}", Triage(a.value, report.id)) for a in actions
    ]
    if not buttons:
        return None
    return keyboard([buttons[:2], buttons[2:]] if len(buttons) > 2 else [buttons])


def note_markup(context: LinliContext, locale: str, action: Action) -> InlineKeyboardMarkup:
    """No note, or cancel (a rejection must say why: no "no note" there)."""
    rows = [] if action is Action.REJECT else [[_button(context, locale, "no_note", NoNote())]]
    rows.append([_button(context, locale, "cancel", Cancel())])
    return keyboard(rows)


def followup_markup(context: LinliContext, locale: str, report: Report) -> InlineKeyboardMarkup:
    """ "Is it fixed?": yes or no."""
    return keyboard([[
        _button(context, locale, "fixed_yes", FollowUp("y", report.id)),
        _button(context, locale, "fixed_no", FollowUp("n", report.id)),
    ]])  # fmt: skip


def next_page_markup(
    context: LinliContext, locale: str, offset: int, wanted: ReportFilter
) -> InlineKeyboardMarkup | None:
    try:
        return keyboard([[_button(context, locale, "next_page", Page(offset, wanted.encode()))]])
    except (ButtonTooLong, ValueError):
        return None  # a filter too long for a button: narrow it to see the rest


def private_link(context: LinliContext, locale: str) -> InlineKeyboardMarkup:
    """/report in a group: a button into the private chat."""
    link = InlineKeyboardButton(
        label(context, locale, "hazards.open_private"), url=deep_link(context, "report")
    )
    return InlineKeyboardMarkup([[link]])


def nav_row(context: LinliContext, locale: str, *, back: bool = True) -> list[tuple[str, str]]:
    row = [_button(context, locale, "cancel", Cancel())]
    if back:
        row.insert(0, _button(context, locale, "back", Back()))
    return row


def category_markup(context: LinliContext, locale: str) -> InlineKeyboardMarkup:
    buttons = [
        (("🚨 " if c.urgent else "") + c.name(locale), pack(ChooseCategory(c.key)))
        for c in categories(context.services)
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    return keyboard([*rows, nav_row(context, locale, back=False)])


def photos_markup(context: LinliContext, locale: str, count: int) -> InlineKeyboardMarkup:
    done = _button(context, locale, "done" if count else "skip", PhotosDone())
    return keyboard([[done], nav_row(context, locale)])


def location_keyboard(
    context: LinliContext, locale: str, building_id: str | None
) -> ReplyKeyboardMarkup:
    """Send my location, my building (if I have one), back, cancel: typed-in answers."""
    rows = [
        [KeyboardButton(label(context, locale, "hazards.send_location"), request_location=True)]
    ]
    if building_id:
        rows.append([KeyboardButton(my_building_label(context, locale, building_id))])
    rows.append(
        [KeyboardButton(label(context, locale, f"hazards.{k}")) for k in ("back", "cancel")]
    )
    return ReplyKeyboardMarkup(rows, resize_keyboard=True, one_time_keyboard=True)


def my_building_label(context: LinliContext, locale: str, building_id: str) -> str:
    name = building_label(context.services, locale, building_id)
    return label(context, locale, "hazards.my_building", name=name)


def duplicates_markup(
    context: LinliContext, locale: str, found: list[Report]
) -> InlineKeyboardMarkup:
    rows = [[_button(context, locale, "me_too", MeToo(r.id), code=r.code)] for r in found]
    rows += [[_button(context, locale, "new_one", NewOne())], nav_row(context, locale)]
    return keyboard(rows)


def anonymous_markup(context: LinliContext, locale: str) -> InlineKeyboardMarkup:
    return keyboard([
        [_button(context, locale, "named", ChooseAnonymous(False))],
        [_button(context, locale, "anonymous", ChooseAnonymous(True))],
        nav_row(context, locale),
    ])  # fmt: skip


def confirm_markup(
    context: LinliContext, locale: str, anonymous: bool | None
) -> InlineKeyboardMarkup:
    if anonymous is None:  # photo-first: choose how to send right here
        rows = [
            [_button(context, locale, "send", Send(False))],
            [_button(context, locale, "send_anonymous", Send(True))],
            [_button(context, locale, "add_description", AddDescription())],
        ]
    else:
        rows = [[_button(context, locale, "send", Send(anonymous))]]
    return keyboard([*rows, nav_row(context, locale)])


# --- Cards: one per chat it was posted to, edited as the report moves on.


async def card_text(context: LinliContext, report: Report, locale: str) -> str:
    reporter = None
    if report.reporter_id is not None:
        member = await members_db.get_member(context.services.db, report.reporter_id)
        reporter = member.name if member else None
    return text(
        context, locale, "hazards/card", r=report_view(context, report, locale), reporter=reporter,
        changes=await changes_view(context, report, locale),
    )  # fmt: skip


async def chat_locale(context: LinliContext, chat_id: int) -> str:
    """Cards in a group use the community's language; a private card its member's."""
    services = context.services
    if chat_id > 0:
        member = await members_db.get_member_by_telegram(services.db, chat_id)
        if member is not None:
            return locale_of(member, services)
    return services.config.community.default_locale


async def send_card(context: LinliContext, chat_id: int, report: Report) -> bool:
    """Photos, location, then the card with its buttons (recorded, so changes edit it)."""
    locale = await chat_locale(context, chat_id)
    bot = context.bot
    try:
        if len(report.photos) == 1:
            await bot.send_photo(chat_id, report.photos[0])
        elif report.photos:
            await bot.send_media_group(chat_id, [InputMediaPhoto(p) for p in report.photos])
        if report.lat is not None and report.lon is not None:
            await bot.send_location(chat_id, latitude=report.lat, longitude=report.lon)
        message = await bot.send_message(chat_id, await card_text(context, report, locale),
                                         reply_markup=triage_markup(context, report, locale))  # fmt: skip
    except TelegramError:
        return False
    await hazards_db.add_card(context.services.db, report.id, chat_id, message.message_id)
    return True


async def post_cards(context: LinliContext, report: Report) -> None:
    """The new report to the organizers' group and to its building's leaders."""
    services = context.services
    group = services.config.organizers.group_chat_id
    if group is not None:
        await send_card(context, group, report)
    if report.building_id:
        leaders = await members_db.building_leaders(services.db, report.building_id)
        for _, chat in await with_chats(services, leaders):
            await send_card(context, chat, report)


async def refresh_cards(context: LinliContext, report: Report) -> None:
    """Edit every card of the report to show its current status and buttons."""
    for chat_id, message_id in await hazards_db.cards(context.services.db, report.id):
        locale = await chat_locale(context, chat_id)
        try:
            await context.bot.edit_message_text(
                await card_text(context, report, locale), chat_id=chat_id, message_id=message_id,
                reply_markup=triage_markup(context, report, locale),
            )  # fmt: skip
        except TelegramError:
            continue  # deleted, or unchanged: the other cards still get the news


async def organizer_chats(services: Services) -> list[tuple[int, str]]:
    """Every organizer's private chat (config and granted), with their language."""
    default = services.config.community.default_locale
    found: dict[int, str] = {}
    organizers = await members_db.members_with_role(services.db, Role.ORGANIZER)
    for member, chat in await with_chats(services, organizers):
        found[chat] = locale_of(member, services)
    for user_id in services.config.organizers.user_ids:
        if user_id not in found:
            known: Member | None = await members_db.get_member_by_telegram(services.db, user_id)
            found[user_id] = locale_of(known, services) if known else default
    return list(found.items())
