"""Residents made directly through storage, for the points, shop, rankings and time bank tests."""

from __future__ import annotations

from linli.core.points import EarnRules
from linli.sim.core import SimUser
from linli.sim.harness import Harness
from linli.storage import members as members_db
from linli.storage import points as points_db


async def resident(
    h: Harness,
    tid: int,
    name: str,
    building: str | None = "heyuan/1",
    unit: str = "101",
    *,
    lang: str = "zh-hans",
    username: str | None = None,
    points: int = 0,
) -> tuple[SimUser, int]:
    """A joined, verified resident with a private chat open; returns (Telegram user, member id)."""
    user = h.user(tid, name, lang=lang, username=username)
    h.sim.started.add(tid)  # the private chat is open, as after onboarding
    member = await members_db.ensure_member(h.db, tid, name, username, h.clock())
    if building is not None:
        await members_db.set_home(h.db, member.id, building, unit, h.clock())
        await members_db.set_verified(h.db, member.id, None, h.clock())
    await members_db.mark_joined(h.db, member.id, None)
    await members_db.set_private_chat(h.db, member.id, True)
    # Onboarding asks for the language first, so notices reach members in theirs.
    await members_db.set_locale(h.db, member.id, "en" if lang.startswith("en") else "zh-CN")
    if points:
        await give(h, member.id, points, key=f"seed:{tid}")
    return user, member.id


def rules(h: Harness) -> EarnRules:
    return h.config.points.earn_rules(h.config.tz)


async def give(h: Harness, member_id: int, amount: int, *, key: str, rule: str = "award") -> int:
    async with h.db.transaction() as tx:
        return await points_db.earn(
            tx,
            member_id=member_id,
            rule=rule,
            reference="test",
            key=key,
            rules=rules(h),
            now=h.clock(),
            amount=amount,
        )


async def organizer(h: Harness) -> tuple[SimUser, int]:
    user = h.organizer
    h.sim.started.add(user.id)
    member = await members_db.ensure_member(h.db, user.id, user.first_name, None, h.clock())
    await members_db.mark_joined(h.db, member.id, None)
    return user, member.id
