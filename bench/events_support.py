"""What the benchmarks need of the events feature: an event open for sign-up, and the
sign-up transaction as an operation to time."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from types import ModuleType
from typing import Any

from bench.community import ORGANIZER
from linli.core.community import NodeKind
from linli.core.events import EventDraft, EventKind, occurrences
from linli.core.members import Audience
from linli.storage import events as events_db
from linli.storage import members as members_db


async def create_event(services: Any, title: str = "消防安全讲座") -> int:
    """A lecture for the whole community next week, unlimited seats; its id."""
    now = services.now()
    organizer = await members_db.ensure_member(services.db, ORGANIZER, "组织者", None, now)
    starts = now + timedelta(days=7)
    draft = EventDraft(
        kind=EventKind.LECTURE,
        title=title,
        description="基准测试的活动",
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        place="社区活动中心",
        capacity=0,
        audience=Audience(NodeKind.COMMUNITY, ""),
    )
    events, _ = await events_db.create_events(
        services.db, draft, occurrences(draft, now), organizer.id, now
    )
    return int(events[0].id)


def sign_up_op(services: Any, module: ModuleType) -> Callable[[int], Awaitable[object]]:
    """Sign a member up and cancel again (both transactions a tap runs), repeatable."""
    event_id: list[int] = []

    async def op(member_id: int) -> object:
        if not event_id:
            event_id.append(await create_event(services))
        now = services.now()
        outcome = await module.sign_up(services.db, event_id[0], member_id, services.community, now)
        await module.cancel_signup(services.db, event_id[0], member_id, now)
        return outcome

    return op


__all__ = ["create_event", "events_db", "sign_up_op"]
