"""Wiring: the Application, its one ordered registration table, commands and the scheduler."""

from __future__ import annotations

import html
import logging
from collections import deque
from typing import Any, cast

from telegram import BotCommandScopeAllGroupChats, BotCommandScopeAllPrivateChats, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    ContextTypes,
    Defaults,
    TypeHandler,
)
from telegram.request import BaseRequest

from linli.bot import deeplinks, flows, outbox
from linli.bot.commands import (
    CommandSpec,
    command_list,
    install,
    languages,
    publish_organizer_commands,
)
from linli.bot.common import stale_button
from linli.bot.context import LinliApp, LinliContext, Services
from linli.bot.handlers import (
    broadcasts,
    directory,
    events,
    exports,
    fund,
    groups,
    hazards,
    help,
    honours,
    members,
    points,
    polls,
    poster,
    proposals,
    rankings,
    shop,
    spaces,
    timebank,
    treehole,
)
from linli.bot.jobs import run_ticks
from linli.bot.limits import Limiter
from linli.bot.ordering import PerSenderUpdateProcessor
from linli.bot.outbox import LinliBot
from linli.bot.transport import AiohttpRequest
from linli.storage import members as members_db
from linli.storage import outbox as outbox_db
from linli.storage import updates as updates_db

log = logging.getLogger(__name__)

# Order matters only where two handlers could match the same update; each feature's own
# handlers come first, then the shared flow router, then the catch-all for stale buttons.
FEATURES = (
    members,  # /start (with its deep links), /me, /privacy, /forgetme, /grant, /revoke, /verify
    groups,  # /bind, /unbind, group membership tracking, /start and /help in groups
    points,
    shop,
    rankings,
    timebank,
    hazards,
    treehole,
    events,
    spaces,
    proposals,
    polls,
    broadcasts,
    exports,
    fund,
    honours,  # /honours, /story
    poster,
    directory,  # /services, /offer, /need, /nearby, /stations, /org; a location with no flow
    help,  # /help lists every feature's commands, so it reads them all
)


# /start links that belong to other features: the members' /start hands them over.
START_LINKS = {
    "checkin": deeplinks.DeepLink(events.checkin_from_link, joined_only=True),
    "report": deeplinks.DeepLink(deeplinks.without_arg(hazards.start_report), joined_only=True),
    "treehole": deeplinks.DeepLink(deeplinks.without_arg(treehole.start_treehole)),
    "space": deeplinks.DeepLink(spaces.checkin_from_link, joined_only=True),  # a door's QR
    # Not a /start payload: what a rider sees right after joining (the nearest station).
    deeplinks.JOINED_RIDER: deeplinks.DeepLink(directory.rider_joined),
}


def all_commands() -> list[CommandSpec]:
    return [spec for feature in FEATURES for spec in feature.COMMANDS]


def handler_table() -> list[tuple[int, BaseHandler[Any, Any, Any]]]:
    """(group, handler) in registration order."""
    table: list[tuple[int, BaseHandler[Any, Any, Any]]] = [
        # A redelivered update (same update_id) stops here and changes nothing.
        (-10, TypeHandler(Update, skip_handled_update)),
    ]
    # An edited message or command answers nothing: first in its group, so no feature's
    # handler (PTB's CommandHandler takes edits by default) sees it.
    table.append((0, flows.EDITED_HANDLER))
    for feature in FEATURES:
        table.extend((0, handler) for handler in feature.HANDLERS)
    table += [
        (0, flows.CANCEL_HANDLER),
        # Free text, photos and locations in private chat feed the member's current flow.
        (0, flows.INPUT_HANDLER),
        # Any button no feature recognised: old, forwarded between chats, or forged.
        (0, CallbackQueryHandler(stale_button)),
        # Runs after every other group: the update is done, remember its id.
        (100, TypeHandler(Update, mark_update_handled)),
    ]
    return table


HIGH_WATER = "linli.update_high_water"
RECENT = "linli.recent_updates"
ERROR_NOTICE = "linli.last_error_notice"
ERROR_NOTICE_SECONDS = 60


async def skip_handled_update(update: Update, context: LinliContext) -> None:
    """Drop an update handled before. Telegram numbers updates in increasing order, so one
    above the highest id handled in this process is new and needs no look-up; anything at
    or below it (a redelivery after a restart, a webhook out of order) is checked: among
    the ids handled lately (in memory), then in the database."""
    update_id, db = update.update_id, context.services.db
    recent: RecentIds = context.bot_data[RECENT]
    if update_id <= context.bot_data.get(HIGH_WATER, -1) and (
        update_id in recent or await updates_db.was_handled(db, update_id)
    ):
        log.info("update %s was redelivered; ignored", update_id)
        raise ApplicationHandlerStop
    # Recorded in the transaction of the first thing handling it writes (nothing applied
    # without its mark, and no write of its own for the mark).
    updates_db.mark_with_its_writes(db, update_id, context.services.now())


async def mark_update_handled(update: Update, context: LinliContext) -> None:
    """The update is done: an update that wrote nothing has its mark written with the next
    write (or tick); until then the ids handled lately answer for it."""
    updates_db.settle_mark(context.services.db)
    context.bot_data[RECENT].add(update.update_id)
    context.bot_data[HIGH_WATER] = max(update.update_id, context.bot_data.get(HIGH_WATER, -1))


class RecentIds:
    """The last few thousand update ids handled in this process."""

    SIZE = 4096

    def __init__(self) -> None:
        self._order: deque[int] = deque()
        self._ids: set[int] = set()

    def add(self, update_id: int) -> None:
        if update_id in self._ids:
            return
        self._order.append(update_id)
        self._ids.add(update_id)
        if len(self._order) > self.SIZE:
            self._ids.discard(self._order.popleft())

    def __contains__(self, update_id: object) -> bool:
        return update_id in self._ids


async def on_error(update: object, context: LinliContext) -> None:
    """Log the error and tell the organizers' group in one short line."""
    log.error("error while handling an update", exc_info=context.error)
    # What the failed update wrote, and the messages it recorded, are undone together.
    if context.services.db.abandon_unit():
        log.info("the update's writes were rolled back")
    outbox.discard()
    group = context.services.config.organizers.group_chat_id
    if group is None or (
        isinstance(context.error, TelegramError) and "retry" in str(context.error)
    ):
        return
    # One notice a minute at most: a fault that repeats on every update must not flood
    # the organizers; the next notice says how many were not sent meanwhile.
    now = context.services.now()
    last, quiet = context.bot_data.get(ERROR_NOTICE, (None, 0))
    if last is not None and (now - last).total_seconds() < ERROR_NOTICE_SECONDS:
        context.bot_data[ERROR_NOTICE] = (last, quiet + 1)
        return
    context.bot_data[ERROR_NOTICE] = (now, 0)
    kind = type(context.error).__name__ if context.error else "Error"
    locale = context.services.config.community.default_locale
    update_id = update.update_id if isinstance(update, Update) else None
    try:
        await context.bot.send_message(
            group,
            context.services.renderer.render(
                locale,
                "common/error_notice",
                kind=kind,
                update_id=update_id,
                detail=html.unescape(str(context.error))[:300],
                suppressed=quiet,
            ),
        )
    except TelegramError:
        log.warning("could not tell the organizers' group about the error")


async def publish_commands(app: LinliApp) -> None:
    """set_my_commands per scope (private chats, groups, each organizer) and language."""
    services: Services = app.bot_data["services"]
    renderer = services.renderer
    specs = all_commands()
    for locale, lang in languages(services.config.community.default_locale):
        await app.bot.set_my_commands(
            command_list(specs, renderer, locale, group=False, organizer=False),
            scope=BotCommandScopeAllPrivateChats(),
            language_code=lang,
        )
        await app.bot.set_my_commands(
            command_list(specs, renderer, locale, group=True, organizer=False),
            scope=BotCommandScopeAllGroupChats(),
            language_code=lang,
        )
    for organizer in services.config.organizers.user_ids:
        try:
            await publish_organizer_commands(app.bot, services, specs, organizer)
        except TelegramError:
            # Not reachable until they open a chat with the bot; /start publishes it then.
            log.info("organizer %s has not opened a chat with the bot yet", organizer)


async def _post_init(app: LinliApp) -> None:
    services: Services = app.bot_data["services"]
    app.bot_data[HIGH_WATER] = await updates_db.highest_handled(services.db)
    again, unknown = await outbox_db.recover(services.db)
    if again or unknown:
        log.warning("outbox: %s edits to make again, %s messages lost in flight", again, unknown)
    await members_db.sync_config_organizers(
        services.db, services.config.organizers.user_ids, services.now()
    )
    try:
        await publish_commands(app)
    except TelegramError:
        log.exception("could not publish the command lists")


class LinliApplication(Application):  # type: ignore[type-arg]
    """PTB's Application; each update is handled as one unit of work whose messages go
    through the outbox (linli/bot/outbox.py)."""

    async def process_update(self, update: object) -> None:
        services: Services | None = self.bot_data.get("services")
        if services is None or not isinstance(update, Update):
            await super().process_update(update)
            return
        async with outbox.handling(self.bot, services.db, services.now):
            await super().process_update(update)


CONNECTIONS = 32  # kept-alive connections to the Bot API (16 updates at once + the scheduler)


def build_application(
    services: Services,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    rate_limit: bool | Limiter = True,
    scheduler: bool = True,
) -> LinliApp:
    """The bot, wired. `request` replaces HTTP (tests and benchmarks pass a simulator's);
    `rate_limit` may be a Limiter of the caller's (tests run one on a fake clock)."""
    config = services.config
    builder = (
        ApplicationBuilder()
        .context_types(ContextTypes(context=LinliContext))
        .post_init(_post_init)
        # Different residents' updates at once, each resident's in order (ordering.py).
        .concurrent_updates(PerSenderUpdateProcessor())
    )
    if request is None:
        # aiohttp rather than PTB's default httpx: a third of the CPU per call (transport.py).
        proxy = config.bot.proxy_url
        request = AiohttpRequest(connection_pool_size=CONNECTIONS, proxy_url=proxy)
        # getUpdates adds its long-poll wait to the read timeout itself.
        get_updates_request = AiohttpRequest(connection_pool_size=1, proxy_url=proxy)
    limiter = None
    if rate_limit:
        # Telegram's limits with a margin: overall, per group and per chat (bot/limits.py).
        limiter = rate_limit if isinstance(rate_limit, Limiter) else Limiter()
    # The bot records what a handler sends after its first write (linli/bot/outbox.py).
    bot = LinliBot(
        config.bot.token or "0:unset",
        base_url=config.bot.api_base_url,
        base_file_url=config.bot.file_base_url,
        request=request,
        get_updates_request=get_updates_request or request,
        defaults=Defaults(parse_mode=ParseMode.HTML, tzinfo=config.tz),
        rate_limiter=cast(Any, limiter),
        database=services.db,
    )
    app = cast(LinliApp, builder.bot(bot).application_class(LinliApplication).build())
    app.bot_data["services"] = services
    app.bot_data[RECENT] = RecentIds()
    install(app.bot_data, all_commands())  # for /help and an organizer's /start
    deeplinks.install(app.bot_data, START_LINKS)
    for group, handler in handler_table():
        app.add_handler(handler, group=group)
    app.add_error_handler(on_error)
    if scheduler and app.job_queue is not None:
        app.job_queue.run_repeating(
            _tick_job, interval=config.scheduler.tick_seconds, first=1, name="linli-ticks"
        )
    return app


async def _tick_job(context: LinliContext) -> None:
    await run_ticks(context)


__all__ = ["FEATURES", "Application", "build_application", "handler_table"]
