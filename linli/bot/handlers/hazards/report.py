"""Reporting a hazard: /report and its private flow, a photo sent with no flow (photo first),
"me too" instead of a duplicate, sending (under my name or anonymously), cancelling.

The steps may end anonymous, so every message of the flow stays off disk
(`outbox.keep_off_disk`) and nothing here logs or stores who is writing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
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
from linli.core.hazards import Report, ReportDraft
from linli.core.outcomes import Refused, RefusedError
from linli.storage import hazards as hazards_db
from linli.storage.drafts import Draft

# The hourly limit of both kinds of report: in the application's memory only (see
# core.hazards.ReportQuota), forgotten on restart except for the named ones on disk.
_QUOTA = "hazards.report_quota"


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
    await _prompt(update, context, actor, draft.step, report)


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


async def _prompt(
    update: Update, context: LinliContext, actor: Actor, step: str, report: ReportDraft
) -> None:
    """Ask for what the step needs."""
    ask = _ASKS.get(step)
    if ask is not None:
        template, markup, values = await ask(context, actor, report)
        await reply(update, context, actor.locale, template, markup, **values)


async def _advance(
    update: Update,
    context: LinliContext,
    actor: Actor,
    draft: Draft,
    report: ReportDraft,
    step: str | None,
) -> None:
    """Keep what was given and go to `step` (None: stay), asking for what it needs."""
    draft.data = report.to_data()
    await flows.save(context, draft, step)
    await _prompt(update, context, actor, draft.step, report)


async def _go_back(
    update: Update, context: LinliContext, actor: Actor, draft: Draft, report: ReportDraft
) -> None:
    previous = report.previous_step(draft.step)
    if previous is None:  # the first step: ask it again
        await _prompt(update, context, actor, draft.step, report)
        return
    await _advance(update, context, actor, draft, report, previous)


# --- Typed answers.


async def on_report_input(
    update: Update, context: LinliContext, actor: Actor, draft: Draft
) -> None:
    """A message while the report flow runs: what it means depends on the step."""
    outbox.keep_off_disk(actor.user.id)  # it may end anonymous: the steps leave no trace
    message = update.effective_message
    if message is None:
        return
    report, step = ReportDraft.from_data(draft.data), draft.step
    kind = "sticker" if message.sticker else "other"
    if step == "location":
        await _location_input(update, context, actor, draft, report, message)
    elif step == "description" and message.text is not None:
        await _description_input(update, context, actor, draft, report, message.text)
    elif step in ("photos", "description") and message.photo:
        await _photo_input(update, context, actor, draft, report, message.photo[-1].file_id)
    elif step == "photos":
        await reply(update, context, actor.locale, "hazards/not_a_photo", kind=kind)
    else:
        await reply(update, context, actor.locale, "hazards/use_buttons", step=step, kind=kind)


async def _description_input(
    update: Update,
    context: LinliContext,
    actor: Actor,
    draft: Draft,
    report: ReportDraft,
    typed: str,
) -> None:
    cleaned = rules.clean_description(typed, context.services.config.hazards.description_limit)
    if isinstance(cleaned, Refused):
        await say_no(update, context, actor.locale, cleaned)
        return
    report.description = cleaned
    await _advance(update, context, actor, draft, report, report.next_step("description"))


async def _photo_input(
    update: Update,
    context: LinliContext,
    actor: Actor,
    draft: Draft,
    report: ReportDraft,
    photo: str,
) -> None:
    if not report.add_photo(photo):
        await reply(update, context, actor.locale, "hazards/photos_full", limit=rules.MAX_PHOTOS)
        return
    full = draft.step == "photos" and report.photos_full
    await _advance(
        update, context, actor, draft, report, report.next_step("photos") if full else None
    )


async def _location_input(
    update: Update,
    context: LinliContext,
    actor: Actor,
    draft: Draft,
    report: ReportDraft,
    message: Message,
) -> None:
    """A map pin, "my building", an address typed in, or Back / Cancel from the keyboard."""
    if message.location is not None:
        report.located(message.location.latitude, message.location.longitude)
    elif message.text is None:
        kind = "sticker" if message.sticker else "other"
        await reply(
            update, context, actor.locale, "hazards/use_buttons", step="location", kind=kind
        )
        return
    elif not await _typed_location(update, context, actor, draft, report, message.text.strip()):
        return
    await _after_location(update, context, actor, draft, report)


async def _typed_location(
    update: Update,
    context: LinliContext,
    actor: Actor,
    draft: Draft,
    report: ReportDraft,
    typed: str,
) -> bool:
    """True if the text placed the report; else it was Back, Cancel, or refused."""
    locale, building = actor.locale, actor.member.building_id
    if typed == label(context, locale, "hazards.back"):
        await reply(update, context, locale, "hazards/location_noted", ReplyKeyboardRemove())
        await _go_back(update, context, actor, draft, report)
        return False
    if typed == label(context, locale, "hazards.cancel"):
        await _end(update, context, actor, REPORT_FLOW)
        return False
    if building and typed == views.my_building_label(context, locale, building):
        report.in_building(building)
        return True
    address = rules.clean_address(typed)
    if isinstance(address, Refused):
        await say_no(update, context, locale, address)
        return False
    report.at_address(address, rules.match_building(address, context.services.community))
    return True


async def _after_location(
    update: Update, context: LinliContext, actor: Actor, draft: Draft, report: ReportDraft
) -> None:
    """Location known: offer open reports that look the same, else go on."""
    await reply(update, context, actor.locale, "hazards/location_noted", ReplyKeyboardRemove())
    radius = context.services.config.hazards.duplicate_radius_m
    found = await hazards_db.find_duplicates(
        context.services.db, report.new_report(anonymous=False), radius
    )
    report.duplicates = [r.id for r in found]
    await _advance(update, context, actor, draft, report, report.next_step("location"))


# --- Buttons of the flow: each fits only the step that shows it (else it is stale).


async def _in_step(
    update: Update, context: LinliContext, actor: Actor, pressed: object
) -> tuple[Draft, ReportDraft] | None:
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
    return draft, ReportDraft.from_data(draft.data)


@ROUTER.on(views.ChooseCategory)
async def on_category(
    update: Update, context: LinliContext, actor: Actor, pressed: views.ChooseCategory
) -> None:
    """A category: on to the description (photo first: the location)."""
    if (flow := await _in_step(update, context, actor, pressed)) is None:
        return
    draft, report = flow
    category = rules.category_by_key(views.categories(context.services), pressed.key)
    if category is None:
        await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return
    report.choose(category)
    await _advance(update, context, actor, draft, report, report.next_step("category"))


@ROUTER.on(views.Back)
async def on_back(update: Update, context: LinliContext, actor: Actor, pressed: views.Back) -> None:
    """◀ Back: the previous step."""
    if (flow := await _in_step(update, context, actor, pressed)) is not None:
        await _go_back(update, context, actor, *flow)


@ROUTER.on(views.PhotosDone)
async def on_photos_done(
    update: Update, context: LinliContext, actor: Actor, pressed: views.PhotosDone
) -> None:
    """Done (or Skip) with photos."""
    if (flow := await _in_step(update, context, actor, pressed)) is not None:
        await _advance(update, context, actor, *flow, flow[1].next_step("photos"))


@ROUTER.on(views.AddDescription)
async def on_add_description(
    update: Update, context: LinliContext, actor: Actor, pressed: views.AddDescription
) -> None:
    """Photo first: a description after all, then back to the confirm screen."""
    if (flow := await _in_step(update, context, actor, pressed)) is not None:
        await _advance(update, context, actor, *flow, "description")


@ROUTER.on(views.NewOne)
async def on_new_one(
    update: Update, context: LinliContext, actor: Actor, pressed: views.NewOne
) -> None:
    """None of the look-alikes: go on with a new report."""
    if (flow := await _in_step(update, context, actor, pressed)) is not None:
        await _advance(update, context, actor, *flow, flow[1].next_step("duplicates"))


@ROUTER.on(views.ChooseAnonymous)
async def on_anonymous(
    update: Update, context: LinliContext, actor: Actor, pressed: views.ChooseAnonymous
) -> None:
    """Under my name, or anonymously."""
    if (flow := await _in_step(update, context, actor, pressed)) is None:
        return
    draft, report = flow
    report.anonymous = pressed.anonymous
    await _advance(update, context, actor, draft, report, report.next_step("anonymous"))


@ROUTER.on(views.MeToo)
async def on_me_too(
    update: Update, context: LinliContext, actor: Actor, pressed: views.MeToo
) -> None:
    """👍 Me too: support the open report instead of filing a duplicate; the flow ends."""
    if await _in_step(update, context, actor, pressed) is None:
        return
    services = context.services
    try:
        report = await hazards_db.add_support(
            services.db, pressed.report_id, actor.member.id, services.now()
        )
    except RefusedError as exc:
        await say_no(update, context, actor.locale, exc.refused)
        return
    await flows.end_flow(context, actor.user.id, REPORT_FLOW)
    view = views.report_view(context, report, actor.locale)
    await reply(update, context, actor.locale, "hazards/supported", r=view)
    await views.refresh_cards(context, report)


@ROUTER.on(views.Send)
async def on_send(update: Update, context: LinliContext, actor: Actor, pressed: views.Send) -> None:
    """✅ Send: the report is filed, its cards go to the organizers and the building's leaders."""
    if (flow := await _in_step(update, context, actor, pressed)) is None:
        return
    if not pressed.anonymous:  # under their name: the confirmation is promised, so recorded
        outbox.keep_on_disk(actor.user.id)
    filed = await _file(context, actor, *flow, anonymous=pressed.anonymous)
    if isinstance(filed, Refused):
        await say_no(update, context, actor.locale, filed)
        return
    report, followup = filed
    await drop_keyboard(update)
    view = views.report_view(context, report, actor.locale)
    await reply(update, context, actor.locale, "hazards/sent", r=view, followup=followup)
    await views.post_cards(context, report)


async def _file(
    context: LinliContext, actor: Actor, draft: Draft, report: ReportDraft, *, anonymous: bool
) -> tuple[Report, str] | Refused:
    """Save the report within the hourly limit; with an anonymous one's follow-up code."""
    services, quota = context.services, await _quota(context, actor)
    per_hour = services.config.hazards.max_reports_per_hour
    if (refused := quota.check(actor.user.id, services.now(), per_hour)) is not None:
        return refused
    followup = rules.new_followup_code() if anonymous else ""
    try:
        filed = await hazards_db.create_report(
            services.db, report.new_report(anonymous=anonymous),
            reporter_id=None if anonymous else actor.member.id, ending=draft, now=services.now(),
            followup_hash=rules.followup_hash(followup) if anonymous else None,
        )  # fmt: skip
    except RefusedError as exc:
        return exc.refused
    quota.record(actor.user.id, services.now())
    if anonymous:  # the finished draft's old pages leave the log file now
        await hazards_db.checkpoint(services.db)
    return filed, followup


async def _quota(context: LinliContext, actor: Actor) -> rules.ReportQuota:
    """This process's counter; a sender it does not know yet starts from their named reports."""
    quota: rules.ReportQuota = context.bot_data.setdefault(_QUOTA, rules.ReportQuota())
    if not quota.knows(actor.user.id):
        since = context.services.now() - rules.HOUR
        named = await hazards_db.named_report_times(context.services.db, actor.member.id, since)
        quota.seed(actor.user.id, named)
    return quota


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
