"""A member takes part: Sign up (a seat, or a place on the waitlist), Cancel sign-up (the
first in line moves up), and check-in at the venue (/checkin <code> or the QR code's link)."""

from __future__ import annotations

import contextlib
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden

from linli.bot.common import Actor, answer, load_actor, refuse, reply
from linli.bot.context import LinliContext
from linli.bot.handlers.events.base import FEATURE, ROUTER, opens_before, say_no, send_privately
from linli.bot.views import events as views
from linli.core import events as core
from linli.core.events import Waitlisted
from linli.core.outcomes import Refused
from linli.storage import events as events_db


@ROUTER.on(views.SignUp)
async def on_signup(
    update: Update, context: LinliContext, actor: Actor, pressed: views.SignUp
) -> None:
    """The Sign up button: a seat, a place on the waitlist, or why not."""
    services = context.services
    outcome, event = await events_db.sign_up(
        services.db, pressed.event_id, actor.member.id, services.community, services.now()
    )
    if isinstance(outcome, Refused) or event is None:
        await refuse(update, context, actor.locale,
                     outcome if isinstance(outcome, Refused) else Refused("unknown_event"), FEATURE)  # fmt: skip
        return
    waiting = outcome.position if isinstance(outcome, Waitlisted) else None
    what = "confirmed" if waiting is None else "waitlisted"
    await answer(update, context, actor.locale, "events/toast", alert=True, what=what, position=waiting)  # fmt: skip
    await _tell_actor(context, actor, "events/signed_up", views.mine_markup(context, actor.locale, event),
                      event=event, confirmed=waiting is None, position=waiting)  # fmt: skip
    await views.refresh_cards(context, event.id)


@ROUTER.on(views.CancelSignup)
async def on_cancel_signup(
    update: Update, context: LinliContext, actor: Actor, pressed: views.CancelSignup
) -> None:
    """The Cancel sign-up button: frees the seat; the first on the waitlist moves up."""
    services = context.services
    result = await events_db.cancel_signup(
        services.db, pressed.event_id, actor.member.id, services.now()
    )
    if isinstance(result, Refused):
        await refuse(update, context, actor.locale, result, FEATURE)
        return
    await answer(update, context, actor.locale, "events/toast", what="cancelled", position=None)
    await _tell_actor(context, actor, "events/signup_cancelled", None, event=result.event)
    await views.deliver_notices(context)
    await views.refresh_cards(context, result.event.id)


async def _tell_actor(
    context: LinliContext,
    actor: Actor,
    template: str,
    markup: InlineKeyboardMarkup | None,
    **values: Any,
) -> None:
    """A private line to the member who just tapped (in a group too), in their language."""
    # No private chat yet (Forbidden): the tap's answer already told them.
    with contextlib.suppress(Forbidden, BadRequest):
        await send_privately(context, actor, template, markup, **values)


async def on_checkin(update: Update, context: LinliContext) -> None:
    """/checkin <code>: attendance at the venue, and the event's points, once."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    await checkin_from_link(update, context, actor, " ".join(context.args or []))


async def checkin_from_link(update: Update, context: LinliContext, actor: Actor, code: str) -> None:
    """Check in with a code (typed, or from the QR code's deep link `/start checkin_<code>`)."""
    if (normalized := core.normalize_code(code[:40])) is None:
        await say_no(update, context, actor, "bad_code")
        return
    services = context.services
    result = await events_db.check_in(
        services.db, normalized, actor.member.id, services.now(), opens_before(context),
        services.config.points.earn_rules(services.config.tz),
    )  # fmt: skip
    if isinstance(result, Refused):
        await refuse(update, context, actor.locale, result, FEATURE)
        return
    await reply(update, context, actor.locale, "events/checked_in", event=result.event, points=result.points)  # fmt: skip
