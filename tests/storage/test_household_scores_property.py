"""Property: after any sequence of earns, awards, deductions, redemptions, moves between
households and forgettings, every household's kept week, month and all-time score equals
the sum of its current members' scores, recomputed from the ledger itself; and the
household boards read from it agree with the sums."""

from __future__ import annotations

import asyncio
import tempfile
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linli.core.outcomes import RefusedError
from linli.core.points import SCORED_RULES, EarnRules, Period, period_labels, period_range
from linli.core.rankings import Scope, Where
from linli.storage import members as members_db
from linli.storage import points as points_db
from linli.storage import rankings as rk_db
from linli.storage.db import Database

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
RULES = EarnRules(
    amounts={"attendance": 5, "volunteer_hour": 10},
    daily_caps={"volunteer_hour": 30},
    tz=SH,
    award_max=100,
)
HOMES = [("heyuan/1", "101"), ("heyuan/1", "102"), ("heyuan/2", "201"), ("lihu/A", "301")]
PEOPLE = 5

op = st.one_of(
    st.tuples(st.just("earn"), st.integers(0, PEOPLE - 1), st.integers(1, 40)),
    st.tuples(st.just("capped"), st.integers(0, PEOPLE - 1), st.integers(0, 0)),
    st.tuples(st.just("award"), st.integers(0, PEOPLE - 1), st.integers(1, 60)),
    st.tuples(st.just("deduct"), st.integers(0, PEOPLE - 1), st.integers(1, 60)),
    st.tuples(st.just("redeem"), st.integers(0, PEOPLE - 1), st.integers(1, 30)),
    st.tuples(st.just("move"), st.integers(0, PEOPLE - 1), st.integers(0, len(HOMES) - 1)),
    st.tuples(st.just("forget"), st.integers(0, PEOPLE - 1), st.integers(0, 0)),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(op, st.integers(0, 45)), max_size=30))
def test_household_scores_follow_members(ops: list[tuple[tuple[str, int, int], int]]) -> None:
    asyncio.run(_run(ops))


async def _run(ops: list[tuple[tuple[str, int, int], int]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = await Database.open(Path(folder) / "h.sqlite3")
        try:
            people = []
            for i in range(PEOPLE):
                member = await members_db.ensure_member(db, i + 1, f"M{i}", None, NOW)
                if i < PEOPLE - 1:  # the last one has no home until moved
                    building, unit = HOMES[i % 2]
                    await members_db.set_home(db, member.id, building, unit, NOW)
                people.append(member.id)
            for step, ((kind, who, n), days) in enumerate(ops):
                when = NOW + timedelta(days=days, minutes=step)
                try:
                    await _apply(db, kind, people[who], n, step, when)
                except RefusedError as exc:
                    assert kind in ("deduct", "redeem") and exc.refused.reason == (
                        "not_enough_points"
                    )
                await _check(db, when)
        finally:
            await db.close()


async def _apply(db: Database, kind: str, member: int, n: int, step: int, when: datetime) -> None:
    if kind == "move":
        building, unit = HOMES[n]
        await members_db.set_home(db, member, building, unit, when)
        return
    if kind == "forget":
        await members_db.forget(db, member, when)
        return
    async with db.transaction() as tx:
        key = f"{kind}:{step}"
        if kind == "earn":
            await points_db.earn(
                tx,
                member_id=member,
                rule="attendance",
                reference="",
                key=key,
                rules=RULES,
                now=when,
                amount=n,
            )
        elif kind == "capped":  # 10 a time, 30 a day: the fourth of a day credits 0
            await points_db.earn(
                tx,
                member_id=member,
                rule="volunteer_hour",
                reference="",
                key=key,
                rules=RULES,
                now=when,
            )
        elif kind == "award":
            await points_db.award(
                tx, member_id=member, amount=n, reason="r", actor_id=member, key=key,
                rules=RULES, now=when,
            )  # fmt: skip
        elif kind == "deduct":
            await points_db.deduct(
                tx, member_id=member, amount=n, reason="r", actor_id=member, key=key,
                rules=RULES, now=when,
            )  # fmt: skip
        else:
            await points_db.spend(
                tx, member_id=member, amount=n, reference="", key=key, now=when, tz=SH
            )


async def _check(db: Database, when: datetime) -> None:
    """The kept table against the ledger, summed by the members' current households."""
    home: dict[int, int] = {
        member: household
        for member, household in await db.fetchall(
            "SELECT id, household_id FROM members WHERE household_id IS NOT NULL"
        )
    }
    expected: dict[tuple[str, int], int] = defaultdict(int)
    for member, amount, rule, day in await db.fetchall(
        "SELECT member_id, amount, rule, day FROM points_ledger"
    ):
        if rule not in SCORED_RULES or member not in home:
            continue
        for period in (*period_labels(day), "all"):
            expected[(period, home[member])] += amount
    kept = {
        (period, household): score
        for period, household, score in await db.fetchall(
            "SELECT period, household_id, score FROM household_period"
        )
    }
    assert {k: v for k, v in kept.items() if v} == {k: v for k, v in expected.items() if v}

    # The boards read from it: every household with a positive score, in score order.
    buildings: dict[int, str] = {
        household: building
        for household, building in await db.fetchall("SELECT id, building_id FROM households")
    }
    hidden = {
        h
        for (h,) in await db.fetchall(
            "SELECT household_id FROM members WHERE household_id IS NOT NULL AND rank_optout = 1"
        )
    }
    for period in Period:
        days = period_range(period, when, SH)
        label = "all" if days.start is None else days.label
        board = await rk_db.household_board(db, days, Where(Scope.COMMUNITY), 10)
        want = sorted(
            ((s, h) for (p, h), s in expected.items() if p == label and s > 0),
            key=lambda sh: (-sh[0], sh[1]),
        )
        assert [line.score for line in board] == [s for s, _ in want]
        # A compound reads household by household; a household is hidden if a current
        # member opted out (a forgotten member who is housed again stays opted out).
        heyuan = await rk_db.household_board(db, days, Where(Scope.COMPOUND, "heyuan"), 10)
        assert [(line.score, line.hidden) for line in heyuan] == [
            (s, h in hidden) for s, h in want if buildings[h].startswith("heyuan/")
        ]
