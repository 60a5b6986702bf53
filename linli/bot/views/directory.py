"""The neighbourhood directory: buttons, keyboards, names, and the 15-minute circle picture."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup

from linli.bot import charts
from linli.bot.buttons import button, pack
from linli.bot.common import keyboard, label
from linli.bot.context import LinliContext, Services
from linli.core.directory import (
    FACILITIES,
    RINGS_M,
    HelpRequest,
    KeeperField,
    Match,
    MatchStatus,
    NearbyPlace,
    Offer,
    OfferStatus,
    Organization,
    Payment,
    Place,
    Point,
    Visibility,
)

log = logging.getLogger(__name__)

F = "dr"
FEATURE = "directory"
OFFER_FLOW = "dir_offer"
NEED_FLOW = "dir_need"
TAKEDOWN_FLOW = "dir_takedown"
COMMENT_FLOW = "dir_comment"
KEEPER_FLOW = "dir_keeper"
HOURS_CHOICES = (30, 60, 120, 180)  # minutes a requester can confirm for a free service


# --- Buttons --------------------------------------------------------------------------------


@button(F, "ct")
@dataclass(frozen=True, slots=True)
class Browse:
    """/services: the offers of a category."""

    category: str


@button(F, "rq")
@dataclass(frozen=True, slots=True)
class Ask:
    """A resident asks for an offered service."""

    offer_id: int


@button(F, "ac")
@dataclass(frozen=True, slots=True)
class Accept:
    """The provider accepts a request: the two are introduced."""

    match_id: int


@button(F, "dc")
@dataclass(frozen=True, slots=True)
class Decline:
    match_id: int


@button(F, "ok")
@dataclass(frozen=True, slots=True)
class Happened:
    """The requester: it happened (`minutes` of a free service go to the time bank)."""

    match_id: int
    minutes: int


@button(F, "nh")
@dataclass(frozen=True, slots=True)
class NotHappened:
    match_id: int


@button(F, "th")
@dataclass(frozen=True, slots=True)
class Thank:
    match_id: int


@button(F, "nc")
@dataclass(frozen=True, slots=True)
class DraftCategory:
    """A new offer's (or need's) category."""

    category: str
    need: bool


@button(F, "py")
@dataclass(frozen=True, slots=True)
class DraftPayment:
    payment: str


@button(F, "vs")
@dataclass(frozen=True, slots=True)
class DraftVisibility:
    visibility: str


@button(F, "ps")
@dataclass(frozen=True, slots=True)
class Post:
    """Post the offer as drafted."""


@button(F, "dp")
@dataclass(frozen=True, slots=True)
class Drop:
    """Throw the draft away."""


@button(F, "st")
@dataclass(frozen=True, slots=True)
class SetStatus:
    """The provider pauses, resumes or withdraws an offer; an organizer approves one."""

    offer_id: int
    status: str


@button(F, "ha")
@dataclass(frozen=True, slots=True)
class HideAll:
    """Pause all my offers at once."""


@button(F, "td")
@dataclass(frozen=True, slots=True)
class TakeDown:
    """An organizer takes an offer down (the reason is asked privately)."""

    offer_id: int


@button(F, "rp")
@dataclass(frozen=True, slots=True)
class Report:
    """A member reports an offer to the organizers."""

    offer_id: int


@button(F, "hp")
@dataclass(frozen=True, slots=True)
class Help:
    """ "I can help" with a request."""

    request_id: int


@button(F, "ch")
@dataclass(frozen=True, slots=True)
class Choose:
    """The requester chooses one of the helpers."""

    match_id: int


@button(F, "oo")
@dataclass(frozen=True, slots=True)
class OptOut:
    """A provider stops (or resumes) notices of new requests."""

    out: bool


@button(F, "nb")
@dataclass(frozen=True, slots=True)
class Near:
    """/nearby filtered to a category ("" = all) from the member's building."""

    category: str = ""


@button(F, "jo")
@dataclass(frozen=True, slots=True)
class JoinTeam:
    org_key: str


@button(F, "jd")
@dataclass(frozen=True, slots=True)
class DecideJoin:
    join_id: int
    approve: bool


@button(F, "fc")
@dataclass(frozen=True, slots=True)
class Facility:
    """A station keeper switches one facility on or off."""

    place_id: int
    facility: str


@button(F, "ke")
@dataclass(frozen=True, slots=True)
class EditStation:
    """A station keeper changes its hours or its note (typed next, privately)."""

    place_id: int
    field: str


# --- Names ----------------------------------------------------------------------------------


def category_name(services: Services, locale: str, key: str, *, place: bool = False) -> str:
    section = services.config.directory
    for c in section.place_categories if place else section.service_categories:
        if c.key == key:
            return c.en if locale == "en" else c.zh
    return key


def service_keys(services: Services) -> list[str]:
    return [c.key for c in services.config.directory.service_categories]


def place_keys(services: Services) -> list[str]:
    return [c.key for c in services.config.directory.place_categories]


def organizations(services: Services) -> list[Organization]:
    return [
        Organization(key=o.key, name=o.name, kind=o.kind, parent=o.parent, name_en=o.name_en,
                     leader=o.leader, contact=o.contact, group_link=o.group_link,
                     leader_account=o.leader_id)
        for o in services.config.directory.organizations
    ]  # fmt: skip


def organization(services: Services, key: str) -> Organization | None:
    return next((o for o in organizations(services) if o.key == key), None)


# --- Keyboards ------------------------------------------------------------------------------


def _grid(buttons: list[tuple[str, str]], width: int) -> list[list[tuple[str, str]]]:
    return [buttons[i : i + width] for i in range(0, len(buttons), width)]


def categories_markup(
    context: LinliContext, locale: str, *, draft: bool = False, need: bool = False
) -> InlineKeyboardMarkup:
    services = context.services
    buttons = [
        (category_name(services, locale, key),
         pack(DraftCategory(key, need) if draft else Browse(key)))
        for key in service_keys(services)
    ]  # fmt: skip
    return keyboard(_grid(buttons, 2))


def payment_markup(context: LinliContext, locale: str) -> InlineKeyboardMarkup:
    return keyboard([[(label(context, locale, f"directory.pay_{p.value}"),
                       pack(DraftPayment(p.value))) for p in Payment]])  # fmt: skip


def visibility_markup(context: LinliContext, locale: str) -> InlineKeyboardMarkup:
    return keyboard([[(label(context, locale, f"directory.vis_{v.value}"),
                       pack(DraftVisibility(v.value))) for v in Visibility]])  # fmt: skip


def confirm_markup(context: LinliContext, locale: str) -> InlineKeyboardMarkup:
    return keyboard([[(label(context, locale, "directory.post"), pack(Post())),
                      (label(context, locale, "directory.drop"), pack(Drop()))]])  # fmt: skip


def offers_markup(
    context: LinliContext, locale: str, offers: Sequence[Offer]
) -> InlineKeyboardMarkup | None:
    rows = [[(label(context, locale, "directory.ask", code=o.code), pack(Ask(o.id))),
              (label(context, locale, "directory.report"), pack(Report(o.id)))]
            for o in offers]  # fmt: skip
    return keyboard(rows) if rows else None


def answer_markup(context: LinliContext, locale: str, match: Match) -> InlineKeyboardMarkup:
    return keyboard([[(label(context, locale, "directory.accept"), pack(Accept(match.id))),
                      (label(context, locale, "directory.decline"), pack(Decline(match.id)))]])  # fmt: skip


def happened_markup(context: LinliContext, locale: str, match: Match) -> InlineKeyboardMarkup:
    """For the requester after an introduction: it happened (with hours, if free) or not."""
    if match.payment is Payment.FREE:
        done = [(label(context, locale, "directory.happened_hours", hours=m / 60),
                 pack(Happened(match.id, m))) for m in HOURS_CHOICES]  # fmt: skip
    else:
        done = [(label(context, locale, "directory.happened"), pack(Happened(match.id, 0)))]
    return keyboard([*_grid(done, 2),
                     [(label(context, locale, "directory.not_happened"),
                       pack(NotHappened(match.id)))]])  # fmt: skip


def thank_markup(context: LinliContext, locale: str, match: Match) -> InlineKeyboardMarkup | None:
    if match.status is not MatchStatus.DONE or match.thanked:
        return None
    return keyboard([[(label(context, locale, "directory.thank"), pack(Thank(match.id)))]])


def my_offers_markup(
    context: LinliContext, locale: str, offers: Sequence[Offer]
) -> InlineKeyboardMarkup | None:
    rows: list[list[tuple[str, str]]] = []
    for o in offers:
        row = []
        if o.status is OfferStatus.ACTIVE:
            row.append((label(context, locale, "directory.pause", code=o.code),
                        pack(SetStatus(o.id, OfferStatus.PAUSED.value))))  # fmt: skip
        elif o.status is OfferStatus.PAUSED:
            row.append((label(context, locale, "directory.resume", code=o.code),
                        pack(SetStatus(o.id, OfferStatus.ACTIVE.value))))  # fmt: skip
        row.append((label(context, locale, "directory.withdraw", code=o.code),
                    pack(SetStatus(o.id, OfferStatus.WITHDRAWN.value))))  # fmt: skip
        rows.append(row)
    if any(o.status is OfferStatus.ACTIVE for o in offers):
        rows.append([(label(context, locale, "directory.hide_all"), pack(HideAll()))])
    return keyboard(rows) if rows else None


def optout_markup(context: LinliContext, locale: str, out: bool) -> InlineKeyboardMarkup:
    key = "directory.notices_on" if out else "directory.notices_off"
    return keyboard([[(label(context, locale, key), pack(OptOut(not out)))]])


def staff_markup(context: LinliContext, locale: str, offer: Offer) -> InlineKeyboardMarkup:
    """On the organizers' card of an offer: approve (if pending) and take down."""
    row = []
    if offer.status is OfferStatus.PENDING:
        row.append((label(context, locale, "directory.approve"),
                    pack(SetStatus(offer.id, OfferStatus.ACTIVE.value))))  # fmt: skip
    row.append((label(context, locale, "directory.take_down"), pack(TakeDown(offer.id))))
    return keyboard([row])


def requests_markup(
    context: LinliContext, locale: str, requests: Sequence[HelpRequest]
) -> InlineKeyboardMarkup | None:
    rows = [[(label(context, locale, "directory.can_help", code=r.code), pack(Help(r.id)))]
            for r in requests]  # fmt: skip
    return keyboard(rows) if rows else None


def choose_markup(context: LinliContext, locale: str, match: Match) -> InlineKeyboardMarkup:
    return keyboard([[(label(context, locale, "directory.choose"), pack(Choose(match.id)))]])


def location_keyboard(context: LinliContext, locale: str) -> ReplyKeyboardMarkup:
    send = KeyboardButton(label(context, locale, "directory.send_location"), request_location=True)
    return ReplyKeyboardMarkup([[send]], resize_keyboard=True, one_time_keyboard=True)


def near_markup(context: LinliContext, locale: str, present: Sequence[str]) -> InlineKeyboardMarkup:
    """Filter /nearby (from the building) by the categories found around."""
    services = context.services
    buttons = [(category_name(services, locale, k, place=True), pack(Near(k))) for k in present]
    buttons.append((label(context, locale, "directory.all_places"), pack(Near())))
    return keyboard(_grid(buttons, 3))


def org_markup(
    context: LinliContext, locale: str, orgs: Sequence[Organization]
) -> InlineKeyboardMarkup | None:
    rows = [[(label(context, locale, "directory.join", name=o.title(locale)),
              pack(JoinTeam(o.key)))] for o in orgs if o.joinable]  # fmt: skip
    return keyboard(rows) if rows else None


def join_markup(context: LinliContext, locale: str, join_id: int) -> InlineKeyboardMarkup:
    return keyboard([[(label(context, locale, "directory.approve"), pack(DecideJoin(join_id, True))),
                      (label(context, locale, "directory.decline"),
                       pack(DecideJoin(join_id, False)))]])  # fmt: skip


def keeper_markup(context: LinliContext, locale: str, place: Place) -> InlineKeyboardMarkup:
    buttons = [((("✅ " if f in place.facilities else "▫️ ")
                 + label(context, locale, f"directory.facility_{f}")),
                pack(Facility(place.id, f))) for f in FACILITIES]  # fmt: skip
    edits = [(label(context, locale, f"directory.keeper_{f.value}"),
              pack(EditStation(place.id, f.value))) for f in KeeperField]  # fmt: skip
    return keyboard([*_grid(buttons, 3), edits])


# --- The 15-minute circle picture -----------------------------------------------------------

PICTURE_PX = (1080, 1080)
PICTURE_DPI = 100
_STATION_COLOR, _PLACE_COLOR, _ME_COLOR = "#D55E00", "#0072B2", "#000000"


async def circle_png(
    services: Services, locale: str, origin: Point, places: Sequence[NearbyPlace]
) -> bytes | None:
    """The circle as a PNG, drawn off the event loop; None if it could not be drawn."""
    font = await asyncio.to_thread(charts.find_cjk_font, charts.font_path(services.config))
    chart_locale = locale if font is not None or not locale.startswith("zh") else "en"

    def lbl(key: str, **values: Any) -> str:
        return services.renderer.label(chart_locale, f"directory.{key}", **values)

    try:
        return await asyncio.to_thread(render_circle, origin, places, lbl, font)
    except Exception:  # a broken font must not cost the list itself
        log.exception("the 15-minute circle could not be drawn")
        return None


def render_circle(
    origin: Point, places: Sequence[NearbyPlace], lbl: Any, font: str | None
) -> bytes:
    """A schematic: the member at the centre, places as numbered points (as in the list),
    rings at 500 m and 1 km; east right, north up, in metres. No map tiles."""
    import math

    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Circle

    families, charset = charts.families(font)
    rc: Any = {"font.family": "sans-serif", "font.sans-serif": families, "font.size": 20}
    metres_per_lon = 111_320 * math.cos(math.radians(origin.lat))
    with matplotlib.rc_context(rc):
        width, height = PICTURE_PX
        fig = Figure(figsize=(width / PICTURE_DPI, height / PICTURE_DPI), dpi=PICTURE_DPI,
                     layout="constrained")  # fmt: skip
        FigureCanvasAgg(fig)
        ax = fig.subplots()
        for ring in RINGS_M:
            ax.add_patch(Circle((0, 0), ring, fill=False, linestyle="--", color="#999999"))
            ax.annotate(lbl("ring", metres=ring), (0, ring), ha="center", va="bottom",
                        color="#666666", fontsize=18)  # fmt: skip
        ax.plot([0], [0], marker="*", markersize=28, color=_ME_COLOR)
        for number, near in enumerate(places, start=1):
            x = (near.place.lon - origin.lon) * metres_per_lon
            y = (near.place.lat - origin.lat) * 111_320
            color = _STATION_COLOR if near.place.is_station else _PLACE_COLOR
            ax.plot([x], [y], marker="o", markersize=16, color=color)
            ax.annotate(str(number), (x, y), textcoords="offset points", xytext=(10, 8),
                        fontsize=20, fontweight="bold")  # fmt: skip
        reach = max([1_100.0] + [abs(c) * 1.1 for n in places for c in (
            (n.place.lon - origin.lon) * metres_per_lon, (n.place.lat - origin.lat) * 111_320)])  # fmt: skip
        ax.set_xlim(-reach, reach)
        ax.set_ylim(-reach, reach)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        title = lbl("circle_title")
        ax.set_title(title if charts.drawable(title, charset) else "15 min", fontsize=30, pad=14)
        out = io.BytesIO()
        fig.savefig(out, format="png", dpi=PICTURE_DPI, facecolor="white")
    return out.getvalue()


def contact_link(chat_id: int | None, username: str | None) -> str | None:
    """How one side of an introduction opens a chat with the other (Telegram's links)."""
    if username:
        return f"https://t.me/{username}"
    return f"tg://user?id={chat_id}" if chat_id is not None else None
