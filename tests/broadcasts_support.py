"""Residents and bound groups made directly through storage, for the broadcast/export tests."""

from __future__ import annotations

from datetime import datetime

from linli.core.community import Binding, NodeKind, Role
from linli.core.members import Member
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
    member = await members_db.ensure_member(db, telegram_id, name or f"居民{telegram_id}", None, now)
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
