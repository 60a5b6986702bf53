"""Residents made directly through storage (the onboarding flow is tested elsewhere)."""

from __future__ import annotations

from datetime import datetime

from linli.core.community import Role
from linli.core.members import Member
from linli.storage import members as members_db
from linli.storage.db import Database


async def resident(
    db: Database,
    telegram_id: int,
    now: datetime,
    *,
    name: str = "",
    building: str = "heyuan/1",
    unit: str = "101",
    roles: tuple[Role, ...] = (),
    locale: str | None = None,
    joined: bool = True,
) -> Member:
    """A member who joined: household in `building`, verified, with `roles`."""
    member = await members_db.ensure_member(
        db, telegram_id, name or f"居民{telegram_id}", None, now
    )
    await members_db.set_home(db, member.id, building, unit, now)
    await members_db.set_verified(db, member.id, None, now)
    if joined:
        await members_db.mark_joined(db, member.id, None)
    if locale:
        await members_db.set_locale(db, member.id, locale)
    for role in roles:
        await members_db.grant_role(db, member.id, role, member.id, now)
    found = await members_db.get_member(db, member.id)
    assert found is not None
    return found
