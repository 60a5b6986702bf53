""" "Is it fixed?": the reporter's answer a few days after a resolution (the question itself is
sent by linli/bot/jobs/hazards.py). "No" reopens the report and tells the organizers."""

from __future__ import annotations

from telegram import Update

from linli.bot.common import Actor, answer, post, refuse, reply
from linli.bot.context import LinliContext
from linli.bot.handlers.hazards.shared import FEATURE, ROUTER, drop_keyboard
from linli.bot.views import hazards as views
from linli.core.hazards import Report
from linli.core.outcomes import RefusedError
from linli.storage import hazards as hazards_db


@ROUTER.on(views.FollowUp)
async def on_followup_answer(
    update: Update, context: LinliContext, actor: Actor, pressed: views.FollowUp
) -> None:
    """✅ Yes, fixed / ❌ No, still there."""
    services, fixed = context.services, pressed.fixed
    if fixed is None:
        await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return
    try:
        report = await hazards_db.answer_followup(
            services.db, pressed.report_id, actor.member.id, fixed, services.now()
        )
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, FEATURE)
        return
    await answer(update, context, actor.locale)
    await drop_keyboard(update)
    view = views.report_view(context, report, actor.locale)
    await reply(update, context, actor.locale, "hazards/followup_thanks", r=view, fixed=fixed)
    if not fixed:
        await _reopened(context, report)


async def _reopened(context: LinliContext, report: Report) -> None:
    group = context.services.config.organizers.group_chat_id
    if group is not None:
        locale = context.services.config.community.default_locale
        view = views.report_view(context, report, locale)
        await post(context, group, locale, "hazards/reopened", r=view)
    await views.refresh_cards(context, report)
