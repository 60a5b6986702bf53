"""The notice-board poster (楼道公告栏): an A4 page with a QR code that opens the bot.

Drawn with matplotlib's Agg (PNG) or PDF canvas, with no pyplot state, so the CLI
(`linli poster`) and the chat (/poster) share one drawing. Its words are labels in
`templates/<locale>/poster/labels.toml`. Chinese needs a font with Chinese glyphs
(linli/bot/charts.py finds one); without it a zh-CN poster is drawn in English, never
with boxes for missing glyphs, and the caller says so.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import segno

from linli.bot import charts
from linli.bot.context import Services
from linli.bot.render import Renderer
from linli.core.community import Building, Community
from linli.core.members import building_link_arg

Format = Literal["pdf", "png"]
A4_INCHES = (210 / 25.4, 297 / 25.4)  # 210 x 297 mm
PNG_DPI = 150  # 1240 x 1754 pixels: sharp when printed, small enough to send in a chat
INK = "#1F2937"
ACCENT = "#C0392B"  # a red notices in China are often printed in


def bot_link(username: str, building: Building | None = None) -> str:
    """The link the QR code holds: the bot, and with a building, joining already at it."""
    base = f"https://t.me/{username.lstrip('@')}"
    return f"{base}?start=b_{building_link_arg(building)}" if building is not None else base


@dataclass(frozen=True, slots=True)
class Poster:
    """What the poster says, in one language (the labels already filled in)."""

    locale: str
    community: str
    building: str  # "" for the whole community
    building_by_id: str  # the same with the compound's id, for a font without its name's glyphs
    headline: str
    steps: tuple[str, str, str]
    offers_title: str
    offers: tuple[str, ...]
    link: str
    link_hint: str


def poster_words(
    renderer: Renderer,
    locale: str,
    community: Community,
    building: Building | None,
    username: str,
) -> Poster:
    """The poster's words in `locale`."""

    def lbl(key: str, **values: Any) -> str:
        return renderer.label(locale, f"poster.{key}", **values)

    place = by_id = ""
    if building is not None:
        compound = community.compound(building.compound_id)
        title = compound.title(locale) if compound is not None else building.compound_id
        place = lbl("building", compound=title, building=building.name)
        by_id = lbl("building", compound=building.compound_id, building=building.name)
    step2 = lbl("step2_building", place=place) if place else lbl("step2")
    return Poster(
        locale=locale,
        community=community.name,
        building=place,
        building_by_id=by_id,
        headline=lbl("headline"),
        steps=(lbl("step1"), step2, lbl("step3")),
        offers_title=lbl("offers_title"),
        offers=(lbl("offer_report"), lbl("offer_events"), lbl("offer_points")),
        link=bot_link(username, building),
        link_hint=lbl("link_hint", username=username.lstrip("@")),
    )


def drawn_locale(locale: str, font: str | None) -> str:
    """The language the poster can be drawn in: Chinese only with a Chinese font."""
    return "en" if locale.startswith("zh") and font is None else locale


def render_poster(poster: Poster, fmt: Format, font: str | None) -> bytes:
    """Draw the poster on one A4 page; PDF (vector, fonts embedded) or PNG."""
    import matplotlib
    from matplotlib.figure import Figure

    families, charset = charts.families(font)

    def shown(text: str, fallback: str = "") -> str:
        return text if charts.drawable(text, charset) else fallback

    rc: Any = {"font.family": "sans-serif", "font.sans-serif": families, "pdf.fonttype": 42}
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=A4_INCHES, dpi=PNG_DPI)
        canvas = _canvas(fig, fmt)
        ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
        ax.set_xlim(0, 210)
        ax.set_ylim(297, 0)  # millimetres from the top left, as a printed page is measured
        ax.set_axis_off()
        _draw(ax, poster, shown)
        out = io.BytesIO()
        canvas.print_figure(out, format=fmt, dpi=PNG_DPI, facecolor="white")
    return out.getvalue()


def _canvas(fig: Any, fmt: Format) -> Any:
    if fmt == "pdf":
        from matplotlib.backends.backend_pdf import FigureCanvasPdf

        return FigureCanvasPdf(fig)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    return FigureCanvasAgg(fig)


def _draw(ax: Any, poster: Poster, shown: Callable[[str, str], str]) -> None:
    from matplotlib.patches import Circle, Rectangle

    ax.add_patch(Rectangle((0, 0), 210, 14, color=ACCENT))
    ax.text(105, 32, shown(poster.community, "Linli"), ha="center", va="center", fontsize=34,
                fontweight="bold", color=INK)  # fmt: skip
    if poster.building:
        ax.text(105, 47, shown(poster.building, poster.building_by_id), ha="center", va="center", fontsize=24,
                color=ACCENT, fontweight="bold")  # fmt: skip
    ax.text(105, 62, poster.headline, ha="center", va="center", fontsize=20, color=INK)
    _qr(ax, poster.link, x=50, y=72, size=110)
    ax.text(105, 188, poster.link, ha="center", va="center", fontsize=10, color="#555555",
            family="DejaVu Sans")  # fmt: skip
    for i, step in enumerate(poster.steps):
        y = 204 + i * 17
        ax.add_patch(Circle((28, y), 6, color=ACCENT))
        ax.text(28, y, str(i + 1), ha="center", va="center", fontsize=18, color="white",
                fontweight="bold")  # fmt: skip
        ax.text(40, y, step, ha="left", va="center", fontsize=16, color=INK, wrap=True)
    ax.text(20, 257, poster.offers_title, ha="left", va="center", fontsize=15,
            fontweight="bold", color=INK)  # fmt: skip
    for i, offer in enumerate(poster.offers):
        ax.text(24, 266 + i * 8, "• " + offer, ha="left", va="center", fontsize=13, color=INK)
    ax.text(105, 292, poster.link_hint, ha="center", va="center", fontsize=10, color="#555555")


def _qr(ax: Any, link: str, *, x: float, y: float, size: float) -> None:
    """The QR code as vector squares (sharp at any print size), with its quiet zone."""
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Rectangle

    qr = segno.make(link, error="m", micro=False)
    matrix = [list(row) for row in qr.matrix_iter(scale=1, border=4)]
    module = size / len(matrix)
    squares = [
        Rectangle((x + c * module, y + r * module), module, module)
        for r, row in enumerate(matrix)
        for c, dark in enumerate(row)
        if dark
    ]
    ax.add_collection(
        PatchCollection(squares, facecolor="black", edgecolor="none", antialiased=False)
    )


@dataclass(frozen=True, slots=True)
class Document:
    """The poster as the chat sends it: the PDF, its file name and the caption."""

    pdf: bytes
    name: str
    caption: str


async def document(
    services: Services, username: str, building: Building | None, reader: str
) -> Document:
    """The A4 PDF for the community (or one building), drawn off the loop; the caption in the
    reader's language says when it had to be drawn in English for want of a Chinese font."""
    font = await asyncio.to_thread(charts.find_cjk_font, charts.font_path(services.config))
    drawn = drawn_locale(reader, font)
    words = poster_words(services.renderer, drawn, services.community, building, username)
    told = poster_words(services.renderer, reader, services.community, building, username)
    pdf = await asyncio.to_thread(render_poster, words, "pdf", font)
    caption = services.renderer.render(reader, "poster/document", place=told.building,
                                       link=told.link, no_font=drawn != reader)  # fmt: skip
    name = f"poster-{building.id.replace('/', '-') if building else 'community'}.pdf"
    return Document(pdf, name, caption)
