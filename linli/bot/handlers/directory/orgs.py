"""The community's organizations (组织): /org as a tree, asking to join a volunteer team,
and the leader's (or an organizer's) answer (the volunteer role on approval)."""

from __future__ import annotations

from telegram import Update

from linli.bot.common import (
    Actor,
    answer,
    edit_card,
    load_actor,
    locale_of,
    notify,
    post,
    refuse,
    reply,
    text,
)
from linli.bot.context import LinliContext
from linli.bot.handlers.directory.shared import FEATURE, ROUTER, member
from linli.bot.views import directory as views
from linli.core.directory import can_approve_join, org_tree
from linli.core.outcomes import Refused, RefusedError
from linli.storage import directory as directory_db
from linli.storage import members as members_db


async def on_org(update: Update, context: LinliContext) -> None:
    """/org: the organizations as a tree, with leaders, contacts and groups."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    orgs = views.organizations(context.services)
    await reply(update, context, actor.locale, "directory/orgs",
                views.org_markup(context, actor.locale, orgs), nodes=org_tree(orgs))  # fmt: skip


@ROUTER.on(views.JoinTeam)
async def on_join(
    update: Update, context: LinliContext, actor: Actor, pressed: views.JoinTeam
) -> None:
    """Ask to join a volunteer team: its leader (or the organizers' group) decides."""
    services = context.services
    org = views.organization(services, pressed.org_key)
    if org is None or not org.joinable:
        await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return
    try:
        ask = await directory_db.ask_to_join(services.db, org.key, actor.member.id, services.now())
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, FEATURE)
        return
    await answer(update, context, actor.locale, "directory/join_asked", alert=True,
                 team=org.title(actor.locale))  # fmt: skip
    leader = (await members_db.get_member_by_telegram(services.db, org.leader_account)
              if org.leader_account else None)  # fmt: skip
    if leader is not None:
        markup = views.join_markup(context, locale_of(leader, services), ask.id)
        await notify(context, leader, "directory/join_card", markup, org=org, who=actor.member)
    elif (group := services.config.organizers.group_chat_id) is not None:
        locale = services.config.community.default_locale
        await post(context, group, locale, "directory/join_card",
                   views.join_markup(context, locale, ask.id), org=org, who=actor.member)  # fmt: skip


@ROUTER.on(views.DecideJoin)
async def on_decide(
    update: Update, context: LinliContext, actor: Actor, pressed: views.DecideJoin
) -> None:
    """The team's leader or an organizer approves (volunteer role) or declines."""
    services = context.services
    ask = await directory_db.get_join(services.db, pressed.join_id)
    org = views.organization(services, ask.org_key) if ask else None
    if ask is None or not can_approve_join(org, actor.user.id, actor.is_organizer):
        await refuse(update, context, actor.locale, Refused("not_team_leader"), FEATURE)
        return
    try:
        done = await directory_db.decide_join(services.db, ask.id, pressed.approve,
                                              actor.member.id, services.now())  # fmt: skip
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, FEATURE)
        return
    await answer(update, context, actor.locale)
    await edit_card(update, text(context, actor.locale, "directory/join_decided", org=org,
                                 approved=pressed.approve))  # fmt: skip
    if (joiner := await member(context, done.member_id)) is not None:
        await notify(context, joiner, "directory/join_result", org=org, approved=pressed.approve)
