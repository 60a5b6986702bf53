"""Choosing who a broadcast is for: /broadcast, then groups or private messages, the
audience (the community, a compound, a building, a role team), a role filter."""

from __future__ import annotations

from telegram import Update

from linli.bot import flows
from linli.bot.common import Actor, answer, edit, reply, text
from linli.bot.context import LinliContext
from linli.bot.handlers.broadcasts.shared import (
    FLOW,
    ROUTER,
    cancel,
    current_draft,
    organizer,
    organizers_only,
    query_of,
    save,
    stale,
)
from linli.bot.views import broadcasts as views
from linli.core.broadcasts import (
    CAPTION_LIMIT,
    FILTER_ROLES,
    MODE_CODES,
    TEXT_LIMIT,
    BroadcastDraft,
    Mode,
    parse_scope,
)
from linli.core.community import Role
from linli.storage import broadcasts as bc_db
from linli.storage.drafts import Draft


async def on_broadcast(update: Update, context: LinliContext) -> None:
    """/broadcast: start choosing who the message is for."""
    actor = await organizer(update, context)
    if actor is None:
        return
    await flows.start_flow(context, actor.user.id, FLOW, "mode")
    await reply(update, context, actor.locale, "broadcasts/choose_mode",
                views.modes_markup(context, actor.locale))  # fmt: skip


@ROUTER.on(views.ChooseMode)
@organizers_only
async def on_mode(
    update: Update, context: LinliContext, actor: Actor, pressed: views.ChooseMode
) -> None:
    """Groups or private messages: then the audiences."""
    found = await current_draft(context, actor, "mode", "scope", "role", "text")
    if pressed.code not in MODE_CODES or found is None:
        await stale(update, context, actor)
        return
    chosen = BroadcastDraft(mode=MODE_CODES[pressed.code])
    await save(context, found[0], chosen, "scope")
    await answer(update, context, actor.locale)
    body = text(context, actor.locale, "broadcasts/choose_scope", mode=pressed.code)
    await edit(query_of(update), body, views.scopes_markup(context, actor.locale, chosen.mode))


@ROUTER.on(views.ListBuildings)
@organizers_only
async def on_list_buildings(
    update: Update, context: LinliContext, actor: Actor, pressed: views.ListBuildings
) -> None:
    """A compound's buildings, in place of the audiences."""
    compounds = context.services.community.compounds
    found = await current_draft(context, actor, "scope")
    if found is None or not 0 <= pressed.index < len(compounds):
        await stale(update, context, actor)
        return
    name = compounds[pressed.index].title(actor.locale)
    await answer(update, context, actor.locale)
    body = text(context, actor.locale, "broadcasts/choose_building", compound=name)
    await edit(query_of(update), body, views.buildings_markup(context, actor.locale, pressed.index))


@ROUTER.on(views.ChooseScope)
@organizers_only
async def on_scope(
    update: Update, context: LinliContext, actor: Actor, pressed: views.ChooseScope
) -> None:
    """The audience: for private messages, then a role filter; for groups, the text."""
    found = await current_draft(context, actor, "scope")
    if found is None or parse_scope(pressed.token, context.services.community) is None:
        await stale(update, context, actor)
        return
    draft, chosen = found
    chosen.scope = pressed.token
    if chosen.mode is not Mode.MEMBERS:
        await _ask_text(update, context, actor, draft, chosen)
        return
    await save(context, draft, chosen, "role")
    await answer(update, context, actor.locale)
    await edit(query_of(update), text(context, actor.locale, "broadcasts/choose_role"),
               views.roles_markup(context, actor.locale))  # fmt: skip


@ROUTER.on(views.ChooseRole)
@organizers_only
async def on_role(
    update: Update, context: LinliContext, actor: Actor, pressed: views.ChooseRole
) -> None:
    """Private messages to everyone in the audience, or only to holders of one role."""
    found = await current_draft(context, actor, "role")
    if found is None or pressed.role not in {"all", *(r.value for r in FILTER_ROLES)}:
        await stale(update, context, actor)
        return
    draft, chosen = found
    chosen.role = None if pressed.role == "all" else Role(pressed.role)
    await _ask_text(update, context, actor, draft, chosen)


async def _ask_text(
    update: Update, context: LinliContext, actor: Actor, draft: Draft, chosen: BroadcastDraft
) -> None:
    """The audience is chosen: if it reaches nobody say so now, else ask for the text."""
    services = context.services
    target = chosen.target(services.community)
    if target is None:
        await stale(update, context, actor)
        return
    count = len(await bc_db.recipients(services.db, target, services.community))
    await answer(update, context, actor.locale)
    values = views.audience_values_of(target, services, actor.locale)
    if count == 0:
        await edit(query_of(update), text(context, actor.locale, "broadcasts/nobody", **values),
                   views.scopes_markup(context, actor.locale, chosen.mode))  # fmt: skip
        await save(context, draft, chosen, "scope")
        return
    await save(context, draft, chosen, "text")
    limits = {"limit": TEXT_LIMIT, "caption_limit": CAPTION_LIMIT}
    body = text(context, actor.locale, "broadcasts/ask_text", count=count, **limits, **values)
    await edit(query_of(update), body)


@ROUTER.on(views.Stop)
@organizers_only
async def on_stop(update: Update, context: LinliContext, actor: Actor, pressed: views.Stop) -> None:
    """Cancel while choosing the audience."""
    await cancel(update, context, actor, None)
