"""What the spaces handlers share: the router, telling staff and bookers."""

from __future__ import annotations

from typing import Any

from telegram import Update

from linli.bot.buttons import Router
from linli.bot.common import Actor, chat_of, locale_of, notify, post, refuse
from linli.bot.context import LinliContext
from linli.bot.views import spaces as views
from linli.core.outcomes import Refused
from linli.core.spaces import Approval, Booking, Space, is_staff
from linli.storage import members as members_db
from linli.storage import spaces as spaces_db

FEATURE = "spaces"
ROUTER = Router(views.F)
ensure_spaces = views.ensure_spaces


async def staff_space(
    update: Update, context: LinliContext, actor: Actor, space_id: int
) -> Space | None:
    """The space, if the actor is an organizer or its operator; else refused (None)."""
    space = await spaces_db.get_space(context.services.db, space_id)
    if space is None or not is_staff(space, actor.member.id, actor.is_organizer):
        await refuse(update, context, actor.locale, Refused("not_staff"), FEATURE)
        return None
    return space


async def tell_booker(
    context: LinliContext, booking: Booking, template: str, **values: Any
) -> None:
    if booking.member_id is None:
        return
    member = await members_db.get_member(context.services.db, booking.member_id)
    if member is not None:
        await notify(context, member, template, booking=booking, **values)


async def ask_approval(context: LinliContext, booking: Booking, space: Space, actor: Actor) -> None:
    """A card with Approve / Decline: to the space's operator, or the organizers' group."""
    services = context.services
    if space.approval is Approval.OPERATOR and space.operator_id is not None:
        operator = await members_db.get_member(services.db, space.operator_id)
        chat: int | None = await chat_of(services, operator)
        locale = (
            locale_of(operator, services) if operator else services.config.community.default_locale
        )
    else:
        chat = services.config.organizers.group_chat_id
        locale = services.config.community.default_locale
    if chat is None:
        return
    await post(context, chat, locale, "spaces/approval_card",
               views.approval_markup(context, locale, booking),
               booking=booking, space=space, member=actor.member)  # fmt: skip
