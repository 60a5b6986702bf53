"""Roles and verification: /grant and /revoke (organizers), /verify and the Verify buttons."""

from __future__ import annotations

from typing import Any

from telegram import Update

from linli.bot.common import (
    Actor,
    answer,
    edit_card,
    load_actor,
    load_organizer,
    notify,
    refuse,
    reply,
    text,
)
from linli.bot.context import LinliContext
from linli.bot.handlers.members.router import ROUTER
from linli.bot.views import members as views
from linli.core.community import Role
from linli.core.members import (
    Member,
    check_role_change,
    check_verify,
    parse_role_change,
    pending_scope,
)
from linli.core.outcomes import Refused
from linli.storage import members as members_db


async def on_verify(update: Update, context: LinliContext) -> None:
    """/verify [user]: confirm a household, or list those waiting in your scope."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    db = context.services.db
    if context.args:
        await _verify(update, context, actor, await members_db.find_member(db, context.args[0]))
        return
    scope = pending_scope(actor.member)
    if isinstance(scope, Refused):
        await refuse(update, context, actor.locale, scope, "members")
        return
    waiting = (await members_db.pending_verification(db, scope))[:20]
    await reply(update, context, actor.locale, "members/pending",
                views.pending_markup(context, actor.locale, waiting),
                waiting=[{"member": m, "place": views.place(context, m)} for m in waiting])  # fmt: skip


@ROUTER.on(views.Verify)
async def on_verify_button(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Verify
) -> None:
    """Verify under a join notice (or /verify's list): the check happens again at the press."""
    target = await members_db.get_member(context.services.db, pressed.member_id)
    await _verify(update, context, actor, target)


async def _verify(
    update: Update, context: LinliContext, actor: Actor, target: Member | None
) -> None:
    services = context.services
    refused = check_verify(actor.member, target, services.config.community.verification)
    if refused is not None or target is None:
        await refuse(update, context, actor.locale, refused or Refused("unknown_member"), "members")
        return
    done, credited = await members_db.verify(
        services.db, target.id, actor.member.id, services.now(), views.earn_rules(context)
    )
    if done:
        await _after_verified(context, target, credited)
    values: dict[str, Any] = {"target": target, "place": views.place(context, target), "by": actor.member,
              "already": not done}  # fmt: skip
    if update.callback_query is not None:
        await answer(update, context, actor.locale, "members/verified_toast", **values)
        await edit_card(update, text(context, actor.locale, "members/join_notice_done", **values))
    else:
        await reply(update, context, actor.locale, "members/verified_done", **values)


async def _after_verified(context: LinliContext, member: Member, credited: int) -> None:
    """Tell the newcomer, and whoever invited them if that earned them points."""
    await notify(context, member, "members/you_are_verified")
    if credited and member.referred_by is not None:
        referrer = await members_db.get_member(context.services.db, member.referred_by)
        if referrer is not None:
            await notify(
                context, referrer, "members/referral_credited", points=credited, newcomer=member
            )


async def on_grant(update: Update, context: LinliContext) -> None:
    """/grant <user> <role> (organizers): give a member a role."""
    await _change_role(update, context, grant=True)


async def on_revoke(update: Update, context: LinliContext) -> None:
    """/revoke <user> <role> (organizers): take a role away."""
    await _change_role(update, context, grant=False)


async def _change_role(update: Update, context: LinliContext, *, grant: bool) -> None:
    if (actor := await load_organizer(update, context, "members")) is None:
        return
    change = parse_role_change(list(context.args or []), grant=grant)
    if isinstance(change, Refused):
        await refuse(update, context, actor.locale, change, "members")
        return
    await _apply_role(update, context, actor, *change, grant=grant)


async def _apply_role(
    update: Update, context: LinliContext, actor: Actor, who: str, role: Role, *, grant: bool
) -> None:
    services = context.services
    target = await members_db.find_member(services.db, who)
    refused = check_role_change(target, role, grant=grant)
    if refused is not None or target is None:
        await refuse(update, context, actor.locale, refused or Refused("unknown_member"), "members")
        return
    change = members_db.grant_role if grant else members_db.revoke_role
    changed = await change(services.db, target.id, role, actor.member.id, services.now())
    await reply(update, context, actor.locale, "members/role_changed",
                target=target, role=role.value, grant=grant, changed=changed)  # fmt: skip
    if changed:
        await notify(context, target, "members/role_notice", role=role.value, grant=grant)
