"""Residents for the polls and proposals tests, made directly through storage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from linli.core.community import Binding, Building, Community, Compound, NodeKind, Role
from linli.core.members import Audience, Member
from linli.core.polls import PollDraft, PollKind, PollSettings
from linli.sim.core import SimGroup, SimUser
from linli.sim.harness import Harness
from linli.storage import groups as groups_db
from linli.storage import members as members_db
from linli.storage.db import Database

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
COMMUNITY = Community(
    "和平社区",
    (
        Compound("heyuan", "和苑小区", tuple(Building(f"heyuan/{b}", "heyuan", b) for b in "123")),
        Compound("lihu", "丽湖小区", tuple(Building(f"lihu/{b}", "lihu", b) for b in "AB")),
    ),
)


async def resident(
    db: Database,
    telegram_id: int,
    name: str = "",
    building: str | None = "heyuan/1",
    unit: str | None = None,
    *,
    verified: bool = True,
    roles: tuple[Role, ...] = (),
    now: datetime = NOW,
) -> Member:
    """A member who finished onboarding, with a household (unless building is None)."""
    m = await members_db.ensure_member(db, telegram_id, name or f"居民{telegram_id}", None, now)
    if building is not None:
        await members_db.set_home(db, m.id, building, unit or str(telegram_id), now)
        if verified:
            await members_db.set_verified(db, m.id, None, now)
    await members_db.mark_joined(db, m.id, None)
    for role in roles:
        await members_db.grant_role(db, m.id, role, m.id, now)
    found = await members_db.get_member(db, m.id)
    assert found is not None
    return found


def draft(
    kind: PollKind = PollKind.SINGLE,
    options: tuple[str, ...] = ("甲", "乙", "丙"),
    *,
    audience: Audience | None = None,
    closes_in: timedelta = timedelta(days=3),
    max_picks: int = 1,
    now: datetime = NOW,
    **settings: object,
) -> PollDraft:
    return PollDraft(
        kind=kind,
        title="停车位怎么分？",
        body="",
        options=() if kind is PollKind.PROPOSAL else options,
        max_picks=max_picks,
        closes_at=now + closes_in,
        settings=PollSettings(audience or Audience(NodeKind.COMMUNITY), **settings),  # type: ignore[arg-type]
    )


async def neighbour(
    h: Harness,
    tid: int,
    name: str,
    building: str | None = "heyuan/1",
    unit: str | None = None,
    *,
    lang: str = "zh-hans",
    verified: bool = True,
) -> tuple[SimUser, Member]:
    """A joined resident (verified unless told) whose private chat with the bot is open."""
    user = h.user(tid, name, lang=lang)
    h.sim.started.add(tid)
    member = await resident(h.db, tid, name, building, unit, verified=verified, now=h.clock())
    await members_db.set_private_chat(h.db, member.id, True)
    await members_db.set_locale(h.db, member.id, "en" if lang.startswith("en") else "zh-CN")
    refreshed = await members_db.get_member(h.db, member.id)
    assert refreshed is not None
    return user, refreshed


async def bound_group(
    h: Harness, chat_id: int, title: str, kind: NodeKind, target: str, members: list[SimUser]
) -> SimGroup:
    """A group with these members, bound (as an organizer would with /bind)."""
    group = h.group(chat_id, title, members)
    await h.process()
    org = await members_db.ensure_member(
        h.db, h.organizer.id, h.organizer.first_name, None, h.clock()
    )
    await groups_db.bind_group(
        h.db, chat_id, title, Binding(chat_id, kind, target), org.id, h.clock()
    )
    return group
