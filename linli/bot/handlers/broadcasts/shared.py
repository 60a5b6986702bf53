"""What every broadcasts handler module shares: the one router for the "bc" buttons, the
organizers-only check, and the organizer's draft."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import CallbackQuery, Update

from linli.bot import flows
from linli.bot.buttons import Router
from linli.bot.common import Actor, answer, edit, is_private, load_actor, refuse, text
from linli.bot.context import LinliContext
from linli.core.broadcasts import BroadcastDraft, may_broadcast
from linli.storage.drafts import Draft

FEATURE = "broadcasts"  # templates/<locale>/broadcasts/, refusals in broadcasts/refused
FLOW = "broadcast"  # the flow's name (kept in drafts)

ROUTER = Router("bc")
Pressed = TypeVar("Pressed")
ButtonFn = Callable[[Update, LinliContext, Actor, Pressed], Awaitable[None]]


async def organizer(update: Update, context: LinliContext) -> Actor | None:
    """The acting organizer in private chat, or None after saying why not."""
    actor = await load_actor(update, context)
    if actor is None or await not_allowed(update, context, actor):
        return None
    return actor


async def not_allowed(update: Update, context: LinliContext, actor: Actor) -> bool:
    """Broadcasts are for organizers, in private: True after saying why not."""
    why = may_broadcast(actor.member, private=is_private(update))
    if why is not None:
        await refuse(update, context, actor.locale, why, FEATURE)
    return why is not None


def organizers_only(handler: ButtonFn[Pressed]) -> ButtonFn[Pressed]:
    """A broadcast button acts only for an organizer in private chat (others are told why)."""

    @functools.wraps(handler)
    async def checked(
        update: Update, context: LinliContext, actor: Actor, pressed: Pressed
    ) -> None:
        if not await not_allowed(update, context, actor):
            await handler(update, context, actor, pressed)

    return checked


def query_of(update: Update) -> CallbackQuery:
    """The tap being handled (every button handler here is one)."""
    assert update.callback_query is not None
    return update.callback_query


async def stale(update: Update, context: LinliContext, actor: Actor) -> None:
    await answer(update, context, actor.locale, "common/stale_button", alert=True)


async def current_draft(
    context: LinliContext, actor: Actor, *steps: str
) -> tuple[Draft, BroadcastDraft] | None:
    """The organizer's broadcast draft, if it is at one of `steps` (any step if none given)."""
    draft = await flows.current(context, actor.user.id)
    if draft is None or draft.flow != FLOW or (steps and draft.step not in steps):
        return None
    return draft, BroadcastDraft.from_data(draft.data)


async def save(context: LinliContext, draft: Draft, chosen: BroadcastDraft, step: str) -> None:
    draft.data = chosen.to_data()
    await flows.save(context, draft, step)


async def cancel(update: Update, context: LinliContext, actor: Actor, key: str | None) -> None:
    """Cancel (while choosing, or on the preview if `key` is the draft's): nothing is sent."""
    found = await current_draft(context, actor)
    if found is None or (key is not None and found[1].key != key):
        await stale(update, context, actor)
        return
    await flows.end_flow(context, actor.user.id, FLOW)
    await answer(update, context, actor.locale)
    await edit(query_of(update), text(context, actor.locale, "broadcasts/cancelled"))
