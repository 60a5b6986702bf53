"""What the directory's handlers share: the router, introductions, telling people."""

from __future__ import annotations

from telegram import Update

from linli.bot.buttons import Router
from linli.bot.common import Actor, building_label, chat_of, locale_of, notify, refuse
from linli.bot.context import LinliContext
from linli.bot.views import directory as views
from linli.core.directory import Match
from linli.core.members import Member
from linli.core.outcomes import Refused
from linli.storage import members as members_db

FEATURE = views.FEATURE
ROUTER = Router(views.F)


async def member(context: LinliContext, member_id: int) -> Member | None:
    return await members_db.get_member(context.services.db, member_id)


async def require_home(update: Update, context: LinliContext, actor: Actor) -> bool:
    """Offers and requests are for verified residents (a household in a building)."""
    if actor.member.building_id is None or not actor.member.verified:
        await refuse(update, context, actor.locale, Refused("residents_only"), FEATURE)
        return False
    return True


def where(context: LinliContext, locale: str, someone: Member | None) -> str:
    """Only the building, never the unit."""
    return building_label(context.services, locale, someone.building_id if someone else None)


async def introduce(context: LinliContext, match: Match) -> None:
    """Each side gets a link to open a chat with the other (only now, on acceptance)."""
    provider = await member(context, match.provider_id)
    requester = await member(context, match.requester_id)
    if provider is None or requester is None:
        return
    for me, other in ((requester, provider), (provider, requester)):
        link = views.contact_link(await chat_of(context.services, other), other.username)
        locale = locale_of(me, context.services)
        markup = views.happened_markup(context, locale, match) if me is requester else None
        await notify(context, me, "directory/introduced", markup, match=match, other=other,
                     link=link, place=where(context, locale, other),
                     requester=me is requester)  # fmt: skip
