"""Every text a user sees: jinja2 templates per locale, autoescaped, StrictUndefined.

Messages live in `templates/<locale>/<feature>/<name>.html.j2` and are rendered with
`render(locale, "feature/name", **values)`. Short plain strings (button labels, command
descriptions) live in `templates/<locale>/<feature>/labels.toml` and come from
`label(locale, "feature.key", **values)`; they are jinja too, but not HTML.
"""

from __future__ import annotations

import tomllib
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
import markupsafe

from linli.core.fund import yuan
from linli.core.members import SUPPORTED_LOCALES

TEMPLATES = Path(str(resources.files("linli.bot") / "templates"))
TELEGRAM_TEXT_LIMIT = 4096
TELEGRAM_CAPTION_LIMIT = 1024

_DATE_FORMATS = {
    "zh-CN": {"dt": "%Y年%m月%d日 %H:%M", "date": "%Y年%m月%d日", "time": "%H:%M"},
    "en": {"dt": "%a %d %b %Y, %H:%M", "date": "%a %d %b %Y", "time": "%H:%M"},
}
_WEEKDAYS_ZH = "一二三四五六日"


class Renderer:
    def __init__(self, tz: ZoneInfo, root: Path = TEMPLATES) -> None:
        self.tz = tz
        self.root = root
        self._env = _environment(root, html=True)
        self._plain = _environment(root, html=False)
        self._labels_compiled: dict[str, jinja2.Template] = {}
        for env in (self._env, self._plain):
            env.filters["dt"] = self._format("dt")
            env.filters["date"] = self._format("date")
            env.filters["time"] = self._format("time")
            env.filters["local"] = lambda when: when.astimezone(self.tz)
            env.filters["plural"] = plural
            env.filters["yuan"] = lambda fen: yuan(int(fen))  # fen -> "1,200.00" (the fund)

    def _format(self, kind: str) -> Any:
        def fmt(when: datetime | None, locale: str = "zh-CN") -> str:
            if when is None:
                return "—"
            local = when.astimezone(self.tz)
            text = local.strftime(_DATE_FORMATS.get(locale, _DATE_FORMATS["en"])[kind])
            if locale == "zh-CN" and kind in ("dt", "date"):
                text = text.replace("年0", "年").replace("月0", "月")
                if kind == "date":
                    text += f"（周{_WEEKDAYS_ZH[local.weekday()]}）"
            return text

        return fmt

    def render(self, locale: str, name: str, **values: Any) -> str:
        """A message in HTML parse mode, stripped of the template's outer blank lines."""
        template = self._env.get_template(f"{_locale(locale)}/{name}.html.j2")
        return template.render(locale=_locale(locale), **values).strip()

    def label(self, locale: str, key: str, **values: Any) -> str:
        """A short plain string (a button, a command description)."""
        feature, _, name = key.partition(".")
        text = _labels(self.root, _locale(locale), feature)[name]
        if "{" not in text:
            return text
        return self._compiled(text).render(locale=_locale(locale), **values).strip()

    def _compiled(self, text: str) -> jinja2.Template:
        # Compiling a label is ~0.3 ms; a list of events compiles one per button (bench/).
        template = self._labels_compiled.get(text)
        if template is None:
            template = self._labels_compiled[text] = self._plain.from_string(text)
        return template

    def has_label(self, locale: str, key: str) -> bool:
        feature, _, name = key.partition(".")
        return name in _labels(self.root, _locale(locale), feature)


def plural(count: float | str, singular: str, plural_form: str = "") -> str:
    """The English noun for `count`: `{{ n }} {{ n|plural("minute") }}` -> "1 minute",
    "2 minutes"; irregular nouns give both (`n|plural("reply", "replies")`). A count may be
    text as shown ("1.5" hours). Chinese nouns have no plural: zh-CN templates never need it."""
    try:
        one = abs(float(count)) == 1
    except ValueError:
        one = False
    return singular if one else (plural_form or singular + "s")


def _locale(locale: str) -> str:
    return locale if locale in SUPPORTED_LOCALES else SUPPORTED_LOCALES[0]


def _environment(root: Path, *, html: bool) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(root)),
        autoescape=html,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        # Templates ship with the package: no stat() of the file on every render, and no
        # eviction (398 files; a template compiled again costs ~5 ms).
        auto_reload=False,
        cache_size=-1,
    )


@cache
def _labels(root: Path, locale: str, feature: str) -> dict[str, str]:
    path = root / locale / feature / "labels.toml"
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    return {str(k): str(v) for k, v in data.items()}


def escape(text: str) -> str:
    """For the rare string built outside a template (never needed inside one)."""
    return str(markupsafe.escape(text))
