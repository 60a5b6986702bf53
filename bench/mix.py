"""The update mix: what residents send, kind by kind, and which kinds Linli has yet.

Six kinds in equal shares, round robin, each by the next resident in turn:
/points, /events, a sign-up tap (signing up and cancelling alternately on one event), a vote
tap (changing the vote each time), a report step (/report in private chat: the flow starts,
its draft is written and the category buttons come back) and /rank. A kind whose feature has
not landed is left out of the mix (for both bots) and reported as "n/a (feature missing)".

Updates are made by the simulator's user side, so they are exactly what Telegram would send;
the bare echo bot gets the same updates (the same texts and the same callback data).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bench.community import ORGANIZER, TELEGRAM_BASE
from linli.sim.core import Simulator

KINDS = ("/points", "/events", "sign-up tap", "vote tap", "report step", "/rank")
COMMANDS = {"/points": "points", "/events": "events", "report step": "report", "/rank": "rank"}
TAPS = {"sign-up tap": "ev:su:1", "vote tap": "pl:v:1:0"}
MISSING = "n/a (feature missing)"


@dataclass(frozen=True, slots=True)
class Targets:
    """What the taps press on: the event and the poll (ids in the bot's database)."""

    event_id: int = 1
    poll_id: int = 1


def available(app: Application[Any, Any, Any, Any, Any, Any]) -> dict[str, bool]:
    """Which kinds the application answers: a command handler, or a button handler whose
    pattern takes the tap's callback data."""
    commands: set[str] = set()
    patterns: list[re.Pattern[str]] = []
    for handlers in app.handlers.values():
        for handler in handlers:
            if isinstance(handler, CommandHandler):
                commands |= set(handler.commands)
            elif isinstance(handler, CallbackQueryHandler) and isinstance(
                handler.pattern, re.Pattern
            ):
                patterns.append(handler.pattern)
    found = {kind: COMMANDS[kind] in commands for kind in COMMANDS}
    for kind, data in TAPS.items():
        found[kind] = any(p.match(data) for p in patterns) and _storage_for(kind)
    return {kind: found[kind] for kind in KINDS}


def _storage_for(kind: str) -> bool:
    module = "linli.storage.events" if kind == "sign-up tap" else "linli.storage.polls"
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def user_ids(count: int) -> list[int]:
    """The residents who take part: generated members 1..count (see bench.datagen)."""
    return [TELEGRAM_BASE + i for i in range(1, count + 1)]


def open_chats(sim: Simulator, users: Sequence[int]) -> None:
    """Users as Telegram knows them, each with the private chat with the bot open."""
    for uid in users:
        if uid not in sim.users:
            sim.create_user(uid, f"居民{uid - TELEGRAM_BASE}", language_code="zh-hans")
        sim.started.add(uid)
    if ORGANIZER not in sim.users:
        sim.create_user(ORGANIZER, "组织者", language_code="zh-hans")
    sim.started.add(ORGANIZER)


def schedule(
    kinds: Sequence[str], users: Sequence[int], count: int, start: int = 0
) -> list[tuple[str, int, int]]:
    """(kind, user, n) for updates start..start+count: kinds round robin, users in turn."""
    out = []
    for n in range(start, start + count):
        out.append(
            (
                kinds[n % len(kinds)],
                users[(n // len(kinds)) % len(users)],
                n // len(kinds) // len(users),
            )
        )
    return out


def inject(sim: Simulator, kind: str, user: int, nth: int, targets: Targets) -> int:
    """Queue one update of this kind from `user` (their `nth` of the kind); its update_id."""
    if kind in COMMANDS:
        sim.send_text(user, user, "/" + COMMANDS[kind])
    else:
        last = sim.last(user)
        if last is None:
            raise RuntimeError(f"user {user} has no message from the bot to press on")
        if kind == "sign-up tap":
            data = f"ev:{'sc' if nth % 2 else 'su'}:{targets.event_id}"
        else:
            data = f"pl:v:{targets.poll_id}:{nth % 2}"
        sim.send_callback(user, user, last.message_id, data)
    update = sim.last_update
    assert update is not None
    return int(update["update_id"])


async def prepare(services: Any, kinds: dict[str, bool]) -> Targets:
    """Create what the taps need in Linli's database: an event open for sign-up, an open poll."""
    event_id = poll_id = 1
    if kinds.get("vote tap"):
        poll_id = await _poll(services)
    if kinds.get("sign-up tap"):
        from bench import events_support

        event_id = await events_support.create_event(services)
    return Targets(event_id, poll_id)


async def _poll(services: Any) -> int:
    from linli.core.community import NodeKind
    from linli.core.members import Audience
    from linli.core.polls import PollDraft, PollKind, PollSettings
    from linli.storage import members as members_db
    from linli.storage import polls as polls_db

    now = services.now()
    organizer = await members_db.ensure_member(services.db, ORGANIZER, "组织者", None, now)
    draft = PollDraft(
        PollKind.SINGLE,
        "小区东门是否加装充电桩",
        "基准测试的投票",
        ("加装", "不加装"),
        1,
        now + timedelta(days=30),
        PollSettings(Audience(NodeKind.COMMUNITY, "")),
    )
    poll, _ = await polls_db.create_poll(
        services.db, draft, created_by=organizer.id, key="bench-poll", eligible=1000, now=now
    )
    return int(poll.id)
