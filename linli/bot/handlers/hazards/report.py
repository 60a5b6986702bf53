"""Filling in a report: /report and its private flow step by step, a photo sent with no flow
(photo first), Back and Cancel. Sending it, or "me too" instead, is in send.py.

The steps may end anonymous, so every message of the flow stays off disk
(`outbox.keep_off_disk`) and nothing here logs or stores who is writing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telegram import Message, ReplyKeyboardRemove, Update

from linli.bot import flows, outbox
from linli.bot.common import Actor, Markup, answer, is_private, keyboard, label, load_actor, reply
from linli.bot.context import LinliContext
from linli.bot.handlers.hazards.shared import (
    REPORT_FLOW,
    ROUTER,
    TRIAGE_FLOW,
    drop_keyboard,
    say_no,
)
from linli.bot.views import hazards as views
from linli.core import hazards as rules
from linli.core.hazards import ReportDraft
from linli.core.outcomes import Refused
from linli.storage import hazards as hazards_db
from linli.storage.drafts import Draft


@dataclass(slots=True)
class Filling:
    """The report flow of one resident: its draft (and step), and what it holds so far."""

    draft: Draft
    report: ReportDraft

    @property
    def step(self) -> str:
        return self.draft.step


async def on_report(update: Update, context: LinliContext) -> None:
    """/report: the private flow; in a group, a link into the private chat."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    if not is_private(update):
        markup = views.private_link(context, actor.locale)
        await reply(update, context, actor.locale, "hazards/go_private", markup)
        return
    await start_report(update, context, actor)


async def start_report(update: Update, context: LinliContext, actor: Actor) -> None:
    """Start the report flow in private chat (/report, and the lead's `/start report`)."""
    await _start(update, context, actor, ReportDraft())


async def on_photo_first(update: Update, context: LinliContext, actor: Actor) -> None:
    """A photo with no flow running starts a report with it (category, location, send)."""
    message = update.effective_message
    if message is None or not message.photo:
        return
    limit = context.services.config.hazards.description_limit
    caption = rules.clean_description(message.caption, limit)
    report = ReportDraft(
        photos=[message.photo[-1].file_id],
        description=caption if isinstance(caption, str) else "",
        photo_first=True,
    )
    await _start(update, context, actor, report)


async def _start(update: Update, context: LinliContext, actor: Actor, report: ReportDraft) -> None:
    if not actor.member.joined:  # the privacy notice comes first
        await reply(update, context, actor.locale, "hazards/join_first")
        return
    outbox.keep_off_disk(actor.user.id)  # it may end anonymous: the steps leave no trace
    data = report.to_data()
    draft = await flows.start_flow(context, actor.user.id, REPORT_FLOW, "category", **data)
    await _prompt(update, context, actor, Filling(draft, report))


# --- What each step asks, with which buttons.

Ask = tuple[str, Markup, dict[str, Any]]


async def _ask_category(context: LinliContext, actor: Actor, report: ReportDraft) -> Ask:
    values = {"photo_first": report.photo_first, "photos": len(report.photos)}
    return "hazards/ask_category", views.category_markup(context, actor.locale), values


async def _ask_description(context: LinliContext, actor: Actor, report: ReportDraft) -> Ask:
    limit = context.services.config.hazards.description_limit
    markup = keyboard([views.nav_row(context, actor.locale)])
    return "hazards/ask_description", markup, {"limit": limit}


async def _ask_photos(context: LinliContext, actor: Actor, report: ReportDraft) -> Ask:
    count = len(report.photos)
    markup = views.photos_markup(context, actor.locale, count)
    return "hazards/ask_photos", markup, {"count": count, "limit": rules.MAX_PHOTOS}


async def _ask_location(context: LinliContext, actor: Actor, report: ReportDraft) -> Ask:
    markup = views.location_keyboard(context, actor.locale, actor.member.building_id)
    return "hazards/ask_location", markup, {}


async def _ask_duplicates(context: LinliContext, actor: Actor, report: ReportDraft) -> Ask:
    db, locale = context.services.db, actor.locale
    found = [r for i in report.duplicates if (r := await hazards_db.get_report(db, i)) is not None]
    shown = [views.report_view(context, r, locale) for r in found]
    return (
        "hazards/ask_duplicates",
        views.duplicates_markup(context, locale, found),
        {"reports": shown},
    )


async def _ask_anonymous(context: LinliContext, actor: Actor, report: ReportDraft) -> Ask:
    return "hazards/ask_anonymous", views.anonymous_markup(context, actor.locale), {}


async def _ask_confirm(context: LinliContext, actor: Actor, report: ReportDraft) -> Ask:
    markup = views.confirm_markup(context, actor.locale, report.anonymous)
    return "hazards/confirm", markup, {"d": views.draft_view(context, report, actor.locale)}


_ASKS: dict[str, Callable[[LinliContext, Actor, ReportDraft], Awaitable[Ask]]] = {
    "category": _ask_category,
    "description": _ask_description,
    "photos": _ask_photos,
    "location": _ask_location,
    "duplicates": _ask_duplicates,
    "anonymous": _ask_anonymous,
    "confirm": _ask_confirm,
}


async def _prompt(update: Update, context: LinliContext, actor: Actor, flow: Filling) -> None:
    """Ask for what the step needs."""
    ask = _ASKS.get(flow.step)
    if ask is not None:
        template, markup, values = await ask(context, actor, flow.report)
        await reply(update, context, actor.locale, template, markup, **values)


async def advance(
    update: Update, context: LinliContext, actor: Actor, flow: Filling, step: str | None
) -> None:
    """Keep what was given and go to `step` (None: stay), asking for what it needs."""
    flow.draft.data = flow.report.to_data()
    await flows.save(context, flow.draft, step)
    await _prompt(update, context, actor, flow)


async def _go_back(update: Update, context: LinliContext, actor: Actor, flow: Filling) -> None:
    previous = flow.report.previous_step(flow.step)
    if previous is None:  # the first step: ask it again
        await _prompt(update, context, actor, flow)
        return
    await advance(update, context, actor, flow, previous)


# --- Typed answers.


async def on_report_input(
    update: Update, context: LinliContext, actor: Actor, draft: Draft
) -> None:
    """A message while the report flow runs: what it means depends on the step."""
    outbox.keep_off_disk(actor.user.id)  # it may end anonymous: the steps leave no trace
    message = update.effective_message
    if message is None:
        return
    flow, step = Filling(draft, ReportDraft.from_data(draft.data)), draft.step
    kind = "sticker" if message.sticker else "other"
    if step == "location":
        await _location_input(update, context, actor, flow, message)
    elif step == "description" and message.text is not None:
        await _description_input(update, context, actor, flow, message.text)
    elif step in ("photos", "description") and message.photo:
        await _photo_input(update, context, actor, flow, message.photo[-1].file_id)
    elif step == "photos":
        await reply(update, context, actor.locale, "hazards/not_a_photo", kind=kind)
    else:
        await reply(update, context, actor.locale, "hazards/use_buttons", step=step, kind=kind)


async def _description_input(
    update: Update, context: LinliContext, actor: Actor, flow: Filling, typed: str
) -> None:
    cleaned = rules.clean_description(typed, context.services.config.hazards.description_limit)
    if isinstance(cleaned, Refused):
        await say_no(update, context, actor.locale, cleaned)
        return
    flow.report.description = cleaned
    await advance(update, context, actor, flow, flow.report.next_step("description"))


async def _photo_input(
    update: Update, context: LinliContext, actor: Actor, flow: Filling, photo: str
) -> None:
    if not flow.report.add_photo(photo):
        await reply(update, context, actor.locale, "hazards/photos_full", limit=rules.MAX_PHOTOS)
        return
    full = flow.step == "photos" and flow.report.photos_full
    await advance(update, context, actor, flow, flow.report.next_step("photos") if full else None)


async def _location_input(
    update: Update, context: LinliContext, actor: Actor, flow: Filling, message: Message
) -> None:
    """A map pin, "my building", an address typed in, or Back / Cancel from the keyboard."""
    if message.location is not None:
        flow.report.located(message.location.latitude, message.location.longitude)
    elif message.text is None:
        kind = "sticker" if message.sticker else "other"
        await reply(
            update, context, actor.locale, "hazards/use_buttons", step="location", kind=kind
        )
        return
    elif not await _typed_location(update, context, actor, flow, message.text.strip()):
        return
    await _after_location(update, context, actor, flow)


async def _typed_location(
    update: Update, context: LinliContext, actor: Actor, flow: Filling, typed: str
) -> bool:
    """True if the text placed the report; else it was Back, Cancel, or refused."""
    locale, building = actor.locale, actor.member.building_id
    if typed in (label(context, locale, "hazards.back"), label(context, locale, "hazards.cancel")):
        await _back_or_cancel(update, context, actor, flow, typed)
        return False
    if building and typed == views.my_building_label(context, locale, building):
        flow.report.in_building(building)
        return True
    address = rules.clean_address(typed)
    if isinstance(address, Refused):
        await say_no(update, context, locale, address)
        return False
    flow.report.at_address(address, rules.match_building(address, context.services.community))
    return True


async def _back_or_cancel(
    update: Update, context: LinliContext, actor: Actor, flow: Filling, typed: str
) -> None:
    """The location keyboard's ◀ Back and ✖ Cancel (typed answers, not buttons)."""
    if typed == label(context, actor.locale, "hazards.cancel"):
        await _end(update, context, actor, REPORT_FLOW)
        return
    await reply(update, context, actor.locale, "hazards/location_noted", ReplyKeyboardRemove())
    await _go_back(update, context, actor, flow)


async def _after_location(
    update: Update, context: LinliContext, actor: Actor, flow: Filling
) -> None:
    """Location known: offer open reports that look the same, else go on."""
    await reply(update, context, actor.locale, "hazards/location_noted", ReplyKeyboardRemove())
    services, new = context.services, flow.report.new_report(anonymous=False)
    radius = services.config.hazards.duplicate_radius_m
    found = await hazards_db.find_duplicates(services.db, new, radius)
    flow.report.duplicates = [r.id for r in found]
    await advance(update, context, actor, flow, flow.report.next_step("location"))


# --- Buttons of the flow: each fits only the step that shows it (else it is stale).


async def in_step(
    update: Update, context: LinliContext, actor: Actor, pressed: object
) -> Filling | None:
    """The flow, if the pressed button fits its step (the tap answered); else None (stale)."""
    draft = await flows.current(context, actor.user.id)
    action = getattr(type(pressed), "ACTION", "")
    if draft is None or draft.flow != REPORT_FLOW or not rules.button_fits(action, draft.step):
        await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return None
    outbox.keep_off_disk(actor.user.id)  # it may end anonymous: the steps leave no trace
    await answer(update, context, actor.locale)
    if not isinstance(pressed, views.Send):  # a refused send keeps its button, to try later
        await drop_keyboard(update)
    return Filling(draft, ReportDraft.from_data(draft.data))


@ROUTER.on(views.ChooseCategory)
async def on_category(
    update: Update, context: LinliContext, actor: Actor, pressed: views.ChooseCategory
) -> None:
    """A category: on to the description (photo first: the location)."""
    if (flow := await in_step(update, context, actor, pressed)) is None:
        return
    category = rules.category_by_key(views.categories(context.services), pressed.key)
    if category is None:
        await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return
    flow.report.choose(category)
    await advance(update, context, actor, flow, flow.report.next_step("category"))


@ROUTER.on(views.Back)
async def on_back(update: Update, context: LinliContext, actor: Actor, pressed: views.Back) -> None:
    """◀ Back: the previous step."""
    if (flow := await in_step(update, context, actor, pressed)) is not None:
        await _go_back(update, context, actor, flow)


@ROUTER.on(views.PhotosDone)
async def on_photos_done(
    update: Update, context: LinliContext, actor: Actor, pressed: views.PhotosDone
) -> None:
    """Done (or Skip) with photos."""
    if (flow := await in_step(update, context, actor, pressed)) is not None:
        await advance(update, context, actor, flow, flow.report.next_step("photos"))


@ROUTER.on(views.AddDescription)
async def on_add_description(
    update: Update, context: LinliContext, actor: Actor, pressed: views.AddDescription
) -> None:
    """Photo first: a description after all, then back to the confirm screen."""
    if (flow := await in_step(update, context, actor, pressed)) is not None:
        await advance(update, context, actor, flow, "description")


@ROUTER.on(views.NewOne)
async def on_new_one(
    update: Update, context: LinliContext, actor: Actor, pressed: views.NewOne
) -> None:
    """None of the look-alikes: go on with a new report."""
    if (flow := await in_step(update, context, actor, pressed)) is not None:
        await advance(update, context, actor, flow, flow.report.next_step("duplicates"))


@ROUTER.on(views.ChooseAnonymous)
async def on_anonymous(
    update: Update, context: LinliContext, actor: Actor, pressed: views.ChooseAnonymous
) -> None:
    """Under my name, or anonymously."""
    if (flow := await in_step(update, context, actor, pressed)) is None:
        return
    flow.report.anonymous = pressed.anonymous
    await advance(update, context, actor, flow, flow.report.next_step("anonymous"))


@ROUTER.on(views.Cancel)
async def on_cancel(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Cancel
) -> None:
    """✖ Cancel: ends the report flow, or a triage note not written yet."""
    draft = await flows.current(context, actor.user.id)
    await answer(update, context, actor.locale)
    await drop_keyboard(update)
    flow = draft.flow if draft is not None and draft.flow in (REPORT_FLOW, TRIAGE_FLOW) else None
    await _end(update, context, actor, flow)


async def _end(update: Update, context: LinliContext, actor: Actor, flow: str | None) -> None:
    if flow is not None:
        await flows.end_flow(context, actor.user.id, flow)
    await reply(update, context, actor.locale, "hazards/cancelled", ReplyKeyboardRemove())
