"""Requests for help (求助): /need (category -> text -> when), /needs, "I can help",
choosing a helper, and providers' notices (at most once a day, opt-out)."""

from __future__ import annotations

from telegram import Update

from linli.bot import flows
from linli.bot.common import Actor, answer, edit_card, load_actor, locale_of, notify, refuse, reply
from linli.bot.common import text as render
from linli.bot.context import LinliContext
from linli.bot.handlers.directory.shared import (
    FEATURE,
    ROUTER,
    introduce,
    member,
    require_home,
    where,
)
from linli.bot.views import directory as views
from linli.core.directory import HelpRequest, NeedDraft
from linli.core.outcomes import Refused, RefusedError
from linli.storage import directory as directory_db
from linli.storage.drafts import Draft


async def on_need(update: Update, context: LinliContext) -> None:
    """/need: ask neighbours for help; first, what kind."""
    actor = await load_actor(update, context)
    if actor is None or not await require_home(update, context, actor):
        return
    await reply(update, context, actor.locale, "directory/ask_category",
                views.categories_markup(context, actor.locale, draft=True, need=True), need=True)  # fmt: skip


async def on_need_input(update: Update, context: LinliContext, actor: Actor, draft: Draft) -> None:
    """The need's text, then when; then it is posted and providers are told."""
    message, services = update.effective_message, context.services
    got = NeedDraft.from_data(draft.data).answer(message.text if message and message.text else "")
    if isinstance(got, Refused):
        await refuse(update, context, actor.locale, got, FEATURE)
        return
    if isinstance(got, NeedDraft):
        draft.data = got.to_data()
        await flows.save(context, draft, "when")
        await reply(update, context, actor.locale, "directory/ask_need_when")
        return
    category = NeedDraft.from_data(draft.data).category
    try:
        req = await directory_db.create_request(
            services.db, actor.member.id, actor.member.building_id, category, got[0], got[1],
            per_day=services.config.directory.requests_per_day, now=services.now(),
        )  # fmt: skip
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, FEATURE)
        return
    await flows.end_flow(context, actor.user.id, views.NEED_FLOW)
    told = await _tell_providers(context, req, actor)
    await reply(update, context, actor.locale, "directory/need_posted", req=req, told=told)


async def _tell_providers(context: LinliContext, req: HelpRequest, actor: Actor) -> int:
    """Providers of the category who could serve the requester, at most once a day each."""
    services = context.services
    day = services.now().astimezone(services.config.tz).date().isoformat()
    told = 0
    for provider_id in await directory_db.providers_to_tell(
        services.db, req, services.community, day
    ):
        provider = await member(context, provider_id)
        if provider is None:
            continue
        locale = locale_of(provider, services)
        markup = views.requests_markup(context, locale, [req])
        told += await notify(context, provider, "directory/need_notice", markup, req=req,
                             place=where(context, locale, actor.member),
                             category=views.category_name(services, locale, req.category))  # fmt: skip
    return told


async def on_needs(update: Update, context: LinliContext) -> None:
    """/needs: open requests around me, each with "I can help"."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    services = context.services
    reqs = await directory_db.open_requests(services.db, services.community,
                                            actor.member.building_id)  # fmt: skip
    names = {r.id: views.category_name(services, actor.locale, r.category) for r in reqs}
    await reply(update, context, actor.locale, "directory/needs",
                views.requests_markup(context, actor.locale, reqs), reqs=reqs, names=names)  # fmt: skip


@ROUTER.on(views.Help)
async def on_help(update: Update, context: LinliContext, actor: Actor, pressed: views.Help) -> None:
    """ "I can help": the requester gets a Choose button (no account shown yet)."""
    services = context.services
    try:
        match, req = await directory_db.offer_help(services.db, pressed.request_id,
                                                   actor.member.id, services.now())  # fmt: skip
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, FEATURE)
        return
    await answer(update, context, actor.locale, "directory/help_offered", alert=True, req=req)
    requester = await member(context, req.member_id)
    if requester is not None:
        locale = locale_of(requester, services)
        await notify(context, requester, "directory/helper_found",
                     views.choose_markup(context, locale, match), req=req,
                     place=where(context, locale, actor.member))  # fmt: skip


@ROUTER.on(views.Choose)
async def on_choose(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Choose
) -> None:
    """The requester chooses a helper: they are introduced; the others are thanked."""
    services = context.services
    try:
        chosen, *others = await directory_db.choose(services.db, pressed.match_id,
                                                    actor.member.id, services.now())  # fmt: skip
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, FEATURE)
        return
    await answer(update, context, actor.locale)
    await edit_card(update, render(context, actor.locale, "directory/chosen", match=chosen))
    await introduce(context, chosen)
    for other in others:
        if (helper := await member(context, other.provider_id)) is not None:
            await notify(context, helper, "directory/not_chosen", match=other)


@ROUTER.on(views.OptOut)
async def on_optout(
    update: Update, context: LinliContext, actor: Actor, pressed: views.OptOut
) -> None:
    """Stop (or resume) notices of neighbours' requests."""
    await directory_db.set_optout(context.services.db, actor.member.id, pressed.out)
    await answer(update, context, actor.locale)
    await edit_card(update, render(context, actor.locale, "directory/notices_setting", out=pressed.out),
                    views.optout_markup(context, actor.locale, pressed.out))  # fmt: skip


flows.register_flow(views.NEED_FLOW, on_need_input)
