"""Recognition's scheduled work: a selection's vote announced when it opens, selections
closed exactly once (winners, their points) with the honours roll posted once per group,
and scheduled stories posted exactly once.

Claims before sending (CONTRIBUTING): closing is an UPDATE that only one tick wins, a
story is claimed by setting its `posted_at` before anything is sent, and every post to a
chat is claimed in `honours_posts` (views.deliver). A restart, a second tick or a second
process never sends one twice.
"""

from __future__ import annotations

from datetime import timedelta

from linli.bot.context import LinliContext
from linli.bot.jobs.tick import Tick
from linli.bot.views import honours as views
from linli.core.honours import Phase, Selection
from linli.storage import honours as honours_db

RESULTS_WITHIN = timedelta(days=3)  # a result not posted by then (the bot was down) is old news


async def announce_voting(context: LinliContext) -> None:
    """When a selection's voting starts: the shortlist and a ballot button, once per group."""
    services = context.services
    now = services.now()
    locale = services.config.community.default_locale
    for selection in await honours_db.current_selections(services.db):
        if selection.phase(now) is not Phase.VOTING:
            continue
        shortlist = [
            c for c in await honours_db.ballot_candidates(services.db, selection.id) if c.shown
        ]
        text = views.render(services, "honours/voting_open", selection=selection, candidates=shortlist,
                            names=views.names(services, locale, selection, shortlist),
                            places=views.places(services, locale, shortlist))  # fmt: skip
        markup = views.vote_markup(context, locale, selection.id)
        for chat_id in await views.group_ids(services, selection.audience):
            await views.deliver(context, "voting", str(selection.id), chat_id, text, markup)


async def close_selections(context: LinliContext) -> None:
    """Close selections whose voting ended (once), then post each honours roll once per group."""
    services = context.services
    now = services.now()
    rules = services.config.points.earn_rules(services.config.tz)
    for selection in await honours_db.selections_to_close(services.db, now):
        await honours_db.close_selection(services.db, selection.id, rules, now)
    for selection in await honours_db.recently_closed(services.db, now - RESULTS_WITHIN):
        await _post_roll(context, selection)


async def _post_roll(context: LinliContext, selection: Selection) -> None:
    services = context.services
    chats = await views.group_ids(services, selection.audience)
    posted = await honours_db.posted_to(services.db, "result", str(selection.id))
    waiting = [c for c in chats if c not in posted]
    if not waiting:
        return
    locale = services.config.community.default_locale
    winners = await honours_db.winners(services.db, selection.id)
    text = views.render(services, "honours/result", selection=selection, winners=winners,
                        names=views.names(services, locale, selection, winners),
                        places=views.places(services, locale, winners),
                        turnout=await honours_db.turnout(services.db, selection.id))  # fmt: skip
    picture = await views.roll_png(services, selection, winners) if winners else None
    for chat_id in waiting:
        await views.deliver(context, "result", str(selection.id), chat_id, text,
                            photos=[picture] if picture else [])  # fmt: skip


async def post_due_stories(context: LinliContext) -> None:
    """Stories whose time has come: each claimed once, then posted once per group."""
    services = context.services
    now = services.now()
    for story in await honours_db.due_stories(services.db, now):
        if await honours_db.claim_story(services.db, story.id, now):
            await views.publish_story(context, story)


TICKS: list[Tick] = [announce_voting, close_selections, post_due_stories]
