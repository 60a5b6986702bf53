"""Joining (/start and its deep links), /me, /privacy, /forgetme, roles and verification."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from linli.bot import callbacks, flows
from linli.bot.commands import CommandSpec
from linli.bot.common import (
    Actor,
    answer,
    deep_link,
    edit,
    is_private,
    keyboard,
    label,
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
from linli.core.community import Role
from linli.core.members import (
    SUPPORTED_LOCALES,
    Member,
    Verification,
    can_verify,
    clean_unit,
    parse_role,
    parse_start_payload,
)
from linli.core.outcomes import Refused
from linli.core.points import EarnRules
from linli.core.timebank import format_hours
from linli.storage import drafts as drafts_db
from linli.storage import members as members_db
from linli.storage import points as points_db
from linli.storage import timebank as timebank_db
from linli.storage.drafts import Draft

F = "m"  # callback prefix
FLOW = "join"


# --- /start and onboarding ---------------------------------------------------------------


async def on_start(update: Update, context: LinliContext) -> None:
    """/start [payload] in private chat: welcome back, or walk a newcomer through joining."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    await members_db.set_private_chat(context.services.db, actor.member.id, True)
    if actor.is_organizer:
        from linli.bot.app import publish_organizer_commands  # the app lists this module

        await publish_organizer_commands(context.bot, context.services, actor.user.id)
    intent = parse_start_payload(context.args[0] if context.args else None)
    if intent.kind == "checkin":
        from linli.bot.handlers import events

        if actor.member.joined:
            await events.checkin_from_link(update, context, actor, intent.arg)
            return
    if intent.kind == "space" and actor.member.joined:
        from linli.bot.handlers import spaces  # the door's QR code of a shared space

        await spaces.checkin_from_link(update, context, actor, intent.arg)
        return
    if intent.kind == "report" and actor.member.joined:
        from linli.bot.handlers import hazards

        await hazards.start_report(update, context, actor)
        return
    if intent.kind == "treehole":
        from linli.bot.handlers import treehole

        await treehole.start_treehole(update, context, actor)
        return
    if actor.member.joined:
        await reply(update, context, actor.locale, "members/welcome_back", member=actor.member)
        return
    referrer = None
    if intent.kind == "referral":
        found = await members_db.get_member_by_referral(context.services.db, intent.arg)
        if found is not None and found.id != actor.member.id:
            referrer = found.id
    await flows.start_flow(
        context, actor.user.id, FLOW, "language", rider=intent.kind == "rider", referrer=referrer
    )
    await _ask_language(update, context, actor.locale, intro=True)


async def _ask_language(update: Update, context: LinliContext, locale: str, *, intro: bool) -> None:
    buttons = [
        [
            (label(context, loc, "members.language_name"), callbacks.pack(F, "lang", loc))
            for loc in SUPPORTED_LOCALES
        ]
    ]
    await reply(
        update,
        context,
        locale,
        "members/ask_language",
        keyboard(buttons),
        community=context.services.community.name,
        intro=intro,
    )


def _compound_keyboard(context: LinliContext, locale: str, staff: bool = False) -> Any:
    """The compounds; an organizer who has not joined may also join as staff, with no home."""
    rows = [
        [(c.title(locale), callbacks.pack(F, "cp", i))]
        for i, c in enumerate(context.services.community.compounds)
    ]
    if staff:
        rows.append([(label(context, locale, "members.staff"), callbacks.pack(F, "sf"))])
    rows.append([(label(context, locale, "members.cancel"), callbacks.pack(F, "x"))])
    return keyboard(rows)


def _building_keyboard(context: LinliContext, locale: str, compound_index: int) -> Any:
    compound = context.services.community.compounds[compound_index]
    names = [
        (
            label(context, locale, "members.building", name=b.name),
            callbacks.pack(F, "bd", compound_index, i),
        )
        for i, b in enumerate(compound.buildings)
    ]
    rows = [names[i : i + 4] for i in range(0, len(names), 4)]
    rows.append(
        [
            (label(context, locale, "members.back"), callbacks.pack(F, "bk", "compound")),
            (label(context, locale, "members.cancel"), callbacks.pack(F, "x")),
        ]
    )
    return keyboard(rows)


def _privacy_keyboard(context: LinliContext, locale: str) -> Any:
    return keyboard(
        [
            [
                (label(context, locale, "members.accept"), callbacks.pack(F, "ok")),
                (label(context, locale, "members.decline"), callbacks.pack(F, "no")),
            ]
        ]
    )


async def on_join_button(update: Update, context: LinliContext) -> None:
    """Buttons of the joining flow and of /me: language, compound, building, privacy, back."""
    query = update.callback_query
    actor = await load_actor(update, context)
    if query is None or actor is None:
        return
    action = callbacks.action_of(query.data, F)
    if action in {"v", "fg", "fgx", "me"}:
        await _other_buttons(update, context, actor, action)
        return
    draft = await drafts_db.get_draft(context.services.db, actor.user.id)
    if draft is None or draft.flow != FLOW:
        await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return
    await _join_step(update, context, actor, draft, action)


async def _join_step(
    update: Update, context: LinliContext, actor: Actor, draft: Draft, action: str | None
) -> None:
    """Route a joining button to its step, if the flow is at a step that button belongs to."""
    step = _JOIN_BUTTONS.get(action or "")
    if step is None or (step.at and draft.step not in step.at):
        await _stale(update, context, actor.locale)
        return
    await step.run(update, context, actor, draft)


async def _stale(update: Update, context: LinliContext, locale: str) -> None:
    await answer(update, context, locale, "common/stale_button", alert=True)


async def _show(
    update: Update,
    context: LinliContext,
    locale: str,
    template: str,
    markup: Any = None,
    **values: Any,
) -> None:
    """Acknowledge the tap and turn the flow's message into the next step."""
    query = update.callback_query
    assert query is not None
    await answer(update, context, locale)
    await edit(query, text(context, locale, template, **values), markup)


async def _on_language(update: Update, context: LinliContext, actor: Actor, draft: Draft) -> None:
    parsed = callbacks.unpack(_data(update), F, str)
    if parsed is None or parsed[1] not in SUPPORTED_LOCALES:
        await _stale(update, context, actor.locale)
        return
    locale = parsed[1]
    await members_db.set_locale(context.services.db, actor.member.id, locale)
    if draft.data.get("language_only"):
        await flows.end_flow(context, actor.user.id, FLOW)
        await _show(update, context, locale, "members/language_set")
    elif draft.data.get("rider"):
        await flows.save(context, draft, "privacy")
        await _show(
            update,
            context,
            locale,
            "members/privacy_notice",
            _privacy_keyboard(context, locale),
            rider=True,
        )
    else:
        await flows.save(context, draft, "compound")
        await _show(
            update,
            context,
            locale,
            "members/ask_compound",
            _compound_keyboard(context, locale, _may_join_as_staff(actor)),
        )


async def _on_compound(update: Update, context: LinliContext, actor: Actor, draft: Draft) -> None:
    compounds = context.services.community.compounds
    parsed = callbacks.unpack(_data(update), F, int)
    if parsed is None or not 0 <= parsed[1] < len(compounds):
        await _stale(update, context, actor.locale)
        return
    draft.data["compound"] = parsed[1]
    await flows.save(context, draft, "building")
    await _show(
        update,
        context,
        actor.locale,
        "members/ask_building",
        _building_keyboard(context, actor.locale, parsed[1]),
        compound=compounds[parsed[1]].title(actor.locale),
    )


async def _on_building(update: Update, context: LinliContext, actor: Actor, draft: Draft) -> None:
    compounds = context.services.community.compounds
    parsed = callbacks.unpack(_data(update), F, int, int)
    chosen = draft.data.get("compound")
    if (
        parsed is None
        or parsed[1] != chosen
        or not 0 <= parsed[2] < len(compounds[parsed[1]].buildings)
    ):
        await _stale(update, context, actor.locale)
        return
    building = compounds[parsed[1]].buildings[parsed[2]]
    draft.data["building"] = building.id
    await flows.save(context, draft, "unit")
    await _show(
        update,
        context,
        actor.locale,
        "members/ask_unit",
        compound=compounds[parsed[1]].title(actor.locale),
        building=building.name,
    )


async def _on_back(update: Update, context: LinliContext, actor: Actor, draft: Draft) -> None:
    await flows.save(context, draft, "compound")
    await _show(
        update,
        context,
        actor.locale,
        "members/ask_compound",
        _compound_keyboard(context, actor.locale, _may_join_as_staff(actor)),
    )


def _may_join_as_staff(actor: Actor) -> bool:
    return actor.is_organizer and not actor.member.joined


async def _on_staff(update: Update, context: LinliContext, actor: Actor, draft: Draft) -> None:
    """An organizer joins as community staff: no household, so nothing to verify."""
    if not _may_join_as_staff(actor):
        await _stale(update, context, actor.locale)
        return
    draft.data["staff"] = True
    await flows.save(context, draft, "privacy")
    await _show(
        update,
        context,
        actor.locale,
        "members/privacy_notice",
        _privacy_keyboard(context, actor.locale),
        rider=True,
    )


async def _on_accept(update: Update, context: LinliContext, actor: Actor, draft: Draft) -> None:
    await answer(update, context, actor.locale)
    await _finish_join(update, context, actor, draft)


def _ender(template: str) -> Callable[[Update, LinliContext, Actor, Draft], Awaitable[None]]:
    """A button that ends the flow with a message (cancel, decline)."""

    async def end(update: Update, context: LinliContext, actor: Actor, draft: Draft) -> None:
        await flows.end_flow(context, actor.user.id, FLOW)
        await _show(update, context, actor.locale, template)

    return end


def _data(update: Update) -> str | None:
    return update.callback_query.data if update.callback_query else None


@dataclass(frozen=True, slots=True)
class JoinStep:
    """A joining button: what it does, and at which steps it may be pressed (empty: any)."""

    run: Callable[[Update, LinliContext, Actor, Draft], Awaitable[None]]
    at: frozenset[str] = frozenset()


_JOIN_BUTTONS: dict[str, JoinStep] = {
    "lang": JoinStep(_on_language),
    "x": JoinStep(_ender("members/join_cancelled")),
    "cp": JoinStep(_on_compound, frozenset({"compound"})),
    "bd": JoinStep(_on_building, frozenset({"building"})),
    "bk": JoinStep(_on_back, frozenset({"building", "unit"})),
    "sf": JoinStep(_on_staff, frozenset({"compound"})),
    "ok": JoinStep(_on_accept, frozenset({"privacy"})),
    "no": JoinStep(_ender("members/join_declined"), frozenset({"privacy"})),
}


async def on_join_input(update: Update, context: LinliContext, actor: Actor, draft: Draft) -> None:
    """Typed input during joining: only the unit number is typed; anything else gets a hint."""
    message = update.effective_message
    if message is None:
        return
    if draft.step != "unit" or not message.text:
        await reply(update, context, actor.locale, "members/use_buttons")
        return
    unit = clean_unit(message.text)
    if isinstance(unit, Refused):
        await refuse(update, context, actor.locale, unit, "members")
        return
    services = context.services
    member = await members_db.set_home(
        services.db, actor.member.id, draft.data["building"], unit, services.now()
    )
    if actor.member.joined:  # a member changing their home from /me
        await flows.end_flow(context, actor.user.id, FLOW)
        await reply(
            update,
            context,
            actor.locale,
            "members/home_changed",
            member=member,
            place=_place(context, member),
        )
        await _ask_for_verification(context, with_config_roles(member, services))
        return
    draft.data["unit"] = unit
    await flows.save(context, draft, "privacy")
    await reply(
        update,
        context,
        actor.locale,
        "members/privacy_notice",
        _privacy_keyboard(context, actor.locale),
        rider=False,
    )


async def _finish_join(update: Update, context: LinliContext, actor: Actor, draft: Draft) -> None:
    services = context.services
    query = update.callback_query
    assert query is not None
    first_time = await members_db.mark_joined(
        services.db, actor.member.id, draft.data.get("referrer"), services.now()
    )
    if draft.data.get("rider"):
        await members_db.grant_role(
            services.db, actor.member.id, Role.MOBILE_REPORTER, actor.member.id, services.now()
        )
    await flows.end_flow(context, actor.user.id, FLOW)
    member = await members_db.get_member(services.db, actor.member.id)
    assert member is not None
    member = with_config_roles(member, services)
    mode = services.config.community.verification
    if member.household_id is not None and mode is Verification.NONE:
        await members_db.verify(services.db, member.id, None, services.now(), _rules(context))
    await edit(
        query,
        text(
            context,
            actor.locale,
            "members/joined",
            member=member,
            place=_place(context, member),
            mode=mode.value,
            rider=bool(draft.data.get("rider")),
            staff=bool(draft.data.get("staff")),
            first_time=first_time,
        ),
    )
    if first_time and member.household_id is not None and mode is not Verification.NONE:
        await _ask_for_verification(context, member)


async def _ask_for_verification(context: LinliContext, member: Member) -> None:
    """The join notice with a Verify button: to the building's leaders, and the organizers' group."""
    services = context.services
    mode = services.config.community.verification
    if mode is Verification.NONE or member.verified:
        return

    def markup_for(loc: str) -> Any:
        return keyboard(
            [[(label(context, loc, "members.verify"), callbacks.pack(F, "v", member.id))]]
        )

    values = {"member": member, "place": _place(context, member)}
    if mode is Verification.LEADER and member.building_id:
        for leader in await members_db.building_leaders(services.db, member.building_id):
            if leader.id != member.id:
                await notify(
                    context,
                    leader,
                    "members/join_notice",
                    markup_for(locale_of(leader, services)),
                    **values,
                )
    group = services.config.organizers.group_chat_id
    if group is not None:
        locale = services.config.community.default_locale
        await post(context, group, locale, "members/join_notice", markup_for(locale), **values)


def _rules(context: LinliContext) -> EarnRules:
    return context.services.config.points.earn_rules(context.services.config.tz)


def _place(context: LinliContext, member: Member) -> dict[str, str]:
    building = (
        context.services.community.building(member.building_id) if member.building_id else None
    )
    compound = context.services.community.compound(building.compound_id) if building else None
    return {
        "compound": compound.name if compound else "",
        "compound_en": compound.title("en") if compound else "",
        "building": building.name if building else "",
        "unit": member.unit or "",
    }


# --- verification --------------------------------------------------------------------------


async def _verify(
    update: Update, context: LinliContext, actor: Actor, target: Member | None
) -> None:
    services = context.services
    if target is None or target.household_id is None:
        await refuse(update, context, actor.locale, Refused("unknown_member"), "members")
        return
    if not can_verify(actor.member, target, services.config.community.verification):
        await refuse(update, context, actor.locale, Refused("not_allowed_verify"), "members")
        return
    done, credited = await members_db.verify(
        services.db, target.id, actor.member.id, services.now(), _rules(context)
    )
    if done:
        await _after_verified(context, target, credited)
    values: dict[str, Any] = {
        "target": target,
        "place": _place(context, target),
        "by": actor.member,
        "already": not done,
    }
    query = update.callback_query
    if query is not None:
        await answer(update, context, actor.locale, "members/verified_toast", **values)
        await edit(query, text(context, actor.locale, "members/join_notice_done", **values))
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


async def on_verify(update: Update, context: LinliContext) -> None:
    """/verify [user]: confirm a household, or list those waiting in your scope."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    services = context.services
    if context.args:
        target = await members_db.find_member(services.db, context.args[0])
        await _verify(update, context, actor, target)
        return
    if not (actor.is_organizer or actor.has(Role.BUILDING_LEADER)):
        await refuse(update, context, actor.locale, Refused("not_allowed_verify"), "members")
        return
    scope = None if actor.is_organizer else actor.member.building_id
    waiting = await members_db.pending_verification(services.db, scope)
    rows = [
        [
            (
                label(
                    context, actor.locale, "members.verify_who", name=m.name[:24], unit=m.unit or ""
                ),
                callbacks.pack(F, "v", m.id),
            )
        ]
        for m in waiting[:20]
    ]
    await reply(
        update,
        context,
        actor.locale,
        "members/pending",
        keyboard(rows) if rows else None,
        waiting=[{"member": m, "place": _place(context, m)} for m in waiting[:20]],
    )


async def _other_buttons(update: Update, context: LinliContext, actor: Actor, action: str) -> None:
    query = update.callback_query
    assert query is not None
    services = context.services
    if action == "v":
        parsed = callbacks.unpack(query.data, F, int)
        target = await members_db.get_member(services.db, parsed[1]) if parsed else None
        await _verify(update, context, actor, target)
    elif action == "fg":
        await members_db.forget(services.db, actor.member.id, services.now())
        await drafts_db.clear_draft(services.db, actor.user.id)
        await answer(update, context, actor.locale)
        await edit(query, text(context, actor.locale, "members/forgotten"))
    elif action == "fgx":
        await answer(update, context, actor.locale)
        await edit(query, text(context, actor.locale, "members/forget_kept"))
    elif action == "me":
        parsed = callbacks.unpack(query.data, F, str)
        await answer(update, context, actor.locale)
        if parsed and parsed[1] == "lang":
            await flows.start_flow(context, actor.user.id, FLOW, "language", language_only=True)
            await _ask_language(update, context, actor.locale, intro=False)
        elif parsed and parsed[1] == "home":
            await flows.start_flow(context, actor.user.id, FLOW, "compound")
            await reply(
                update,
                context,
                actor.locale,
                "members/ask_compound",
                _compound_keyboard(context, actor.locale),
            )
        else:
            await answer(update, context, actor.locale, "common/stale_button", alert=True)


# --- /me, /privacy, /forgetme --------------------------------------------------------------


async def on_me(update: Update, context: LinliContext) -> None:
    """/me: profile, roles, verification, points and hours, with buttons to change them."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    summary = await _balances(context, actor.member)
    markup = keyboard(
        [
            [
                (
                    label(context, actor.locale, "members.change_language"),
                    callbacks.pack(F, "me", "lang"),
                ),
                (
                    label(context, actor.locale, "members.change_home"),
                    callbacks.pack(F, "me", "home"),
                ),
            ]
        ]
    )
    await reply(
        update,
        context,
        actor.locale,
        "members/me",
        markup if is_private(update) else None,
        member=actor.member,
        place=_place(context, actor.member),
        roles=sorted(r.value for r in actor.member.roles),
        invite_link=deep_link(context, f"ref_{actor.member.referral_code}"),
        **summary,
    )


async def _balances(context: LinliContext, member: Member) -> dict[str, Any]:
    db = context.services.db
    return {
        "points": await points_db.balance(db, member.id),
        "hours": format_hours(await timebank_db.balance_minutes(db, member.id)),
    }


async def on_privacy(update: Update, context: LinliContext) -> None:
    """/privacy: what Linli stores about a member and why."""
    actor = await load_actor(update, context)
    if actor is not None:
        await reply(update, context, actor.locale, "members/privacy")


async def on_forgetme(update: Update, context: LinliContext) -> None:
    """/forgetme: ask to confirm, then delete the member's personal data."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    markup = keyboard(
        [
            [
                (label(context, actor.locale, "members.forget_yes"), callbacks.pack(F, "fg")),
                (label(context, actor.locale, "members.forget_no"), callbacks.pack(F, "fgx")),
            ]
        ]
    )
    await reply(update, context, actor.locale, "members/forget_confirm", markup)


# --- roles ---------------------------------------------------------------------------------


async def on_grant(update: Update, context: LinliContext) -> None:
    """/grant <user> <role> (organizers): give a member a role."""
    await _change_role(update, context, grant=True)


async def on_revoke(update: Update, context: LinliContext) -> None:
    """/revoke <user> <role> (organizers): take a role away."""
    await _change_role(update, context, grant=False)


async def _change_role(update: Update, context: LinliContext, *, grant: bool) -> None:
    actor = await load_actor(update, context)
    if actor is None:
        return
    if not actor.is_organizer:
        await refuse(update, context, actor.locale, Refused("organizers_only"), "members")
        return
    args = context.args or []
    if len(args) != 2:
        await refuse(
            update, context, actor.locale, Refused("role_usage", {"grant": grant}), "members"
        )
        return
    services = context.services
    role = parse_role(args[1])
    target = await members_db.find_member(services.db, args[0])
    if role is None:
        await refuse(
            update,
            context,
            actor.locale,
            Refused("unknown_role", {"value": args[1][:32]}),
            "members",
        )
        return
    if target is None:
        await refuse(update, context, actor.locale, Refused("unknown_member"), "members")
        return
    if grant and role is Role.BUILDING_LEADER and target.building_id is None:
        await refuse(update, context, actor.locale, Refused("leader_needs_building"), "members")
        return
    change = members_db.grant_role if grant else members_db.revoke_role
    changed = await change(services.db, target.id, role, actor.member.id, services.now())
    await reply(
        update,
        context,
        actor.locale,
        "members/role_changed",
        target=target,
        role=role.value,
        grant=grant,
        changed=changed,
    )
    if changed:
        await notify(context, target, "members/role_notice", role=role.value, grant=grant)


HANDLERS: list[BaseHandler[Any, Any, Any]] = [
    CommandHandler("start", on_start, filters.ChatType.PRIVATE),
    CommandHandler("me", on_me),
    CommandHandler("privacy", on_privacy),
    CommandHandler("forgetme", on_forgetme, filters.ChatType.PRIVATE),
    CommandHandler("verify", on_verify),
    CommandHandler("grant", on_grant),
    CommandHandler("revoke", on_revoke),
    CallbackQueryHandler(on_join_button, pattern=callbacks.pattern(F)),
]
flows.register_flow(FLOW, on_join_input)

COMMANDS: list[CommandSpec] = [
    CommandSpec("start", "members"),
    CommandSpec("me", "members"),
    CommandSpec("privacy", "members"),
    CommandSpec("forgetme", "members"),
    CommandSpec("verify", "members", role=Role.BUILDING_LEADER),
    CommandSpec("grant", "members", role=Role.ORGANIZER),
    CommandSpec("revoke", "members", role=Role.ORGANIZER),
]
