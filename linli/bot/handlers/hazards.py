"""Hazard reports (随手拍): /report and its private flow, photo-first reports, "me too",
triage cards and their notes, the "is it fixed?" answer, /myreports and /reports.

Anonymous reports: nothing here logs, stores or forwards who sent them (see storage/hazards).
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from linli.bot import callbacks, flows, outbox
from linli.bot.commands import CommandSpec
from linli.bot.common import (
    Actor,
    Markup,
    answer,
    building_label,
    deep_link,
    is_private,
    keyboard,
    label,
    load_actor,
    locale_of,
    notify,
    refuse,
    reply,
    text,
)
from linli.bot.context import LinliContext, Services
from linli.core import hazards as rules
from linli.core.community import Role
from linli.core.hazards import Action, Category, NewReport, Report, ReportFilter, Status
from linli.core.members import Member, can_triage_building
from linli.core.outcomes import Refused, RefusedError
from linli.storage import hazards as hazards_db
from linli.storage import members as members_db
from linli.storage import points as points_db
from linli.storage.db import Tx
from linli.storage.drafts import Draft

FEATURE = "hazards"
PAGE_SIZE = 15
MY_REPORTS_LIMIT = 20

# --- Shared pieces (the jobs module uses them too).


def categories(services: Services) -> tuple[Category, ...]:
    return tuple(Category(c.key, c.zh, c.en, c.urgent) for c in services.config.hazards.categories)


def category_name(services: Services, key: str, locale: str) -> str:
    found = rules.category_by_key(categories(services), key)
    return found.name(locale) if found else key


def building_name(services: Services, building_id: str | None, locale: str) -> str:
    return building_label(services, locale, building_id)


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
        "building": building_name(services, report.building_id, locale),
        "lat": report.lat,
        "lon": report.lon,
        "photos": len(report.photos),
        "supporters": report.supporters,
        "note": report.status_note,
        "duplicate_of": rules.format_code(report.duplicate_of) if report.duplicate_of else "",
        "created_at": report.created_at,
        "updated_at": report.updated_at,
    }


def triage_markup(
    context: LinliContext, report: Report, locale: str
) -> InlineKeyboardMarkup | None:
    actions = rules.ALLOWED[report.status]
    if not actions:
        return None
    buttons = [
        (
            label(context, locale, f"hazards.act_{a.value}"),
            callbacks.pack("hz", "t", a.value, report.id),
        )
        for a in actions
    ]
    return keyboard([buttons[:2], buttons[2:]] if len(buttons) > 2 else [buttons])


async def card_text(context: LinliContext, report: Report, locale: str) -> str:
    reporter = None
    if report.reporter_id is not None:
        member = await members_db.get_member(context.services.db, report.reporter_id)
        reporter = member.name if member else None
    history = await hazards_db.events(context.services.db, report.id)
    changes = [
        {
            "status_name": status_name(context, locale, e.status),
            "who": e.actor_name or "",
            "note": e.note,
            "when": e.created_at,
        }
        for e in rules.visible_changes(history)
    ]
    return text(
        context,
        locale,
        "hazards/card",
        r=report_view(context, report, locale),
        reporter=reporter,
        changes=changes[-5:],
    )


async def _chat_locale(context: LinliContext, chat_id: int) -> str:
    """Cards in a group use the community's language; a private card its member's."""
    services = context.services
    if chat_id > 0:
        member = await members_db.get_member_by_telegram(services.db, chat_id)
        if member is not None:
            return locale_of(member, services)
    return services.config.community.default_locale


async def send_card(context: LinliContext, chat_id: int, report: Report) -> bool:
    """Photos, location, then the card with its buttons (recorded, so changes edit it)."""
    locale = await _chat_locale(context, chat_id)
    try:
        if len(report.photos) == 1:
            await context.bot.send_photo(chat_id, report.photos[0])
        elif report.photos:
            await context.bot.send_media_group(chat_id, [InputMediaPhoto(p) for p in report.photos])
        if report.lat is not None and report.lon is not None:
            await context.bot.send_location(chat_id, latitude=report.lat, longitude=report.lon)
        message = await context.bot.send_message(
            chat_id,
            await card_text(context, report, locale),
            reply_markup=triage_markup(context, report, locale),
        )
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
        for leader in await members_db.building_leaders(services.db, report.building_id):
            if leader.telegram_id is not None:
                await send_card(context, leader.telegram_id, report)


async def refresh_cards(context: LinliContext, report: Report) -> None:
    """Edit every card of the report to show its current status and buttons."""
    for chat_id, message_id in await hazards_db.cards(context.services.db, report.id):
        locale = await _chat_locale(context, chat_id)
        try:
            await context.bot.edit_message_text(
                await card_text(context, report, locale),
                chat_id=chat_id,
                message_id=message_id,
                reply_markup=triage_markup(context, report, locale),
            )
        except TelegramError:
            continue  # deleted, or unchanged: the other cards still get the news


async def organizer_chats(services: Services) -> list[tuple[int, str]]:
    """Every organizer's private chat (config and granted), with their language."""
    default = services.config.community.default_locale
    found: dict[int, str] = {}
    for member in await members_db.members_with_role(services.db, Role.ORGANIZER):
        if member.telegram_id is not None:
            found[member.telegram_id] = locale_of(member, services)
    for user_id in services.config.organizers.user_ids:
        if user_id not in found:
            known = await members_db.get_member_by_telegram(services.db, user_id)
            found[user_id] = locale_of(known, services) if known else default
    return list(found.items())


# --- The report flow.


async def say_no(update: Update, context: LinliContext, locale: str, refused: Refused) -> None:
    """A refusal as a message (the tap was already answered, or there was no tap)."""
    await reply(
        update, context, locale, "hazards/refused", reason=refused.reason, detail=refused.detail
    )


def _nav(context: LinliContext, locale: str, *, back: bool = True) -> list[tuple[str, str]]:
    row = [(label(context, locale, "hazards.cancel"), callbacks.pack("hz", "cancel"))]
    if back:
        row.insert(0, (label(context, locale, "hazards.back"), callbacks.pack("hz", "back")))
    return row


def _category_rows(context: LinliContext, locale: str) -> list[list[tuple[str, str]]]:
    buttons = [
        (("🚨 " if c.urgent else "") + c.name(locale), callbacks.pack("hz", "cat", c.key))
        for c in categories(context.services)
    ]
    return [buttons[i : i + 2] for i in range(0, len(buttons), 2)]


def _location_keyboard(context: LinliContext, actor: Actor) -> ReplyKeyboardMarkup:
    locale = actor.locale
    rows = [
        [KeyboardButton(label(context, locale, "hazards.send_location"), request_location=True)]
    ]
    if actor.member.building_id:
        name = building_name(context.services, actor.member.building_id, locale)
        rows.append([KeyboardButton(label(context, locale, "hazards.my_building", name=name))])
    rows.append(
        [
            KeyboardButton(label(context, locale, "hazards.back")),
            KeyboardButton(label(context, locale, "hazards.cancel")),
        ]
    )
    return ReplyKeyboardMarkup(rows, resize_keyboard=True, one_time_keyboard=True)


def _draft_view(context: LinliContext, draft: Draft, locale: str) -> dict[str, Any]:
    data = draft.data
    return {
        "category": category_name(context.services, data.get("cat", ""), locale),
        "urgent": bool(data.get("urgent")),
        "description": data.get("desc", ""),
        "photos": len(data.get("photos", [])),
        "address": data.get("addr", ""),
        "building": building_name(context.services, data.get("bld"), locale),
        "has_location": data.get("lat") is not None,
        "anonymous": data.get("anon"),
    }


Ask = tuple[str, Markup, dict[str, Any]]


def _button(
    context: LinliContext, locale: str, key: str, action: str, *args: str | int, **values: Any
) -> tuple[str, str]:
    return label(context, locale, f"hazards.{key}", **values), callbacks.pack("hz", action, *args)


async def _ask_category(context: LinliContext, actor: Actor, draft: Draft) -> Ask:
    rows = [*_category_rows(context, actor.locale), _nav(context, actor.locale, back=False)]
    values = {
        "photo_first": bool(draft.data.get("pf")),
        "photos": len(draft.data.get("photos", [])),
    }
    return "hazards/ask_category", keyboard(rows), values


async def _ask_description(context: LinliContext, actor: Actor, draft: Draft) -> Ask:
    limit = context.services.config.hazards.description_limit
    return "hazards/ask_description", keyboard([_nav(context, actor.locale)]), {"limit": limit}


async def _ask_photos(context: LinliContext, actor: Actor, draft: Draft) -> Ask:
    count = len(draft.data.get("photos", []))
    done = _button(context, actor.locale, "done" if count else "skip", "done")
    markup = keyboard([[done], _nav(context, actor.locale)])
    return "hazards/ask_photos", markup, {"count": count, "limit": rules.MAX_PHOTOS}


async def _ask_location(context: LinliContext, actor: Actor, draft: Draft) -> Ask:
    return "hazards/ask_location", _location_keyboard(context, actor), {}


async def _ask_duplicates(context: LinliContext, actor: Actor, draft: Draft) -> Ask:
    locale, db = actor.locale, context.services.db
    reports = [await hazards_db.get_report(db, i) for i in draft.data.get("dups", [])]
    found = [r for r in reports if r is not None]
    rows = [[_button(context, locale, "me_too", "same", r.id, code=r.code)] for r in found]
    rows += [[_button(context, locale, "new_one", "new")], _nav(context, locale)]
    views = [report_view(context, r, locale) for r in found]
    return "hazards/ask_duplicates", keyboard(rows), {"reports": views}


async def _ask_anonymous(context: LinliContext, actor: Actor, draft: Draft) -> Ask:
    locale = actor.locale
    rows = [
        [_button(context, locale, "named", "anon", 0)],
        [_button(context, locale, "anonymous", "anon", 1)],
        _nav(context, locale),
    ]
    return "hazards/ask_anonymous", keyboard(rows), {}


async def _ask_confirm(context: LinliContext, actor: Actor, draft: Draft) -> Ask:
    locale, anonymous = actor.locale, draft.data.get("anon")
    if anonymous is None:  # photo-first: choose how to send right here
        rows = [
            [_button(context, locale, "send", "send", 0)],
            [_button(context, locale, "send_anonymous", "send", 1)],
            [_button(context, locale, "add_description", "desc")],
        ]
    else:
        rows = [[_button(context, locale, "send", "send", int(anonymous))]]
    rows.append(_nav(context, locale))
    return "hazards/confirm", keyboard(rows), {"d": _draft_view(context, draft, locale)}


# What each step of the report flow asks, with which buttons.
_ASKS: dict[str, Callable[[LinliContext, Actor, Draft], Awaitable[Ask]]] = {
    "category": _ask_category,
    "description": _ask_description,
    "photos": _ask_photos,
    "location": _ask_location,
    "duplicates": _ask_duplicates,
    "anonymous": _ask_anonymous,
    "confirm": _ask_confirm,
}


async def prompt(update: Update, context: LinliContext, actor: Actor, draft: Draft) -> None:
    """Ask for what the current step needs."""
    ask = _ASKS.get(draft.step)
    if ask is not None:
        template, markup, values = await ask(context, actor, draft)
        await reply(update, context, actor.locale, template, markup, **values)


async def start_report(update: Update, context: LinliContext, actor: Actor) -> None:
    """Start the report flow in private chat (/report, and the lead's `/start report`)."""
    if not actor.member.joined:  # the privacy notice comes first
        await reply(update, context, actor.locale, "hazards/join_first")
        return
    outbox.keep_off_disk(actor.user.id)  # it may end anonymous: the steps leave no trace
    draft = await flows.start_flow(context, actor.user.id, "report", "category", photos=[])
    await prompt(update, context, actor, draft)


async def on_report(update: Update, context: LinliContext) -> None:
    """/report: the private flow; in a group, a link into the private chat."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    if not is_private(update):
        button = InlineKeyboardButton(
            label(context, actor.locale, "hazards.open_private"), url=flows_link(context)
        )
        await reply(
            update, context, actor.locale, "hazards/go_private", InlineKeyboardMarkup([[button]])
        )
        return
    await start_report(update, context, actor)


def flows_link(context: LinliContext) -> str:
    return deep_link(context, "report")


async def on_photo_first(update: Update, context: LinliContext, actor: Actor) -> None:
    """A photo with no flow running starts a report with it (category, location, send)."""
    message = update.effective_message
    if message is None or not message.photo:
        return
    if not actor.member.joined:
        await reply(update, context, actor.locale, "hazards/join_first")
        return
    caption = rules.clean_description(
        message.caption, context.services.config.hazards.description_limit
    )
    outbox.keep_off_disk(actor.user.id)  # it may end anonymous: the steps leave no trace
    draft = await flows.start_flow(
        context,
        actor.user.id,
        "report",
        "category",
        photos=[message.photo[-1].file_id],
        desc=caption if isinstance(caption, str) else "",
        pf=True,
    )
    await prompt(update, context, actor, draft)


async def _after_location(
    update: Update, context: LinliContext, actor: Actor, draft: Draft
) -> None:
    """Location known: offer open reports that look the same, else go on."""
    await reply(update, context, actor.locale, "hazards/location_noted", ReplyKeyboardRemove())
    found = await hazards_db.find_duplicates(
        context.services.db,
        _new_report(draft, anonymous=False),
        context.services.config.hazards.duplicate_radius_m,
    )
    draft.data["dups"] = [r.id for r in found]
    await _advance(update, context, actor, draft, _next(draft, "location", bool(found)))


def _new_report(draft: Draft, *, anonymous: bool) -> NewReport:
    data = draft.data
    return NewReport(
        category=data.get("cat", "other"),
        description=data.get("desc", ""),
        anonymous=anonymous,
        urgent=bool(data.get("urgent")),
        lat=data.get("lat"),
        lon=data.get("lon"),
        address=data.get("addr", ""),
        building_id=data.get("bld"),
        photos=tuple(data.get("photos", [])),
    )


async def on_report_input(
    update: Update, context: LinliContext, actor: Actor, draft: Draft
) -> None:
    """A message while the report flow runs: what it means depends on the step."""
    outbox.keep_off_disk(actor.user.id)  # it may end anonymous: the steps leave no trace
    message = update.effective_message
    if message is None:
        return
    step, locale = draft.step, actor.locale
    if step == "location":
        await _location_input(update, context, actor, draft)
    elif step == "description" and message.text is not None:
        cleaned = rules.clean_description(
            message.text, context.services.config.hazards.description_limit
        )
        if isinstance(cleaned, Refused):
            await say_no(update, context, locale, cleaned)
            return
        draft.data["desc"] = cleaned
        await _advance(update, context, actor, draft, _next(draft, "description"))
    elif step in ("photos", "description") and message.photo:
        photos: list[str] = draft.data.setdefault("photos", [])
        if len(photos) >= rules.MAX_PHOTOS:
            await reply(update, context, locale, "hazards/photos_full", limit=rules.MAX_PHOTOS)
            return
        photos.append(message.photo[-1].file_id)
        full = step == "photos" and len(photos) >= rules.MAX_PHOTOS
        await _advance(update, context, actor, draft, _next(draft, "photos") if full else None)
    elif step == "photos":
        kind = "sticker" if message.sticker else "other"
        await reply(update, context, locale, "hazards/not_a_photo", kind=kind)
    else:
        kind = "sticker" if message.sticker else "other"
        await reply(update, context, locale, "hazards/use_buttons", step=step, kind=kind)


async def _location_input(
    update: Update, context: LinliContext, actor: Actor, draft: Draft
) -> None:
    message = update.effective_message
    assert message is not None
    locale = actor.locale
    typed = (message.text or "").strip()
    if message.location is not None:
        draft.data.update(lat=message.location.latitude, lon=message.location.longitude)
    elif typed == label(context, locale, "hazards.back"):
        await reply(update, context, locale, "hazards/location_noted", ReplyKeyboardRemove())
        await _go_back(update, context, actor, draft)
        return
    elif typed == label(context, locale, "hazards.cancel"):
        await flows.end_flow(context, actor.user.id, "report")
        await reply(update, context, locale, "hazards/cancelled", ReplyKeyboardRemove())
        return
    elif actor.member.building_id and typed == label(
        context,
        locale,
        "hazards.my_building",
        name=building_name(context.services, actor.member.building_id, locale),
    ):
        draft.data.update(bld=actor.member.building_id, addr="")
    elif message.text is not None:
        address = rules.clean_address(typed)
        if isinstance(address, Refused):
            await say_no(update, context, locale, address)
            return
        draft.data.update(
            addr=address, bld=rules.match_building(address, context.services.community)
        )
    else:
        await reply(
            update,
            context,
            locale,
            "hazards/use_buttons",
            step="location",
            kind="sticker" if message.sticker else "other",
        )
        return
    await _after_location(update, context, actor, draft)


async def _go_back(update: Update, context: LinliContext, actor: Actor, draft: Draft) -> None:
    previous = rules.previous_step(
        draft.step, bool(draft.data.get("pf")), bool(draft.data.get("dups"))
    )
    if previous is None:
        await prompt(update, context, actor, draft)
        return
    await flows.save(context, draft, previous)
    await prompt(update, context, actor, draft)


# In-process only: the hourly limit for anonymous reports cannot be counted in the database
# without linking them to their sender, so it lives in the application's memory (bot_data,
# never persisted) and is forgotten on restart.
_ANON_KEY = "hazards.anonymous_sent"


def _anonymous_allowed(context: LinliContext, user_id: int, per_hour: int) -> bool:
    now = context.services.now().timestamp()
    seen: dict[int, deque[float]] = context.bot_data.setdefault(_ANON_KEY, {})
    sent = seen.setdefault(user_id, deque())
    while sent and now - sent[0] >= 3600:
        sent.popleft()
    if len(sent) >= per_hour:
        return False
    sent.append(now)
    return True


async def _send(
    update: Update, context: LinliContext, actor: Actor, draft: Draft, anonymous: bool
) -> None:
    services, locale = context.services, actor.locale
    per_hour = services.config.hazards.max_reports_per_hour
    new = _new_report(draft, anonymous=anonymous)
    followup = rules.new_followup_code() if anonymous else None
    if not anonymous:  # under their name: the confirmation is promised, so it is recorded
        outbox.keep_on_disk(actor.user.id)
    if anonymous and not _anonymous_allowed(context, actor.user.id, per_hour):
        await say_no(update, context, locale, Refused("too_many_reports", {"limit": per_hour}))
        return
    try:
        report = await hazards_db.create_report(
            services.db,
            new,
            reporter_id=None if anonymous else actor.member.id,
            draft_user_id=actor.user.id,
            now=services.now(),
            per_hour=per_hour,
            followup_hash=rules.followup_hash(followup) if followup else None,
        )
    except RefusedError as exc:
        await say_no(update, context, locale, exc.refused)
        return
    if anonymous:
        await hazards_db.checkpoint(services.db)
    await _drop_keyboard(update)
    await reply(
        update,
        context,
        locale,
        "hazards/sent",
        r=report_view(context, report, locale),
        followup=followup or "",
    )
    await post_cards(context, report)


async def _drop_keyboard(update: Update) -> None:
    query = update.callback_query
    if query is None:
        return
    with contextlib.suppress(TelegramError):  # already without buttons
        await query.edit_message_reply_markup(None)


def _next(draft: Draft, answered: str, had_duplicates: bool = False) -> str | None:
    return rules.next_step(answered, bool(draft.data.get("pf")), had_duplicates)


async def _advance(
    update: Update, context: LinliContext, actor: Actor, draft: Draft, step: str | None
) -> None:
    await flows.save(context, draft, step)
    await prompt(update, context, actor, draft)


async def _flow_button(
    update: Update, context: LinliContext, actor: Actor, action: str, arg: str
) -> bool:
    """A button of the report flow; only the step that shows it accepts it (else False)."""
    draft = await flows.current(context, actor.user.id)
    if draft is None or draft.flow != "report" or not rules.button_fits(action, draft.step):
        return False
    outbox.keep_off_disk(actor.user.id)  # it may end anonymous: the steps leave no trace
    await answer(update, context, actor.locale)
    if action != "send":  # a refused send keeps its button, to try again later
        await _drop_keyboard(update)
    await _FLOW_BUTTONS[action](update, context, actor, draft, arg)
    return True


async def _on_back(
    update: Update, context: LinliContext, actor: Actor, draft: Draft, arg: str
) -> None:
    await _go_back(update, context, actor, draft)


async def _on_category(
    update: Update, context: LinliContext, actor: Actor, draft: Draft, arg: str
) -> None:
    category = rules.category_by_key(categories(context.services), arg)
    if category is None:
        await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return
    draft.data.update(cat=category.key, urgent=category.urgent)
    await _advance(update, context, actor, draft, _next(draft, "category"))


async def _on_photos_done(
    update: Update, context: LinliContext, actor: Actor, draft: Draft, arg: str
) -> None:
    await _advance(update, context, actor, draft, _next(draft, "photos"))


async def _on_add_description(
    update: Update, context: LinliContext, actor: Actor, draft: Draft, arg: str
) -> None:
    await _advance(update, context, actor, draft, "description")


async def _on_new_one(
    update: Update, context: LinliContext, actor: Actor, draft: Draft, arg: str
) -> None:
    await _advance(update, context, actor, draft, _next(draft, "duplicates"))


async def _on_anonymous(
    update: Update, context: LinliContext, actor: Actor, draft: Draft, arg: str
) -> None:
    draft.data["anon"] = arg == "1"
    await _advance(update, context, actor, draft, _next(draft, "anonymous"))


async def _on_send(
    update: Update, context: LinliContext, actor: Actor, draft: Draft, arg: str
) -> None:
    await _send(update, context, actor, draft, arg == "1")


async def _on_same(
    update: Update, context: LinliContext, actor: Actor, draft: Draft, arg: str
) -> None:
    if arg.isdigit():
        await _me_too(update, context, actor, int(arg))


_FLOW_BUTTONS: dict[str, Callable[[Update, LinliContext, Actor, Draft, str], Awaitable[None]]] = {
    "back": _on_back,
    "cat": _on_category,
    "done": _on_photos_done,
    "desc": _on_add_description,
    "new": _on_new_one,
    "anon": _on_anonymous,
    "send": _on_send,
    "same": _on_same,
}


async def _me_too(update: Update, context: LinliContext, actor: Actor, report_id: int) -> None:
    services = context.services
    try:
        report = await hazards_db.add_support(
            services.db, report_id, actor.member.id, services.now()
        )
    except RefusedError as exc:
        await say_no(update, context, actor.locale, exc.refused)
        return
    await flows.end_flow(context, actor.user.id, "report")
    await reply(
        update,
        context,
        actor.locale,
        "hazards/supported",
        r=report_view(context, report, actor.locale),
    )
    await refresh_cards(context, report)


# --- Triage: a button on a card, then a short note in private.


async def _triage_button(
    update: Update, context: LinliContext, actor: Actor, action: Action, report_id: int
) -> None:
    report = await hazards_db.get_report(context.services.db, report_id)
    if report is None:
        await refuse(update, context, actor.locale, Refused("unknown_report"), FEATURE)
        return
    if not can_triage_building(actor.member, report.building_id):
        await refuse(
            update, context, actor.locale, Refused("not_triager", {"code": report.code}), FEATURE
        )
        return
    outcome = rules.decide_triage(report, action)
    if isinstance(outcome, Refused):
        await refuse(update, context, actor.locale, outcome, FEATURE)
        await refresh_cards(context, report)
        return
    name = label(context, actor.locale, f"hazards.act_{action.value}")
    markup = _note_markup(context, actor.locale, action)
    values = {"code": report.code, "action": action.value, "action_name": name}
    flow = ("triage", "note", {"rid": report.id, "act": action.value})
    if await flows.ask_privately(
        update, context, actor, flow, FEATURE, "hazards/ask_note", markup, **values
    ):
        await answer(update, context, actor.locale, "hazards/note_asked", code=report.code)


def _note_markup(context: LinliContext, locale: str, action: Action) -> InlineKeyboardMarkup:
    """No note, or cancel (a rejection must say why: no "no note" there)."""
    rows = [] if action is Action.REJECT else [[_button(context, locale, "no_note", "nn")]]
    rows.append([_button(context, locale, "cancel", "cancel")])
    return keyboard(rows)


async def on_triage_note(update: Update, context: LinliContext, actor: Actor, draft: Draft) -> None:
    """The note a triager types after pressing a card's button."""
    message = update.effective_message
    if message is None or message.text is None:
        await reply(update, context, actor.locale, "hazards/use_buttons", step="note", kind="other")
        return
    await _apply_triage(update, context, actor, draft, message.text)


def _award(context: LinliContext) -> hazards_db.Award:
    """Points for the reporter, inside the triage transaction, once per report (by key)."""
    config = context.services.config
    now = context.services.now()

    async def award(tx: Tx, report: Report) -> int:
        assert report.reporter_id is not None
        earn_rules = config.points.earn_rules(config.tz)
        credited: int = await points_db.earn(
            tx,
            member_id=report.reporter_id,
            rule="verified_report",
            reference=report.code,
            key=f"hazard:{report.id}:ack",
            rules=earn_rules,
            now=now,
        )
        if report.urgent:
            credited += await points_db.earn(
                tx,
                member_id=report.reporter_id,
                rule="urgent_bonus",
                reference=report.code,
                key=f"hazard:{report.id}:ack:urgent",
                rules=earn_rules,
                now=now,
            )
        return credited

    return award


async def _apply_triage(
    update: Update, context: LinliContext, actor: Actor, draft: Draft, raw_note: str
) -> None:
    action = Action(draft.data["act"])
    note = rules.triage_note(action, raw_note)
    if isinstance(note, Refused):
        await say_no(update, context, actor.locale, note)
        return
    report = await hazards_db.get_report(context.services.db, int(draft.data["rid"]))
    if report is None or not can_triage_building(actor.member, report.building_id):
        code = report.code if report else "?"
        await _end_triage(update, context, actor, Refused("not_triager", {"code": code}))
        return
    try:
        done = await _triage(context, actor, report, action, note)
    except RefusedError as exc:
        await _end_triage(update, context, actor, exc.refused)
        return
    await flows.end_flow(context, actor.user.id, "triage")
    view = report_view(context, done.report, actor.locale)
    await reply(update, context, actor.locale, "hazards/triaged", r=view, points=done.points)
    await refresh_cards(context, done.report)
    await _tell_reporter(context, done.report, done.points)


async def _triage(
    context: LinliContext, actor: Actor, report: Report, action: Action, note: str
) -> hazards_db.Triaged:
    services = context.services
    return await hazards_db.triage(
        services.db,
        report.id,
        action,
        actor_id=actor.member.id,
        note=note,
        now=services.now(),
        award=_award(context),
        duplicate_of=rules.duplicate_of(action, note),
    )


async def _end_triage(
    update: Update, context: LinliContext, actor: Actor, refused: Refused
) -> None:
    await flows.end_flow(context, actor.user.id, "triage")
    await say_no(update, context, actor.locale, refused)


async def _tell_reporter(context: LinliContext, report: Report, points: int) -> None:
    if report.reporter_id is None:
        return
    member = await members_db.get_member(context.services.db, report.reporter_id)
    if member is None:
        return
    locale = locale_of(member, context.services)
    await _notify(
        context,
        member,
        "hazards/status_changed",
        r=report_view(context, report, locale),
        points=points,
    )


async def _notify(
    context: LinliContext,
    member: Member,
    template: str,
    markup: InlineKeyboardMarkup | None = None,
    **values: Any,
) -> bool:
    return await notify(context, member, template, markup, **values)


# --- "Is it fixed?"


async def _followup_answer(
    update: Update, context: LinliContext, actor: Actor, fixed: bool, report_id: int
) -> None:
    services = context.services
    try:
        report = await hazards_db.answer_followup(
            services.db, report_id, actor.member.id, fixed, services.now()
        )
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, FEATURE)
        return
    await answer(update, context, actor.locale)
    await _drop_keyboard(update)
    view = report_view(context, report, actor.locale)
    await reply(update, context, actor.locale, "hazards/followup_thanks", r=view, fixed=fixed)
    if fixed:
        return
    group = services.config.organizers.group_chat_id
    if group is not None:
        default = services.config.community.default_locale
        with contextlib.suppress(TelegramError):
            await context.bot.send_message(
                group,
                text(context, default, "hazards/reopened", r=report_view(context, report, default)),
            )
    await refresh_cards(context, report)


# --- The one button router for "hz:" callbacks.


# Each route gets the unpacked data (action first) and says whether it took the button;
# anything it does not take is answered as a stale button.
Route = Callable[[Update, LinliContext, Actor, tuple[Any, ...]], Awaitable[bool]]


async def _route_triage(
    update: Update, context: LinliContext, actor: Actor, data: tuple[Any, ...]
) -> bool:
    try:
        action = Action(data[1])
    except ValueError:
        return False
    await _triage_button(update, context, actor, action, data[2])
    return True


async def _route_followup(
    update: Update, context: LinliContext, actor: Actor, data: tuple[Any, ...]
) -> bool:
    if data[1] not in ("y", "n"):
        return False
    await _followup_answer(update, context, actor, data[1] == "y", data[2])
    return True


async def _route_no_note(
    update: Update, context: LinliContext, actor: Actor, data: tuple[Any, ...]
) -> bool:
    draft = await flows.current(context, actor.user.id)
    if draft is None or draft.flow != "triage":
        return False
    await answer(update, context, actor.locale)
    await _drop_keyboard(update)
    await _apply_triage(update, context, actor, draft, "")
    return True


async def _route_cancel(
    update: Update, context: LinliContext, actor: Actor, data: tuple[Any, ...]
) -> bool:
    await _cancel(update, context, actor)
    return True


async def _route_page(
    update: Update, context: LinliContext, actor: Actor, data: tuple[Any, ...]
) -> bool:
    await _reports_page(update, context, actor, ReportFilter.decode(data[2]), max(0, data[1]))
    return True


async def _route_flow(
    update: Update, context: LinliContext, actor: Actor, data: tuple[Any, ...]
) -> bool:
    return await _flow_button(update, context, actor, data[0], data[1] if len(data) > 1 else "")


# hz:<action>:<args>: the argument types each action's data must have, and its route.
_BUTTONS: dict[str, tuple[tuple[type, ...], Route]] = {
    "t": ((str, int), _route_triage),  # hz:t:<action>:<report id>, on a triage card
    "fu": ((str, int), _route_followup),  # hz:fu:y|n:<report id>, "is it fixed?"
    "nn": ((), _route_no_note),
    "cancel": ((), _route_cancel),
    "pg": ((int, str), _route_page),  # hz:pg:<offset>:<encoded filter>
    **{action: ((str,), _route_flow) for action in ("cat", "same", "anon", "send")},
    **{action: ((), _route_flow) for action in ("back", "done", "new", "desc")},
}


async def on_button(update: Update, context: LinliContext) -> None:
    """Every hz: button: flow steps, me too, triage, notes, follow-up answers, pages."""
    actor = await load_actor(update, context)
    query = update.callback_query
    if actor is None or query is None:
        return
    route = _BUTTONS.get(callbacks.action_of(query.data, "hz") or "")
    data = callbacks.unpack(query.data, "hz", *route[0]) if route else None
    if route is None or data is None or not await route[1](update, context, actor, data):
        await answer(update, context, actor.locale, "common/stale_button", alert=True)


async def _cancel(update: Update, context: LinliContext, actor: Actor) -> None:
    draft = await flows.current(context, actor.user.id)
    await answer(update, context, actor.locale)
    await _drop_keyboard(update)
    if draft is not None and draft.flow in ("report", "triage"):
        await flows.end_flow(context, actor.user.id, draft.flow)
    await reply(update, context, actor.locale, "hazards/cancelled", ReplyKeyboardRemove())


# --- Lists.


async def on_myreports(update: Update, context: LinliContext) -> None:
    """/myreports: the member's own reports and where each stands."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    items, total = await hazards_db.reports_of_member(
        context.services.db, actor.member.id, limit=MY_REPORTS_LIMIT
    )
    await reply(
        update,
        context,
        actor.locale,
        "hazards/myreports",
        reports=[report_view(context, r, actor.locale) for r in items],
        total=total,
    )


async def on_reports(update: Update, context: LinliContext) -> None:
    """/reports [status] [category] [building]: organizers (and leaders for their building)."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    parsed = rules.parse_filter(
        list(context.args or []),
        tuple(c.key for c in categories(context.services)),
        context.services.community,
    )
    if isinstance(parsed, Refused):
        await refuse(update, context, actor.locale, parsed, FEATURE)
        return
    await _reports_page(update, context, actor, parsed, 0)


async def _reports_page(
    update: Update, context: LinliContext, actor: Actor, wanted: ReportFilter | None, offset: int
) -> None:
    if wanted is None:
        await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return
    if not actor.is_organizer:
        own = actor.member.building_id
        if not actor.has(Role.BUILDING_LEADER) or own is None:
            await refuse(update, context, actor.locale, Refused("organizers_only"), FEATURE)
            return
        wanted = ReportFilter(wanted.statuses, wanted.category, own)
    items, total = await hazards_db.list_reports(
        context.services.db,
        statuses=wanted.statuses,
        category=wanted.category,
        building_id=wanted.building_id,
        limit=PAGE_SIZE,
        offset=offset,
    )
    markup = None
    if offset + PAGE_SIZE < total:
        try:
            data = callbacks.pack("hz", "pg", offset + PAGE_SIZE, wanted.encode())
            markup = keyboard([[(label(context, actor.locale, "hazards.next_page"), data)]])
        except ValueError:
            markup = None  # a filter too long for a button: narrow it to see the rest
    await answer(update, context, actor.locale)
    await reply(
        update,
        context,
        actor.locale,
        "hazards/reports",
        markup,
        reports=[report_view(context, r, actor.locale) for r in items],
        total=total,
        offset=offset,
        statuses=[status_name(context, actor.locale, s.value) for s in wanted.statuses],
        category=category_name(context.services, wanted.category, actor.locale)
        if wanted.category
        else "",
        building=building_name(context.services, wanted.building_id, actor.locale),
    )


flows.register_flow("report", on_report_input)
flows.register_flow("triage", on_triage_note)
flows.register_fallback("photo", on_photo_first)

HANDLERS: list[BaseHandler[Any, Any, Any]] = [
    CommandHandler("report", on_report),
    CommandHandler("myreports", on_myreports),
    CommandHandler("reports", on_reports),
    CallbackQueryHandler(on_button, pattern=callbacks.pattern("hz")),
]
COMMANDS: list[CommandSpec] = [
    CommandSpec("report", FEATURE, private=True, group=True),
    CommandSpec("myreports", FEATURE),
    CommandSpec("reports", FEATURE, role=Role.ORGANIZER),
]

__all__ = ["COMMANDS", "HANDLERS", "Status", "post_cards", "refresh_cards", "start_report"]
