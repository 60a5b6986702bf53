"""Residents and bound groups made directly through storage, for the broadcast/export tests."""

from __future__ import annotations

from datetime import datetime

from linli.core.community import Binding, NodeKind, Role
from linli.core.members import Member
from linli.sim.core import SimGroup, SimUser
from linli.sim.harness import Harness
from linli.storage import groups as groups_db
from linli.storage import members as members_db
from linli.storage.db import Database


async def resident(
    db: Database,
    telegram_id: int,
    building: str | None,
    now: datetime,
    *roles: Role,
    name: str | None = None,
    unit: str = "101",
    joined: bool = True,
) -> Member:
    member = await members_db.ensure_member(
        db, telegram_id, name or f"居民{telegram_id}", None, now
    )
    if building is not None:
        await members_db.set_home(db, member.id, building, unit, now)
        await members_db.set_verified(db, member.id, None, now)
    if joined:
        await members_db.mark_joined(db, member.id, None)
    for role in roles:
        await members_db.grant_role(db, member.id, role, member.id, now)
    found = await members_db.get_member(db, member.id)
    assert found is not None
    return found


async def bound_group(
    db: Database, chat_id: int, title: str, kind: NodeKind, target: str, now: datetime
) -> None:
    """A group bound to a node or a role team (bound by a stand-in organizer)."""
    binder = await members_db.ensure_member(db, 999_999, "binder", None, now)
    await groups_db.bind_group(db, chat_id, title, Binding(chat_id, kind, target), binder.id, now)


async def sim_resident(
    h: Harness, telegram_id: int, building: str | None, *roles: Role, name: str | None = None
) -> SimUser:
    """A joined resident who opened the private chat with the bot (made through storage)."""
    user = h.user(telegram_id, name or f"居民{telegram_id}")
    h.sim.start_private(user)
    h.sim.take_updates()  # their /start was the lead's onboarding; here the row is made directly
    await resident(h.db, telegram_id, building, h.clock(), *roles, name=user.first_name)
    return user


def sim_bound_group(h: Harness, chat_id: int, title: str) -> SimGroup:
    """A group with the bot in it (its updates are dropped; bind it with `bound_group`)."""
    group = h.sim.create_group(chat_id, title, owner=h.organizer)
    h.sim.add_bot_to_group(group, h.organizer)
    h.sim.take_updates()
    return group


def sim_organizer(h: Harness, lang: str = "zh-hans") -> SimUser:
    """The config's organizer (user 1000), with the private chat open."""
    user = h.sim.users.get(1000) or h.user(1000, "组织者", lang=lang)
    user.language_code = lang
    h.sim.start_private(user)
    h.sim.take_updates()
    return user
