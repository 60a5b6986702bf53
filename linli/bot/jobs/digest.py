"""The weekly digest: a summary of the past week, posted to the organizers' group as text
and as one chart, exactly once per week.

Each tick asks which digest is due (the latest configured weekday and time, unless that is
more than `digest_catch_up_hours` ago: a bot that was down posts late, but not days late)
and whether its week is already in the `digests` table. The week is *claimed* there before
anything is sent, and marked sent after: so a restart, a second tick or a second process
never posts a week twice. The price is at-most-once when the process dies between the
claim and Telegram's answer: that week stays `sending` and is not posted again, since it
may have arrived; a duplicate in the organizers' group would be the worse surprise, and the
next week's digest comes anyway. A send that Telegram certainly refused for a passing
reason (flood wait, network down before the request left) releases the claim, and the
next tick tries again.

The chart is drawn with matplotlib's Agg canvas (no display, no pyplot state) in a worker
thread, 1080x1350 px, large type for a phone. Its labels are in the community's language
when a font with Chinese glyphs is installed (or configured), else in English, so it never
shows boxes for missing glyphs; the text message carries the localized details.
"""

from __future__ import annotations

import asyncio
import io
import logging
import textwrap
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, time
from typing import Any

from telegram.error import BadRequest, ChatMigrated, Forbidden, TelegramError, TimedOut

from linli.bot.charts import charset as _charset
from linli.bot.charts import drawable as _drawable
from linli.bot.charts import find_cjk_font, font_path
from linli.bot.charts import register_font as _register_font
from linli.bot.context import LinliContext, Services
from linli.bot.jobs.tick import Tick
from linli.core.digest import (
    MAX_EVENTS_LISTED,
    MAX_POLLS_LISTED,
    Digest,
    DigestWeek,
    due_week,
    hours_text,
    number_width,
    parse_time,
    weekday_number,
)
from linli.storage import digest as digest_db

log = logging.getLogger(__name__)

CHART_SIZE_PX = (1080, 1350)
CHART_DPI = 100
CHART_MAX_CATEGORIES = 8
CHART_MAX_EVENTS = 5
_COLORS = {
    "new": "#E69F00",
    "resolved": "#009E73",
    "open": "#D55E00",
    "signed_up": "#56B4E9",
    "checked_in": "#0072B2",
    "issued": "#009E73",
    "redeemed": "#E69F00",
    "joined": "#56B4E9",
    "verified": "#0072B2",
    "passed": "#009E73",
    "failed": "#D55E00",
}  # fmt: skip  (Okabe-Ito: tells apart for colour-blind readers too)

Label = Callable[..., str]


async def post_weekly_digest(context: LinliContext) -> None:
    """Post the past week's digest to the organizers' group, if it is due and not yet posted."""
    services = context.services
    settings = services.config.broadcasts
    chat_id = services.config.organizers.group_chat_id
    if not settings.digest_enabled or chat_id is None:
        return
    now = services.now()
    week = due_week(
        now, services.config.tz, weekday_number(settings.digest_weekday),
        parse_time(settings.digest_time), settings.digest_catch_up_hours,
    )  # fmt: skip
    if week is None or await digest_db.digest_status(services.db, week.label) is not None:
        return
    categories = [c.key for c in services.config.hazards.categories]
    digest = await digest_db.weekly_digest(services.db, week, categories)
    locale = services.config.community.default_locale
    text = digest_text(services, locale, digest)
    chart = await chart_png(services, locale, digest)
    if not await digest_db.claim_digest(services.db, week.label, chat_id, now):
        return  # another tick got there first
    try:
        sent = await context.bot.send_message(chat_id, text)
    except TimedOut:
        log.warning(
            "digest %s: timed out; it may have arrived, so it is not sent again", week.label
        )
        await digest_db.fail_digest(services.db, week.label, services.now())
        return
    except (Forbidden, BadRequest, ChatMigrated) as exc:
        # Not in the group, or the group became a supergroup with a new id (the config needs
        # it): trying again every tick would not help.
        log.error("digest %s: the organizers' group %s refused it: %s", week.label, chat_id, exc)
        await digest_db.fail_digest(services.db, week.label, services.now())
        return
    except TelegramError as exc:
        log.warning("digest %s: sending failed (%s); the next tick tries again", week.label, exc)
        await digest_db.release_digest(services.db, week.label)
        return
    await digest_db.record_digest(services.db, week.label, sent.message_id, services.now())
    if chart is None:
        return
    caption = services.renderer.render(locale, "digest/chart_caption", **_week_values(week))
    try:
        await context.bot.send_photo(
            chat_id, chart, caption=caption, reply_to_message_id=sent.message_id
        )
    except TelegramError as exc:  # the text went out; the picture is not worth a second text
        log.warning("digest %s: the chart was not delivered: %s", week.label, exc)


# --- The text ----------------------------------------------------------------------------


def _week_values(week: DigestWeek) -> dict[str, Any]:
    year, week_no, _ = week.first_day.isocalendar()
    return {"year": year, "week_no": week_no}


def _category_names(services: Services, locale: str) -> dict[str, str]:
    return {
        c.key: c.zh if locale.startswith("zh") else c.en for c in services.config.hazards.categories
    }


def digest_text(services: Services, locale: str, digest: Digest) -> str:
    """The digest as one message (well under Telegram's 4096 characters: lists are capped)."""
    tz = services.config.tz
    names = _category_names(services, locale)
    totals = digest.hazard_totals
    hazards = [
        {"name": names.get(h.category, h.category), "new": h.new, "resolved": h.resolved,
         "rejected": h.rejected, "still_open": h.still_open}
        for h in digest.hazards
    ]  # fmt: skip
    events = digest.events[:MAX_EVENTS_LISTED]
    polls = digest.polls[:MAX_POLLS_LISTED]
    noon = time(12)
    return services.renderer.render(
        locale,
        "digest/weekly",
        **_week_values(digest.week),
        first=datetime.combine(digest.week.first_day, noon, tzinfo=tz),
        last=datetime.combine(digest.week.last_day, noon, tzinfo=tz),
        quiet=digest.quiet,
        hz_total=totals,
        hazards=hazards,
        hw=number_width(*(v for h in digest.hazards for v in (h.new, h.resolved, h.rejected,
                                                              h.still_open))),
        events=events,
        events_more=len(digest.events) - len(events),
        event_count=len(digest.events),
        signed_up=digest.signed_up,
        checked_in=digest.checked_in,
        attendance_pct=digest.attendance_pct,
        ew=number_width(*(v for e in events for v in (e.signed_up, e.checked_in))),
        points_issued=digest.points_issued,
        points_redeemed=digest.points_redeemed,
        joined=digest.members_joined,
        verified=digest.members_verified,
        total=digest.members_total,
        polls=polls,
        polls_more=len(digest.polls) - len(polls),
        polls_count=len(digest.polls),
        passed=digest.polls_passed,
        failed=digest.polls_failed,
        fund_in=digest.fund_in,
        fund_out=digest.fund_out,
        fund_balance=digest.fund_balance,
        stories=digest.stories,
        honours=digest.honours,
        spaces=[
            {"name": s.name_en if locale == "en" and s.name_en else s.name,
             "booked": hours_text(s.booked_minutes), "pct": s.occupancy_pct,
             "no_shows": s.no_shows, "emergency": hours_text(s.emergency_minutes),
             "urgent": s.emergency_minutes > 0}
            for s in digest.spaces
        ],
    )  # fmt: skip


# --- The chart ---------------------------------------------------------------------------


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width)) if " " in text else text


async def chart_png(services: Services, locale: str, digest: Digest) -> bytes | None:
    """The digest's chart as PNG bytes, or None if it could not be drawn (the text still goes)."""
    # The first call looks through the installed fonts: not on the event loop.
    font = await asyncio.to_thread(find_cjk_font, font_path(services.config))
    chart_locale = locale if font is not None or not locale.startswith("zh") else "en"

    def label(key: str, **values: Any) -> str:
        return services.renderer.label(chart_locale, f"digest.{key}", **values)

    names = _category_names(services, chart_locale)
    try:
        return await asyncio.to_thread(render_chart, digest, label, names, font, services.config.tz)
    except Exception:  # a broken font or a matplotlib bug must not cost the week's text
        log.exception("digest %s: the chart could not be drawn", digest.week.label)
        return None


def render_chart(
    digest: Digest,
    label: Label,
    category_names: dict[str, str],
    font: str | None,
    tz: Any,
) -> bytes:
    """Draw the week on one phone-sized picture: reports by category, events' attendance,
    then points, residents and polls side by side."""
    import matplotlib
    from matplotlib import font_manager
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    families = ["DejaVu Sans"]
    paths = [str(font_manager.findfont("DejaVu Sans"))]
    if font is not None:
        families.insert(0, _register_font(font))
        paths.insert(0, font)
    charset = _charset(tuple(paths))
    rc: Any = {"font.family": "sans-serif", "font.sans-serif": families, "font.size": 20,
          "axes.titlesize": 26, "axes.titleweight": "bold", "axes.titlepad": 14,
          "axes.spines.top": False, "axes.spines.right": False}  # fmt: skip
    with matplotlib.rc_context(rc):
        width, height = CHART_SIZE_PX
        fig = Figure(figsize=(width / CHART_DPI, height / CHART_DPI), dpi=CHART_DPI,
                     layout="constrained")  # fmt: skip
        FigureCanvasAgg(fig)
        # Four bands, each laid out on its own, so the long names on the left of the bar
        # charts do not push the small panels at the bottom to the right.
        bands: Any = fig.subfigures(4, 1, height_ratios=[0.22, 1.35, 1.0, 0.8])
        header, top, middle, bottom = bands
        year, week_no, _ = digest.week.first_day.isocalendar()
        header.text(
            0.5,
            0.62,
            label("chart_title", year=year, week_no=week_no),
            ha="center",
            va="center",
            fontsize=34,
            fontweight="bold",
        )
        header.text(0.5, 0.12, label("chart_days", first=digest.week.first_day.isoformat(),
                                     last=digest.week.last_day.isoformat()),
                    ha="center", va="center", fontsize=22, color="#555555")  # fmt: skip
        _hazards_panel(top, top.subplots(), digest, label, category_names)
        _events_panel(middle, middle.subplots(), digest, label, charset, tz)
        points, members, polls = bottom.subplots(1, 3)
        _pair_panel(
            points,
            label("chart_points"),
            [
                (label("chart_issued"), digest.points_issued, _COLORS["issued"]),
                (label("chart_redeemed"), digest.points_redeemed, _COLORS["redeemed"]),
            ],
        )
        _pair_panel(
            members,
            label("chart_members"),
            [
                (label("chart_joined"), digest.members_joined, _COLORS["joined"]),
                (label("chart_verified"), digest.members_verified, _COLORS["verified"]),
            ],
        )
        _pair_panel(polls, label("chart_polls"),
                    [(label("chart_passed"), digest.polls_passed, _COLORS["passed"]),
                     (label("chart_failed"), digest.polls_failed, _COLORS["failed"])])  # fmt: skip
        out = io.BytesIO()
        fig.savefig(out, format="png", dpi=CHART_DPI, facecolor="white")
    return out.getvalue()


def _band_title(band: Any, title: str) -> None:
    band.suptitle(title, x=0.02, ha="left", fontsize=26, fontweight="bold")


def _empty(band: Any, ax: Any, title: str, text: str) -> None:
    _band_title(band, title)
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=24, color="#666666",
            transform=ax.transAxes)  # fmt: skip
    ax.set_axis_off()


def _grouped_barh(
    ax: Any, labels: Sequence[str], series: Iterable[tuple[str, Sequence[int], str]]
) -> None:
    """Horizontal bars, one group per label (top to bottom), one bar per series, counts at the ends."""
    series = list(series)
    height = 0.8 / len(series)
    top = max((v for _, values, _ in series for v in values), default=0)
    for i, (name, values, color) in enumerate(series):
        positions = [y + (i - (len(series) - 1) / 2) * height for y in range(len(labels))]
        bars = ax.barh(positions, values, height=height * 0.92, color=color, label=name)
        ax.bar_label(bars, labels=[str(v) if v else "" for v in values], padding=4, fontsize=18)
    ax.set_yticks(range(len(labels)), labels)
    # Room for at least four groups, top down: one busy category keeps normal-sized bars.
    ax.set_ylim(max(len(labels), 4) - 0.5, -0.5)
    ax.set_xlim(0, max(1, top) * 1.15)
    ax.xaxis.set_visible(False)
    ax.spines["bottom"].set_visible(False)
    ax.tick_params(axis="y", length=0)
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=len(series), frameon=False,
              fontsize=18, borderaxespad=0.1, handlelength=1.0, columnspacing=1.0)  # fmt: skip


def _hazards_panel(band: Any, ax: Any, digest: Digest, label: Label, names: dict[str, str]) -> None:
    lines = digest.hazards[:CHART_MAX_CATEGORIES]
    if not lines:
        _empty(band, ax, label("chart_hazards"), label("chart_no_hazards"))
        return
    _band_title(band, label("chart_hazards"))
    _grouped_barh(
        ax,
        [_wrap(names.get(h.category, h.category), 16) for h in lines],
        [
            (label("chart_new"), [h.new for h in lines], _COLORS["new"]),
            (label("chart_resolved"), [h.resolved for h in lines], _COLORS["resolved"]),
            (label("chart_open"), [h.still_open for h in lines], _COLORS["open"]),
        ],
    )


def _events_panel(
    band: Any, ax: Any, digest: Digest, label: Label, charset: frozenset[int], tz: Any
) -> None:
    events = list(digest.events)
    if not events:
        _empty(band, ax, label("chart_events"), label("chart_no_events"))
        return
    _band_title(band, label("chart_events"))
    shown, rest = events[:CHART_MAX_EVENTS], events[CHART_MAX_EVENTS:]
    names = []
    for e in shown:
        day = e.starts_at.astimezone(tz).strftime("%m/%d")
        title = _short(e.title, 12)
        # A title the fonts cannot draw would be boxes: name the event by number instead.
        names.append(f"{title} {day}" if _drawable(title, charset) else
                     f"{label('chart_event', id=e.event_id)} {day}")  # fmt: skip
    signed = [e.signed_up for e in shown]
    came = [e.checked_in for e in shown]
    if rest:
        names.append(label("chart_others", count=len(rest)))
        signed.append(sum(e.signed_up for e in rest))
        came.append(sum(e.checked_in for e in rest))
    _grouped_barh(
        ax,
        names,
        [
            (label("chart_signed_up"), signed, _COLORS["signed_up"]),
            (label("chart_checked_in"), came, _COLORS["checked_in"]),
        ],
    )


def _pair_panel(ax: Any, title: str, bars: list[tuple[str, int, str]]) -> None:
    ax.set_title(title, loc="center")
    drawn = ax.bar(range(len(bars)), [v for _, v, _ in bars], color=[c for _, _, c in bars],
                   width=0.7)  # fmt: skip
    ax.bar_label(drawn, labels=[str(v) for _, v, _ in bars], padding=4, fontsize=22,
                 fontweight="bold")  # fmt: skip
    ax.set_xticks(range(len(bars)), [name for name, _, _ in bars], fontsize=18)
    ax.set_ylim(0, max(1, *(v for _, v, _ in bars)) * 1.3)
    ax.yaxis.set_visible(False)
    ax.spines["left"].set_visible(False)
    ax.tick_params(axis="x", length=0)


TICKS: list[Tick] = [post_weekly_digest]
