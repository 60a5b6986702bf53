"""Broadcasts: the buttons that choose an audience and confirm, the log, and the delivery.

Delivery: a confirmed broadcast is delivered by a background task of the Application
(`start_delivery`, started by the Send button and, after a restart, by the tick
`resume_broadcasts` in linli/bot/jobs/broadcasts.py): a few workers take pending rows in
order, wait for the rate limiter, claim the row (pending -> sending) only as its request
leaves, send, and record each result as soon as it is known. Rows of members who blocked
the bot are reported blocked without being sent. A row waiting for its turn in the rate
limiter is still pending, so a crash then costs nothing. The organizer's card shows the
progress (`show_progress`) and a final report follows (`send_report`).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

from telegram import InlineKeyboardMarkup, Message
from telegram.error import (
    ChatMigrated,
    Forbidden,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from linli.bot.buttons import button, pack
from linli.bot.common import chat_of, keyboard, label, text
from linli.bot.context import LinliApp, LinliContext, Services
from linli.bot.limits import Limiter, NotReleased, SendOptions
from linli.core.broadcasts import (
    FILTER_ROLES,
    TEAM_ROLES,
    Counts,
    DeliveryStatus,
    Mode,
    Target,
    audience_label_parts,
    progress_due,
)
from linli.storage import broadcasts as bc_db
from linli.storage import members as members_db
from linli.storage.broadcasts import Broadcast, Delivery, Result
from linli.storage.db import Database

log = logging.getLogger(__name__)

TASKS_KEY = "broadcast_tasks"
SLEEP_KEY = "broadcast_sleep"
Sleep = Callable[[float], Awaitable[None]]
MIN_RETRY_WAIT = 1.0
PROBLEMS_SHOWN = 15
PAGE = 8  # broadcasts per page of /broadcasts


# --- the buttons ---------------------------------------------------------------------------


@button("bc", "m")
@dataclass(frozen=True, slots=True)
class ChooseMode:
    """Groups ("g") or private messages ("p"): then the audience."""

    code: str


@button("bc", "c")
@dataclass(frozen=True, slots=True)
class ListBuildings:
    """The buildings of the compound at `index` in the config, in place of the audiences."""

    index: int


@button("bc", "s")
@dataclass(frozen=True, slots=True)
class ChooseScope:
    """The audience, as a scope token (core.broadcasts.scope_token)."""

    token: str


@button("bc", "r")
@dataclass(frozen=True, slots=True)
class ChooseRole:
    """Private messages only to holders of this role ("all": to everyone in the audience)."""

    role: str


@button("bc", "ok")
@dataclass(frozen=True, slots=True)
class Send:
    """Send the previewed broadcast; `key` makes one broadcast of every tap on this card."""

    key: str


@button("bc", "no")
@dataclass(frozen=True, slots=True)
class Discard:
    """Cancel the previewed broadcast (`key`: the draft this preview shows)."""

    key: str


@button("bc", "x")
@dataclass(frozen=True, slots=True)
class Stop:
    """Cancel while choosing the audience."""


@button("bc", "pg")
@dataclass(frozen=True, slots=True)
class Page:
    """The log of broadcasts from `offset` (newest first)."""

    offset: int


# --- keyboards and texts -------------------------------------------------------------------


def _stop_row(context: LinliContext, locale: str) -> list[tuple[str, str]]:
    return [(label(context, locale, "broadcasts.cancel"), pack(Stop()))]


def modes_markup(context: LinliContext, locale: str) -> InlineKeyboardMarkup:
    return keyboard([
        [(label(context, locale, "broadcasts.mode_groups"), pack(ChooseMode("g")))],
        [(label(context, locale, "broadcasts.mode_members"), pack(ChooseMode("p")))],
        _stop_row(context, locale),
    ])  # fmt: skip


def scopes_markup(context: LinliContext, locale: str, mode: Mode | None) -> InlineKeyboardMarkup:
    """The community, each compound (or its buildings), and for groups the role teams."""
    rows = [[(label(context, locale, "broadcasts.scope_community"), pack(ChooseScope("k")))]]
    for index, compound in enumerate(context.services.community.compounds):
        name = compound.title(locale)
        rows.append([
            (label(context, locale, "broadcasts.scope_compound", name=name),
             pack(ChooseScope(f"c{index}"))),
            (label(context, locale, "broadcasts.scope_buildings", name=name),
             pack(ListBuildings(index))),
        ])  # fmt: skip
    if mode is Mode.GROUPS:
        rows += [[(label(context, locale, f"broadcasts.role_{role.value}"),
                   pack(ChooseScope(f"r{role.value}")))] for role in TEAM_ROLES]  # fmt: skip
    return keyboard([*rows, _stop_row(context, locale)])


def buildings_markup(
    context: LinliContext, locale: str, compound_index: int
) -> InlineKeyboardMarkup:
    community = context.services.community
    all_ids = [b.id for b in community.all_buildings()]
    buttons = [
        (b.name, pack(ChooseScope(f"b{all_ids.index(b.id)}")))
        for b in community.compounds[compound_index].buildings
    ]
    rows = [buttons[i : i + 4] for i in range(0, len(buttons), 4)]
    return keyboard([*rows, _stop_row(context, locale)])


def roles_markup(context: LinliContext, locale: str) -> InlineKeyboardMarkup:
    rows = [[(label(context, locale, "broadcasts.role_all"), pack(ChooseRole("all")))]]
    rows += [[(label(context, locale, f"broadcasts.role_{r.value}"), pack(ChooseRole(r.value)))]
             for r in FILTER_ROLES]  # fmt: skip
    return keyboard([*rows, _stop_row(context, locale)])


def preview_markup(
    context: LinliContext, locale: str, key: str, count: int
) -> InlineKeyboardMarkup:
    return keyboard([[
        (label(context, locale, "broadcasts.send", count=count), pack(Send(key))),
        (label(context, locale, "broadcasts.cancel"), pack(Discard(key))),
    ]])  # fmt: skip


def audience_values_of(target: Target, services: Services, locale: str) -> dict[str, Any]:
    """Template values naming who a broadcast is for, in the reader's language."""
    kind, name = audience_label_parts(target.audience, services.community, locale)
    return {
        "mode": target.mode.value,
        "scope_kind": kind,
        "scope_name": name,
        "role": target.role.value if target.role else "",
    }


def audience_values(broadcast: Broadcast, services: Services, locale: str) -> dict[str, Any]:
    return audience_values_of(broadcast.target, services, locale)


async def log_page(
    context: LinliContext, locale: str, offset: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    """One page of the log of broadcasts, newest first, with newer / older buttons."""
    services = context.services
    total = await bc_db.count_broadcasts(services.db)
    page = await bc_db.list_broadcasts(services.db, limit=PAGE, offset=offset)
    items = [(b, audience_values(b, services, locale)) for b in page]
    nav = []
    if offset > 0:
        nav.append((label(context, locale, "broadcasts.newer"), pack(Page(max(0, offset - PAGE)))))
    if offset + PAGE < total:
        nav.append((label(context, locale, "broadcasts.older"), pack(Page(offset + PAGE))))
    body = text(context, locale, "broadcasts/log", items=items, total=total, offset=offset)
    return body, keyboard([nav]) if nav else None


# --- delivery ------------------------------------------------------------------------------


def _tasks(app: LinliApp) -> dict[int, asyncio.Task[None]]:
    tasks: dict[int, asyncio.Task[None]] = app.bot_data.setdefault(TASKS_KEY, {})
    return tasks


def is_delivering(app: LinliApp, broadcast_id: int) -> bool:
    task = _tasks(app).get(broadcast_id)
    return task is not None and not task.done()


def start_delivery(app: LinliApp, broadcast_id: int) -> asyncio.Task[None]:
    """Deliver a broadcast in the background (once per process: a second call returns the task)."""
    tasks = _tasks(app)
    task = tasks.get(broadcast_id)
    if task is not None and not task.done():
        return task
    task = app.create_task(deliver(app, broadcast_id), name=f"broadcast-{broadcast_id}")
    tasks[broadcast_id] = task
    return task


async def wait_deliveries(app: LinliApp, seconds: float) -> None:
    """Wait, at most `seconds`, for every delivery running in this process (tests, tools)."""
    running = [t for t in _tasks(app).values() if not t.done()]
    if running:
        async with asyncio.timeout(seconds):
            await asyncio.gather(*running)


def retry_seconds(exc: RetryAfter) -> float:
    value: Any = exc.retry_after
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    return max(seconds, MIN_RETRY_WAIT)


Claim = Callable[[], Awaitable[bool]]


async def _send(app: LinliApp, broadcast: Broadcast, chat_id: int, claim: Claim) -> Message:
    """Send once; `claim` runs as the request leaves (after the rate limiter's wait)."""
    limiter = cast(Any, app.bot).rate_limiter
    if isinstance(limiter, Limiter):
        extra: dict[str, Any] = {"rate_limit_args": SendOptions(retries=0, on_release=claim)}
    else:  # no rate limiter (tests): the request leaves now
        if not await claim():
            raise NotReleased("claim")
        extra = {}
    if broadcast.photo:
        return await app.bot.send_photo(chat_id, broadcast.photo, caption=broadcast.text, **extra)
    return await app.bot.send_message(chat_id, broadcast.text, **extra)


async def send_one(
    app: LinliApp, broadcast: Broadcast, delivery: Delivery, claim: Claim
) -> tuple[Result, float] | None:
    """One recipient: (sent | blocked (403) | failed (400, others) | pending again, seconds to
    wait), or None if it was not sent (`claim` said no: the bot is stopping).

    A 429 that gets past the rate limiter puts the row back to pending before the wait, so
    a stop during the wait leaves nothing in flight.
    """
    chat_id = delivery.chat_id
    for _ in range(3):  # at most two hops for a group that became a supergroup
        try:
            message = await _send(app, broadcast, chat_id, claim)
        except NotReleased:
            return None
        except RetryAfter as exc:
            return Result(delivery.id, DeliveryStatus.PENDING), retry_seconds(exc)
        except ChatMigrated as exc:
            chat_id = exc.new_chat_id  # the group became a supergroup: same group, new id
            continue
        except Forbidden as exc:
            return Result(delivery.id, DeliveryStatus.BLOCKED, exc.message[:200]), 0
        except TimedOut:
            # The request may have reached Telegram: never send it again.
            return Result(delivery.id, DeliveryStatus.FAILED, "timed out (may have arrived)"), 0
        except TelegramError as exc:
            return Result(delivery.id, DeliveryStatus.FAILED, exc.message[:200]), 0
        return Result(delivery.id, DeliveryStatus.SENT, message_id=message.message_id), 0
    return Result(delivery.id, DeliveryStatus.FAILED, "group migrated too often"), 0


def sleeper(app: LinliApp) -> Sleep:
    """How the sender waits out a 429: real time, unless a test drives time with its clock."""
    sleep: Sleep = app.bot_data.get(SLEEP_KEY, asyncio.sleep)
    return sleep


async def deliver(app: LinliApp, broadcast_id: int) -> None:
    """Send every pending row of a broadcast, then the final report (once)."""
    services: Services = app.bot_data["services"]
    db = services.db
    broadcast = await bc_db.get_broadcast(db, broadcast_id)
    if broadcast is None or broadcast.status != "sending":
        return
    # If the application is running, its stop ends the delivery between two messages; the
    # rest is resumed after the restart. A delivery started outside a running app finishes.
    was_running = app.running
    progress_lock = asyncio.Lock()

    def stopping() -> bool:
        return was_running and not app.running

    queue = PendingRows(db, broadcast_id, services)

    async def worker() -> None:
        while not stopping():
            delivery = await queue.take()
            if delivery is None:
                return
            claimed = False

            async def claim(row: Delivery = delivery) -> bool:
                """Run as the request leaves: claim the row then, once."""
                nonlocal claimed
                if not claimed and not stopping():
                    claimed = await bc_db.claim(db, row.id, services.now())
                return claimed

            sent = await send_one(app, broadcast, delivery, claim)
            if sent is None:
                continue  # not sent (stopping, or taken): still pending, sent later or elsewhere
            result, wait = sent
            await bc_db.record_results(db, [result], services.now())
            await _note_blocked(services, delivery, result)
            if result.status is DeliveryStatus.PENDING:
                queue.again(delivery)
            if wait:
                await sleeper(app)(wait)
            else:
                # Between two messages, let the loop run anything waiting (a stop, a tap):
                # statements do not yield by themselves (storage/db.py).
                await asyncio.sleep(0)
            async with progress_lock:
                await show_progress(app, broadcast_id, final=False)

    workers = max(1, services.config.broadcasts.send_concurrency)
    await asyncio.gather(*(worker() for _ in range(workers)))
    if stopping():
        log.info("broadcast %s paused by shutdown; it resumes after the restart", broadcast_id)
        return
    if await bc_db.finish(db, broadcast_id, services.now()):
        await show_progress(app, broadcast_id, final=True)
        await send_report(app, broadcast_id)


class PendingRows:
    """The broadcast's pending rows, handed out once each, in order, read in batches; a row
    put back (a 429) is handed out again first."""

    BATCH = 200

    def __init__(self, db: Database, broadcast_id: int, services: Services) -> None:
        self.db = db
        self.broadcast_id = broadcast_id
        self.services = services
        self.rows: deque[Delivery] = deque()
        self.after = 0
        self.lock = asyncio.Lock()

    async def take(self) -> Delivery | None:
        async with self.lock:
            if not self.rows:
                batch = await bc_db.next_pending(
                    self.db, self.broadcast_id, self.after, self.BATCH, self.services.now()
                )
                if batch:
                    self.after = batch[-1].id
                    self.rows.extend(batch)
            return self.rows.popleft() if self.rows else None

    def again(self, delivery: Delivery) -> None:
        self.rows.appendleft(delivery)


async def _note_blocked(services: Services, delivery: Delivery, result: Result) -> None:
    """Telegram said this member blocked the bot: remember it, so nothing more is sent."""
    if (
        result.status is DeliveryStatus.BLOCKED
        and delivery.member_id is not None
        and "blocked by the user" in (result.reason or "")
    ):
        await members_db.set_blocked(services.db, delivery.chat_id, True, services.now())


async def show_progress(app: LinliApp, broadcast_id: int, *, final: bool) -> None:
    """Edit the organizer's progress message: at most every few seconds, never unchanged."""
    services: Services = app.bot_data["services"]
    broadcast = await bc_db.get_broadcast(services.db, broadcast_id)
    if broadcast is None or broadcast.progress_msg_id is None or broadcast.progress_chat_id is None:
        return
    now = services.now()
    if not progress_due(
        broadcast.progress_at,
        now,
        services.config.broadcasts.progress_interval_seconds,
        final=final,
    ):
        return
    body = progress_text(services, broadcast.locale, broadcast, broadcast.counts, final=final)
    if body == broadcast.progress_text:
        return  # nothing changed since the last edit: Telegram would answer "not modified"
    try:
        await app.bot.edit_message_text(
            body, chat_id=broadcast.progress_chat_id, message_id=broadcast.progress_msg_id
        )
    except TelegramError as exc:
        log.info("progress of broadcast %s not shown: %s", broadcast_id, exc)
    await bc_db.set_progress(services.db, broadcast_id, text=body, now=now)


def progress_text(
    services: Services, locale: str, broadcast: Broadcast, counts: Counts, *, final: bool
) -> str:
    return services.renderer.render(
        locale,
        "broadcasts/progress",
        id=broadcast.id,
        counts=counts,
        final=final,
        **audience_values(broadcast, services, locale),
    )


async def send_report(app: LinliApp, broadcast_id: int) -> None:
    """The final report to the organizer who sent it: delivered, blocked, failed (and who)."""
    services: Services = app.bot_data["services"]
    broadcast = await bc_db.get_broadcast(services.db, broadcast_id)
    if broadcast is None:
        return
    creator = await members_db.get_member(services.db, broadcast.created_by)
    chat = await chat_of(services, creator) if creator is not None else None
    if chat is None:
        return
    problems = await bc_db.problems(services.db, broadcast_id, limit=PROBLEMS_SHOWN)
    body = services.renderer.render(
        broadcast.locale,
        "broadcasts/report",
        id=broadcast.id,
        counts=broadcast.counts,
        problems=problems,
        more=max(0, broadcast.counts.blocked + broadcast.counts.failed - len(problems)),
        **audience_values(broadcast, services, broadcast.locale),
    )
    try:
        await app.bot.send_message(chat, body)
    except TelegramError as exc:
        log.warning("report of broadcast %s not delivered: %s", broadcast_id, exc)
