"""Typed buttons: one declaration per kind of button, one way to route a feature's buttons.

A kind of button is a frozen dataclass declared with `@button(feature, action)`; its fields
(int, str or bool) are what the button carries:

    @button("sh", "rd")
    @dataclass(frozen=True, slots=True)
    class Redeem:
        item_id: int

A str field is never empty, unless it is declared `= ""` (then "" packs as nothing).

`pack(Redeem(7))` gives the callback data "sh:rd:7" (at most 64 bytes, or it raises at the
moment the button is made); `Redeem.parse(data)` -- through `parse(Redeem, data)` -- gives a
`Redeem` or None for anything that does not fit exactly (old, forwarded or forged buttons).

A feature routes its buttons with a `Router`: each handler says which kind it takes, gets
it parsed, and anything unknown or malformed is answered "this button is no longer valid"
and changes nothing:

    ROUTER = Router("sh")

    @ROUTER.on(Redeem)
    async def ask_confirm(update, context, actor, pressed: Redeem) -> None: ...

    HANDLERS = [..., ROUTER.handler()]
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, Protocol, TypeVar

from telegram import Update
from telegram.ext import CallbackQueryHandler

from linli.bot.common import Actor, answer, load_actor
from linli.bot.context import LinliContext

CALLBACK_LIMIT = 64
SEP = ":"
_FIELD_TYPES = (int, str, bool)


class ButtonTooLong(ValueError):
    """The packed data would be over Telegram's 64 bytes."""


class Button(Protocol):
    """What `@button` gives a dataclass."""

    FEATURE: ClassVar[str]
    ACTION: ClassVar[str]


B = TypeVar("B")
Kind = TypeVar("Kind", bound=type)


def button(feature: str, action: str) -> Callable[[Kind], Kind]:
    """Declare a dataclass as the button `<feature>:<action>:<field>:...`."""
    for part in (feature, action):
        if not part or SEP in part:
            raise ValueError(f"bad button name part {part!r}")

    def declare(cls: Kind) -> Kind:
        if not dataclasses.is_dataclass(cls):
            raise TypeError(f"{cls.__name__}: declare it as a dataclass first")
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            if hints[f.name] not in _FIELD_TYPES:
                raise TypeError(f"{cls.__name__}.{f.name}: a button carries int, str or bool")
        cls.FEATURE = feature  # type: ignore[attr-defined]
        cls.ACTION = action  # type: ignore[attr-defined]
        # Read once here: every button drawn and every press packs or parses through them.
        cls.FIELDS = tuple((f.name, hints[f.name]) for f in dataclasses.fields(cls))  # type: ignore[attr-defined]
        cls.MAY_BE_EMPTY = frozenset(f.name for f in dataclasses.fields(cls) if f.default == "")  # type: ignore[attr-defined]
        return cls

    return declare


def _types(kind: type) -> tuple[tuple[str, type], ...]:
    fields: tuple[tuple[str, type], ...] = kind.FIELDS  # type: ignore[attr-defined]
    return fields


def _may_be_empty(kind: type) -> frozenset[str]:
    """The str fields declared `= ""`: they may be packed and parsed empty."""
    names: frozenset[str] = kind.MAY_BE_EMPTY  # type: ignore[attr-defined]
    return names


def pack(pressed: Any) -> str:
    """The callback data for a button (raises if it would not fit or cannot be read back)."""
    kind = type(pressed)
    parts = [kind.FEATURE, kind.ACTION]
    for name, typ in _types(kind):
        value = getattr(pressed, name)
        if typ is bool:
            parts.append("1" if value else "0")
        else:
            text = str(value)
            if SEP in text or (typ is str and not text and name not in _may_be_empty(kind)):
                raise ValueError(f"{kind.__name__}.{name}={value!r} cannot be packed")
            parts.append(text)
    data = SEP.join(parts)
    if len(data.encode("utf-8")) > CALLBACK_LIMIT:
        raise ButtonTooLong(data)
    return data


def parse(kind: type[B], data: str | None) -> B | None:
    """The button `data` stands for, if it is exactly one of `kind`; else None."""
    if not data:
        return None
    parts = data.split(SEP)
    fields = _types(kind)
    feature, action = kind.FEATURE, kind.ACTION  # type: ignore[attr-defined]
    if len(parts) != len(fields) + 2 or parts[0] != feature or parts[1] != action:
        return None
    values: dict[str, Any] = {}
    for (name, typ), raw in zip(fields, parts[2:], strict=True):
        if typ is int:
            if not raw.lstrip("-").isdigit() or len(raw) > 19:
                return None
            values[name] = int(raw)
        elif typ is bool:
            if raw not in ("0", "1"):
                return None
            values[name] = raw == "1"
        else:
            if not raw and name not in _may_be_empty(kind):
                return None
            values[name] = raw
    return kind(**values)


def action_of(data: str | None) -> tuple[str, str] | None:
    """(feature, action) of any callback data, to route before the fields are read."""
    if not data:
        return None
    parts = data.split(SEP)
    return (parts[0], parts[1]) if len(parts) >= 2 else None


ButtonHandler = Callable[[Update, LinliContext, Actor, Any], Awaitable[None]]


class Router:
    """One feature's buttons: each kind to its handler; the rest answered as stale."""

    def __init__(self, feature: str) -> None:
        self.feature = feature
        self._routes: dict[str, tuple[type, ButtonHandler]] = {}

    def on(self, kind: type[B]) -> Callable[[Callable[..., Awaitable[None]]], ButtonHandler]:
        """Register the decorated handler for buttons of `kind`."""
        if self.feature != kind.FEATURE:  # type: ignore[attr-defined]
            raise ValueError(f"{kind.__name__} is not a {self.feature!r} button")
        action: str = kind.ACTION  # type: ignore[attr-defined]
        if action in self._routes:
            raise ValueError(f"two handlers for {self.feature}:{action}")

        def register(fn: Callable[..., Awaitable[None]]) -> ButtonHandler:
            self._routes[action] = (kind, fn)
            return fn

        return register

    def kinds(self) -> list[type]:
        return [kind for kind, _ in self._routes.values()]

    async def dispatch(self, update: Update, context: LinliContext) -> None:
        """Every button of this feature: parsed to its kind and handed to its handler."""
        query = update.callback_query
        actor = await load_actor(update, context)
        if query is None or actor is None:
            return
        found = action_of(query.data)
        route = self._routes.get(found[1]) if found and found[0] == self.feature else None
        pressed = parse(route[0], query.data) if route else None
        if route is None or pressed is None:
            await answer(update, context, actor.locale, "common/stale_button", alert=True)
            return
        await route[1](update, context, actor, pressed)

    def handler(self) -> CallbackQueryHandler[LinliContext, None]:
        return CallbackQueryHandler(self.dispatch, pattern=rf"^{self.feature}{SEP}")
