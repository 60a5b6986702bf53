"""Deep links owned by other features: `/start <payload>` is the members' handler, which
hands a link it does not own (a check-in code, "report", "treehole") to the feature that
does. The app installs the table (linli/bot/app.py), so no feature imports another's
handlers; the payload itself is parsed by `core.members.parse_start_payload`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from telegram import Update

from linli.bot.common import Actor
from linli.bot.context import LinliContext

# (update, context, actor, the payload's argument, e.g. the check-in code)
LinkHandler = Callable[[Update, LinliContext, Actor, str], Awaitable[None]]
Start = Callable[[Update, LinliContext, Actor], Awaitable[None]]

_KEY = "linli.deep_links"
# Not a payload anyone can send (it has a colon): the members' join hands a rider who has
# just joined to the feature installed under this key (the directory's nearest station).
JOINED_RIDER = "joined:rider"


@dataclass(frozen=True, slots=True)
class DeepLink:
    run: LinkHandler
    joined_only: bool = False  # before joining, the link starts joining instead


def without_arg(start: Start) -> LinkHandler:
    """A link whose handler needs no argument ("report", "treehole")."""

    async def run(update: Update, context: LinliContext, actor: Actor, arg: str) -> None:
        await start(update, context, actor)

    return run


def install(bot_data: MutableMapping[Any, Any], links: Mapping[str, DeepLink]) -> None:
    bot_data[_KEY] = dict(links)


def find(context: LinliContext, kind: str) -> DeepLink | None:
    """The feature's handler for a link of this kind (`StartIntent.kind`), if one is installed."""
    links: dict[str, DeepLink] = context.bot_data.get(_KEY, {})
    return links.get(kind)
