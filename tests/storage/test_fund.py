"""The fund's ledger in SQLite: splits booked whole, idempotent keys, reservations, two
organizers, corrections, the monthly figures, budget rounds and secret ballots on disk."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linli.core.community import NodeKind
from linli.core.exports import Format
from linli.core.fund import FUND, ExpenseStatus, ProjectStatus, RoundDraft
from linli.core.members import Audience
from linli.core.outcomes import RefusedError
from linli.storage import exports as exports_db
from linli.storage import fund as fund_db
from linli.storage.db import Database
from tests.support.polls import COMMUNITY, NOW, resident

TZ = ZoneInfo("Asia/Shanghai")
RULE = {"provider": 70, "hub": 25, FUND: 5}


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "t.sqlite3")
    yield database
    await database.close()


async def income(
    db: Database, fen: int, key: str, actor: int, rule: dict[str, int] = RULE
) -> fund_db.Booked:
    return await fund_db.record_income(db, amount=fen, income_kind="service_outsourcing", rule=rule,
                                       purpose="保洁", actor_id=actor, key=key, now=NOW, tz=TZ)  # fmt: skip


async def test_an_income_is_split_into_entries_once(db: Database) -> None:
    org = await resident(db, 1000)
    booked = await income(db, 120001, "u1", org.id)
    again = await income(db, 120001, "u1", org.id)
    assert booked.new and not again.new and again.txn.id == booked.txn.id
    assert dict(booked.txn.entries) == {"provider": 84000, "hub": 30000, FUND: 6001}
    assert await fund_db.balance(db) == 6001 and await fund_db.balance(db, "provider") == 84000
    audit = await db.fetchall("SELECT action FROM audit_log WHERE action LIKE 'fund%'")
    assert [r["action"] for r in audit] == ["fund_income"]


async def test_an_expense_reserves_until_a_second_organizer_approves(db: Database) -> None:
    a, b = await resident(db, 1000), await resident(db, 1001)
    await income(db, 100000, "u1", a.id, {FUND: 100})
    expense, new = await fund_db.record_expense(db, amount=30000, purpose="灭火器", receipt="F1",
                                                actor_id=a.id, key="e1", now=NOW)  # fmt: skip
    assert new and expense.status is ExpenseStatus.PENDING
    books = await fund_db.books(db)
    assert (books.balance, books.reserved, books.available) == (100000, 30000, 70000)
    with pytest.raises(RefusedError) as caught:  # more than is free
        await fund_db.record_expense(db, amount=70001, purpose="x", receipt=None, actor_id=a.id,
                                     key="e2", now=NOW)  # fmt: skip
    assert caught.value.refused.reason == "not_enough_money"
    with pytest.raises(RefusedError) as caught:
        await fund_db.approve_expense(db, expense.id, a.id, NOW, TZ)
    assert caught.value.refused.reason == "own_expense"
    approved, txn = await fund_db.approve_expense(db, expense.id, b.id, NOW, TZ)
    assert approved.status is ExpenseStatus.APPROVED and txn.receipt == "F1"
    assert (await fund_db.balance(db), await fund_db.reserved(db)) == (70000, 0)
    with pytest.raises(RefusedError):
        await fund_db.approve_expense(db, expense.id, b.id, NOW, TZ)
    assert await fund_db.balance(db) == 70000


async def test_a_correction_reverses_and_cannot_take_reserved_money(db: Database) -> None:
    a, b = await resident(db, 1000), await resident(db, 1001)
    first = await income(db, 100000, "u1", a.id)
    await income(db, 100000, "u2", a.id, {FUND: 100})
    await fund_db.record_expense(db, amount=101000, purpose="x", receipt=None, actor_id=a.id,
                                 key="e1", now=NOW)  # fmt: skip
    with pytest.raises(RefusedError) as caught:  # the 50 yuan it would take back are promised
        await fund_db.correct(db, first.txn.id, "typo", b.id, "c1", NOW, TZ)
    assert caught.value.refused.reason == "correction_reserved"
    assert await fund_db.balance(db) == 105000
    await db.write("UPDATE fund_expenses SET status = 'rejected'")
    fixed = await fund_db.correct(db, first.txn.id, "typo", b.id, "c1", NOW, TZ)
    assert dict(fixed.txn.entries) == {"provider": -70000, "hub": -25000, FUND: -5000}
    assert await fund_db.balance(db) == 100000 and await fund_db.balance(db, "provider") == 0
    original = await fund_db.get_txn(db, first.txn.id)
    assert original is not None and original.reversed_by == fixed.txn.id
    with pytest.raises(RefusedError) as caught:
        await fund_db.correct(db, first.txn.id, "again", b.id, "c2", NOW, TZ)
    assert caught.value.refused.reason == "already_corrected"
    report = await fund_db.month_report(db, "2026-11")
    assert report.income == 100000 and report.balance == 100000  # the correction nets out


ops = st.lists(
    st.one_of(
        st.tuples(st.just("income"), st.integers(1, 10**6), st.integers(0, 5)),
        st.tuples(st.just("expense"), st.integers(1, 10**6), st.integers(0, 5)),
        st.tuples(st.just("approve"), st.integers(1, 8), st.integers(0, 1)),
        st.tuples(st.just("correct"), st.integers(1, 12), st.integers(0, 5)),
    ),
    max_size=25,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops)
def test_the_ledger_sums_and_never_goes_negative(
    tmp_path: Path, steps: list[tuple[str, int, int]]
) -> None:
    asyncio.run(_ledger_run(tmp_path, steps))


async def _ledger_run(tmp_path: Path, steps: list[tuple[str, int, int]]) -> None:
    path = tmp_path / f"p{id(steps)}.sqlite3"
    path.unlink(missing_ok=True)
    db = await Database.open(path)
    try:
        a, b = await resident(db, 1000), await resident(db, 1001)
        for n, (op, x, k) in enumerate(steps):
            for _ in range(2):  # every step twice: a redelivery books nothing more
                try:
                    if op == "income":
                        await income(db, x, f"i{n}", a.id)
                    elif op == "expense":
                        await fund_db.record_expense(db, amount=x, purpose="p", receipt=None,
                                                     actor_id=a.id, key=f"e{n}", now=NOW)  # fmt: skip
                    elif op == "approve":
                        await fund_db.approve_expense(db, x, (a, b)[k].id, NOW, TZ)
                    else:
                        await fund_db.correct(db, x, "r", a.id, f"c{n}", NOW, TZ)
                except RefusedError:
                    pass
            for account in ("provider", "hub", FUND):
                total = await db.scalar(
                    "SELECT COALESCE(SUM(amount), 0) FROM fund_entries WHERE account = ?",
                    (account,),
                )
                assert await fund_db.balance(db, account) == total >= 0
            assert await fund_db.available(db) >= 0
            for txn in await db.fetchall(
                "SELECT id, kind, amount FROM fund_txns WHERE kind = 'income'"
            ):
                entries = await db.scalar(
                    "SELECT SUM(amount) FROM fund_entries WHERE txn_id = ?", (txn["id"],)
                )
                assert entries == txn["amount"]
            monthly = await db.scalar(
                "SELECT COALESCE(SUM(amount), 0) FROM fund_monthly WHERE account = ?", (FUND,)
            )
            assert monthly == await fund_db.balance(db)
    finally:
        await db.close()


def _round(budget: int = 100000, secret: bool = False) -> RoundDraft:
    return RoundDraft("楼道改造", budget, Audience(NodeKind.COMMUNITY), NOW + timedelta(days=2),
                      NOW + timedelta(days=4), secret=secret)  # fmt: skip


async def test_a_budget_round_from_submission_to_funded_projects(db: Database) -> None:
    org = await resident(db, 1000)
    await income(db, 200000, "u1", org.id, {FUND: 100})
    rnd, _ = await fund_db.open_round(db, _round(), org.id, "r1", NOW)
    assert await fund_db.available(db) == 100000  # the budget is reserved
    voters = [await resident(db, 2000 + i) for i in range(6)]
    costs = [60000, 50000, 40000]
    made = [
        (await fund_db.submit_project(db, rnd.id, voters[0], f"项目{i}", c, f"p{i}", NOW))[0]
        for i, c in enumerate(costs)
    ]
    for p in made:
        await fund_db.review_project(db, p.id, True, "", org.id, NOW)
    rejected, _ = await fund_db.submit_project(db, rnd.id, voters[1], "不行", 1000, "px", NOW)
    await fund_db.review_project(db, rejected.id, False, "重复", org.id, NOW)
    voting = NOW + timedelta(days=3)
    for voter, mask in zip(voters[:5], [0b001, 0b001, 0b010, 0b101, 0b010], strict=True):
        await fund_db.cast_ballot(db, rnd.id, voter, mask, COMMUNITY, voting)
    with pytest.raises(RefusedError) as caught:
        await fund_db.cast_ballot(db, rnd.id, voters[5], 0b011, COMMUNITY, voting)
    assert caught.value.refused.reason == "over_budget"
    with pytest.raises(RefusedError) as caught:
        await fund_db.cast_ballot(db, rnd.id, voters[0], 0b010, COMMUNITY, voting)
    assert caught.value.refused.reason == "household_voted"
    assert await fund_db.close_round(db, rnd.id, voting) is None  # not due yet
    result = await fund_db.close_round(db, rnd.id, NOW + timedelta(days=5))
    assert (
        result is not None
        and await fund_db.close_round(db, rnd.id, NOW + timedelta(days=5)) is None
    )
    # votes 3, 2, 1: 项目0 (60000) is funded, 项目1 (50000) no longer fits, 项目2 (40000) does
    assert result.funded == (made[0].id, made[2].id) and result.left == 0
    statuses = {p.id: p.status for p in await fund_db.projects(db, rnd.id)}
    assert statuses == {made[0].id: ProjectStatus.FUNDED, made[1].id: ProjectStatus.SKIPPED,
                        made[2].id: ProjectStatus.FUNDED, rejected.id: ProjectStatus.REJECTED}  # fmt: skip
    # The round's reservation became the funded projects' pending expenses.
    assert await fund_db.reserved(db) == 100000 and await fund_db.available(db) == 100000


async def test_a_secret_round_keeps_no_voter_with_a_ballot(db: Database) -> None:
    org = await resident(db, 1000)
    await income(db, 200000, "u1", org.id, {FUND: 100})
    rnd, _ = await fund_db.open_round(db, _round(secret=True), org.id, "r1", NOW)
    voters = [await resident(db, 2000 + i) for i in range(3)]
    made = [(await fund_db.submit_project(db, rnd.id, voters[0], f"P{i}", 10000, f"p{i}", NOW))[0]
            for i in range(3)]  # fmt: skip
    for p in made:
        await fund_db.review_project(db, p.id, True, "", org.id, NOW)
    voting = NOW + timedelta(days=3)
    for voter, mask in zip(voters, [0b001, 0b011, 0b110], strict=True):
        await fund_db.cast_ballot(db, rnd.id, voter, mask, COMMUNITY, voting)
        wal = Path(f"{db.path}-wal")
        assert not wal.exists() or wal.stat().st_size == 0  # sealed after the vote
    rows = await db.fetchall("SELECT * FROM fund_round_voters")
    assert [(r["member_id"], r["picks"]) for r in rows] == [(None, None)] * 3
    assert await db.scalar("SELECT COUNT(*) FROM fund_ballot_boxes") == 1
    assert await fund_db.counts(db, rnd.id) == {made[0].id: 2, made[1].id: 2, made[2].id: 1}


async def test_the_fund_export_has_one_row_per_entry(db: Database) -> None:
    org = await resident(db, 1000)
    await income(db, 120001, "u1", org.id)
    data = await exports_db.export_file(db, "fund", Format.CSV, None, TZ)
    assert isinstance(data, bytes)
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith(
        "entry,booking,created_at,kind,income_kind,account,amount_fen,amount_yuan"
    )
    assert [line.split(",")[5:8] for line in lines[1:]] == [
        ["provider", "84000", "840.00"],
        ["hub", "30000", "300.00"],
        [FUND, "6001", "60.01"],
    ]


async def test_the_weekly_digest_has_a_fund_line(db: Database) -> None:
    org = await resident(db, 1000)
    await income(db, 120000, "u1", org.id)
    fund_in, fund_out, balance = await fund_db.week_figures(
        db, NOW - timedelta(days=7), NOW + timedelta(seconds=1)
    )
    assert (fund_in, fund_out, balance) == (6000, 0, 6000)
    assert await fund_db.week_figures(db, NOW + timedelta(seconds=1), NOW + timedelta(days=7)) == (
        0,
        0,
        6000,
    )
