"""Offers (能人): /offer (category -> title -> description -> payment -> price -> when ->
who sees it -> post), /services, /myoffers, asking, accepting, approval and take-downs."""

from __future__ import annotations

from collections.abc import Callable

from telegram import Update

from linli.bot import flows
from linli.bot.common import (
    Actor,
    answer,
    building_label,
    edit_card,
    load_actor,
    locale_of,
    notify,
    organizer_or_refuse,
    post,
    refuse,
    reply,
    text,
)
from linli.bot.context import LinliContext
from linli.bot.handlers.directory import after
from linli.bot.handlers.directory.shared import (
    FEATURE,
    ROUTER,
    introduce,
    member,
    require_home,
    where,
)
from linli.bot.views import directory as views
from linli.core.directory import (
    REASON_MAX,
    Offer,
    OfferDraft,
    OfferStatus,
    OfferStep,
    Payment,
    Visibility,
    buildings_nearest_first,
    clean_text,
)
from linli.core.outcomes import Refused, RefusedError
from linli.storage import directory as directory_db
from linli.storage import drafts as drafts_db
from linli.storage.drafts import Draft

_ASK = {
    OfferStep.TITLE: "directory/ask_title",
    OfferStep.DESCRIPTION: "directory/ask_description",
    OfferStep.PAYMENT: "directory/ask_payment",
    OfferStep.PRICE: "directory/ask_price",
    OfferStep.AVAILABLE: "directory/ask_available",
    OfferStep.VISIBILITY: "directory/ask_visibility",
    OfferStep.CONFIRM: "directory/offer_preview",
}


async def on_offer(update: Update, context: LinliContext) -> None:
    """/offer: post a service for neighbours; first, its category."""
    actor = await load_actor(update, context)
    if actor is None or not await require_home(update, context, actor):
        return
    await flows.start_flow(context, actor.user.id, views.OFFER_FLOW, "category",
                           **OfferDraft().to_data())  # fmt: skip
    await reply(update, context, actor.locale, "directory/ask_category",
                views.categories_markup(context, actor.locale, draft=True), need=False)  # fmt: skip


async def _ask_next(update: Update, context: LinliContext, actor: Actor, d: OfferDraft) -> None:
    markups = {
        OfferStep.PAYMENT: views.payment_markup(context, actor.locale),
        OfferStep.VISIBILITY: views.visibility_markup(context, actor.locale),
        OfferStep.CONFIRM: views.confirm_markup(context, actor.locale),
    }
    name = views.category_name(context.services, actor.locale, d.category)
    await reply(update, context, actor.locale, _ASK[d.step], markups.get(d.step),
                draft=d, category=name)  # fmt: skip


async def _save(context: LinliContext, draft: Draft, d: OfferDraft) -> None:
    draft.data = d.to_data()
    await flows.save(context, draft, d.step.value)


async def _offer_draft(context: LinliContext, actor: Actor) -> tuple[Draft, OfferDraft] | None:
    draft = await drafts_db.get_draft(context.services.db, actor.user.id)
    if draft is None or draft.flow != views.OFFER_FLOW:
        return None
    return draft, OfferDraft.from_data(draft.data)


async def on_offer_input(update: Update, context: LinliContext, actor: Actor, draft: Draft) -> None:
    """A typed answer to the offer's current question."""
    message = update.effective_message
    current = OfferDraft.from_data(draft.data)
    following = current.with_text(message.text if message and message.text else "")
    if isinstance(following, Refused):
        await refuse(update, context, actor.locale, following, FEATURE)
        return
    await _save(context, draft, following)
    await _ask_next(update, context, actor, following)


@ROUTER.on(views.DraftCategory)
async def on_category(
    update: Update, context: LinliContext, actor: Actor, pressed: views.DraftCategory
) -> None:
    """The category of a new offer (or need, in requests.py's flow)."""
    if pressed.category not in views.service_keys(context.services):
        await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return
    if pressed.need:
        await flows.start_flow(context, actor.user.id, views.NEED_FLOW, "text",
                               category=pressed.category)  # fmt: skip
        await answer(update, context, actor.locale)
        await edit_card(update, text(context, actor.locale, "directory/ask_need_text",
                        category=views.category_name(context.services, actor.locale, pressed.category)))  # fmt: skip
        return
    await _step(update, context, actor, lambda d: d.with_category(pressed.category),
                OfferStep.CATEGORY)  # fmt: skip


async def _step(update: Update, context: LinliContext, actor: Actor,
                change: Callable[[OfferDraft], OfferDraft], expected: OfferStep) -> None:  # fmt: skip
    found = await _offer_draft(context, actor)
    if found is None or found[1].step is not expected:
        await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return
    following = change(found[1])
    await _save(context, found[0], following)
    await answer(update, context, actor.locale)
    await _ask_next(update, context, actor, following)


@ROUTER.on(views.DraftPayment)
async def on_payment(
    update: Update, context: LinliContext, actor: Actor, pressed: views.DraftPayment
) -> None:
    """有偿 / 低偿 / 无偿."""
    if pressed.payment not in Payment._value2member_map_:
        await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return
    await _step(update, context, actor, lambda d: d.with_payment(Payment(pressed.payment)),
                OfferStep.PAYMENT)  # fmt: skip


@ROUTER.on(views.DraftVisibility)
async def on_visibility(
    update: Update, context: LinliContext, actor: Actor, pressed: views.DraftVisibility
) -> None:
    """Who sees the offer: the building, the compound or the community."""
    if pressed.visibility not in Visibility._value2member_map_:
        await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return
    change = lambda d: d.with_visibility(Visibility(pressed.visibility))  # noqa: E731
    await _step(update, context, actor, change, OfferStep.VISIBILITY)


@ROUTER.on(views.Post)
async def on_post(update: Update, context: LinliContext, actor: Actor, pressed: views.Post) -> None:
    """Post the drafted offer (to the organizers for approval first, if the community wants)."""
    services, found = context.services, await _offer_draft(context, actor)
    if found is None or not found[1].complete:
        await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return
    section = services.config.directory
    try:
        offer = await directory_db.create_offer(
            services.db, actor.member.id, actor.member.building_id, found[1],
            needs_approval=section.approve_offers, per_day=section.offers_per_day, now=services.now(),
        )  # fmt: skip
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, FEATURE)
        return
    await flows.end_flow(context, actor.user.id, views.OFFER_FLOW)
    await answer(update, context, actor.locale)
    await edit_card(update, text(context, actor.locale, "directory/offer_posted", offer=offer))
    await _tell_organizers(context, offer, "directory/offer_card")


async def _tell_organizers(context: LinliContext, offer: Offer, template: str) -> None:
    services = context.services
    group = services.config.organizers.group_chat_id
    locale = services.config.community.default_locale
    if group is None:
        return
    await post(context, group, locale, template, views.staff_markup(context, locale, offer),
               offer=offer, place=building_label(services, locale, offer.building_id),
               category=views.category_name(services, locale, offer.category))  # fmt: skip


@ROUTER.on(views.Drop)
async def on_drop(update: Update, context: LinliContext, actor: Actor, pressed: views.Drop) -> None:
    """Throw the draft away."""
    await flows.end_flow(context, actor.user.id, views.OFFER_FLOW)
    await answer(update, context, actor.locale)
    await edit_card(update, text(context, actor.locale, "directory/dropped"))


async def on_services(update: Update, context: LinliContext) -> None:
    """/services [category]: categories, or a category's offers nearest building first."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    wanted = context.args[0].lower() if context.args else ""
    if wanted == "admin":
        await after.show_thanks(update, context, actor)
        return
    if wanted not in views.service_keys(context.services):
        await reply(update, context, actor.locale, "directory/services_pick",
                    views.categories_markup(context, actor.locale), unknown=wanted)  # fmt: skip
        return
    await _show_offers(update, context, actor, wanted)


@ROUTER.on(views.Browse)
async def on_browse(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Browse
) -> None:
    """A category picked from /services."""
    await answer(update, context, actor.locale)
    await _show_offers(update, context, actor, pressed.category)


async def _show_offers(update: Update, context: LinliContext, actor: Actor, category: str) -> None:
    services, home = context.services, actor.member.building_id
    order = buildings_nearest_first(services.community, home)
    offers = await directory_db.browse(services.db, category, home, order, services.community)
    places = {o.id: building_label(services, actor.locale, o.building_id) for o in offers}
    await reply(update, context, actor.locale, "directory/offers",
                views.offers_markup(context, actor.locale, offers), offers=offers, places=places,
                category=views.category_name(services, actor.locale, category))  # fmt: skip


@ROUTER.on(views.Ask)
async def on_ask(update: Update, context: LinliContext, actor: Actor, pressed: views.Ask) -> None:
    """A resident asks for an offered service: the provider gets Accept / Decline."""
    services = context.services
    try:
        match, offer = await directory_db.ask(
            services.db, pressed.offer_id, actor.member.id, actor.member.building_id,
            services.community, per_day=services.config.directory.asks_per_day, now=services.now(),
        )  # fmt: skip
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, FEATURE)
        return
    provider = await member(context, offer.member_id)
    await answer(update, context, actor.locale, "directory/asked", alert=True, offer=offer)
    if provider is not None:
        locale = locale_of(provider, services)
        await notify(context, provider, "directory/request_for_you",
                     views.answer_markup(context, locale, match), offer=offer,
                     place=where(context, locale, actor.member))  # fmt: skip


@ROUTER.on(views.Accept)
async def on_accept(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Accept
) -> None:
    """The provider accepts: both are introduced."""
    await _answer(update, context, actor, pressed.match_id, accept=True)


@ROUTER.on(views.Decline)
async def on_decline(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Decline
) -> None:
    """The provider declines: the requester is told, nobody learns anyone's account."""
    await _answer(update, context, actor, pressed.match_id, accept=False)


async def _answer(
    update: Update, context: LinliContext, actor: Actor, match_id: int, *, accept: bool
) -> None:
    services = context.services
    try:
        match = await directory_db.answer(services.db, match_id, actor.member.id, accept=accept,
                                          now=services.now())  # fmt: skip
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, FEATURE)
        return
    await answer(update, context, actor.locale)
    await edit_card(update, text(context, actor.locale, "directory/answered", match=match,
                                 accepted=accept))  # fmt: skip
    if accept:
        await introduce(context, match)
    elif (requester := await member(context, match.requester_id)) is not None:
        await notify(context, requester, "directory/declined", match=match)


async def on_myoffers(update: Update, context: LinliContext) -> None:
    """/myoffers: my offers with pause, resume, withdraw, and hide them all."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    offers = await directory_db.member_offers(context.services.db, actor.member.id)
    out = await directory_db.opted_out(context.services.db, actor.member.id)
    await reply(update, context, actor.locale, "directory/my_offers",
                views.my_offers_markup(context, actor.locale, offers), offers=offers)  # fmt: skip
    if offers:
        await reply(update, context, actor.locale, "directory/notices_setting",
                    views.optout_markup(context, actor.locale, out), out=out)  # fmt: skip


@ROUTER.on(views.SetStatus)
async def on_set_status(
    update: Update, context: LinliContext, actor: Actor, pressed: views.SetStatus
) -> None:
    """Pause, resume, withdraw (the provider); approve (an organizer)."""
    services = context.services
    if pressed.status not in OfferStatus._value2member_map_:
        await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return
    try:
        offer = await directory_db.set_offer_status(
            services.db, pressed.offer_id, OfferStatus(pressed.status), actor_id=actor.member.id,
            organizer=actor.is_organizer, now=services.now(),
        )  # fmt: skip
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, FEATURE)
        return
    await answer(update, context, actor.locale, "directory/status_set", offer=offer)
    if offer.member_id != actor.member.id and (provider := await member(context, offer.member_id)):
        await notify(context, provider, "directory/offer_status_notice", offer=offer)
        await edit_card(update, text(context, actor.locale, "directory/status_set", offer=offer))
        return
    offers = await directory_db.member_offers(services.db, actor.member.id)
    await edit_card(update, text(context, actor.locale, "directory/my_offers", offers=offers),
                    views.my_offers_markup(context, actor.locale, offers))  # fmt: skip


@ROUTER.on(views.HideAll)
async def on_hide_all(
    update: Update, context: LinliContext, actor: Actor, pressed: views.HideAll
) -> None:
    """Pause every offer of mine at once."""
    hidden = await directory_db.hide_all(context.services.db, actor.member.id)
    offers = await directory_db.member_offers(context.services.db, actor.member.id)
    await answer(update, context, actor.locale, "directory/hidden_all", hidden=hidden)
    await edit_card(update, text(context, actor.locale, "directory/my_offers", offers=offers),
                    views.my_offers_markup(context, actor.locale, offers))  # fmt: skip


@ROUTER.on(views.TakeDown)
async def on_take_down(
    update: Update, context: LinliContext, actor: Actor, pressed: views.TakeDown
) -> None:
    """An organizer takes an offer down: the reason is asked privately."""
    if not await organizer_or_refuse(update, context, actor, FEATURE):
        return
    flow = (views.TAKEDOWN_FLOW, "reason", {"offer_id": pressed.offer_id})
    if await flows.ask_privately(update, context, actor, flow, FEATURE, "directory/ask_reason"):
        await answer(update, context, actor.locale)


async def on_reason(update: Update, context: LinliContext, actor: Actor, draft: Draft) -> None:
    """The take-down's reason: the offer is down, the provider is told why."""
    message, services = update.effective_message, context.services
    reason = clean_text(message.text if message and message.text else "", REASON_MAX, what="reason")
    if isinstance(reason, Refused):
        await refuse(update, context, actor.locale, reason, FEATURE)
        return
    try:
        offer = await directory_db.set_offer_status(
            services.db, int(draft.data.get("offer_id", 0)), OfferStatus.TAKEN_DOWN,
            actor_id=actor.member.id, organizer=actor.is_organizer, now=services.now(), reason=reason,
        )  # fmt: skip
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, FEATURE)
        return
    await flows.end_flow(context, actor.user.id, views.TAKEDOWN_FLOW)
    await reply(update, context, actor.locale, "directory/status_set", offer=offer)
    if (provider := await member(context, offer.member_id)) is not None:
        await notify(context, provider, "directory/offer_status_notice", offer=offer)


@ROUTER.on(views.Report)
async def on_report(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Report
) -> None:
    """A member reports an offer: the organizers get its card with Take down."""
    offer = await directory_db.get_offer(context.services.db, pressed.offer_id)
    if offer is None:
        await refuse(update, context, actor.locale, Refused("unknown_offer"), FEATURE)
        return
    await answer(update, context, actor.locale, "directory/reported", alert=True)
    await _tell_organizers(context, offer, "directory/offer_reported")


flows.register_flow(views.OFFER_FLOW, on_offer_input)
flows.register_flow(views.TAKEDOWN_FLOW, on_reason)
