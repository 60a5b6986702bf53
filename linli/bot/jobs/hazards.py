"""Scheduled work for hazards: escalate unacknowledged urgent reports, ask "is it fixed?".

Each item is claimed in the database before it is sent, so a restart or a second run
never sends it twice (a crash between the claim and the send loses that one message)."""

from __future__ import annotations

from datetime import datetime, timedelta

from telegram.error import TelegramError

from linli.bot.common import locale_of, notify, text
from linli.bot.context import LinliContext
from linli.bot.jobs.tick import Tick
from linli.bot.views.hazards import (
    followup_markup,
    organizer_chats,
    report_view,
    triage_markup,
)
from linli.core import hazards as rules
from linli.core.hazards import Report
from linli.storage import hazards as hazards_db
from linli.storage import members as members_db


async def escalate_urgent_reports(context: LinliContext) -> None:
    """An urgent report nobody acknowledged: tell the organizers' group and every organizer."""
    services = context.services
    settings, now = services.config.hazards, services.now()
    for report in await hazards_db.escalation_candidates(services.db, settings.max_escalations):
        due = rules.escalation_due(
            report, now, settings.escalate_after_minutes, settings.max_escalations
        )
        if due and await hazards_db.claim_escalation(services.db, report, now):
            await _escalate(context, report, now)


async def _escalate(context: LinliContext, report: Report, now: datetime) -> None:
    services = context.services
    group = services.config.organizers.group_chat_id
    chats = [(group, services.config.community.default_locale)] if group is not None else []
    minutes = int((now - report.created_at).total_seconds() // 60)
    values = {"number": report.escalations + 1, "limit": services.config.hazards.max_escalations}
    for chat_id, locale in chats + await organizer_chats(services):
        body = text(context, locale, "hazards/escalation", r=report_view(context, report, locale),
                    minutes=minutes, **values)  # fmt: skip
        try:
            await context.bot.send_message(
                chat_id, body, reply_markup=triage_markup(context, report, locale)
            )
        except TelegramError:
            continue  # an organizer who never opened the bot; the others still hear


async def ask_if_fixed(context: LinliContext) -> None:
    """A few days after resolution, ask the reporter whether the hazard is really gone."""
    services = context.services
    days, now = services.config.hazards.followup_days, services.now()
    if days <= 0:
        return
    for report in await hazards_db.followup_candidates(services.db, now - timedelta(days=days)):
        if not rules.followup_due(report, now, days) or report.reporter_id is None:
            continue
        member = await members_db.get_member(services.db, report.reporter_id)
        if member is None or not await hazards_db.claim_followup(services.db, report.id, now):
            continue
        locale = locale_of(member, services)
        markup = followup_markup(context, locale, report)
        await notify(
            context,
            member,
            "hazards/followup_question",
            markup,
            r=report_view(context, report, locale),
        )


TICKS: list[Tick] = [escalate_urgent_reports, ask_if_fixed]
