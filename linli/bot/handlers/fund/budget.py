"""Participatory budgeting (居民点单): rounds, projects, reviews, ballots, projects done."""

from __future__ import annotations

from typing import Any

from telegram import Update

from linli.bot import outbox
from linli.bot.common import (
    Actor,
    answer,
    edit_card,
    is_private,
    message_key,
    notify,
    post,
    refuse,
    reply,
)
from linli.bot.context import LinliContext
from linli.bot.handlers.fund.shared import (
    ROUTER,
    Args,
    organizer_or_refuse,
    post_photo,
    render,
    resident_or_refuse,
)
from linli.bot.views import fund as views
from linli.core.fund import (
    Project,
    Round,
    clean_text,
    may_vote,
    parse_project,
    parse_round,
)
from linli.core.outcomes import Refused, RefusedError, checked
from linli.storage import fund as fund_db
from linli.storage import groups as groups_db
from linli.storage import members as members_db


async def on_round(update: Update, context: LinliContext, actor: Actor, args: Args) -> None:
    """/fund round <amount> submit=… vote=… [min=N%] [projects=a-b] [for=…] [secret] <title>."""
    if not await organizer_or_refuse(update, context, actor):
        return
    services = context.services
    try:
        draft = checked(parse_round(args, services.config.tz, services.now(), services.community))
        rnd, new = await fund_db.open_round(
            services.db, draft, actor.member.id, message_key(update, "round"), services.now()
        )
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, "fund")
        return
    await reply(update, context, actor.locale, "fund/round_created", round=rnd)
    if new:
        await _post_to_audience(context, rnd, "fund/round_opened", round=rnd)


async def _post_to_audience(context: LinliContext, rnd: Round, template: str, **extra: Any) -> None:
    services = context.services
    locale = services.config.community.default_locale
    for group in await groups_db.groups_for_audience(services.db, rnd.audience, services.community):
        await post(context, group.chat_id, locale, template, **extra)


async def on_propose(update: Update, context: LinliContext, actor: Actor, args: Args) -> None:
    """/fund propose <round> <cost> <title | #proposal>: a project for the ballot."""
    if not await resident_or_refuse(update, context, actor):
        return
    services = context.services
    try:
        asked = checked(parse_project(args))
        title = asked.title or checked(
            await fund_db.proposal_title(services.db, asked.proposal_id or 0)
        )
        project, new = await fund_db.submit_project(
            services.db, asked.round_id, actor.member, title, asked.cost, message_key(update, "project"),
            services.now(), asked.proposal_id,
        )  # fmt: skip
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, "fund")
        return
    await reply(update, context, actor.locale, "fund/project_submitted", project=project)
    group = services.config.organizers.group_chat_id
    if new and group is not None:
        locale = services.config.community.default_locale
        await post(context, group, locale, "fund/project_card",
                   views.project_markup(context, locale, project), project=project,
                   by=actor.member.name)  # fmt: skip


async def on_accept_command(
    update: Update, context: LinliContext, actor: Actor, args: Args
) -> None:
    """/fund accept <project>."""
    if not args or not args[0].lstrip("#").isdigit():
        await refuse(update, context, actor.locale, Refused("accept_usage"), "fund")
        return
    await _review(update, context, actor, int(args[0].lstrip("#")), True, "")


@ROUTER.on(views.AcceptProject)
async def on_accept_button(
    update: Update, context: LinliContext, actor: Actor, pressed: views.AcceptProject
) -> None:
    """Accept, on the project's card in the organizers' group."""
    await _review(update, context, actor, pressed.project_id, True, "")


async def on_decline(update: Update, context: LinliContext, actor: Actor, args: Args) -> None:
    """/fund decline <project> <reason>."""
    reason = clean_text(" ".join(args[1:]))
    if not args or not args[0].lstrip("#").isdigit() or isinstance(reason, Refused):
        await refuse(update, context, actor.locale, Refused("decline_usage"), "fund")
        return
    await _review(update, context, actor, int(args[0].lstrip("#")), False, reason)


async def _review(
    update: Update, context: LinliContext, actor: Actor, project_id: int, accept: bool, reason: str
) -> None:
    if not await organizer_or_refuse(update, context, actor):
        return
    services = context.services
    try:
        project = await fund_db.review_project(
            services.db, project_id, accept, reason, actor.member.id, services.now()
        )
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, "fund")
        return
    await answer(update, context, actor.locale)
    shown = render(context, actor.locale, "fund/project_reviewed", project=project)
    if update.callback_query is not None:
        await edit_card(update, shown)
    else:
        await reply(update, context, actor.locale, "fund/project_reviewed", project=project)
    author = await members_db.get_member(services.db, project.submitted_by)
    if author is not None and author.id != actor.member.id:
        await notify(context, author, "fund/project_reviewed", project=project)


async def on_vote(update: Update, context: LinliContext, actor: Actor, args: Args) -> None:
    """/fund vote <round>: my household's ballot, in the private chat."""
    if not args or not args[0].isdigit():
        await refuse(update, context, actor.locale, Refused("vote_usage"), "fund")
        return
    await _ballot(update, context, actor, int(args[0]))


@ROUTER.on(views.OpenBallot)
async def on_open_ballot(
    update: Update, context: LinliContext, actor: Actor, pressed: views.OpenBallot
) -> None:
    """The ballot button under /fund."""
    await _ballot(update, context, actor, pressed.round_id)


async def _ballot(update: Update, context: LinliContext, actor: Actor, round_id: int) -> None:
    if not is_private(update):
        await reply(update, context, actor.locale, "fund/private_only",
                    views.private_link(context, actor.locale))  # fmt: skip
        await answer(update, context, actor.locale)
        return
    services = context.services
    rnd = await fund_db.get_round(services.db, round_id)
    refused = Refused("unknown_round") if rnd is None else await _may_vote(context, rnd, actor)
    if refused is not None or rnd is None:
        await refuse(update, context, actor.locale, refused or Refused("unknown_round"), "fund")
        return
    on_ballot = await fund_db.ballot_projects(services.db, rnd.id)
    await answer(update, context, actor.locale)
    await reply(update, context, actor.locale, "fund/ballot",
                views.ballot_markup(context, actor.locale, rnd, on_ballot, 0),
                **views.ballot_values(rnd, on_ballot, 0))  # fmt: skip


async def _may_vote(context: LinliContext, rnd: Round, actor: Actor) -> Refused | None:
    services = context.services
    refused = may_vote(rnd, actor.member, services.community, services.now())
    if refused is None and await fund_db.has_voted(services.db, rnd.id, actor.member):
        return Refused("household_voted")
    return refused


@ROUTER.on(views.Toggle)
async def on_toggle(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Toggle
) -> None:
    """☑/☐: the ballot again with this project picked or not, and the running total."""
    services = context.services
    rnd = await fund_db.get_round(services.db, pressed.round_id)
    on_ballot = await fund_db.ballot_projects(services.db, pressed.round_id)
    refused = Refused("unknown_round") if rnd is None else await _may_vote(context, rnd, actor)
    if rnd is None or refused is not None or not 0 <= pressed.index < len(on_ballot):
        await refuse(update, context, actor.locale, refused or Refused("stale_ballot"), "fund")
        return
    mask = pressed.mask ^ (1 << pressed.index)
    await answer(update, context, actor.locale)
    await edit_card(update, render(context, actor.locale, "fund/ballot", **views.ballot_values(rnd, on_ballot, mask)),
                    views.ballot_markup(context, actor.locale, rnd, on_ballot, mask))  # fmt: skip


@ROUTER.on(views.Cast)
async def on_cast(update: Update, context: LinliContext, actor: Actor, pressed: views.Cast) -> None:
    """Cast the ballot, if it keeps the round's rules (else say which, and keep it open)."""
    services = context.services
    rnd = await fund_db.get_round(services.db, pressed.round_id)
    if rnd is not None and rnd.secret:
        outbox.keep_off_disk(actor.user.id)  # the note to a secret voter stays off disk
    try:
        rnd, chosen = await fund_db.cast_ballot(
            services.db,
            pressed.round_id,
            actor.member,
            pressed.mask,
            services.community,
            services.now(),
        )
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, "fund")
        return
    await answer(update, context, actor.locale)
    await edit_card(update, render(context, actor.locale, "fund/ballot_cast", round=rnd, picked=chosen,
                                   total=sum(p.cost for p in chosen)))  # fmt: skip


async def on_done_text(update: Update, context: LinliContext, actor: Actor, args: Args) -> None:
    """/fund done without a photo: the photo is what residents will see."""
    if await organizer_or_refuse(update, context, actor):
        await refuse(update, context, actor.locale, Refused("done_usage"), "fund")


async def on_done(
    update: Update, context: LinliContext, actor: Actor, args: Args, photo: str
) -> None:
    """A photo captioned /fund done <project>: the groups see their vote at work."""
    if not await organizer_or_refuse(update, context, actor):
        return
    services = context.services
    try:
        if not args or not args[0].lstrip("#").isdigit():
            raise RefusedError(Refused("done_usage"))
        project = await fund_db.mark_done(
            services.db, int(args[0].lstrip("#")), [photo], actor.member.id, services.now()
        )
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, "fund")
        return
    await reply(update, context, actor.locale, "fund/project_marked_done", project=project)
    await _announce_done(context, project, photo)


async def _announce_done(context: LinliContext, project: Project, photo: str) -> None:
    services = context.services
    rnd = await fund_db.get_round(services.db, project.round_id)
    if rnd is None:
        return
    locale = services.config.community.default_locale
    caption = render(context, locale, "fund/project_done", project=project, round=rnd)
    for group in await groups_db.groups_for_audience(services.db, rnd.audience, services.community):
        await post_photo(context, group.chat_id, photo, caption)
