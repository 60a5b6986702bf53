"""/myreports (my own reports) and /reports (organizers, and building leaders for their
building: filters, 15 a page)."""

from __future__ import annotations

from typing import Any

from telegram import Update

from linli.bot.common import Actor, answer, building_label, load_actor, refuse, reply
from linli.bot.context import LinliContext
from linli.bot.handlers.hazards.shared import FEATURE, ROUTER
from linli.bot.views import hazards as views
from linli.core import hazards as rules
from linli.core.community import Role
from linli.core.hazards import Report, ReportFilter
from linli.core.outcomes import Refused
from linli.storage import hazards as hazards_db

PAGE_SIZE = 15
MY_REPORTS_LIMIT = 20


async def on_myreports(update: Update, context: LinliContext) -> None:
    """/myreports: the member's own reports and where each stands."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    items, total = await hazards_db.reports_of_member(
        context.services.db, actor.member.id, limit=MY_REPORTS_LIMIT
    )
    shown = [views.report_view(context, r, actor.locale) for r in items]
    await reply(update, context, actor.locale, "hazards/myreports", reports=shown, total=total)


async def on_reports(update: Update, context: LinliContext) -> None:
    """/reports [status] [category] [building]: organizers (and leaders for their building)."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    keys = tuple(c.key for c in views.categories(context.services))
    parsed = rules.parse_filter(list(context.args or []), keys, context.services.community)
    if isinstance(parsed, Refused):
        await refuse(update, context, actor.locale, parsed, FEATURE)
        return
    await _page(update, context, actor, parsed, 0)


@ROUTER.on(views.Page)
async def on_next_page(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Page
) -> None:
    """The next page of /reports, with the same filter."""
    wanted = ReportFilter.decode(pressed.wanted)
    if wanted is None:
        await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return
    await _page(update, context, actor, wanted, max(0, pressed.offset))


async def _page(
    update: Update, context: LinliContext, actor: Actor, wanted: ReportFilter, offset: int
) -> None:
    leads = actor.member.building_id if actor.has(Role.BUILDING_LEADER) else None
    scoped = rules.scoped_filter(wanted, organizer=actor.is_organizer, leads=leads)
    if isinstance(scoped, Refused):
        await refuse(update, context, actor.locale, scoped, FEATURE)
        return
    items, total = await hazards_db.list_reports(
        context.services.db, statuses=scoped.statuses, category=scoped.category,
        building_id=scoped.building_id, limit=PAGE_SIZE, offset=offset,
    )  # fmt: skip
    after = offset + PAGE_SIZE
    markup = views.next_page_markup(context, actor.locale, after, scoped) if after < total else None
    values = _page_values(context, actor.locale, scoped, items)
    await answer(update, context, actor.locale)
    await reply(update, context, actor.locale, "hazards/reports", markup,
                total=total, offset=offset, **values)  # fmt: skip


def _page_values(
    context: LinliContext, locale: str, wanted: ReportFilter, items: list[Report]
) -> dict[str, Any]:
    services = context.services
    category = views.category_name(services, wanted.category, locale) if wanted.category else ""
    return {
        "reports": [views.report_view(context, r, locale) for r in items],
        "statuses": [views.status_name(context, locale, s.value) for s in wanted.statuses],
        "category": category,
        "building": building_label(services, locale, wanted.building_id),
    }
