"""The directory against a real database: asking once, confirming a free service into the
time bank exactly once, browsing, places, forgetting."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from linli.core.community import Building, Community, Compound
from linli.core.directory import (
    MatchStatus,
    OfferDraft,
    OfferStatus,
    Payment,
    PlaceRow,
    Point,
    Visibility,
    WeeklyHours,
)
from linli.core.outcomes import Refused, RefusedError
from linli.core.points import EarnRules
from linli.storage import directory as dir_db
from linli.storage import members as members_db
from linli.storage import points as points_db
from linli.storage import timebank as tb_db
from linli.storage.db import Database

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
RULES = EarnRules(amounts={"volunteer_hour": 10}, daily_caps={"volunteer_hour": 40}, tz=SH)
C = Community("c", (
    Compound("heyuan", "和苑", (Building("heyuan/1", "heyuan", "1", 39.125, 117.195),
                              Building("heyuan/2", "heyuan", "2", 39.126, 117.196))),
    Compound("lihu", "丽湖", (Building("lihu/A", "lihu", "A", 39.132, 117.204),)),
))  # fmt: skip


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "t.sqlite3")
    yield database
    await database.close()


async def people(db: Database, n: int) -> list[int]:
    return [(await members_db.ensure_member(db, i, f"M{i}", None, NOW)).id for i in range(1, n + 1)]


def draft(payment: Payment = Payment.FREE, visibility: Visibility = Visibility.COMPOUND,
          title: str = "修水管", category: str = "repairs") -> OfferDraft:  # fmt: skip
    return OfferDraft(step=OfferDraft().with_visibility(visibility).step, category=category,
                      title=title, description="小修", payment=payment,
                      price="" if payment is Payment.FREE else "20元", available="周末",
                      visibility=visibility)  # fmt: skip


async def post(db: Database, member: int, building: str = "heyuan/1", **kw: object) -> int:
    offer = await dir_db.create_offer(db, member, building, draft(**kw),  # type: ignore[arg-type]
                                      needs_approval=False, per_day=0, now=NOW)  # fmt: skip
    return offer.id


async def test_a_free_service_becomes_hours_and_points_exactly_once(db: Database) -> None:
    provider, requester = await people(db, 2)
    offer_id = await post(db, provider)
    match, _ = await dir_db.ask(db, offer_id, requester, "heyuan/2", C, per_day=5, now=NOW)
    with pytest.raises(RefusedError) as again:
        await dir_db.ask(db, offer_id, requester, "heyuan/2", C, per_day=5, now=NOW)
    assert again.value.refused == Refused("already_asked")
    # Not introduced yet: nothing to confirm.
    with pytest.raises(RefusedError):
        await dir_db.confirm_service(db, match.id, requester, happened=True, minutes=60,
                                     floor_minutes=600, from_pool=False, rules=RULES, now=NOW)  # fmt: skip
    accepted = await dir_db.answer(db, match.id, provider, accept=True, now=NOW)
    assert accepted.status is MatchStatus.ACCEPTED
    done = await dir_db.confirm_service(db, match.id, requester, happened=True, minutes=90,
                                        floor_minutes=600, from_pool=False, rules=RULES, now=NOW)  # fmt: skip
    assert done.log is not None and done.points == 15 and done.match.log_id == done.log.id
    for _ in range(2):  # a second tap: refused, nothing moves
        with pytest.raises(RefusedError) as twice:
            await dir_db.confirm_service(db, match.id, requester, happened=True, minutes=90,
                                         floor_minutes=600, from_pool=False, rules=RULES, now=NOW)  # fmt: skip
        assert twice.value.refused == Refused("already_confirmed")
    assert await tb_db.balance_minutes(db, provider) == 90
    assert await tb_db.balance_minutes(db, requester) == -90
    assert await points_db.balance(db, provider) == 15
    assert (await tb_db.get_log(db, done.log.id)).status.value == "confirmed"  # type: ignore[union-attr]
    assert await db.scalar("SELECT COUNT(*) FROM timebank_logs") == 1
    thanked = await dir_db.thank(db, match.id, requester, "谢谢")
    assert thanked.thanked and (await dir_db.get_offer(db, offer_id)).thanks == 1  # type: ignore[union-attr]


async def test_a_paid_service_that_happened_moves_no_hours(db: Database) -> None:
    provider, requester = await people(db, 2)
    offer_id = await post(db, provider, payment=Payment.PAID)
    match, _ = await dir_db.ask(db, offer_id, requester, "heyuan/1", C, per_day=5, now=NOW)
    await dir_db.answer(db, match.id, provider, accept=True, now=NOW)
    done = await dir_db.confirm_service(db, match.id, requester, happened=True, minutes=60,
                                        floor_minutes=600, from_pool=False, rules=RULES, now=NOW)  # fmt: skip
    assert done.log is None and done.match.status is MatchStatus.DONE
    assert await db.scalar("SELECT COUNT(*) FROM timebank_logs") == 0


async def test_below_the_floor_nothing_is_confirmed(db: Database) -> None:
    provider, requester = await people(db, 2)
    offer_id = await post(db, provider)
    match, _ = await dir_db.ask(db, offer_id, requester, "heyuan/1", C, per_day=5, now=NOW)
    await dir_db.answer(db, match.id, provider, accept=True, now=NOW)
    with pytest.raises(RefusedError) as below:
        await dir_db.confirm_service(db, match.id, requester, happened=True, minutes=120,
                                     floor_minutes=60, from_pool=False, rules=RULES, now=NOW)  # fmt: skip
    assert below.value.refused.reason == "below_floor"
    assert (await dir_db.get_match(db, match.id)).status is MatchStatus.ACCEPTED  # type: ignore[union-attr]
    assert await db.scalar("SELECT COUNT(*) FROM timebank_logs") == 0


async def test_browse_nearest_building_first_and_respects_scope(db: Database) -> None:
    a, b, c, viewer = await people(db, 4)
    far = await post(db, c, "lihu/A", visibility=Visibility.COMMUNITY)
    hidden = await post(db, c, "lihu/A", visibility=Visibility.COMPOUND)
    near = await post(db, b, "heyuan/2", visibility=Visibility.COMPOUND)
    home = await post(db, a, "heyuan/1", visibility=Visibility.BUILDING)
    order = ["heyuan/1", "heyuan/2", "lihu/A"]
    found = await dir_db.browse(db, "repairs", "heyuan/1", order, C)
    assert [o.id for o in found] == [home, near, far] and hidden not in [o.id for o in found]
    assert [o.id for o in await dir_db.browse(db, "repairs", "heyuan/1", order, C, limit=2)] == [
        home,
        near,
    ]
    await dir_db.set_offer_status(
        db, near, OfferStatus.PAUSED, actor_id=b, organizer=False, now=NOW
    )
    assert near not in [o.id for o in await dir_db.browse(db, "repairs", "heyuan/1", order, C)]
    with pytest.raises(RefusedError):  # not the provider's to pause
        await dir_db.set_offer_status(db, far, OfferStatus.PAUSED, actor_id=viewer,
                                      organizer=False, now=NOW)  # fmt: skip


async def test_rate_limits(db: Database) -> None:
    (member,) = await people(db, 1)
    for _ in range(2):
        await dir_db.create_offer(db, member, "heyuan/1", draft(), needs_approval=False,
                                  per_day=2, now=NOW)  # fmt: skip
    with pytest.raises(RefusedError) as third:
        await dir_db.create_offer(db, member, "heyuan/1", draft(), needs_approval=False,
                                  per_day=2, now=NOW)  # fmt: skip
    assert third.value.refused == Refused("rate_limited", {"limit": 2})
    await dir_db.create_offer(db, member, "heyuan/1", draft(), needs_approval=False, per_day=2,
                              now=NOW + timedelta(days=1, seconds=1))  # fmt: skip


async def test_request_help_choose_one(db: Database) -> None:
    requester, h1, h2 = await people(db, 3)
    req = await dir_db.create_request(db, requester, "heyuan/1", "repairs", "灯坏了", "今晚",
                                      per_day=5, now=NOW)  # fmt: skip
    with pytest.raises(RefusedError):
        await dir_db.offer_help(db, req.id, requester, NOW)  # one's own request
    m1, _ = await dir_db.offer_help(db, req.id, h1, NOW)
    m2, _ = await dir_db.offer_help(db, req.id, h2, NOW)
    chosen = await dir_db.choose(db, m2.id, requester, NOW)
    assert [(m.id, m.status) for m in chosen] == [
        (m2.id, MatchStatus.ACCEPTED),
        (m1.id, MatchStatus.NOT_CHOSEN),
    ]
    with pytest.raises(RefusedError):
        await dir_db.offer_help(db, req.id, h1, NOW)  # matched now


async def test_providers_are_told_at_most_once_a_day_and_not_after_opting_out(db: Database) -> None:
    requester, p1, p2 = await people(db, 3)
    await post(db, p1)
    await post(db, p2)
    await dir_db.set_optout(db, p2, True)
    req = await dir_db.create_request(db, requester, "heyuan/2", "repairs", "灯坏了", "",
                                      per_day=5, now=NOW)  # fmt: skip
    assert await dir_db.providers_to_tell(db, req, C, "2026-11-26") == [p1]
    assert await dir_db.providers_to_tell(db, req, C, "2026-11-26") == []
    assert await dir_db.providers_to_tell(db, req, C, "2026-11-27") == [p1]


def place(name: str, lat: float, category: str = "pharmacy") -> PlaceRow:
    return PlaceRow(name, category, "", lat, 117.195, WeeklyHours())


async def test_places_are_replaced_whole_and_found_around_a_point(db: Database) -> None:
    await dir_db.replace_places(db, [place("old", 39.125)], NOW)
    count = await dir_db.replace_places(
        db, [place("near", 39.1255), place("far away", 39.5), place("驿站", 39.126, "station")], NOW
    )
    assert count == 3
    around = await dir_db.places_around(db, Point(39.125, 117.195), None)
    assert sorted(p.name for p in around) == ["near", "驿站"]
    assert [p.name for p in await dir_db.places_around(db, Point(39.125, 117.195), "station")] == [
        "驿站"
    ]
    header, rows = await dir_db.export_places(db, NOW)
    assert header[:2] == ["name", "category"] and [r[0] for r in rows] == [
        "near",
        "far away",
        "驿站",
    ]


async def test_forgetting_removes_offers_requests_and_introductions(db: Database) -> None:
    provider, requester = await people(db, 2)
    offer_id = await post(db, provider)
    match, _ = await dir_db.ask(db, offer_id, requester, "heyuan/1", C, per_day=5, now=NOW)
    await dir_db.create_request(db, requester, "heyuan/1", "repairs", "x", "", per_day=5, now=NOW)
    await members_db.forget(db, requester, NOW)
    assert await dir_db.get_match(db, match.id) is None
    assert await db.scalar("SELECT COUNT(*) FROM directory_requests") == 0
    await members_db.forget(db, provider, NOW)
    assert await dir_db.get_offer(db, offer_id) is None


async def test_joining_a_team_gives_the_volunteer_role_once(db: Database) -> None:
    member, leader = await people(db, 2)
    ask = await dir_db.ask_to_join(db, "volunteers", member, NOW)
    with pytest.raises(RefusedError):
        await dir_db.ask_to_join(db, "volunteers", member, NOW)
    await dir_db.decide_join(db, ask.id, True, leader, NOW)
    with pytest.raises(RefusedError):
        await dir_db.decide_join(db, ask.id, False, leader, NOW)
    got = await members_db.get_member(db, member)
    assert got is not None and "volunteer" in {r.value for r in got.roles}
    assert await dir_db.teams_of(db, member) == ["volunteers"]


async def test_a_price_on_a_free_offer_or_an_empty_field_stores_nothing(db: Database) -> None:
    (li,) = await people(db, 1)
    priced = replace(draft(), price="10元")
    untitled = replace(draft(), title="")
    for bad in (priced, untitled):
        with pytest.raises(RefusedError) as caught:
            await dir_db.create_offer(db, li, "heyuan/1", bad, needs_approval=False, per_day=0,
                                      now=NOW)  # fmt: skip
        assert caught.value.refused == Refused("incomplete")
    assert await db.scalar("SELECT COUNT(*) FROM directory_offers") == 0
