"""Shared spaces: buttons, keyboards, the week picture and the cards handlers and jobs share."""

from __future__ import annotations

import asyncio
import io
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardMarkup

from linli.bot import charts
from linli.bot.buttons import button, pack
from linli.bot.common import keyboard, label, post
from linli.bot.context import LinliContext, Services
from linli.core.members import Audience
from linli.core.spaces import Booking, Cell, Space, WeekGrid
from linli.storage import groups as groups_db
from linli.storage import spaces as spaces_db

log = logging.getLogger(__name__)

F = "sp"
_DAY = "%Y%m%d"
_AT = "%Y%m%d%H%M"


@button(F, "op")
@dataclass(frozen=True, slots=True)
class Open:
    """A space in the list: its week picture and its days."""

    space_id: int


@button(F, "dy")
@dataclass(frozen=True, slots=True)
class Day:
    """A day of the week picture: the free starts that day."""

    space_id: int
    day: str  # YYYYMMDD, local


@button(F, "st")
@dataclass(frozen=True, slots=True)
class Start:
    """A start time: the lengths that fit."""

    space_id: int
    at: str  # YYYYMMDDHHMM, local


@button(F, "ln")
@dataclass(frozen=True, slots=True)
class Length:
    """A length: ask for the purpose."""

    space_id: int
    at: str
    minutes: int


@button(F, "ok")
@dataclass(frozen=True, slots=True)
class Confirm:
    """Book it; `token` makes one booking of every tap on this confirmation."""

    token: str


@button(F, "no")
@dataclass(frozen=True, slots=True)
class Back:
    """Not now."""


@button(F, "cx")
@dataclass(frozen=True, slots=True)
class Cancel:
    """The booker (or staff) cancels a booking."""

    booking_id: int


@button(F, "ics")
@dataclass(frozen=True, slots=True)
class Calendar:
    """The booking as an .ics file."""

    booking_id: int


@button(F, "ap")
@dataclass(frozen=True, slots=True)
class Approve:
    """Staff approve a pending booking."""

    booking_id: int


@button(F, "dc")
@dataclass(frozen=True, slots=True)
class Decline:
    """Staff decline a pending booking (a reason is asked privately)."""

    booking_id: int


@button(F, "ci")
@dataclass(frozen=True, slots=True)
class CheckIn:
    """Staff check a booking in at the door."""

    booking_id: int


@button(F, "qr")
@dataclass(frozen=True, slots=True)
class Door:
    """Staff: the door code and its QR code."""

    space_id: int


_SEEDED = "spaces_seeded"


async def ensure_spaces(context: LinliContext) -> None:
    """Create the config's spaces once per process (new keys only; chat edits are kept)."""
    data = context.application.bot_data
    if data.get(_SEEDED):
        return
    services = context.services
    seeds = [
        spaces_db.SeedSpace(
            key=s.key, name=s.name, name_en=s.name_en, place=s.place, kind=s.kind,
            capacity=s.capacity, rules=s.rules(),
            audience=Audience.decode(s.audience if ":" in s.audience else f"{s.audience}:"),
            approval=s.approval_kind, price=s.price, operator_telegram_id=s.operator,
        )
        for s in services.config.spaces
    ]  # fmt: skip
    await spaces_db.seed_spaces(services.db, seeds, services.now())
    data[_SEEDED] = True


def day_text(day: date) -> str:
    return day.strftime(_DAY)


def at_text(when: datetime, tz: ZoneInfo) -> str:
    return when.astimezone(tz).strftime(_AT)


def parse_day(text: str) -> date | None:
    try:
        return datetime.strptime(text, _DAY).date()
    except ValueError:
        return None


def parse_at(text: str, tz: ZoneInfo) -> datetime | None:
    try:
        return datetime.strptime(text, _AT).replace(tzinfo=tz)
    except ValueError:
        return None


def list_markup(context: LinliContext, locale: str, spaces: list[Space]) -> InlineKeyboardMarkup:
    return keyboard([[(f"🏠 {s.title(locale)}", pack(Open(s.id)))] for s in spaces])


def day_label(context: LinliContext, locale: str, day: date, today: date) -> str:
    """ "明天 11/27" for tomorrow (and 今天 for today), else "周五 11/28"."""
    names = label(context, locale, "spaces.weekdays").split(",")
    near = {0: "spaces.today", 1: "spaces.tomorrow"}.get((day - today).days)
    name = label(context, locale, near) if near else names[day.weekday()]
    return f"{name} {day.month}/{day.day}"


def days_markup(
    context: LinliContext, locale: str, space: Space, days: list[date], today: date, *, staff: bool
) -> InlineKeyboardMarkup:
    buttons = [
        (day_label(context, locale, d, today), pack(Day(space.id, day_text(d)))) for d in days
    ]
    rows = [buttons[i : i + 4] for i in range(0, len(buttons), 4)]
    if staff:
        rows.append([(label(context, locale, "spaces.door_qr"), pack(Door(space.id)))])
    return keyboard(rows)


def starts_markup(
    context: LinliContext, space: Space, starts: list[datetime], tz: ZoneInfo, locale: str
) -> InlineKeyboardMarkup:
    buttons = [
        (s.astimezone(tz).strftime("%H:%M"), pack(Start(space.id, at_text(s, tz)))) for s in starts
    ]
    rows = [buttons[i : i + 4] for i in range(0, len(buttons), 4)]
    rows.append([(label(context, locale, "spaces.back"), pack(Open(space.id)))])
    return keyboard(rows)


def lengths_markup(
    context: LinliContext, locale: str, space: Space, at: str, lengths: list[int]
) -> InlineKeyboardMarkup:
    buttons = [
        (label(context, locale, "spaces.length", hours=m // 60, minutes=m % 60),
         pack(Length(space.id, at, m)))
        for m in lengths
    ]  # fmt: skip
    rows = [buttons[i : i + 3] for i in range(0, len(buttons), 3)]
    return keyboard(rows)


def confirm_markup(context: LinliContext, locale: str, token: str) -> InlineKeyboardMarkup:
    return keyboard([[
        (label(context, locale, "spaces.confirm"), pack(Confirm(token))),
        (label(context, locale, "spaces.not_now"), pack(Back())),
    ]])  # fmt: skip


def booking_markup(
    context: LinliContext, locale: str, booking: Booking
) -> InlineKeyboardMarkup | None:
    """Cancel and the calendar file, while the booking holds its slot and is not used."""
    if booking.status.value not in ("pending", "confirmed"):
        return None
    return keyboard([[
        (label(context, locale, "spaces.cancel"), pack(Cancel(booking.id))),
        (label(context, locale, "spaces.calendar"), pack(Calendar(booking.id))),
    ]])  # fmt: skip


def approval_markup(
    context: LinliContext, locale: str, booking: Booking
) -> InlineKeyboardMarkup | None:
    if booking.status.value != "pending":
        return None
    return keyboard([[
        (label(context, locale, "spaces.approve"), pack(Approve(booking.id))),
        (label(context, locale, "spaces.decline"), pack(Decline(booking.id))),
    ]])  # fmt: skip


def staff_markup(
    context: LinliContext, locale: str, booking: Booking
) -> InlineKeyboardMarkup | None:
    """Check in (and cancel) from the admin list."""
    if booking.status.value != "confirmed":
        return approval_markup(context, locale, booking)
    return keyboard([[
        (label(context, locale, "spaces.check_in"), pack(CheckIn(booking.id))),
        (label(context, locale, "spaces.cancel"), pack(Cancel(booking.id))),
    ]])  # fmt: skip


# --- The week picture ---------------------------------------------------------------------

PICTURE_PX = (1080, 1080)
PICTURE_DPI = 100
_CELL_COLORS = {
    Cell.FREE: "#A8E6A3",
    Cell.BOOKED: "#0072B2",
    Cell.CLOSED: "#D9D9D9",
    Cell.EMERGENCY: "#D55E00",
    Cell.PAST: "#F2F2F2",
}  # Okabe-Ito blue and vermilion: told apart by colour-blind readers too


async def week_png(services: Services, locale: str, space: Space, grid: WeekGrid) -> bytes | None:
    """The week as a PNG (days down, hours across), drawn off the event loop; None if it could
    not be drawn (the text and the buttons still work)."""
    font = await asyncio.to_thread(charts.find_cjk_font, charts.font_path(services.config))
    chart_locale = locale if font is not None or not locale.startswith("zh") else "en"

    def lbl(key: str, **values: Any) -> str:
        return services.renderer.label(chart_locale, f"spaces.{key}", **values)

    try:
        return await asyncio.to_thread(render_week, grid, space.title(chart_locale), lbl, font)
    except Exception:  # a broken font or a matplotlib bug must not cost the booking buttons
        log.exception("space %s: the week picture could not be drawn", space.key)
        return None


def render_week(grid: WeekGrid, title: str, lbl: Any, font: str | None) -> bytes:
    """Draw the grid on one square, phone-sized picture, with large type."""
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import to_rgb
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    families, charset = charts.families(font)
    shown = title if charts.drawable(title, charset) else lbl("chart_space")
    rc: Any = {"font.family": "sans-serif", "font.sans-serif": families, "font.size": 22}
    names = lbl("weekdays").split(",")
    with matplotlib.rc_context(rc):
        width, height = PICTURE_PX
        fig = Figure(figsize=(width / PICTURE_DPI, height / PICTURE_DPI), dpi=PICTURE_DPI,
                     layout="constrained")  # fmt: skip
        FigureCanvasAgg(fig)
        ax = fig.subplots()
        image = [[to_rgb(_CELL_COLORS[cell]) for cell in row] for row in grid.cells]
        hours = grid.last_hour - grid.first_hour
        ax.imshow(image, aspect="auto", extent=(grid.first_hour, grid.last_hour, 7, 0))
        for y in range(8):
            ax.axhline(y, color="white", linewidth=3)
        for x in range(grid.first_hour, grid.last_hour + 1):
            ax.axvline(x, color="white", linewidth=2)
        step = 1 if hours <= 8 else 2
        ax.set_xticks(range(grid.first_hour, grid.last_hour + 1, step))
        ax.set_xticklabels([f"{h}" for h in range(grid.first_hour, grid.last_hour + 1, step)])
        ax.xaxis.tick_top()
        days = [grid.first_day + timedelta(days=i) for i in range(7)]
        ax.set_yticks([i + 0.5 for i in range(7)])
        ax.set_yticklabels([f"{names[d.weekday()]} {d.month}/{d.day}" for d in days], fontsize=24)
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_title(shown, fontsize=32, fontweight="bold", pad=16)
        legend = [Patch(color=_CELL_COLORS[c], label=lbl(f"cell_{c.value}"))
                  for c in (Cell.FREE, Cell.BOOKED, Cell.CLOSED, Cell.EMERGENCY)]  # fmt: skip
        fig.legend(handles=legend, loc="outside lower center", ncol=4, frameon=False, fontsize=22)
        out = io.BytesIO()
        fig.savefig(out, format="png", dpi=PICTURE_DPI, facecolor="white")
    return out.getvalue()


def mine_markup(
    context: LinliContext, locale: str, bookings: list[Booking]
) -> InlineKeyboardMarkup | None:
    rows = [
        [(label(context, locale, "spaces.cancel_code", code=b.code), pack(Cancel(b.id))),
         (label(context, locale, "spaces.calendar_code", code=b.code), pack(Calendar(b.id)))]
        for b in bookings if b.status.value in ("pending", "confirmed")
    ]  # fmt: skip
    return keyboard(rows) if rows else None


def admin_markup(
    context: LinliContext, locale: str, bookings: list[Booking], spaces: list[Space]
) -> InlineKeyboardMarkup | None:
    """Check in the confirmed bookings; approve the pending; the door codes."""
    rows: list[list[tuple[str, str]]] = []
    for b in bookings:
        if b.status.value == "confirmed":
            rows.append([(label(context, locale, "spaces.check_in_code", code=b.code),
                          pack(CheckIn(b.id)))])  # fmt: skip
        elif b.status.value == "pending":
            rows.append([(label(context, locale, "spaces.approve_code", code=b.code),
                          pack(Approve(b.id))),
                         (label(context, locale, "spaces.decline"), pack(Decline(b.id)))])  # fmt: skip
    rows += [[(label(context, locale, "spaces.door_qr_of", name=s.title(locale)), pack(Door(s.id)))]
             for s in spaces]  # fmt: skip
    return keyboard(rows) if rows else None


async def post_to_audience(
    context: LinliContext, space: Space, template: str, **values: Any
) -> list[int]:
    """A notice to every bound group of the space's audience; the chats it went to."""
    services = context.services
    locale = services.config.community.default_locale
    sent = []
    for group in await groups_db.groups_for_audience(
        services.db, space.audience, services.community
    ):
        if await post(context, group.chat_id, locale, template, space=space, **values) is not None:
            sent.append(group.chat_id)
    return sent
