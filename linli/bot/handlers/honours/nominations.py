"""Nominating a neighbour or a household (with a reason, optionally a photo), and the
nominee's answer to "may we show you?"."""

from __future__ import annotations

from telegram import Update

from linli.bot.common import Actor, answer, edit_card, notify, refuse, reply, text
from linli.bot.context import LinliContext
from linli.bot.handlers.honours.shared import ROUTER, Args, number
from linli.bot.views import honours as views
from linli.core.honours import Selection, clean_reason, nominee_ref
from linli.core.members import Member
from linli.core.outcomes import Refused, RefusedError, checked
from linli.storage import honours as honours_db
from linli.storage import members as members_db


async def on_nominate(update: Update, context: LinliContext, actor: Actor, args: Args) -> None:
    """/honours nominate <selection> <@name | #id | compound/building/unit> <reason>."""
    await nominate(update, context, actor, None)


async def nominate(update: Update, context: LinliContext, actor: Actor, photo: str | None) -> None:
    """A nomination from the message's text or caption (the reason keeps its lines)."""
    message = update.effective_message
    words = (message.text or message.caption or "").split(None, 4) if message else []
    services = context.services
    try:
        selection_id = number(words[2]) if len(words) == 5 else None
        if selection_id is None:
            raise RefusedError(Refused("nominate_usage"))
        reason = checked(clean_reason(words[4]))
        nominee = await _nominee(context, words[3])
        candidate, new = await honours_db.nominate(services.db, selection_id, actor.member, nominee,
                                                   reason, photo, services.community, services.now())  # fmt: skip
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, "honours")
        return
    selection = await honours_db.get_selection(services.db, selection_id)
    assert selection is not None and nominee is not None
    await reply(update, context, actor.locale, "honours/nominated", selection=selection,
                nominee=nominee.name, new=new)  # fmt: skip
    if new:
        await _ask_consent(context, selection, nominee, candidate.id, reason)


async def _nominee(context: LinliContext, ref: str) -> Member | None:
    db = context.services.db
    household = nominee_ref(ref)
    if household is None:
        return await members_db.find_member(db, ref)
    contact = await honours_db.household_contact(db, *household)
    return await members_db.get_member(db, contact) if contact is not None else None


async def _ask_consent(context: LinliContext, selection: Selection, nominee: Member,
                       candidate_id: int, reason: str) -> None:  # fmt: skip
    locale = (
        context.services.config.community.default_locale
        if nominee.locale is None
        else nominee.locale
    )
    await notify(context, nominee, "honours/consent_ask",
                 views.consent_markup(context, locale, candidate_id),
                 selection=selection, reason=reason)  # fmt: skip


@ROUTER.on(views.Consent)
async def on_consent(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Consent
) -> None:
    """✅/🙅 under the question: only the nominee answers, once."""
    services = context.services
    try:
        selection, candidate = await honours_db.answer_consent(
            services.db, pressed.candidate_id, actor.member, pressed.accept, services.now()
        )
    except RefusedError as exc:
        await refuse(update, context, actor.locale, exc.refused, "honours")
        return
    await answer(update, context, actor.locale)
    await edit_card(update, text(context, actor.locale, "honours/consent_answered",
                                 selection=selection, accepted=candidate.shown))  # fmt: skip
