"""The weekly leaderboard post: each bound group gets last week's board, exactly once.

Each tick asks: which weekly post is due (the most recent configured day and time), and
which bound groups have not had it? A (period, chat) row is claimed before sending, so a
restart or a second tick never posts twice; a post whose sending failed for a passing
reason is released and tried again at the next tick. A bot that was down at the due
time posts when it comes back, unless it is more than `catch_up_hours` late.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from telegram.error import BadRequest, Forbidden, TelegramError

from linli.bot.context import LinliContext
from linli.bot.jobs.tick import Tick
from linli.bot.views.rankings import board_values
from linli.core.points import Period, previous_week, week_start_at
from linli.core.rankings import Board, where_for_binding
from linli.storage import groups as groups_db
from linli.storage import rankings as rankings_db

log = logging.getLogger(__name__)


async def post_weekly_rankings(context: LinliContext) -> None:
    """Post last week's leaderboard to each bound group that has not had it yet."""
    services = context.services
    settings = services.config.rankings
    if not settings.weekly_post:
        return
    now = services.now()
    due = week_start_at(now, services.config.tz, settings.weekday, settings.at)
    if now - due > timedelta(hours=settings.catch_up_hours):
        return
    days = previous_week(due, services.config.tz)
    locale = services.config.community.default_locale
    for group in await groups_db.bound_groups(services.db):
        where = where_for_binding(group.binding) if group.binding else None
        if where is None or group.chat_id in await rankings_db.posted(services.db, days.label):
            continue
        lines = await rankings_db.member_board(services.db, days, where, settings.size)
        if not await rankings_db.claim_post(services.db, days.label, group.chat_id, now):
            continue
        if not lines:  # a quiet week: nothing to celebrate, and nothing to post again
            await rankings_db.record_post(services.db, days.label, group.chat_id, 0)
            continue
        board = Board(Period.WEEK, days, where, lines)
        body = services.renderer.render(
            locale, "rankings/weekly", last_day=_last_day(days.end),
            **board_values(board, services.community, locale),
        )  # fmt: skip
        try:
            sent = await context.bot.send_message(group.chat_id, body)
        except (Forbidden, BadRequest):
            log.info("weekly rankings: group %s cannot be posted to", group.chat_id)
            await rankings_db.record_post(services.db, days.label, group.chat_id, 0)
        except TelegramError:
            log.warning("weekly rankings: sending to %s failed; will retry", group.chat_id)
            await rankings_db.release_post(services.db, days.label, group.chat_id)
        else:
            await rankings_db.record_post(services.db, days.label, group.chat_id, sent.message_id)


def _last_day(end: str | None) -> str:
    return (date.fromisoformat(end) - timedelta(days=1)).isoformat() if end else ""


TICKS: list[Tick] = [post_weekly_rankings]
