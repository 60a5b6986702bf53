"""One week of community life, written through each feature's own storage API, for the
digest's tests: what the digest for ISO week 2026-W48 (Mon 23 - Sun 29 Nov 2026, community
time Asia/Shanghai) must say is in `EXPECTED`.

In UTC that week runs from 2026-11-22 16:00 to 2026-11-29 16:00; things are placed just
inside and just outside both edges.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from linli.bot.config import PointsSection
from linli.core.community import Building, Community, Compound, NodeKind
from linli.core.events import EventDraft, EventKind, occurrences
from linli.core.hazards import Action, NewReport, followup_hash
from linli.core.members import Audience, Member
from linli.core.polls import PollDraft, PollKind, PollSettings
from linli.storage import drafts as drafts_db
from linli.storage import events as events_db
from linli.storage import hazards as hazards_db
from linli.storage import members as members_db
from linli.storage import points as points_db
from linli.storage import polls as polls_db
from linli.storage.db import Database
from linli.storage.drafts import Draft

TZ = ZoneInfo("Asia/Shanghai")
WEEK_START = datetime(2026, 11, 22, 16, 0, tzinfo=UTC)  # Mon 23 Nov 00:00 local
WEEK_END = datetime(2026, 11, 29, 16, 0, tzinfo=UTC)  # Mon 30 Nov 00:00 local
BEFORE = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
DURING = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)  # Wed 10:00 local
LAST_MINUTE = WEEK_END - timedelta(seconds=1)
AFTER = WEEK_END  # the first instant of the next week
DUE = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)  # Mon 30 Nov 09:00 local: the digest's time
COMMUNITY = Community(
    "和平社区",
    (
        Compound("heyuan", "和苑", tuple(Building(f"heyuan/{b}", "heyuan", b) for b in "123")),
        Compound("lihu", "丽湖", tuple(Building(f"lihu/{b}", "lihu", b) for b in "AB")),
    ),
)
RULES = PointsSection().earn_rules(TZ)


@dataclass(frozen=True)
class Expected:
    hazards: dict[str, tuple[int, int, int, int]]  # category: new, resolved, rejected, open
    events: list[tuple[str, int, int]]  # title, signed up, checked in
    issued: int
    redeemed: int
    joined: int
    verified: int
    total: int
    polls: list[tuple[str, bool]]  # title, passed


EXPECTED = Expected(
    hazards={"fire": (1, 0, 0, 2), "water": (1, 1, 1, 0), "elevator": (1, 0, 0, 1)},
    events=[("防诈骗讲座", 3, 2)],
    issued=20,  # two attendances of 10; the earn before the week does not count
    redeemed=5,  # 8 spent, 3 of them refunded
    joined=2,
    verified=2,
    total=4,
    polls=[("加装电梯", True), ("停车位怎么分？", False)],
)


async def person(
    db: Database,
    telegram_id: int,
    created: datetime,
    *,
    joined: bool = True,
    verified_at: datetime | None = None,
    unit: str = "",
) -> Member:
    member = await members_db.ensure_member(db, telegram_id, f"居民{telegram_id}", None, created)
    await members_db.set_home(db, member.id, "heyuan/1", unit or str(telegram_id), created)
    if verified_at is not None:
        await members_db.set_verified(db, member.id, None, verified_at)
    if joined:
        await members_db.mark_joined(db, member.id, None)
    found = await members_db.get_member(db, member.id)
    assert found is not None
    return found


async def report(
    db: Database, telegram_id: int, category: str, at: datetime, reporter: int | None
) -> int:
    draft = Draft(telegram_id, "report", "confirm", {})
    await drafts_db.put_draft(db, draft, at)
    anonymous = reporter is None
    new = NewReport(category, "看到了隐患", anonymous, False, building_id="heyuan/1")
    created = await hazards_db.create_report(
        db, new, reporter_id=reporter, ending=draft, now=at,
        followup_hash=followup_hash(f"CODE{telegram_id}{category}") if anonymous else None,
    )  # fmt: skip
    return created.id


async def triage(db: Database, report_id: int, action: Action, by: int, at: datetime) -> None:
    await hazards_db.triage(db, report_id, action, actor_id=by, note="", now=at)


async def seed_week(db: Database) -> dict[str, Member]:
    """Write the week; returns the people in it by name."""
    # --- Members: organizer and old neighbour from before; two newcomers joined this week,
    # one verified; one who only said hello; one who came after the week ended.
    organizer = await person(db, 1000, BEFORE, verified_at=BEFORE)
    old = await person(db, 2001, BEFORE, verified_at=DURING)  # verified this week
    new_a = await person(db, 2002, WEEK_START, verified_at=DURING)  # first instant counts
    new_b = await person(db, 2003, LAST_MINUTE)
    await person(db, 2004, DURING, joined=False)  # never accepted the notice
    await person(db, 2005, AFTER, verified_at=AFTER)  # next week's
    gone = await person(db, 2006, DURING)
    await members_db.forget(db, gone.id, DURING)

    # --- Hazard reports
    await report(db, 3001, "fire", BEFORE, old.id)  # still new: open
    fire = await report(db, 3002, "fire", DURING, old.id)  # new this week, acknowledged: open
    await triage(db, fire, Action.ACK, organizer.id, DURING)
    water = await report(db, 3003, "water", DURING, new_a.id)  # new and resolved this week
    await triage(db, water, Action.RESOLVE, organizer.id, DURING + timedelta(hours=1))
    old_water = await report(db, 3004, "water", BEFORE, old.id)  # rejected this week
    await triage(db, old_water, Action.REJECT, organizer.id, DURING)
    exit_ = await report(db, 3005, "exit", BEFORE, old.id)  # closed before: not in the digest
    await triage(db, exit_, Action.RESOLVE, organizer.id, BEFORE)
    await report(db, 3006, "gas", AFTER, old.id)  # next week's
    await report(db, 3007, "elevator", DURING, None)  # anonymous, new this week: open

    # --- Events: one held this week (3 signed up, 2 came), one before, one cancelled
    async def event(title: str, starts: datetime) -> int:
        draft = EventDraft(
            kind=EventKind.LECTURE, title=title, place="活动室", starts_at=starts,
            ends_at=starts + timedelta(hours=2), capacity=0, points=10,
            audience=Audience(NodeKind.COMMUNITY),
        )  # fmt: skip
        created, _ = await events_db.create_events(
            db, draft, occurrences(draft, BEFORE), organizer.id, BEFORE
        )
        return created[0].id

    held = await event("防诈骗讲座", DURING)
    earlier = await event("上周的演练", BEFORE + timedelta(hours=4))
    cancelled = await event("取消了的讲座", DURING)
    for member in (old, new_a, organizer):
        for event_id in (held, earlier, cancelled):
            await events_db.sign_up(db, event_id, member.id, COMMUNITY, BEFORE)
    held_event = await events_db.get_event(db, held)
    assert held_event is not None
    for member in (old, new_a):
        done = await events_db.check_in(
            db, held_event.checkin_code, member.id, DURING, timedelta(minutes=30), RULES
        )
        assert not hasattr(done, "reason"), done
    await events_db.cancel_event(db, cancelled, organizer.id, BEFORE)

    # --- Points beyond attendance: an earn before the week; a spend and a refund in it
    async with db.transaction() as tx:
        await points_db.earn(
            tx, member_id=organizer.id, rule="verified_report", reference="H-0001",
            key="digest-test-earn", rules=RULES, now=BEFORE,
        )  # fmt: skip
        await points_db.spend(
            tx, member_id=old.id, amount=8, reference="order:S-1", key="digest-test-spend",
            now=DURING, tz=TZ,
        )  # fmt: skip
        await points_db.refund(
            tx, member_id=old.id, amount=3, reference="order:S-1", key="digest-test-refund",
            now=DURING, tz=TZ,
        )  # fmt: skip

    # --- Polls: one passed and one failed this week, one closes next week, one still open
    async def poll(title: str, closes: datetime, key: str) -> int:
        draft = PollDraft(
            kind=PollKind.SINGLE, title=title, body="", options=("同意", "不同意"), max_picks=1,
            closes_at=closes, settings=PollSettings(Audience(NodeKind.COMMUNITY)),
        )  # fmt: skip
        created, _ = await polls_db.create_poll(
            db, draft, created_by=organizer.id, key=key, eligible=3, now=BEFORE
        )
        return created.id

    lift = await poll("加装电梯", DURING, "p1")
    for member in (old, new_a):
        voter = await members_db.get_member(db, member.id)
        assert voter is not None
        await polls_db.cast_vote(db, lift, voter, [0], COMMUNITY, BEFORE)
    await polls_db.close_poll(db, lift, 3, DURING)
    parking = await poll("停车位怎么分？", LAST_MINUTE, "p2")  # nobody voted: not passed
    await polls_db.close_poll(db, parking, 3, LAST_MINUTE)
    later = await poll("下周的投票", AFTER + timedelta(hours=1), "p3")
    await polls_db.close_poll(db, later, 3, AFTER + timedelta(hours=1))
    await poll("还开着的投票", AFTER + timedelta(days=3), "p4")
    return {"organizer": organizer, "old": old, "new_a": new_a, "new_b": new_b}
