"""Multi-step flows in private chat (onboarding, a report, a new event...), kept in `drafts`.

A feature starts a flow with `start_flow`, and registers a step handler with
`register_flow(name, handler)`. Every private message that is not a command (text, photo,
location, anything) goes to the handler of the user's active flow, which looks at
`draft.step`. A photo with no flow goes to the fallback registered for "photo" (hazard
reports start that way). `/cancel` ends any flow. An edited message never answers a step
(nor runs a command again): `EDITED_HANDLER` says so and changes nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Collection
from typing import Any

from telegram import Update
from telegram.error import BadRequest, Forbidden
from telegram.ext import CommandHandler, MessageHandler, filters

from linli.bot import outbox
from linli.bot.common import (
    Actor,
    Markup,
    is_private,
    label,
    load_actor,
    locale_of,
    refuse,
    reply,
    text,
)
from linli.bot.context import LinliContext
from linli.core.outcomes import Refused
from linli.storage import drafts as drafts_db
from linli.storage import members as members_db
from linli.storage.drafts import Draft

# A flow to start: its name, first step and data.
Start = tuple[str, str, dict[str, Any]]
FlowHandler = Callable[[Update, LinliContext, Actor, Draft], Awaitable[None]]
Fallback = Callable[[Update, LinliContext, Actor], Awaitable[None]]

_FLOWS: dict[str, FlowHandler] = {}
_FALLBACKS: dict[str, Fallback] = {}


def register_flow(name: str, handler: FlowHandler) -> None:
    _FLOWS[name] = handler


def register_fallback(kind: str, handler: Fallback) -> None:
    """What to do with a private message of this kind ("photo", "location") when no flow runs."""
    _FALLBACKS[kind] = handler


async def start_flow(
    context: LinliContext, user_id: int, flow: str, step: str, **data: Any
) -> Draft:
    """Start `flow` for this user. One flow at a time: if another was unfinished, it ends
    here, and the user is told which (before the new flow's first question)."""
    services = context.services
    previous = await drafts_db.get_draft(services.db, user_id)
    draft = Draft(user_id, flow, step, dict(data))
    await drafts_db.put_draft(services.db, draft, services.now())
    if previous is not None and previous.flow != flow:
        await _tell_replaced(context, user_id, previous.flow)
    return draft


async def _tell_replaced(context: LinliContext, user_id: int, flow: str) -> None:
    services = context.services
    member = await members_db.get_member_by_telegram(services.db, user_id)
    locale = locale_of(member, services) if member else services.config.community.default_locale
    what = label(context, locale, f"common.flow_{flow}")
    # If it cannot be said, the new flow's own question still tells them where they are.
    with contextlib.suppress(Forbidden, BadRequest):
        await context.bot.send_message(
            user_id, text(context, locale, "common/flow_replaced", what=what)
        )


async def save(context: LinliContext, draft: Draft, step: str | None = None) -> None:
    if step is not None:
        draft.step = step
    await drafts_db.put_draft(context.services.db, draft, context.services.now())


async def end_flow(context: LinliContext, user_id: int, flow: str | None = None) -> None:
    await drafts_db.clear_draft(context.services.db, user_id, flow)


async def current(context: LinliContext, user_id: int) -> Draft | None:
    return await drafts_db.get_draft(context.services.db, user_id)


async def ask_privately(
    update: Update,
    context: LinliContext,
    actor: Actor,
    flow: Start,
    feature: str,
    template: str,
    markup: Markup | None = None,
    **values: Any,
) -> bool:
    """Start `flow` (name, step, data) and ask for its input in the actor's private chat (a
    button in a group started it). If the bot may not write there yet, nothing starts and
    the press is refused with "open_private_chat" (`<feature>/refused`). True if asked."""
    name, step, data = flow
    user_id = actor.user.id
    previous = await drafts_db.get_draft(context.services.db, user_id)
    try:
        # Whether it arrived decides what happens, so it is sent at once, before the draft.
        with outbox.sending_now():
            if previous is not None and previous.flow != name:
                await _tell_replaced(context, user_id, previous.flow)
            await context.bot.send_message(
                user_id, text(context, actor.locale, template, **values), reply_markup=markup
            )
    except (Forbidden, BadRequest):
        await refuse(update, context, actor.locale, Refused("open_private_chat"), feature)
        return False
    await drafts_db.put_draft(
        context.services.db, Draft(user_id, name, step, dict(data)), context.services.now()
    )
    return True


async def typed_answer(
    update: Update,
    context: LinliContext,
    locale: str,
    step: str,
    steps: Collection[str],
    feature: str,
) -> str | None:
    """The text typed for a step that takes text; otherwise the member is told to use the
    buttons (`<feature>/use_buttons`) or to type (`<feature>/use_text`), and None."""
    message = update.effective_message
    typed = message.text if message is not None and message.text else None
    if typed is None or step not in steps:
        await reply(
            update, context, locale, f"{feature}/use_buttons" if typed else f"{feature}/use_text"
        )
        return None
    return typed


def message_kind(update: Update) -> str:
    message = update.effective_message
    if message is None:
        return "none"
    if message.photo:
        return "photo"
    if message.location:
        return "location"
    if message.text:
        return "text"
    return "other"


async def on_private_input(update: Update, context: LinliContext) -> None:
    """Route a private non-command message to the member's active flow."""
    actor = await load_actor(update, context)
    if actor is None or not is_private(update):
        return
    draft = await drafts_db.get_draft(context.services.db, actor.user.id)
    if draft is not None and draft.flow in _FLOWS:
        await _FLOWS[draft.flow](update, context, actor, draft)
        return
    fallback = _FALLBACKS.get(message_kind(update))
    if fallback is not None:
        await fallback(update, context, actor)
        return
    await reply(update, context, actor.locale, "common/no_flow")


async def on_edited(update: Update, context: LinliContext) -> None:
    """An edited message answers nothing (a flow's step, a command): it says so, changes nothing."""
    message = update.effective_message
    if message is None or message.location is not None:
        return  # a live location moving: Telegram sends every move as an edit
    command = (message.text or "").startswith("/")
    private = is_private(update)
    actor = await load_actor(update, context)
    if actor is None or not (private or command):
        return  # other edits in a group are the group's own talk
    draft = await drafts_db.get_draft(context.services.db, actor.user.id) if private else None
    waiting = draft is not None and draft.flow in _FLOWS and not command
    what = label(context, actor.locale, f"common.flow_{draft.flow}") if waiting and draft else ""
    await reply(update, context, actor.locale, "common/edit_ignored", what=what, command=command)


async def on_cancel(update: Update, context: LinliContext) -> None:
    """/cancel: end whatever flow is running."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    ended = await drafts_db.clear_draft(context.services.db, actor.user.id)
    await reply(update, context, actor.locale, "common/cancelled", ended=ended)


# An edit is never an answer: PTB's CommandHandler takes edited commands by default (an edited
# "/award ..." would award again), so this comes before every other handler of its group.
EDITED_HANDLER = MessageHandler(filters.UpdateType.EDITED, on_edited)
CANCEL_HANDLER = CommandHandler("cancel", on_cancel, filters.UpdateType.MESSAGE)
INPUT_HANDLER = MessageHandler(
    filters.UpdateType.MESSAGE
    & filters.ChatType.PRIVATE
    & ~filters.COMMAND
    & ~filters.StatusUpdate.ALL,
    on_private_input,
)
