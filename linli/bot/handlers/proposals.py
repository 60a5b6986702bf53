"""Proposals: /propose (verified residents), co-signing on the card, organizers open a vote or decline.

Callback data (prefix "pr"): a:<audience#> sub no (the /propose preview), c:<id> co-sign,
o:<id> open a vote (organizers), x:<id> decline with a reason (organizers).
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from linli.bot import callbacks, flows
from linli.bot.commands import CommandSpec
from linli.bot.common import (
    Actor,
    answer,
    edit,
    is_private,
    keyboard,
    label,
    load_actor,
    notify,
    refuse,
    reply,
    text,
)
from linli.bot.context import LinliContext
from linli.bot.handlers.polls import audience_view, group_targets
from linli.core.members import Audience
from linli.core.outcomes import Refused
from linli.core.polls import Poll, clean_title
from linli.core.proposals import (
    Proposal,
    audiences_for,
    check_proposal,
    clean_body,
    clean_reason,
    may_propose,
    preview,
)
from linli.storage import members as members_db
from linli.storage import proposals as proposals_db
from linli.storage.drafts import Draft

F = "pr"
FLOW = "propose"
DECLINE_FLOW = "propdecline"


async def card(
    context: LinliContext, locale: str, proposal: Proposal
) -> tuple[str, InlineKeyboardMarkup | None]:
    """A proposal's card in a group: what, who, support so far; the co-sign button while pending."""
    author = await members_db.get_member(context.services.db, proposal.author_id)
    body = text(
        context,
        locale,
        "proposals/card",
        proposal=proposal,
        author=author.name if author else "",
        audience=audience_view(proposal.audience, context.services.community),
    )
    if not proposal.is_pending:
        return body, None
    button = label(
        context, locale, "proposals.cosign", count=proposal.cosigns, threshold=proposal.threshold
    )
    return body, keyboard([[(button, callbacks.pack(F, "c", proposal.id))]])


async def refresh_cards(context: LinliContext, proposal: Proposal) -> None:
    locale = context.services.config.community.default_locale
    body, markup = await card(context, locale, proposal)
    for chat_id, message_id in await proposals_db.posts(context.services.db, proposal.id, "card"):
        if message_id is None:
            continue
        # Unchanged, deleted, or the bot left: the card only mirrors the data.
        with contextlib.suppress(TelegramError):
            await context.bot.edit_message_text(
                body, chat_id=chat_id, message_id=message_id, reply_markup=markup
            )


# --- /propose --------------------------------------------------------------------------------


async def on_propose(update: Update, context: LinliContext) -> None:
    """/propose: a verified resident drafts a proposal for their building or compound."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    refused = may_propose(actor.member) or (None if is_private(update) else Refused("private_only"))
    if refused is not None:
        await refuse(update, context, actor.locale, refused, "proposals")
        return
    await flows.start_flow(context, actor.user.id, FLOW, "title", key=secrets.token_hex(8))
    await reply(
        update,
        context,
        actor.locale,
        "proposals/ask_title",
        threshold=context.services.config.polls.cosign_threshold,
    )


async def on_input(update: Update, context: LinliContext, actor: Actor, draft: Draft) -> None:
    """Typed answers in /propose: the title, then the text."""
    message = update.effective_message
    typed = message.text if message is not None and message.text else None
    if typed is None or draft.step not in ("title", "body"):
        await reply(
            update, context, actor.locale, "polls/use_buttons" if typed else "polls/use_text"
        )
        return
    if draft.step == "title":
        title = clean_title(typed)
        if isinstance(title, Refused):
            await refuse(update, context, actor.locale, title, "proposals")
            return
        draft.data["title"] = title
        await flows.save(context, draft, "body")
        await reply(update, context, actor.locale, "proposals/ask_body")
        return
    body = clean_body(typed)
    if isinstance(body, Refused):
        await refuse(update, context, actor.locale, body, "proposals")
        return
    draft.data["body"] = body
    await flows.save(context, draft, "audience")
    choices = audiences_for(actor.member, context.services.community)
    rows = [
        [
            (
                label(
                    context,
                    actor.locale,
                    f"proposals.aud_{a.kind.value}",
                    **audience_view(a, context.services.community),
                ),
                callbacks.pack(F, "a", i),
            )
        ]
        for i, a in enumerate(choices)
    ]
    await reply(update, context, actor.locale, "proposals/ask_audience", keyboard(rows))


async def on_flow_button(update: Update, context: LinliContext) -> None:
    """/propose buttons: the audience, then Submit or Cancel on the preview."""
    query = update.callback_query
    actor = await load_actor(update, context)
    if query is None or actor is None:
        return
    draft = await flows.current(context, actor.user.id)
    parsed = callbacks.unpack(query.data, F, int) or callbacks.unpack(query.data, F)
    route = _FLOW_BUTTONS.get(parsed[0]) if parsed else None
    if (
        draft is None
        or draft.flow != FLOW
        or parsed is None
        or route is None
        or not await route(update, context, actor, draft, parsed)
    ):
        await answer(update, context, actor.locale, "common/stale_button", alert=True)


async def _choose_audience(
    update: Update, context: LinliContext, actor: Actor, draft: Draft, parsed: tuple[Any, ...]
) -> bool:
    """pr:a:<audience#>: the audience, then the preview with Submit and Cancel."""
    services = context.services
    choices = audiences_for(actor.member, services.community)
    if draft.step != "audience" or len(parsed) != 2 or not 0 <= parsed[1] < len(choices):
        return False
    audience = choices[parsed[1]]
    draft.data["audience"] = audience.encode()
    await flows.save(context, draft, "preview")
    await answer(update, context, actor.locale)
    shown = preview(
        await proposals_db.next_proposal_id(services.db),
        actor.member.id,
        audience,
        draft.data["title"],
        draft.data["body"],
        services.config.polls.cosign_threshold,
        services.now(),
    )
    body, _ = await card(context, actor.locale, shown)
    buttons = [
        (label(context, actor.locale, "proposals.submit"), callbacks.pack(F, "sub")),
        (label(context, actor.locale, "proposals.cancel"), callbacks.pack(F, "no")),
    ]
    assert update.callback_query is not None
    await edit(
        update.callback_query,
        text(context, actor.locale, "proposals/preview", card=body),
        keyboard([buttons]),
    )
    return True


async def _submit_button(
    update: Update, context: LinliContext, actor: Actor, draft: Draft, parsed: tuple[Any, ...]
) -> bool:
    if draft.step != "preview":
        return False
    await submit(update, context, actor, draft)
    return True


async def _cancel_button(
    update: Update, context: LinliContext, actor: Actor, draft: Draft, parsed: tuple[Any, ...]
) -> bool:
    assert update.callback_query is not None
    await flows.end_flow(context, actor.user.id, FLOW)
    await answer(update, context, actor.locale)
    await edit(update.callback_query, text(context, actor.locale, "proposals/cancelled"))
    return True


FlowButton = Callable[[Update, LinliContext, Actor, Draft, tuple[Any, ...]], Awaitable[bool]]
# Each says whether it took the button; anything it does not take is answered as stale.
_FLOW_BUTTONS: dict[str, FlowButton] = {
    "a": _choose_audience,
    "sub": _submit_button,
    "no": _cancel_button,
}


async def submit(update: Update, context: LinliContext, actor: Actor, draft: Draft) -> None:
    """Save the proposal (once, however many taps) and post its card to the audience's groups."""
    services = context.services
    audience = Audience.decode(draft.data["audience"])
    checked = check_proposal(
        actor.member, audience, draft.data["title"], draft.data["body"], services.community
    )
    if isinstance(checked, Refused):
        await refuse(update, context, actor.locale, checked, "proposals")
        return
    proposal, created = await proposals_db.create_proposal(
        services.db,
        actor.member,
        audience,
        checked[0],
        checked[1],
        threshold=services.config.polls.cosign_threshold,
        key=f"{actor.user.id}:{draft.data['key']}",
        now=services.now(),
    )
    await flows.end_flow(context, actor.user.id, FLOW)
    await answer(update, context, actor.locale)
    sent = 0
    if created:
        locale = services.config.community.default_locale
        body, markup = await card(context, locale, proposal)
        for chat_id in await group_targets(context, audience):
            try:
                message = await context.bot.send_message(chat_id, body, reply_markup=markup)
            except (Forbidden, BadRequest):
                continue
            await proposals_db.record_post(
                services.db, proposal.id, "card", chat_id, message.message_id, services.now()
            )
            sent += 1
    if update.callback_query is not None:
        await edit(
            update.callback_query,
            text(context, actor.locale, "proposals/submitted", proposal=proposal, groups=sent),
        )


# --- Co-signing and the organizers' decision ---------------------------------------------------


async def on_cosign(update: Update, context: LinliContext) -> None:
    """The Co-sign button on a proposal card."""
    actor = await load_actor(update, context)
    parsed = callbacks.unpack(update.callback_query.data if update.callback_query else None, F, int)
    if actor is None:
        return
    if parsed is None:
        await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return
    services = context.services
    result = await proposals_db.cosign(
        services.db, parsed[1], actor.member, services.community, services.now()
    )
    if isinstance(result, Refused):
        await refuse(update, context, actor.locale, result, "proposals")
        return
    proposal = result.proposal
    await answer(update, context, actor.locale, "proposals/cosigned_toast", proposal=proposal)
    await refresh_cards(context, proposal)
    if result.cosigned.reached:
        await announce_ready(context, proposal)


async def announce_ready(context: LinliContext, proposal: Proposal) -> None:
    """When the threshold is reached: the organizers' notice, and the author hears."""
    await post_ready_notice(context, proposal)
    author = await members_db.get_member(context.services.db, proposal.author_id)
    if author is not None:
        await notify(context, author, "proposals/threshold_reached", proposal=proposal)


async def post_ready_notice(context: LinliContext, proposal: Proposal) -> bool:
    """Open a vote / Decline in the organizers' group, recorded once sent (the scheduler
    retries a notice that could not be sent, so a ready proposal is never forgotten)."""
    services = context.services
    group = services.config.organizers.group_chat_id
    if group is None:
        return False
    locale = services.config.community.default_locale
    author = await members_db.get_member(services.db, proposal.author_id)
    markup = keyboard(
        [
            [
                (
                    label(context, locale, "proposals.open_vote"),
                    callbacks.pack(F, "o", proposal.id),
                ),
                (label(context, locale, "proposals.decline"), callbacks.pack(F, "x", proposal.id)),
            ]
        ]
    )
    body = text(
        context,
        locale,
        "proposals/ready",
        proposal=proposal,
        author=author.name if author else "",
        audience=audience_view(proposal.audience, services.community),
    )
    try:
        message = await context.bot.send_message(group, body, reply_markup=markup)
    except TelegramError:
        return False
    await proposals_db.record_post(
        services.db, proposal.id, "ready", group, message.message_id, services.now()
    )
    return True


async def on_decide(update: Update, context: LinliContext) -> None:
    """Open a vote / Decline (organizers, checked now): both continue in the organizer's private chat."""
    actor = await load_actor(update, context)
    query = update.callback_query
    parsed = callbacks.unpack(query.data if query else None, F, int)
    if actor is None or query is None:
        return
    if parsed is None:
        await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return
    checked = await proposals_db.check_decidable(context.services.db, parsed[1], actor.member)
    if isinstance(checked, Refused):
        await refuse(update, context, actor.locale, checked, "proposals")
        return
    from linli.bot.handlers import polls

    try:
        if parsed[0] == "o":
            await polls.start_from_proposal(context, actor, checked.id)
        else:
            await flows.start_flow(
                context, actor.user.id, DECLINE_FLOW, "reason", proposal_id=checked.id
            )
            await context.bot.send_message(
                actor.user.id, text(context, actor.locale, "proposals/ask_reason", proposal=checked)
            )
    except (Forbidden, BadRequest):
        await flows.end_flow(context, actor.user.id)
        await answer(update, context, actor.locale, "polls/open_private_first", alert=True)
        return
    await answer(
        update, context, actor.locale, None if is_private(update) else "proposals/continue_private"
    )


async def on_reason_input(
    update: Update, context: LinliContext, actor: Actor, draft: Draft
) -> None:
    """The organizer's reason for declining: saved, the author told, the cards updated."""
    message = update.effective_message
    reason = clean_reason(message.text or "" if message else "")
    if isinstance(reason, Refused):
        await refuse(update, context, actor.locale, reason, "proposals")
        return
    services = context.services
    result = await proposals_db.decline(
        services.db, int(draft.data["proposal_id"]), actor.member, reason, services.now()
    )
    await flows.end_flow(context, actor.user.id, DECLINE_FLOW)
    if isinstance(result, Refused):
        await refuse(update, context, actor.locale, result, "proposals")
        return
    author = await members_db.get_member(services.db, result.author_id)
    if author is not None:
        await notify(context, author, "proposals/declined_notice", proposal=result)
    await refresh_cards(context, result)
    await reply(update, context, actor.locale, "proposals/declined", proposal=result)


async def announce_opened(context: LinliContext, proposal_id: int, poll: Poll) -> None:
    """After a poll was published from a proposal: the author hears, the cards say so."""
    proposal = await proposals_db.get_proposal(context.services.db, proposal_id)
    if proposal is None:
        return
    author = await members_db.get_member(context.services.db, proposal.author_id)
    if author is not None:
        await notify(context, author, "proposals/opened_notice", proposal=proposal, poll=poll)
    await refresh_cards(context, proposal)


flows.register_flow(FLOW, on_input)
flows.register_flow(DECLINE_FLOW, on_reason_input)

HANDLERS: list[BaseHandler[Any, Any, Any]] = [
    CommandHandler("propose", on_propose),
    CallbackQueryHandler(on_flow_button, pattern=r"^pr:(a|sub|no)(:|$)"),
    CallbackQueryHandler(on_cosign, pattern=r"^pr:c:"),
    CallbackQueryHandler(on_decide, pattern=r"^pr:(o|x):"),
]
COMMANDS: list[CommandSpec] = [CommandSpec("propose", "proposals")]
