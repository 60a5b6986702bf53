"""Residents for the polls and proposals tests, made directly through storage."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from linli.core.community import Building, Community, Compound, NodeKind, Role
from linli.core.members import Audience, Member
from linli.core.polls import PollDraft, PollKind, PollSettings
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
