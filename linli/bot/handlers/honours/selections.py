"""/honours: the current selections and past honours (residents); opening a selection and
shortlisting its candidates (organizers)."""

from __future__ import annotations

from telegram import Update

from linli.bot.common import Actor, message_key, refuse, reply
from linli.bot.context import LinliContext
from linli.bot.handlers.honours.shared import Args, number, organizer_or_refuse
from linli.bot.views import honours as views
from linli.core.honours import Phase, clean_reason, parse_selection
from linli.core.outcomes import Refused, RefusedError, checked
from linli.storage import honours as honours_db


async def on_list(update: Update, context: LinliContext, actor: Actor, args: Args) -> None:
    """/honours: what is being chosen now, and who was honoured."""
    services = context.services
    now = services.now()
    current = await honours_db.current_selections(services.db)
    past = [(s, await honours_db.winners(services.db, s.id))
            for s in await honours_db.past_selections(services.db)]  # fmt: skip
    voting = [s for s in current if s.phase(now) is Phase.VOTING]
    names = {s.id: views.names(services, actor.locale, s, won) for s, won in past}
    await reply(update, context, actor.locale, "honours/list",
                views.list_markup(context, actor.locale, voting),
                current=current, phases={s.id: s.phase(now).value for s in current},
                past=past, names=names, organizer=actor.is_organizer)  # fmt: skip


async def on_new(update: Update, context: LinliContext, actor: Actor, args: Args) -> None:
    """/honours new households|members nominate=… shortlist=… vote=… [winners=N] [points=P]
    [for=…] [secret] <title>."""
    if not await organizer_or_refuse(update, context, actor):
        return
    services = context.services
    draft = parse_selection(args, services.config.tz, services.now(), services.community)
    if isinstance(draft, Refused):
        await refuse(update, context, actor.locale, draft, "honours")
        return
    selection, new = await honours_db.open_selection(
        services.db, draft, actor.member.id, message_key(update, "selection"), services.now()
    )
    await reply(update, context, actor.locale, "honours/created", selection=selection)
    if new:
        text = views.render(services, "honours/opened", selection=selection)
        for chat_id in await views.group_ids(services, selection.audience):
            await views.deliver(context, "opened", str(selection.id), chat_id, text)


async def on_shortlist(update: Update, context: LinliContext, actor: Actor, args: Args) -> None:
    """/honours shortlist <selection>: the candidates; … <selection> <candidate> <reason>: add one."""
    if not await organizer_or_refuse(update, context, actor):
        return
    selection_id = number(args[0]) if args else None
    if selection_id is None:
        await refuse(update, context, actor.locale, Refused("shortlist_usage"), "honours")
        return
    if len(args) == 1:
        await _candidates(update, context, actor, selection_id)
        return
    services = context.services
    try:
        candidate_id = checked(number(args[1]) or Refused("shortlist_usage"))
        reason = checked(clean_reason(" ".join(args[2:])))
        selection, candidate = await honours_db.shortlist(
            services.db, candidate_id, reason, actor.member.id, services.now()
        )
        if selection.id != selection_id:
            raise RefusedError(Refused("unknown_candidate"))
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, "honours")
        return
    await reply(update, context, actor.locale, "honours/shortlisted", selection=selection,
                candidate=candidate, nominee=views.names(services, actor.locale, selection, [candidate])[candidate.id])  # fmt: skip


async def _candidates(
    update: Update, context: LinliContext, actor: Actor, selection_id: int
) -> None:
    services = context.services
    selection = await honours_db.get_selection(services.db, selection_id)
    if selection is None:
        await refuse(update, context, actor.locale, Refused("unknown_selection"), "honours")
        return
    found = await honours_db.candidates(services.db, selection.id)
    shown = [c for c in found if c.shown]
    reasons = {
        c.id: [n.reason for n in await honours_db.nominations_for(services.db, c.id)] for c in shown
    }
    await reply(update, context, actor.locale, "honours/candidates", selection=selection, candidates=shown,
                names=views.names(services, actor.locale, selection, shown),
                places=views.places(services, actor.locale, shown), reasons=reasons,
                waiting=sum(1 for c in found if c.consent.value == "asked"),
                phase=selection.phase(services.now()).value)  # fmt: skip
