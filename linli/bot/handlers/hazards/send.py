"""Sending a report (under my name or anonymously, within the hourly limit), or "me too"
instead of a duplicate: either ends the report flow.

Anonymous reports: nothing here logs, stores or forwards who sent them; their hourly count
is kept in memory only (core.hazards.ReportQuota)."""

from __future__ import annotations

from telegram import Update

from linli.bot import flows, outbox
from linli.bot.common import Actor, reply
from linli.bot.context import LinliContext
from linli.bot.handlers.hazards.report import Filling, in_step
from linli.bot.handlers.hazards.shared import REPORT_FLOW, ROUTER, drop_keyboard, say_no
from linli.bot.views import hazards as views
from linli.core import hazards as rules
from linli.core.hazards import Report
from linli.core.outcomes import Refused, RefusedError
from linli.storage import hazards as hazards_db

# The hourly limit of both kinds of report: in the application's memory only, forgotten on
# restart except for the named reports, which are on disk anyway.
_QUOTA = "hazards.report_quota"


@ROUTER.on(views.MeToo)
async def on_me_too(
    update: Update, context: LinliContext, actor: Actor, pressed: views.MeToo
) -> None:
    """👍 Me too: support the open report instead of filing a duplicate; the flow ends."""
    if await in_step(update, context, actor, pressed) is None:
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
    if (flow := await in_step(update, context, actor, pressed)) is None:
        return
    if not pressed.anonymous:  # under their name: the confirmation is promised, so recorded
        outbox.keep_on_disk(actor.user.id)
    filed = await _file(context, actor, flow, anonymous=pressed.anonymous)
    if isinstance(filed, Refused):
        await say_no(update, context, actor.locale, filed)
        return
    report, followup = filed
    await drop_keyboard(update)
    view = views.report_view(context, report, actor.locale)
    await reply(update, context, actor.locale, "hazards/sent", r=view, followup=followup)
    await views.post_cards(context, report)


async def _file(
    context: LinliContext, actor: Actor, flow: Filling, *, anonymous: bool
) -> tuple[Report, str] | Refused:
    """Save the report within the hourly limit; with an anonymous one's follow-up code."""
    services, quota = context.services, await _quota(context, actor)
    per_hour = services.config.hazards.max_reports_per_hour
    if (refused := quota.check(actor.user.id, services.now(), per_hour)) is not None:
        return refused
    followup = rules.new_followup_code() if anonymous else ""
    try:
        filed = await hazards_db.create_report(
            services.db, flow.report.new_report(anonymous=anonymous),
            reporter_id=None if anonymous else actor.member.id, ending=flow.draft, now=services.now(),
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
