"""Joining: /start and its deep links, then the joining flow (language, home, privacy notice);
/me's "change language" and "change home" walk part of the same flow."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup, Update

from linli.bot import deeplinks, flows
from linli.bot.commands import installed, publish_organizer_commands
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
    with_config_roles,
)
from linli.bot.context import LinliContext
from linli.bot.handlers.members.router import ROUTER
from linli.bot.views import members as views
from linli.core.community import Role
from linli.core.members import (
    SUPPORTED_LOCALES,
    JoinDraft,
    JoinStep,
    Member,
    StartIntent,
    Verification,
    building_from_link,
    clean_unit,
    may_join_as_staff,
    parse_start_payload,
    verification_asked,
    verified_on_joining,
)
from linli.core.outcomes import Refused
from linli.storage import members as members_db
from linli.storage.drafts import Draft

FLOW = "join"


async def on_start(update: Update, context: LinliContext) -> None:
    """/start [payload] in private chat: another feature's deep link, welcome back, or joining."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    services = context.services
    await members_db.set_private_chat(services.db, actor.member.id, True)
    if actor.is_organizer:
        await publish_organizer_commands(context.bot, services, installed(context), actor.user.id)
    intent = parse_start_payload(context.args[0] if context.args else None)
    link = deeplinks.find(context, intent.kind)
    if link is not None and (actor.member.joined or not link.joined_only):
        await link.run(update, context, actor, intent.arg)
    elif actor.member.joined:
        await reply(update, context, actor.locale, "members/welcome_back", member=actor.member)
    else:
        await _begin(update, context, actor, intent)


async def _begin(update: Update, context: LinliContext, actor: Actor, intent: StartIntent) -> None:
    """A newcomer: joining starts with the language (a poster's link has chosen the building)."""
    referrer, home = None, None
    if intent.kind == "referral":
        found = await members_db.get_member_by_referral(context.services.db, intent.arg)
        referrer = found.id if found is not None and found.id != actor.member.id else None
    community = context.services.community
    building = building_from_link(intent.arg, community) if intent.kind == "building" else None
    if building is not None:
        ids = [c.id for c in community.compounds]
        home = (ids.index(building.compound_id), building.id)
    await _start(update, context, actor, JoinDraft.start(intent, referrer, home), intro=True)


async def _start(
    update: Update, context: LinliContext, actor: Actor, join: JoinDraft, *, intro: bool = False
) -> None:
    """Start the flow at `join`'s step and ask its question in a new message."""
    await flows.start_flow(context, actor.user.id, FLOW, join.step.value, **join.to_data())
    template, markup, values = views.question(context, actor.locale, join, intro=intro)
    await reply(update, context, actor.locale, template, markup, **values)


async def _current(context: LinliContext, actor: Actor, *at: JoinStep) -> JoinDraft | None:
    """The member's joining draft, if they are joining and at one of `at` (any step if none)."""
    draft = await flows.current(context, actor.user.id)
    join = JoinDraft.from_data(draft.step, draft.data) if draft and draft.flow == FLOW else None
    return join if join is not None and (not at or join.step in at) else None


async def _next(
    update: Update, context: LinliContext, actor: Actor, join: JoinDraft | None
) -> None:
    """Save the flow's next state and turn its message into that step's question; a press
    that does not fit the flow (None) is a stale button and changes nothing."""
    if join is None:
        await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return
    await _save(context, actor, join)
    staff = may_join_as_staff(actor.member)
    template, markup, values = views.question(context, actor.locale, join, staff=staff)
    await _show(update, context, actor.locale, template, markup, **values)


async def _save(context: LinliContext, actor: Actor, join: JoinDraft) -> None:
    await flows.save(context, Draft(actor.user.id, FLOW, join.step.value, join.to_data()))


async def _show(
    update: Update,
    context: LinliContext,
    locale: str,
    template: str,
    markup: InlineKeyboardMarkup | None = None,
    **values: Any,
) -> None:
    """Acknowledge the tap and turn the flow's message into `template`."""
    await answer(update, context, locale)
    await edit_card(update, text(context, locale, template, **values), markup)


@ROUTER.on(views.Language)
async def on_language(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Language
) -> None:
    """A language, set at once; then the next question (or done, when only changing it)."""
    join = await _current(context, actor)
    if join is None or pressed.locale not in SUPPORTED_LOCALES:
        await _next(update, context, actor, None)
        return
    await members_db.set_locale(context.services.db, actor.member.id, pressed.locale)
    following = join.after_language()
    if following is None:
        await flows.end_flow(context, actor.user.id, FLOW)
        await _show(update, context, pressed.locale, "members/language_set")
        return
    # The member reads the rest in the language just chosen.
    await _next(update, context, Actor(actor.member, pressed.locale, actor.user), following)


@ROUTER.on(views.Compound)
async def on_compound(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Compound
) -> None:
    """A compound: ask for the building."""
    join = await _current(context, actor, JoinStep.COMPOUND)
    community = context.services.community
    await _next(update, context, actor, join and join.choose_compound(pressed.index, community))


@ROUTER.on(views.Building)
async def on_building(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Building
) -> None:
    """A building (of the compound chosen): ask for the unit."""
    join = await _current(context, actor, JoinStep.BUILDING)
    chosen = join and join.choose_building(
        pressed.compound, pressed.index, context.services.community
    )
    await _next(update, context, actor, chosen)


@ROUTER.on(views.Back)
async def on_back(update: Update, context: LinliContext, actor: Actor, pressed: views.Back) -> None:
    """Back to the compounds."""
    join = await _current(context, actor, JoinStep.BUILDING, JoinStep.UNIT)
    await _next(update, context, actor, join and join.back())


@ROUTER.on(views.Staff)
async def on_staff(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Staff
) -> None:
    """An organizer joins as community staff: no household, so nothing to verify."""
    join = await _current(context, actor, JoinStep.COMPOUND)
    staff = join.as_staff() if join and may_join_as_staff(actor.member) else None
    await _next(update, context, actor, staff)


@ROUTER.on(views.Cancel)
async def on_cancel(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Cancel
) -> None:
    """Stop joining."""
    await _end(update, context, actor, await _current(context, actor), "members/join_cancelled")


@ROUTER.on(views.Decline)
async def on_decline(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Decline
) -> None:
    """The privacy notice declined: nothing joined."""
    join = await _current(context, actor, JoinStep.PRIVACY)
    await _end(update, context, actor, join, "members/join_declined")


async def _end(
    update: Update, context: LinliContext, actor: Actor, join: JoinDraft | None, template: str
) -> None:
    if join is None:
        await _next(update, context, actor, None)
        return
    await flows.end_flow(context, actor.user.id, FLOW)
    await _show(update, context, actor.locale, template)


@ROUTER.on(views.Change)
async def on_change(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Change
) -> None:
    """From /me: change the language, or the home (the joining flow's first steps)."""
    if pressed.what not in ("lang", "home"):
        await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return
    await answer(update, context, actor.locale)
    if pressed.what == "lang":
        await _start(update, context, actor, JoinDraft(language_only=True))
    else:
        await _start(update, context, actor, JoinDraft(step=JoinStep.COMPOUND))


async def on_join_input(update: Update, context: LinliContext, actor: Actor, draft: Draft) -> None:
    """Typed input during joining: only the unit number is typed; anything else gets a hint."""
    message = update.effective_message
    if message is None:
        return
    join = JoinDraft.from_data(draft.step, draft.data)
    if join is None or join.step is not JoinStep.UNIT or not join.building or not message.text:
        await reply(update, context, actor.locale, "members/use_buttons")
        return
    unit = clean_unit(message.text)
    if isinstance(unit, Refused):
        await refuse(update, context, actor.locale, unit, "members")
        return
    await _unit_typed(update, context, actor, join, join.building, unit)


async def _unit_typed(
    update: Update, context: LinliContext, actor: Actor, join: JoinDraft, building: str, unit: str
) -> None:
    """The home is set; a member changing it is done, a newcomer reads the privacy notice."""
    services = context.services
    member = await members_db.set_home(services.db, actor.member.id, building, unit, services.now())
    if actor.member.joined:  # a member changing their home from /me
        await _home_changed(update, context, actor, member)
        return
    following = join.with_unit(unit)
    await _save(context, actor, following)
    template, markup, values = views.question(context, actor.locale, following)
    await reply(update, context, actor.locale, template, markup, **values)


async def _home_changed(
    update: Update, context: LinliContext, actor: Actor, member: Member
) -> None:
    await flows.end_flow(context, actor.user.id, FLOW)
    await reply(update, context, actor.locale, "members/home_changed",
                member=member, place=views.place(context, member))  # fmt: skip
    await _ask_for_verification(context, with_config_roles(member, context.services, actor.user.id))


@ROUTER.on(views.Accept)
async def on_accept(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Accept
) -> None:
    """The privacy notice accepted: the member joins (verified at once if nobody verifies)."""
    join = await _current(context, actor, JoinStep.PRIVACY)
    if join is None:
        await _next(update, context, actor, None)
        return
    await answer(update, context, actor.locale)
    member, first_time = await _join(context, actor, join)
    mode = context.services.config.community.verification
    await edit_card(update, text(context, actor.locale, "members/joined", member=member,
                                 place=views.place(context, member), mode=mode.value, rider=join.rider,
                                 staff=join.staff, first_time=first_time))  # fmt: skip
    if verification_asked(member, mode, first_time):
        await _ask_for_verification(context, member)
    if join.rider and (pointer := deeplinks.find(context, deeplinks.JOINED_RIDER)) is not None:
        await pointer.run(update, context, actor, "")


async def _join(context: LinliContext, actor: Actor, join: JoinDraft) -> tuple[Member, bool]:
    """Record the joining; (the member as they joined, whether it was their first time)."""
    services, member_id = context.services, actor.member.id
    first_time = await members_db.mark_joined(services.db, member_id, join.referrer, services.now())
    if join.rider:
        await members_db.grant_role(
            services.db, member_id, Role.MOBILE_REPORTER, member_id, services.now()
        )
    await flows.end_flow(context, actor.user.id, FLOW)
    member = await members_db.get_member(services.db, member_id)
    assert member is not None
    member = with_config_roles(member, services, actor.user.id)
    if verified_on_joining(member, services.config.community.verification):
        rules = views.earn_rules(context)
        await members_db.verify(services.db, member.id, None, services.now(), rules)
    return member, first_time


async def _ask_for_verification(context: LinliContext, member: Member) -> None:
    """The join notice with a Verify button: to the building's leaders, and the organizers' group."""
    services = context.services
    mode = services.config.community.verification
    if mode is Verification.NONE or member.verified:
        return
    values = {"member": member, "place": views.place(context, member)}
    if mode is Verification.LEADER and member.building_id:
        for leader in await members_db.building_leaders(services.db, member.building_id):
            if leader.id != member.id:
                markup = views.verify_markup(context, locale_of(leader, services), member.id)
                await notify(context, leader, "members/join_notice", markup, **values)
    group = services.config.organizers.group_chat_id
    if group is not None:
        locale = services.config.community.default_locale
        markup = views.verify_markup(context, locale, member.id)
        await post(context, group, locale, "members/join_notice", markup, **values)


flows.register_flow(FLOW, on_join_input)
