"""`linli poster`: the notice-board poster as an A4 PDF or PNG file."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from telegram import Bot

from linli.bot import charts
from linli.bot.config import TOKEN_ENV, Config, ConfigError, load_config
from linli.bot.render import Renderer
from linli.bot.transport import AiohttpRequest
from linli.bot.views import poster as views
from linli.core.hazards import match_building
from linli.core.members import SUPPORTED_LOCALES

DEFAULT_CONFIG = "config.toml"


def add_subcommand(subparsers: Any) -> None:
    """Register `poster` on the `linli` command line."""
    poster = subparsers.add_parser(
        "poster", help="an A4 notice-board poster (PDF or PNG) whose QR code opens the bot"
    )
    poster.add_argument("-c", "--config", default=DEFAULT_CONFIG, help="config file (TOML)")
    poster.add_argument(
        "-o", "--output", required=True, help="the file to write: poster.pdf or poster.png"
    )
    poster.add_argument(
        "--building", help="a building (heyuan/1): whoever scans joins with it already chosen"
    )
    poster.add_argument(
        "--lang", choices=SUPPORTED_LOCALES, help="the poster's language (default: the community's)"
    )
    poster.add_argument(
        "--username",
        help="the bot's username, without @ (default: asked from Telegram with the config's token)",
    )
    poster.set_defaults(func=run_poster)


def run_poster(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    output = Path(args.output)
    fmt = output.suffix.lower().lstrip(".")
    if fmt not in ("pdf", "png"):
        raise ConfigError(f"{output}: the poster is written as .pdf or .png")
    community = config.structure()
    building = None
    if args.building:
        found = match_building(args.building, community)
        building = community.building(found) if found else None
        if building is None:
            known = ", ".join(b.id for b in community.all_buildings())
            raise ConfigError(f"--building {args.building}: no such building (known: {known})")
    username = (args.username or "").lstrip("@") or asyncio.run(bot_username(config))
    locale = args.lang or config.community.default_locale
    font = charts.find_cjk_font(charts.font_path(config))
    drawn = views.drawn_locale(locale, font)
    if drawn != locale:
        print(
            "linli poster: no font with Chinese glyphs found (install fonts-noto-cjk, or set "
            "broadcasts.digest_font); the poster is drawn in English",
            file=sys.stderr,
        )
    words = views.poster_words(Renderer(config.tz), drawn, community, building, username)
    output.write_bytes(views.render_poster(words, "pdf" if fmt == "pdf" else "png", font))
    print(f"{output}: A4 poster, QR code -> {words.link}")
    return 0


async def bot_username(config: Config) -> str:
    """The bot's username, from Telegram (getMe) with the configured token."""
    token = config.bot.token.strip()
    if not token:
        raise ConfigError(
            f"bot.token: missing (set it, or {TOKEN_ENV}, or give the bot's --username)"
        )
    bot = Bot(token, base_url=config.bot.api_base_url,
              request=AiohttpRequest(connection_pool_size=1, proxy_url=config.bot.proxy_url))  # fmt: skip
    async with bot:
        return bot.username
