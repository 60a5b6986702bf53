"""Proposals' buttons and cards; posting, refreshing and announcing them.

The buttons (prefix "pr"; the data of buttons already in chats keeps working): a:<audience#>
sub no (the /propose preview), c:<id> co-sign, o:<id> open a vote (organizers), x:<id> decline
with a reason (organizers).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, TelegramError

from linli.bot.buttons import button, pack
from linli.bot.common import keyboard, label, notify, text
from linli.bot.context import LinliContext
from linli.bot.views.polls import audience_view, group_targets
from linli.core.members import Audience, Member
from linli.core.polls import Poll
from linli.core.proposals import Proposal
from linli.storage import members as members_db
from linli.storage import proposals as proposals_db


@button("pr", "a")
@dataclass(frozen=True, slots=True)
class ChooseAudience:
    """/propose: whom it addresses (an index into `audiences_for` the author)."""

    index: int


@button("pr", "sub")
@dataclass(frozen=True, slots=True)
class Submit:
    """/propose: submit the previewed proposal."""


@button("pr", "no")
@dataclass(frozen=True, slots=True)
class Cancel:
    """/propose: drop the draft."""


@button("pr", "c")
@dataclass(frozen=True, slots=True)
class Cosign:
    """A resident co-signs, on the card in a group."""

    proposal_id: int


@button("pr", "o")
@dataclass(frozen=True, slots=True)
class OpenVote:
    """Organizers: open a vote on it (/newpoll continues in private chat)."""

    proposal_id: int


@button("pr", "x")
@dataclass(frozen=True, slots=True)
class Decline:
    """Organizers: decline it, with a reason asked for in private chat."""

    proposal_id: int


def audience_markup(
    context: LinliContext, locale: str, choices: list[Audience]
) -> InlineKeyboardMarkup:
    community = context.services.community
    return keyboard(
        [
            [
                (
                    label(
                        context,
                        locale,
                        f"proposals.aud_{a.kind.value}",
                        **audience_view(a, community, locale),
                    ),
                    pack(ChooseAudience(i)),
                )
            ]
            for i, a in enumerate(choices)
        ]
    )


def preview_markup(context: LinliContext, locale: str) -> InlineKeyboardMarkup:
    return keyboard(
        [
            [
                (label(context, locale, "proposals.submit"), pack(Submit())),
                (label(context, locale, "proposals.cancel"), pack(Cancel())),
            ]
        ]
    )


async def _author_name(context: LinliContext, proposal: Proposal) -> str:
    author = await members_db.get_member(context.services.db, proposal.author_id)
    return author.name if author else ""


async def card(
    context: LinliContext, locale: str, proposal: Proposal
) -> tuple[str, InlineKeyboardMarkup | None]:
    """A proposal's card in a group: what, who, support so far; the co-sign button while pending."""
    body = text(
        context,
        locale,
        "proposals/card",
        proposal=proposal,
        author=await _author_name(context, proposal),
        audience=audience_view(proposal.audience, context.services.community, locale),
    )
    if not proposal.is_pending:
        return body, None
    button_ = label(
        context, locale, "proposals.cosign", count=proposal.cosigns, threshold=proposal.threshold
    )
    return body, keyboard([[(button_, pack(Cosign(proposal.id)))]])


async def post_cards(context: LinliContext, proposal: Proposal) -> int:
    """The new proposal's card to each group of its audience; how many took it."""
    services = context.services
    body, markup = await card(context, services.config.community.default_locale, proposal)
    sent = 0
    for chat_id in await group_targets(context, proposal.audience):
        try:
            message = await context.bot.send_message(chat_id, body, reply_markup=markup)
        except (Forbidden, BadRequest):
            continue
        await proposals_db.record_post(
            services.db, proposal.id, "card", chat_id, message.message_id, services.now()
        )
        sent += 1
    return sent


async def refresh_cards(context: LinliContext, proposal: Proposal) -> None:
    """Every posted card of the proposal shows it as it is now."""
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


async def tell_author(
    context: LinliContext, proposal: Proposal, template: str, **values: Any
) -> None:
    author: Member | None = await members_db.get_member(context.services.db, proposal.author_id)
    if author is not None:
        await notify(context, author, template, proposal=proposal, **values)


async def announce_ready(context: LinliContext, proposal: Proposal) -> None:
    """When the threshold is reached: the organizers' notice, and the author hears."""
    await post_ready_notice(context, proposal)
    await tell_author(context, proposal, "proposals/threshold_reached")


async def announce_declined(context: LinliContext, proposal: Proposal) -> None:
    """After an organizer declined it: the author hears why, the cards say so."""
    await tell_author(context, proposal, "proposals/declined_notice")
    await refresh_cards(context, proposal)


def ready_markup(context: LinliContext, locale: str, proposal: Proposal) -> InlineKeyboardMarkup:
    """Open a vote / Decline, for the organizers."""
    return keyboard(
        [
            [
                (label(context, locale, "proposals.open_vote"), pack(OpenVote(proposal.id))),
                (label(context, locale, "proposals.decline"), pack(Decline(proposal.id))),
            ]
        ]
    )


async def post_ready_notice(context: LinliContext, proposal: Proposal) -> bool:
    """Open a vote / Decline in the organizers' group, recorded once sent (the scheduler
    retries a notice that could not be sent, so a ready proposal is never forgotten)."""
    services = context.services
    group = services.config.organizers.group_chat_id
    if group is None:
        return False
    locale = services.config.community.default_locale
    body = text(
        context,
        locale,
        "proposals/ready",
        proposal=proposal,
        author=await _author_name(context, proposal),
        audience=audience_view(proposal.audience, services.community, locale),
    )
    try:
        message = await context.bot.send_message(
            group, body, reply_markup=ready_markup(context, locale, proposal)
        )
    except TelegramError:
        return False
    await proposals_db.record_post(
        services.db, proposal.id, "ready", group, message.message_id, services.now()
    )
    return True


async def announce_opened(context: LinliContext, proposal_id: int, poll: Poll) -> None:
    """After a poll was published from a proposal: the author hears, the cards say so."""
    proposal = await proposals_db.get_proposal(context.services.db, proposal_id)
    if proposal is None:
        return
    await tell_author(context, proposal, "proposals/opened_notice", poll=poll)
    await refresh_cards(context, proposal)
