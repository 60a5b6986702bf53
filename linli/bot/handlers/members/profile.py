"""A member's own data: /me (profile, points, hours), /privacy, and /forgetme."""

from __future__ import annotations

from telegram import Update

from linli.bot import flows
from linli.bot.common import (
    Actor,
    answer,
    deep_link,
    edit_card,
    is_private,
    load_actor,
    reply,
    text,
)
from linli.bot.context import LinliContext
from linli.bot.handlers.members.router import ROUTER
from linli.bot.views import members as views
from linli.core.timebank import format_hours
from linli.storage import honours as honours_db
from linli.storage import members as members_db
from linli.storage import points as points_db
from linli.storage import timebank as timebank_db


async def on_me(update: Update, context: LinliContext) -> None:
    """/me: profile, roles, verification, points and hours, with buttons to change them."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    db, member = context.services.db, actor.member
    await reply(update, context, actor.locale, "members/me",
                views.me_markup(context, actor.locale) if is_private(update) else None,
                member=member, place=views.place(context, member),
                roles=sorted(r.value for r in member.roles),
                invite_link=deep_link(context, f"ref_{member.referral_code}"),
                points=await points_db.balance(db, member.id),
                honours=await honours_db.honours_of(db, member),
                hours=format_hours(await timebank_db.balance_minutes(db, member.id)))  # fmt: skip


async def on_privacy(update: Update, context: LinliContext) -> None:
    """/privacy: what Linli stores about a member and why."""
    actor = await load_actor(update, context)
    if actor is not None:
        await reply(update, context, actor.locale, "members/privacy")


async def on_forgetme(update: Update, context: LinliContext) -> None:
    """/forgetme: ask to confirm, then delete the member's personal data."""
    actor = await load_actor(update, context)
    if actor is not None:
        markup = views.forget_markup(context, actor.locale)
        await reply(update, context, actor.locale, "members/forget_confirm", markup)


@ROUTER.on(views.Forget)
async def on_forget(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Forget
) -> None:
    """Yes: the member's personal data is deleted (and any flow they were in)."""
    services = context.services
    await members_db.forget(services.db, actor.member.id, services.now())
    await flows.end_flow(context, actor.user.id)
    await answer(update, context, actor.locale)
    await edit_card(update, text(context, actor.locale, "members/forgotten"))


@ROUTER.on(views.KeepData)
async def on_keep(
    update: Update, context: LinliContext, actor: Actor, pressed: views.KeepData
) -> None:
    """No: nothing deleted."""
    await answer(update, context, actor.locale)
    await edit_card(update, text(context, actor.locale, "members/forget_kept"))
