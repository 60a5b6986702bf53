"""Every template renders in both locales, and both locales say the same things."""

from __future__ import annotations

import itertools
import re
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
import pytest
from jinja2 import meta

from linli.bot.render import TEMPLATES, Renderer, plural
from linli.core.members import SUPPORTED_LOCALES


class Anything:
    """A stand-in value that behaves like whatever a template asks it to be."""

    def __init__(self, depth: int = 0) -> None:
        self._depth = depth

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return Anything(self._depth + 1)

    def __getitem__(self, key: object) -> Any:
        return Anything(self._depth + 1)

    def __iter__(self) -> Any:
        # Two items, so `for key, value in pairs` unpacks too.
        return iter(
            [Anything(self._depth + 1), Anything(self._depth + 1)] if self._depth < 3 else []
        )

    def __len__(self) -> int:
        return 2

    def __str__(self) -> str:
        return "<x>"

    def __bool__(self) -> bool:
        return True

    def __int__(self) -> int:
        return 1

    def __float__(self) -> float:
        return 1.0

    def __index__(self) -> int:
        return 1

    def __eq__(self, other: object) -> bool:
        return False

    def __lt__(self, other: object) -> bool:
        return False

    def __gt__(self, other: object) -> bool:
        return False

    def __le__(self, other: object) -> bool:
        return True

    def __ge__(self, other: object) -> bool:
        return True

    def __add__(self, other: object) -> Any:
        return other

    __radd__ = __add__
    __sub__ = __add__
    __rsub__ = __add__
    __mul__ = __add__
    __rmul__ = __add__
    __truediv__ = __add__
    __mod__ = __add__

    def __hash__(self) -> int:
        return 1

    def __call__(self, *args: object, **kwargs: object) -> Any:
        return Anything(self._depth + 1)

    def astimezone(self, tz: object = None) -> datetime:
        return datetime(2026, 12, 1, 9, 30, tzinfo=UTC)

    def strftime(self, fmt: str) -> str:
        return datetime(2026, 12, 1, 9, 30, tzinfo=UTC).strftime(fmt)


def _templates(locale: str) -> set[str]:
    root = TEMPLATES / locale
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_both_locales_have_the_same_files() -> None:
    zh, en = _templates("zh-CN"), _templates("en")
    assert zh == en, f"only in zh-CN: {sorted(zh - en)}; only in en: {sorted(en - zh)}"
    assert any(name.endswith(".html.j2") for name in zh)


def _variables(locale: str, name: str) -> set[str]:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)))
    # the Renderer's own filters (CONTRIBUTING: dates with |dt, |date, |time; |plural)
    env.filters.update({name: str for name in ("dt", "date", "time", "local", "plural", "yuan")})
    source = (TEMPLATES / locale / name).read_text(encoding="utf-8")
    return meta.find_undeclared_variables(env.parse(source)) - {"locale"}


MESSAGES = sorted(n for n in _templates("en") if n.endswith(".html.j2"))


@pytest.mark.parametrize("name", MESSAGES)
def test_template_uses_the_same_variables_in_both_locales(name: str) -> None:
    assert _variables("zh-CN", name) == _variables("en", name)


@pytest.mark.parametrize("name", MESSAGES)
@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_template_renders(locale: str, name: str) -> None:
    renderer = Renderer(ZoneInfo("Asia/Shanghai"))
    values = {v: Anything() for v in _variables(locale, name)}
    out = renderer.render(locale, name.removesuffix(".html.j2"), **values)
    assert isinstance(out, str)
    assert "{{" not in out and "{%" not in out


LABEL_FILES = sorted(n for n in _templates("en") if n.endswith("labels.toml"))


@pytest.mark.parametrize("name", LABEL_FILES)
def test_labels_have_the_same_keys_and_fit_telegram(name: str) -> None:
    keys = {}
    for locale in SUPPORTED_LOCALES:
        with (TEMPLATES / locale / name).open("rb") as handle:
            data = tomllib.load(handle)
        keys[locale] = set(data)
        for key, value in data.items():
            assert isinstance(value, str) and value.strip(), f"{locale}/{name}: {key} is empty"
            if key.startswith("cmd_"):
                assert len(value) <= 256  # Telegram's limit for a command description
    assert keys["zh-CN"] == keys["en"]


def test_user_text_is_escaped() -> None:
    renderer = Renderer(ZoneInfo("Asia/Shanghai"))
    out = renderer.render("en", "members/welcome_back", member={"name": "<b>&"})
    assert "&lt;b&gt;&amp;" in out and "<b>&" not in out


def test_dates_are_shown_in_the_community_time_zone() -> None:
    renderer = Renderer(ZoneInfo("Asia/Shanghai"))
    when = datetime(2026, 12, 1, 1, 30, tzinfo=UTC)
    dt = renderer._env.filters["dt"]
    assert dt(when, "zh-CN") == "2026年12月1日 09:30"
    assert dt(when, "en") == "Tue 01 Dec 2026, 09:30"


def test_template_folder_is_packaged() -> None:
    assert (Path(TEMPLATES) / "en").is_dir()


def test_no_line_runs_into_the_next() -> None:
    """trim_blocks eats the newline after a block tag; a line of text ending in one (`…{% endif %}`)
    would run into the next line of text. Such a line must end its tag with `+%}`."""
    tag = re.compile(r"\{%.*?%\}")
    offenders = []
    for locale in SUPPORTED_LOCALES:
        for path in sorted((TEMPLATES / locale).rglob("*.html.j2")):
            lines = path.read_text(encoding="utf-8").split("\n")
            for number, (line, following) in enumerate(itertools.pairwise(lines), 1):
                text_line = line.rstrip()
                if not text_line.endswith("%}") or text_line.endswith("+%}"):
                    continue
                if not tag.sub("", text_line).strip() or "{% macro" in text_line:
                    continue  # only tags (or a macro's definition): trimming is the point
                nxt = following.strip()
                if nxt and not nxt.startswith(("{%", "{#")):
                    offenders.append(f"{path.relative_to(TEMPLATES)}:{number}")
    assert offenders == []


class Count(Anything):
    """Anything, shown and counted as one number: every `{{ n }} nouns` renders as "1 …"."""

    def __init__(self, n: int, depth: int = 0) -> None:
        super().__init__(depth)
        self._n = n

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return Count(self._n, self._depth + 1)

    def __getitem__(self, key: object) -> Any:
        return Count(self._n, self._depth + 1)

    def __iter__(self) -> Any:
        items = [Count(self._n, self._depth + 1), Count(self._n, self._depth + 1)]
        return iter(items if self._depth < 3 else [])

    def __call__(self, *args: object, **kwargs: object) -> Any:
        return Count(self._n, self._depth + 1)

    def __str__(self) -> str:
        return str(self._n)

    def __int__(self) -> int:
        return self._n

    def __float__(self) -> float:
        return float(self._n)

    def __abs__(self) -> int:
        return self._n

    def __eq__(self, other: object) -> bool:
        return other == self._n

    def __hash__(self) -> int:
        return self._n

    def __floordiv__(self, other: object) -> Any:
        return self


NOUNS = [
    "minute",
    "hour",
    "day",
    "week",
    "time",
    "point",
    "seat",
    "vote",
    "voter",
    "ballot",
    "member",
    "order",
    "report",
    "message",
    "neighbour",
    "resident",
    "household",
    "group",
    "option",
    "character",
    "photo",
    "event",
    "error",
    "co-signature",
    "entry",
    "reply",
    "person",
    "pt",
]
PLURALS = {
    n: {"entry": "entries", "reply": "replies", "person": "people"}.get(n, n + "s") for n in NOUNS
}
ONE_PLURAL = re.compile(r"(?<![\d.,/])\b1 (" + "|".join(map(re.escape, PLURALS.values())) + r")\b")
TWO_SINGULAR = re.compile(r"(?<![\d.,/])\b2 (" + "|".join(map(re.escape, NOUNS)) + r")\b(?!-)")


def _english_texts(n: int) -> dict[str, str]:
    renderer = Renderer(ZoneInfo("Asia/Shanghai"))
    out = {}
    for name in MESSAGES:
        values = {v: Count(n) for v in _variables("en", name)}
        out[name] = renderer.render("en", name.removesuffix(".html.j2"), **values)
    for name in LABEL_FILES:
        with (TEMPLATES / "en" / name).open("rb") as handle:
            keys = tomllib.load(handle)
        feature = name.split("/")[0]
        for key, text in keys.items():
            if "{{" in text:
                env = jinja2.Environment()
                env.filters["plural"] = plural
                names = meta.find_undeclared_variables(env.parse(text))
                values = {v: Count(n) for v in names - {"locale"}}
                out[f"{name}:{key}"] = renderer.label("en", f"{feature}.{key}", **values)
    return out


def test_english_counts_agree_with_their_nouns() -> None:
    """ "has waited 1 minutes", "1 points", "2 point" nowhere: every count goes through |plural."""
    ones = {n: ONE_PLURAL.findall(t) for n, t in _english_texts(1).items() if ONE_PLURAL.search(t)}
    twos = {n: TWO_SINGULAR.findall(t) for n, t in _english_texts(2).items()}
    assert ones == {}
    assert {n: found for n, found in twos.items() if found} == {}
    assert "has waited 1 minute and" in _english_texts(1)["hazards/escalation.html.j2"]
    assert "has waited 2 minutes and" in _english_texts(2)["hazards/escalation.html.j2"]


def test_plural_filter() -> None:
    assert plural(1, "minute") == "minute" and plural(2, "minute") == "minutes"
    assert plural(0, "point") == "points" and plural(-1, "point") == "point"
    assert plural("1", "hour") == "hour" and plural("1.5", "hour") == "hours"
    assert plural(1, "reply", "replies") == "reply" and plural(3, "reply", "replies") == "replies"
