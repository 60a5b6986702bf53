"""/story (organizers): a story of the community's people, with its subject's consent,
posted to the groups now or at a set time; 👍 once per member."""

from __future__ import annotations

from telegram import Update

from linli.bot.common import Actor, answer, edit_card, load_actor, message_key, refuse, reply, text
from linli.bot.context import LinliContext
from linli.bot.handlers.honours.shared import ROUTER, organizer_or_refuse
from linli.bot.views import honours as views
from linli.core.honours import parse_story
from linli.core.outcomes import Refused, RefusedError
from linli.storage import honours as honours_db


async def on_story(update: Update, context: LinliContext) -> None:
    """/story consent=… [at=…] [for=…] <title>, the story on the next lines."""
    actor = await load_actor(update, context)
    if actor is not None:
        await story(update, context, actor, None)


async def story(update: Update, context: LinliContext, actor: Actor, photo: str | None) -> None:
    """A story from the message's text (or a photo's caption)."""
    if not await organizer_or_refuse(update, context, actor):
        return
    services = context.services
    message = update.effective_message
    words = (message.text or message.caption or "") if message else ""
    _, _, rest = words.partition(" ") if " " in words.split("\n", 1)[0] else ("", "", "")
    draft = parse_story(rest, services.config.tz, services.now(), services.community)
    if isinstance(draft, Refused):
        await refuse(update, context, actor.locale, draft, "honours")
        return
    saved, new = await honours_db.add_story(services.db, draft, [photo] if photo else [],
                                            actor.member.id, message_key(update, "story"), services.now())  # fmt: skip
    now = new and saved.post_at <= services.now()
    groups = 0
    if now and await honours_db.claim_story(services.db, saved.id, services.now()):
        groups = await views.publish_story(context, saved)
    await reply(
        update, context, actor.locale, "honours/story_saved", story=saved, now=now, groups=groups
    )


@ROUTER.on(views.Like)
async def on_like(update: Update, context: LinliContext, actor: Actor, pressed: views.Like) -> None:
    """👍: counted once per member; the card shows the count."""
    try:
        liked, new = await honours_db.like(context.services.db, pressed.story_id, actor.member.id)
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, "honours")
        return
    await answer(update, context, actor.locale, "honours/liked", new=new)
    locale = context.services.config.community.default_locale
    await edit_card(update, text(context, locale, "honours/story", story=liked),
                    views.like_markup(context, locale, liked))  # fmt: skip
