"""The fund's scheduled work: budget rounds closed exactly once (with their result and the
opening of their vote posted to their groups), and the monthly report with its chart.

Every post is claimed in `fund_posts` before it is sent (CONTRIBUTING: claim, then send):
a restart, a second tick or a second process never posts one twice. A send refused for a
passing reason gives the claim back; a timeout keeps it (it may have arrived).
"""

from __future__ import annotations

import asyncio
import io
import logging
from typing import Any

from telegram import InlineKeyboardMarkup
from telegram.error import BadRequest, ChatMigrated, Forbidden, TelegramError, TimedOut

from linli.bot.charts import find_cjk_font
from linli.bot.charts import register_font as _register_font
from linli.bot.context import LinliContext, Services
from linli.bot.jobs.tick import Tick
from linli.bot.views import fund as views
from linli.core.community import NodeKind
from linli.core.fund import FUND, MonthReport, Phase, Round, report_due, yuan
from linli.core.members import Audience
from linli.storage import fund as fund_db
from linli.storage import groups as groups_db

log = logging.getLogger(__name__)

CHART_SIZE_PX = (1080, 1080)
CHART_DPI = 100


async def _send(
    context: LinliContext,
    kind: str,
    ref: str,
    chat_id: int,
    text: str,
    photo: bytes | None = None,
    caption: str = "",
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    """Claim, send (the text, then the picture if any), record; never twice."""
    db, now = context.services.db, context.services.now()
    if not await fund_db.claim_post(db, kind, ref, chat_id, now):
        return
    try:
        sent = await context.bot.send_message(chat_id, text, reply_markup=markup)
    except TimedOut:
        log.warning("fund %s %s to %s: timed out; not sent again", kind, ref, chat_id)
        await fund_db.finish_post(db, kind, ref, chat_id, None)
        return
    except (Forbidden, BadRequest, ChatMigrated) as exc:
        log.warning("fund %s %s: chat %s refused it: %s", kind, ref, chat_id, exc)
        await fund_db.finish_post(db, kind, ref, chat_id, None)
        return
    except TelegramError as exc:
        log.warning(
            "fund %s %s to %s failed (%s); the next tick tries again", kind, ref, chat_id, exc
        )
        await fund_db.release_post(db, kind, ref, chat_id)
        return
    await fund_db.finish_post(db, kind, ref, chat_id, sent.message_id)
    if photo is not None:
        try:
            await context.bot.send_photo(
                chat_id, photo, caption=caption, reply_to_message_id=sent.message_id
            )
        except TelegramError as exc:  # the text went out; the picture is not worth a second one
            log.warning(
                "fund %s %s: the chart was not delivered to %s: %s", kind, ref, chat_id, exc
            )


async def _group_ids(services: Services, audience: Audience) -> list[int]:
    groups = await groups_db.groups_for_audience(services.db, audience, services.community)
    return [g.chat_id for g in groups]


def _render(services: Services, template: str, **values: Any) -> str:
    locale = services.config.community.default_locale
    return services.renderer.render(locale, template, **views.names(services, locale), **values)


# --- Budget rounds ----------------------------------------------------------------------


async def announce_voting(context: LinliContext) -> None:
    """When a round's submissions end: its ballot, posted once to its groups."""
    services = context.services
    now = services.now()
    for rnd in await fund_db.open_rounds(services.db):
        if rnd.phase(now) is not Phase.VOTING:
            continue
        projects = await fund_db.ballot_projects(services.db, rnd.id)
        text = _render(services, "fund/voting_open", round=rnd, projects=projects)
        for chat_id in await _group_ids(services, rnd.audience):
            await _send(context, "voting", str(rnd.id), chat_id, text)


async def close_rounds(context: LinliContext) -> None:
    """Close rounds whose voting ended (once), and post each result once per group."""
    services = context.services
    now = services.now()
    for rnd in await fund_db.rounds_to_close(services.db, now):
        await fund_db.close_round(services.db, rnd.id, now)
    for rnd in await fund_db.closed_unannounced(services.db):
        if rnd.closed_at is not None and (now - rnd.closed_at).days < 3:
            await _announce_result(context, rnd)


async def _announce_result(context: LinliContext, rnd: Round) -> None:
    services = context.services
    projects = await fund_db.ballot_projects(services.db, rnd.id)
    projects.sort(key=lambda p: (-p.votes, p.cost, p.id))
    spent = sum(p.cost for p in projects if p.expense_id is not None)
    text = _render(services, "fund/result", round=rnd, projects=projects,
                   turnout=await fund_db.turnout(services.db, rnd.id), left=rnd.budget - spent)  # fmt: skip
    for chat_id in await _group_ids(services, rnd.audience):
        await _send(context, "result", str(rnd.id), chat_id, text)


# --- The monthly report --------------------------------------------------------------------


async def post_monthly_report(context: LinliContext) -> None:
    """Last month's report to every bound group, once per month, from the configured day."""
    services = context.services
    settings = services.config.fund
    if not settings.report_enabled:
        return
    month = report_due(services.now(), services.config.tz, settings.report_day, settings.at)
    if month is None or not await fund_db.had_bookings_by(services.db, month):
        return
    chats = await _group_ids(services, Audience(NodeKind.COMMUNITY))
    waiting = [c for c in chats if c not in await fund_db.posted_to(services.db, "monthly", month)]
    if not waiting:
        return
    report = await fund_db.month_report(services.db, month)
    text = _render(services, "fund/monthly", report=report)
    chart = await chart_png(services, report)
    caption = _render(services, "fund/chart_caption", month=month)
    for chat_id in waiting:
        await _send(context, "monthly", month, chat_id, text, chart, caption)


async def chart_png(services: Services, report: MonthReport) -> bytes | None:
    """The month as a picture (drawn off the loop, like the digest's); None if it cannot be."""
    configured = services.config.broadcasts.digest_font
    font = await asyncio.to_thread(find_cjk_font, configured)
    locale = services.config.community.default_locale
    if font is None and locale.startswith("zh"):
        locale = "en"  # no Chinese glyphs: English labels rather than boxes
    names = views.names(services, locale)

    def label(key: str, **values: Any) -> str:
        return services.renderer.label(locale, f"fund.{key}", **values)

    try:
        return await asyncio.to_thread(render_chart, report, label, names["accounts"], font)
    except Exception:  # a broken font must not cost the month's text
        log.exception("fund report %s: the chart could not be drawn", report.month)
        return None


def render_chart(
    report: MonthReport, label: Any, accounts: dict[str, str], font: str | None
) -> bytes:
    """Two panels: this month's income by account, and the fund month by month."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    families = ["DejaVu Sans"]
    if font is not None:
        families.insert(0, _register_font(font))
    rc: Any = {"font.family": "sans-serif", "font.sans-serif": families, "font.size": 20,
               "axes.titlesize": 26, "axes.titleweight": "bold",
               "axes.spines.top": False, "axes.spines.right": False}  # fmt: skip
    with matplotlib.rc_context(rc):
        width, height = CHART_SIZE_PX
        fig = Figure(
            figsize=(width / CHART_DPI, height / CHART_DPI), dpi=CHART_DPI, layout="constrained"
        )
        FigureCanvasAgg(fig)
        fig.suptitle(label("chart_title", month=report.month), fontsize=32, fontweight="bold")
        split_ax, months_ax = fig.subplots(2, 1, height_ratios=[0.8, 1.2])
        shares = report.split_by_account()
        split_ax.set_title(label("chart_split"), loc="left")
        if shares:
            names = [accounts.get(a, a) for a in shares]
            bars = split_ax.barh(range(len(shares)), [v / 100 for v in shares.values()],
                                 color=["#009E73" if a == FUND else "#56B4E9" for a in shares])  # fmt: skip
            split_ax.bar_label(bars, labels=[f"¥{yuan(v)}" for v in shares.values()], padding=4)
            split_ax.set_yticks(range(len(shares)), names)
            split_ax.invert_yaxis()
            split_ax.xaxis.set_visible(False)
        else:
            split_ax.text(0.5, 0.5, label("chart_no_income"), ha="center", va="center",
                          transform=split_ax.transAxes, color="#666666")  # fmt: skip
            split_ax.set_axis_off()
        months = [m[5:] for m, *_ in report.history]
        positions = list(range(len(months)))
        months_ax.set_title(label("chart_months"), loc="left")
        months_ax.bar([p - 0.2 for p in positions], [h[1] / 100 for h in report.history], width=0.4,
                      color="#009E73", label=label("chart_in"))  # fmt: skip
        months_ax.bar([p + 0.2 for p in positions], [h[2] / 100 for h in report.history], width=0.4,
                      color="#E69F00", label=label("chart_out"))  # fmt: skip
        months_ax.plot(positions, [h[3] / 100 for h in report.history], color="#0072B2",
                       marker="o", label=label("chart_balance"))  # fmt: skip
        months_ax.set_xticks(positions, months)
        months_ax.legend(frameon=False, loc="upper left")
        out = io.BytesIO()
        fig.savefig(out, format="png", dpi=CHART_DPI, facecolor="white")
    return out.getvalue()


TICKS: list[Tick] = [announce_voting, close_rounds, post_monthly_report]
