"""The export buttons (what, then which format) and the names an Open311 file uses."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardMarkup

from linli.bot.buttons import button, pack
from linli.bot.common import keyboard, label
from linli.bot.config import Config
from linli.bot.context import LinliContext
from linli.bot.render import Renderer
from linli.core.exports import Open311Names
from linli.core.hazards import Category


@button("ex", "w")
@dataclass(frozen=True, slots=True)
class ChooseWhat:
    """What to export (one of storage.exports.NAMES): then the formats."""

    what: str


@button("ex", "f")
@dataclass(frozen=True, slots=True)
class ChooseFormat:
    """Send the export `what` ("members", or "members@2024-05-01" with a first day) as `fmt`;
    `personal`: with names, usernames, Telegram ids and units (members only)."""

    what: str
    fmt: str
    personal: bool


def what_markup(context: LinliContext, locale: str, names: list[str]) -> InlineKeyboardMarkup:
    return keyboard(
        [[(label(context, locale, f"exports.what_{n}"), pack(ChooseWhat(n)))] for n in names]
    )


def formats_markup(context: LinliContext, locale: str, what: str) -> InlineKeyboardMarkup:
    """CSV and XLSX; with personal data for members; Open311 for reports."""

    def choice(key: str, fmt: str, personal: bool = False) -> tuple[str, str]:
        return label(context, locale, f"exports.{key}"), pack(ChooseFormat(what, fmt, personal))

    rows = [[choice("csv", "csv"), choice("xlsx", "xlsx")]]
    base = what.partition("@")[0]
    if base == "members":
        rows.append([choice("csv_personal", "csv", True), choice("xlsx_personal", "xlsx", True)])
    if base == "reports":
        rows.append([choice("open311", "open311")])
    return keyboard(rows)


def open311_names(config: Config, renderer: Renderer, locale: str) -> Open311Names:
    """Categories and buildings as people read them in `locale` (the same names as the report
    cards), for an Open311 file; both `linli export` and /export use this."""
    services = {
        c.key: Category(c.key, c.zh, c.en, c.urgent).name(locale) for c in config.hazards.categories
    }
    places = {
        b.id: renderer.label(
            locale, "common.building", compound=compound.title(locale), name=b.name
        )
        for compound in config.structure().compounds
        for b in compound.buildings
    }
    return Open311Names(services, places)
