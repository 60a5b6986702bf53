"""What every chart shares: a font that draws Chinese, found once, and matplotlib told of it.

The digest's chart and the week picture of a space are drawn with matplotlib's Agg canvas
(no pyplot state) in a worker thread. Their labels are in the community's language when a
font with Chinese glyphs is installed (or configured), else in English, so a picture never
shows boxes for missing glyphs.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

from linli.bot.config import Config

log = logging.getLogger(__name__)

# Families with Chinese glyphs, by the words in their file names.
_CJK_FILE_HINTS = ("cjk", "wqy", "wenquanyi", "sourcehan", "droidsansfallback", "uming", "ukai",
                   "simhei", "simsun", "msyh", "pingfang", "hiragino")  # fmt: skip
_PROBE = "邻里社区"


def font_path(config: Config) -> str:
    """The configured chart font (broadcasts.digest_font), relative to the config's folder."""
    configured = config.broadcasts.digest_font
    if configured and not Path(configured).is_absolute() and config.source:
        configured = str(Path(config.source).parent / configured)  # like backup_dir
    return configured


def has_glyphs(path: str, text: str) -> bool:
    from matplotlib.ft2font import FT2Font

    try:
        charmap = FT2Font(path).get_charmap()
    except (OSError, RuntimeError, ValueError):
        return False
    return all(ord(c) in charmap for c in text)


@cache
def find_cjk_font(configured: str = "") -> str | None:
    """A font file that can draw Chinese: the configured one, else one installed; else None."""
    if configured:
        if Path(configured).is_file() and has_glyphs(configured, _PROBE):
            return configured
        log.warning(
            "digest_font %s is missing or has no Chinese glyphs; looking for one", configured
        )
    from matplotlib import font_manager

    # Not the cached font list: a font installed after matplotlib built its cache counts too.
    found = sorted(
        path for path in font_manager.findSystemFonts()
        if any(hint in Path(path).name.lower().replace("-", "").replace("_", "")
               for hint in _CJK_FILE_HINTS)
    )  # fmt: skip
    # Regular sans first: a bold, light, serif or monospaced face is not what labels want.
    found.sort(
        key=lambda p: (
            "regular" not in Path(p).name.lower(),
            "sans" not in Path(p).name.lower(),
            "mono" in Path(p).name.lower(),
            p,
        )
    )
    return next((path for path in found if has_glyphs(path, _PROBE)), None)


@cache
def register_font(path: str) -> str:
    """Make a font file known to matplotlib (once); the family name to ask for.

    A collection (.ttc) holds several faces: the Simplified Chinese one is preferred. The
    bold file next to it, if any, is registered too, so titles are bold and not faked.
    """
    from matplotlib import font_manager

    for candidate in (path, path.replace("Regular", "Bold")):
        if candidate == path or (candidate != path and Path(candidate).is_file()):
            font_manager.fontManager.addfont(candidate)
    faces = [e.name for e in font_manager.fontManager.ttflist if e.fname == path]
    preferred = [n for n in faces if n.endswith(" SC") and "Mono" not in n]
    return (preferred or faces or [font_manager.FontProperties(fname=path).get_name()])[0]


@cache
def charset(paths: tuple[str, ...]) -> frozenset[int]:
    from matplotlib.ft2font import FT2Font

    codes: set[int] = set()
    for path in paths:
        codes.update(FT2Font(path).get_charmap())
    return frozenset(codes)


def drawable(text: str, charset: frozenset[int]) -> bool:
    return all(c.isspace() or ord(c) in charset for c in text)


def families(font: str | None) -> tuple[list[str], frozenset[int]]:
    """The font families to ask matplotlib for (the Chinese one first, if any) and the
    characters they can draw."""
    from matplotlib import font_manager

    names = ["DejaVu Sans"]
    paths = [str(font_manager.findfont("DejaVu Sans"))]
    if font is not None:
        names.insert(0, register_font(font))
        paths.insert(0, font)
    return names, charset(tuple(paths))
