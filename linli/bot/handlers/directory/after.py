"""After an introduction: the requester says whether it happened (a free service becomes
time-bank hours, confirmed by them), and may thank the provider with a short comment,
shown to the provider and to organizers (`/services admin`), never as public ratings."""

from __future__ import annotations

from telegram import Update

from linli.bot import flows
from linli.bot.common import (
    Actor,
    answer,
    building_label,
    edit_card,
    notify,
    organizer_or_refuse,
    refuse,
    reply,
    text,
)
from linli.bot.context import LinliContext
from linli.bot.handlers.directory.shared import FEATURE, ROUTER, member
from linli.bot.views import directory as views
from linli.core.directory import COMMENT_MAX, clean_text
from linli.core.outcomes import Refused, RefusedError
from linli.core.timebank import format_hours
from linli.storage import directory as directory_db
from linli.storage.drafts import Draft


@ROUTER.on(views.Happened)
async def on_happened(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Happened
) -> None:
    """It happened: a free service's hours move through the time bank, exactly once."""
    await _confirm(update, context, actor, pressed.match_id, pressed.minutes, happened=True)


@ROUTER.on(views.NotHappened)
async def on_not_happened(
    update: Update, context: LinliContext, actor: Actor, pressed: views.NotHappened
) -> None:
    """It did not happen: nothing moves."""
    await _confirm(update, context, actor, pressed.match_id, 0, happened=False)


async def _confirm(update: Update, context: LinliContext, actor: Actor, match_id: int,
                   minutes: int, *, happened: bool) -> None:  # fmt: skip
    services = context.services
    tb = services.config.timebank
    if happened and not 0 <= minutes <= tb.max_hours * 60:
        await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return
    try:
        done = await directory_db.confirm_service(
            services.db, match_id, actor.member.id, happened=happened, minutes=minutes,
            floor_minutes=round(tb.floor_hours * 60), from_pool=tb.from_pool,
            rules=services.config.points.earn_rules(services.config.tz), now=services.now(),
        )  # fmt: skip
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, FEATURE)
        return
    hours = format_hours(done.log.minutes) if done.log else ""
    await answer(update, context, actor.locale)
    await edit_card(update, text(context, actor.locale, "directory/confirmed", match=done.match,
                                 hours=hours, log=done.log),
                    views.thank_markup(context, actor.locale, done.match))  # fmt: skip
    provider = await member(context, done.match.provider_id)
    if provider is not None and happened:
        await notify(context, provider, "directory/confirmed_notice", match=done.match,
                     hours=hours, points=done.points, log=done.log)  # fmt: skip


@ROUTER.on(views.Thank)
async def on_thank(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Thank
) -> None:
    """👍: the provider is thanked; a short comment may follow."""
    services = context.services
    try:
        match = await directory_db.thank(services.db, pressed.match_id, actor.member.id)
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, FEATURE)
        return
    await flows.start_flow(context, actor.user.id, views.COMMENT_FLOW, "comment", match_id=match.id)
    await answer(update, context, actor.locale)
    await edit_card(update, text(context, actor.locale, "directory/thanked", match=match))
    if (provider := await member(context, match.provider_id)) is not None:
        await notify(context, provider, "directory/thanks_notice", match=match, comment="")


async def on_comment(update: Update, context: LinliContext, actor: Actor, draft: Draft) -> None:
    """The thanks' short comment: shown to the provider (and in the organizers' export)."""
    message, services = update.effective_message, context.services
    comment = clean_text(message.text if message and message.text else "", COMMENT_MAX,
                         what="comment")  # fmt: skip
    if isinstance(comment, Refused):
        await refuse(update, context, actor.locale, comment, FEATURE)
        return
    match_id = int(draft.data.get("match_id", 0))
    await flows.end_flow(context, actor.user.id, views.COMMENT_FLOW)
    if not await directory_db.set_comment(services.db, match_id, actor.member.id, comment):
        await refuse(update, context, actor.locale, Refused("not_yours"), FEATURE)
        return
    await reply(update, context, actor.locale, "directory/comment_saved")
    match = await directory_db.get_match(services.db, match_id)
    if match is not None and (provider := await member(context, match.provider_id)) is not None:
        await notify(context, provider, "directory/thanks_notice", match=match, comment=comment)


async def show_thanks(update: Update, context: LinliContext, actor: Actor) -> None:
    """/services admin (organizers): the most thanked offers with their latest comments."""
    if not await organizer_or_refuse(update, context, actor, FEATURE):
        return
    services = context.services
    thanked = await directory_db.most_thanked(services.db)
    places = {t.offer.id: building_label(services, actor.locale, t.offer.building_id)
              for t in thanked}  # fmt: skip
    await reply(update, context, actor.locale, "directory/thanks_admin", thanked=thanked,
                places=places)  # fmt: skip


flows.register_flow(views.COMMENT_FLOW, on_comment)
