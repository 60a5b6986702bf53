"""Which commands exist, where they are offered and to whom (for /help and set_my_commands).

A command's description is the label `<feature>.cmd_<name>` in each locale. The app gathers
every feature's `COMMANDS` and installs the list in `bot_data` (`install`); /help and an
organizer's /start read it from there (`installed`), so no feature imports the app.
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

from telegram import Bot, BotCommand, BotCommandScopeChat

from linli.bot.context import LinliContext, Services
from linli.bot.render import Renderer
from linli.core.community import Role
from linli.core.members import SUPPORTED_LOCALES

_KEY = "linli.commands"


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    feature: str
    private: bool = True
    group: bool = False
    role: Role | None = None  # shown only to members with this role (organizer-only commands)

    @property
    def label_key(self) -> str:
        return f"{self.feature}.cmd_{self.name}"


def install(bot_data: MutableMapping[Any, Any], specs: Sequence[CommandSpec]) -> None:
    """Make every feature's commands known to the handlers that list them."""
    bot_data[_KEY] = tuple(specs)


def installed(context: LinliContext) -> tuple[CommandSpec, ...]:
    specs: tuple[CommandSpec, ...] = context.bot_data.get(_KEY, ())
    return specs


def command_list(
    specs: Sequence[CommandSpec], renderer: Renderer, locale: str, *, group: bool, organizer: bool
) -> list[BotCommand]:
    """The menu for one scope and language."""
    chosen = [
        s
        for s in specs
        if (s.group if group else s.private)
        and (s.role is None or (organizer and s.role is Role.ORGANIZER))
    ]
    return [BotCommand(s.name, renderer.label(locale, s.label_key)[:256]) for s in chosen]


def languages(default: str) -> list[tuple[str, str | None]]:
    """(locale, language_code) pairs to publish: each language, and the default for the rest."""
    pairs: list[tuple[str, str | None]] = []
    for locale in SUPPORTED_LOCALES:
        code = locale.split("-")[0]
        pairs.append((locale, code))
        if locale == default:
            pairs.append((locale, None))
    return pairs


async def publish_organizer_commands(
    bot: Bot, services: Services, specs: Sequence[CommandSpec], chat_id: int
) -> None:
    """An organizer's own menu (their private chat), with the organizer commands."""
    for locale, lang in languages(services.config.community.default_locale):
        await bot.set_my_commands(
            command_list(specs, services.renderer, locale, group=False, organizer=True),
            scope=BotCommandScopeChat(chat_id),
            language_code=lang,
        )
