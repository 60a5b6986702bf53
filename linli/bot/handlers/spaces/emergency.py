"""平急两用: /emergency switches a space (or a kind of space, or all) to emergency use and back."""

from __future__ import annotations

from telegram import Update

from linli.bot.common import load_organizer, notify, refuse, reply
from linli.bot.context import LinliContext
from linli.bot.handlers.spaces.shared import FEATURE, ensure_spaces
from linli.bot.views import spaces as views
from linli.core.outcomes import Refused
from linli.core.spaces import Switch, parse_switch, targets
from linli.storage import members as members_db
from linli.storage import spaces as spaces_db


async def on_emergency(update: Update, context: LinliContext) -> None:
    """/emergency <key|kind:<kind>|all> <use> [from=…] [until=…] <reason>, or <target> off."""
    if (actor := await load_organizer(update, context, FEATURE)) is None:
        return
    await ensure_spaces(context)
    services = context.services
    switch = parse_switch(list(context.args or []), services.now(), services.config.tz)
    chosen = [] if isinstance(switch, Refused) else targets(
        switch.target, await spaces_db.list_spaces(services.db))  # fmt: skip
    if isinstance(switch, Refused) or not chosen:
        await refuse(update, context, actor.locale,
                     switch if isinstance(switch, Refused) else Refused("emergency_usage"), FEATURE)  # fmt: skip
        return
    if switch.off:
        await _switch_off(update, context, actor.member.id, chosen, actor.locale)
    else:
        await _switch_on(update, context, actor.member.id, chosen, switch, actor.locale)


async def _switch_on(update: Update, context: LinliContext, actor_id: int, chosen: list,  # type: ignore[type-arg]
                     switch: Switch, locale: str) -> None:  # fmt: skip
    services = context.services
    start = switch.starts_at or services.now()
    switched = await spaces_db.switch_on(services.db, chosen, switch.use, switch.reason, start,
                                         switch.ends_at, actor_id, services.now(),
                                         services.config.tz)  # fmt: skip
    if not switched:
        await refuse(update, context, locale, Refused("emergency_already"), FEATURE)
        return
    # The organizer hears first; the notices follow (each once, through the outbox).
    await reply(update, context, locale, "spaces/emergency_done", switched=switched)
    for item in switched:
        for cancelled in item.cancelled:
            member = await members_db.get_member(services.db, cancelled.booking.member_id or 0)
            if member is not None:
                await notify(context, member, "spaces/emergency_cancelled", booking=cancelled.booking,
                             emergency=item.emergency, refunded=cancelled.refunded)  # fmt: skip
        await views.post_to_audience(context, item.space, "spaces/emergency_notice",
                                     emergency=item.emergency)  # fmt: skip


async def _switch_off(update: Update, context: LinliContext, actor_id: int, chosen: list,  # type: ignore[type-arg]
                      locale: str) -> None:  # fmt: skip
    services = context.services
    ended = await spaces_db.switch_off(services.db, chosen, actor_id, services.now())
    for space, emergency in ended:
        await views.post_to_audience(context, space, "spaces/emergency_over", emergency=emergency)
    await reply(update, context, locale, "spaces/emergency_off_done", ended=ended)
