"""The community fund's ledger, expenses, budget rounds and ballots.

Every booking is one BEGIN IMMEDIATE transaction: the booking (`fund_txns`), its entries
per account, the balances and the month's aggregate move together, with an audit line.
Each booking has a unique idempotency key: the same key again books nothing and returns
the first booking. Bookings are never edited; a correction books the reverse entries.

A pending expense and an open budget round *reserve* money: the fund's available money is
its balance less what they hold, and nothing may promise more than is available; the
balance itself can never go below zero (a CHECK as the last guard).

Secret rounds keep their ballots as the secret polls do (linli/storage/polls.py): a voter
row that says only that a household voted, and one box per round of counts per project,
rewritten whole on each vote, with the WAL sealed after it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from linli.core.ballots import picks_of
from linli.core.clock import from_iso, to_iso
from linli.core.community import Community
from linli.core.fund import (
    FUND,
    Allocation,
    BallotRules,
    Books,
    Expense,
    ExpenseStatus,
    MonthLine,
    MonthReport,
    Project,
    ProjectStatus,
    Round,
    RoundDraft,
    RoundStatus,
    Txn,
    TxnKind,
    allocate,
    ballot_key,
    check_approval,
    check_correction,
    check_review,
    check_spend,
    check_submission,
    last_months,
    may_vote,
    month_of,
    split,
    yuan,
)
from linli.core.members import Audience, Member
from linli.core.outcomes import Refused, RefusedError
from linli.core.proposals import ProposalStatus
from linli.storage import ballot_boxes
from linli.storage import proposals as proposals_db
from linli.storage.audit import audit
from linli.storage.db import Database, Row, Tx

LATEST = 8  # bookings /fund shows


@dataclass(frozen=True, slots=True)
class Booked:
    txn: Txn
    new: bool  # False: the key was booked before, this is that booking


def _txn(row: Row, entries: tuple[tuple[str, int], ...] = ()) -> Txn:
    return Txn(
        id=row["id"],
        kind=TxnKind(row["kind"]),
        income_kind=row["income_kind"],
        amount=row["amount"],
        purpose=row["purpose"],
        receipt=row["receipt"],
        actor_id=row["actor_id"],
        created_at=from_iso(row["created_at"]),
        reverses=row["reverses"],
        reversed_by=row["reversed_by"],
        entries=entries,
    )


def _expense(row: Row) -> Expense:
    return Expense(
        id=row["id"],
        amount=row["amount"],
        purpose=row["purpose"],
        receipt=row["receipt"],
        status=ExpenseStatus(row["status"]),
        recorded_by=row["recorded_by"],
        decided_by=row["decided_by"],
        txn_id=row["txn_id"],
        project_id=row["project_id"],
        created_at=from_iso(row["created_at"]),
        reason=row["reason"],
    )


async def _entries(db: Database | Tx, txn_id: int) -> tuple[tuple[str, int], ...]:
    rows = await db.fetchall(
        "SELECT account, amount FROM fund_entries WHERE txn_id = ? ORDER BY id", (txn_id,)
    )
    return tuple((r["account"], r["amount"]) for r in rows)


async def get_txn(db: Database | Tx, txn_id: int) -> Txn | None:
    row = await db.fetchone("SELECT * FROM fund_txns WHERE id = ?", (txn_id,))
    return _txn(row, await _entries(db, txn_id)) if row else None


async def _txn_by_key(db: Database | Tx, key: str) -> Txn | None:
    row = await db.fetchone("SELECT * FROM fund_txns WHERE key = ?", (key,))
    return _txn(row, await _entries(db, row["id"])) if row else None


async def balance(db: Database | Tx, account: str = FUND) -> int:
    value = await db.scalar("SELECT balance FROM fund_balances WHERE account = ?", (account,))
    return int(value or 0)


async def reserved(db: Database | Tx) -> int:
    """Money promised but not yet paid: pending expenses and open budget rounds."""
    value = await db.scalar(
        "SELECT (SELECT COALESCE(SUM(amount), 0) FROM fund_expenses WHERE status = 'pending')"
        " + (SELECT COALESCE(SUM(budget), 0) FROM fund_rounds WHERE status = 'open')"
    )
    return int(value or 0)


async def available(db: Database | Tx) -> int:
    return await balance(db) - await reserved(db)


async def _book(
    tx: Tx,
    *,
    kind: TxnKind,
    amount: int,
    entries: Mapping[str, int],
    key: str,
    actor_id: int | None,
    now: datetime,
    tz: ZoneInfo,
    income_kind: str = "",
    purpose: str = "",
    receipt: str | None = None,
    reverses: int | None = None,
    approved_by: int | None = None,
    report_as: TxnKind | None = None,
) -> Txn:
    """Append one booking with its entries; balances and the month's figures move with it.
    Refuses (rolling everything back) if any balance would go below zero."""
    month = month_of(now, tz)
    txn_id = await tx.execute(
        "INSERT INTO fund_txns (kind, income_kind, amount, purpose, receipt, reverses, key,"
        " actor_id, approved_by, month, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (kind.value, income_kind, amount, purpose, receipt, reverses, key, actor_id,
         approved_by, month, to_iso(now)),
    )  # fmt: skip
    reported = (report_as or kind).value
    for account, moved in entries.items():
        if moved == 0:
            continue
        await tx.execute(
            "INSERT INTO fund_entries (txn_id, account, amount) VALUES (?, ?, ?)",
            (txn_id, account, moved),
        )
        await tx.execute(
            "INSERT OR IGNORE INTO fund_balances (account, balance) VALUES (?, 0)", (account,)
        )
        changed = await tx.rowcount(
            "UPDATE fund_balances SET balance = balance + ? WHERE account = ? AND balance + ? >= 0",
            (moved, account, moved),
        )
        if changed != 1:
            raise RefusedError(Refused("not_enough_money", {
                "available": yuan(await balance(tx, account)), "need": yuan(-moved)}))  # fmt: skip
        await tx.execute(
            "INSERT INTO fund_monthly (month, kind, income_kind, account, amount)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (month, kind, income_kind, account)"
            " DO UPDATE SET amount = amount + excluded.amount",
            (month, reported, income_kind, account, moved),
        )
    txn = await get_txn(tx, txn_id)
    assert txn is not None
    return txn


async def record_income(
    db: Database,
    *,
    amount: int,
    income_kind: str,
    rule: Mapping[str, int],
    purpose: str,
    actor_id: int,
    key: str,
    now: datetime,
    tz: ZoneInfo,
) -> Booked:
    """An income split by its rule into one entry per account, in one transaction."""
    async with db.transaction() as tx:
        if (found := await _txn_by_key(tx, key)) is not None:
            return Booked(found, False)
        txn = await _book(tx, kind=TxnKind.INCOME, amount=amount, entries=split(amount, rule),
                          key=key, actor_id=actor_id, now=now, tz=tz, income_kind=income_kind,
                          purpose=purpose)  # fmt: skip
        await audit(tx, actor_id, "fund_income", f"fund:{txn.id}",
                    f"{yuan(amount)} {income_kind} {purpose}"[:200], now)  # fmt: skip
    return Booked(txn, True)


async def get_expense(db: Database | Tx, expense_id: int) -> Expense | None:
    row = await db.fetchone("SELECT * FROM fund_expenses WHERE id = ?", (expense_id,))
    return _expense(row) if row else None


async def record_expense(
    db: Database,
    *,
    amount: int,
    purpose: str,
    receipt: str | None,
    actor_id: int | None,
    key: str,
    now: datetime,
    project_id: int | None = None,
) -> tuple[Expense, bool]:
    """A pending expense reserving its amount; (expense, new). Refused above what is free."""
    async with db.transaction() as tx:
        expense, new = await _pending_expense(tx, amount=amount, purpose=purpose, receipt=receipt,
                                              actor_id=actor_id, key=key, now=now,
                                              project_id=project_id)  # fmt: skip
    return expense, new


async def _pending_expense(
    tx: Tx,
    *,
    amount: int,
    purpose: str,
    receipt: str | None,
    actor_id: int | None,
    key: str,
    now: datetime,
    project_id: int | None = None,
    reserved_elsewhere: int = 0,
) -> tuple[Expense, bool]:
    row = await tx.fetchone("SELECT * FROM fund_expenses WHERE key = ?", (key,))
    if row is not None:
        return _expense(row), False
    refused = check_spend(await available(tx) + reserved_elsewhere, amount)
    if refused is not None:
        raise RefusedError(refused)
    expense_id = await tx.execute(
        "INSERT INTO fund_expenses (amount, purpose, receipt, recorded_by, project_id, key,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (amount, purpose, receipt, actor_id, project_id, key, to_iso(now)),
    )
    await audit(tx, actor_id, "fund_expense", f"expense:{expense_id}",
                f"{yuan(amount)} {purpose}"[:200], now)  # fmt: skip
    expense = await get_expense(tx, expense_id)
    assert expense is not None
    return expense, True


async def approve_expense(
    db: Database, expense_id: int, approver_id: int, now: datetime, tz: ZoneInfo
) -> tuple[Expense, Txn]:
    """A second organizer approves: the expense is booked from the fund (RefusedError if not)."""
    async with db.transaction() as tx:
        expense = await get_expense(tx, expense_id)
        if (refused := check_approval(expense, approver_id)) is not None:
            raise RefusedError(refused)
        assert expense is not None
        txn = await _book(tx, kind=TxnKind.EXPENSE, amount=expense.amount,
                          entries={FUND: -expense.amount}, key=f"expense:{expense_id}",
                          actor_id=expense.recorded_by, approved_by=approver_id, now=now, tz=tz,
                          purpose=expense.purpose, receipt=expense.receipt)  # fmt: skip
        await tx.execute(
            "UPDATE fund_expenses SET status = 'approved', decided_by = ?, decided_at = ?,"
            " txn_id = ? WHERE id = ? AND status = 'pending'",
            (approver_id, to_iso(now), txn.id, expense_id),
        )
        await audit(
            tx, approver_id, "fund_approve", f"expense:{expense_id}", yuan(expense.amount), now
        )
        updated = await get_expense(tx, expense_id)
    assert updated is not None
    return updated, txn


async def reject_expense(
    db: Database, expense_id: int, actor_id: int, reason: str, now: datetime
) -> Expense:
    """An organizer turns a pending expense down (its money is free again)."""
    async with db.transaction() as tx:
        expense = await get_expense(tx, expense_id)
        if expense is None:
            raise RefusedError(Refused("unknown_expense"))
        if expense.status is not ExpenseStatus.PENDING:
            raise RefusedError(Refused("expense_decided", {"id": expense_id,
                                                           "status": expense.status.value}))  # fmt: skip
        await tx.execute(
            "UPDATE fund_expenses SET status = 'rejected', decided_by = ?, decided_at = ?,"
            " reason = ? WHERE id = ?",
            (actor_id, to_iso(now), reason, expense_id),
        )
        await audit(tx, actor_id, "fund_reject", f"expense:{expense_id}", reason[:200], now)
        updated = await get_expense(tx, expense_id)
    assert updated is not None
    return updated


async def correct(
    db: Database,
    txn_id: int,
    reason: str,
    actor_id: int,
    key: str,
    now: datetime,
    tz: ZoneInfo,
) -> Booked:
    """Reverse a booking's entries with a reason; the fund may not go below what it reserves."""
    async with db.transaction() as tx:
        if (found := await _txn_by_key(tx, key)) is not None:
            return Booked(found, False)
        original = await get_txn(tx, txn_id)
        if (refused := check_correction(original)) is not None:
            raise RefusedError(refused)
        assert original is not None
        reverse = {account: -moved for account, moved in original.entries}
        txn = await _book(tx, kind=TxnKind.CORRECTION, amount=original.amount, entries=reverse,
                          key=key, actor_id=actor_id, now=now, tz=tz,
                          income_kind=original.income_kind, purpose=reason,
                          reverses=original.id, report_as=original.kind)  # fmt: skip
        if await available(tx) < 0:
            raise RefusedError(
                Refused("correction_reserved", {"reserved": yuan(await reserved(tx))})
            )
        await tx.execute("UPDATE fund_txns SET reversed_by = ? WHERE id = ?", (txn.id, original.id))
        await audit(tx, actor_id, "fund_correct", f"fund:{original.id}", reason[:200], now)
    return Booked(txn, True)


async def books(db: Database | Tx, latest: int = LATEST) -> Books:
    """The fund's balance, what is reserved, the latest bookings and the pending expenses."""
    rows = await db.fetchall("SELECT * FROM fund_txns ORDER BY id DESC LIMIT ?", (latest,))
    txns = tuple([_txn(r, await _entries(db, r["id"])) for r in rows])
    pending = await db.fetchall(
        "SELECT * FROM fund_expenses WHERE status = 'pending' ORDER BY id LIMIT 20"
    )
    return Books(await balance(db), await reserved(db), txns, tuple(_expense(r) for r in pending))


# --- The monthly report --------------------------------------------------------------------

CHART_MONTHS = 12
REPORT_EXPENSES = 15


async def had_bookings_by(db: Database | Tx, month: str) -> bool:
    """Whether the fund had any booking up to the end of `month` (no report for an empty fund)."""
    return bool(await db.scalar("SELECT 1 FROM fund_txns WHERE month <= ? LIMIT 1", (month,)))


async def month_report(db: Database, month: str) -> MonthReport:
    """A month's figures: income by kind and account, its expenses, the fund at its end and
    the last twelve months' fund in and out. Reads aggregates: flat in the ledger's size."""
    rows = await db.fetchall(
        "SELECT kind, income_kind, account, amount FROM fund_monthly WHERE month = ?"
        " ORDER BY kind, income_kind, account",
        (month,),
    )
    lines = tuple(MonthLine(TxnKind(r["kind"]), r["income_kind"], r["account"], r["amount"])
                  for r in rows if r["amount"])  # fmt: skip
    expenses = await db.fetchall(
        "SELECT * FROM fund_txns WHERE month = ? AND kind = 'expense' ORDER BY id LIMIT ?",
        (month, REPORT_EXPENSES),
    )
    count = await db.scalar(
        "SELECT COUNT(*) FROM fund_txns WHERE month = ? AND kind = 'expense'", (month,)
    )
    months = last_months(month, CHART_MONTHS)
    before = await db.scalar(
        "SELECT COALESCE(SUM(amount), 0) FROM fund_monthly WHERE month < ? AND account = ?",
        (months[0], FUND),
    )
    flows = await db.fetchall(
        "SELECT month, SUM(CASE WHEN amount > 0 THEN amount ELSE 0 END) AS fund_in,"
        " SUM(CASE WHEN amount < 0 THEN -amount ELSE 0 END) AS fund_out"
        " FROM fund_monthly WHERE month >= ? AND month <= ? AND account = ? GROUP BY month",
        (months[0], month, FUND),
    )
    by_month = {r["month"]: (int(r["fund_in"]), int(r["fund_out"])) for r in flows}
    running, history = int(before or 0), []
    for m in months:
        fund_in, fund_out = by_month.get(m, (0, 0))
        running += fund_in - fund_out
        history.append((m, fund_in, fund_out, running))
    return MonthReport(month, lines, tuple(_txn(r) for r in expenses), int(count or 0),
                       running, tuple(history))  # fmt: skip


async def week_figures(db: Database | Tx, start: datetime, end: datetime) -> tuple[int, int, int]:
    """(into the fund, out of it, its balance now) for the weekly digest."""
    row = await db.fetchone(
        "SELECT COALESCE(SUM(CASE WHEN e.amount > 0 THEN e.amount ELSE 0 END), 0),"
        " COALESCE(SUM(CASE WHEN e.amount < 0 THEN -e.amount ELSE 0 END), 0)"
        " FROM fund_txns t JOIN fund_entries e ON e.txn_id = t.id"
        " WHERE t.created_at >= ? AND t.created_at < ? AND e.account = ?",
        (to_iso(start), to_iso(end), FUND),
    )
    assert row is not None
    return int(row[0]), int(row[1]), await balance(db)


# --- Claims of what the scheduler posts -----------------------------------------------------


async def claim_post(db: Database, kind: str, ref: str, chat_id: int, now: datetime) -> bool:
    """Take the right to post `kind` `ref` to `chat_id`; False if it was taken before."""
    async with db.transaction() as tx:
        taken = await tx.rowcount(
            "INSERT OR IGNORE INTO fund_posts (kind, ref, chat_id, created_at) VALUES (?, ?, ?, ?)",
            (kind, ref, chat_id, to_iso(now)),
        )
    return taken == 1


async def finish_post(
    db: Database, kind: str, ref: str, chat_id: int, message_id: int | None
) -> None:
    """Sent (a message id), or failed for good (None): never tried again."""
    await db.write(
        "UPDATE fund_posts SET status = ?, message_id = ? WHERE kind = ? AND ref = ? AND chat_id = ?",
        ("sent" if message_id is not None else "failed", message_id, kind, ref, chat_id),
    )


async def posted_to(db: Database | Tx, kind: str, ref: str) -> set[int]:
    """The chats `kind` `ref` was posted (or claimed) to."""
    rows = await db.fetchall(
        "SELECT chat_id FROM fund_posts WHERE kind = ? AND ref = ?", (kind, ref)
    )
    return {r["chat_id"] for r in rows}


async def release_post(db: Database, kind: str, ref: str, chat_id: int) -> None:
    """A passing failure before Telegram took it: the next tick tries again."""
    await db.write(
        "DELETE FROM fund_posts WHERE kind = ? AND ref = ? AND chat_id = ? AND status = 'sending'",
        (kind, ref, chat_id),
    )


# --- Budget rounds -------------------------------------------------------------------------


def _round(row: Row) -> Round:
    return Round(
        id=row["id"],
        title=row["title"],
        audience=Audience.decode(row["audience"]),
        rules=BallotRules(row["budget"], row["min_pct"], row["min_projects"], row["max_projects"]),
        secret=bool(row["secret"]),
        submit_until=from_iso(row["submit_until"]),
        vote_until=from_iso(row["vote_until"]),
        status=RoundStatus(row["status"]),
        created_by=row["created_by"],
        created_at=from_iso(row["created_at"]),
        closed_at=from_iso(row["closed_at"]) if row["closed_at"] else None,
    )


def _project(row: Row) -> Project:
    return Project(
        id=row["id"],
        round_id=row["round_id"],
        title=row["title"],
        cost=row["cost"],
        submitted_by=row["submitted_by"],
        status=ProjectStatus(row["status"]),
        reason=row["reason"],
        proposal_id=row["proposal_id"],
        votes=row["votes"],
        expense_id=row["expense_id"],
    )


async def get_round(db: Database | Tx, round_id: int) -> Round | None:
    row = await db.fetchone("SELECT * FROM fund_rounds WHERE id = ?", (round_id,))
    return _round(row) if row else None


async def open_rounds(db: Database | Tx) -> list[Round]:
    rows = await db.fetchall("SELECT * FROM fund_rounds WHERE status = 'open' ORDER BY id")
    return [_round(r) for r in rows]


async def open_round(
    db: Database, draft: RoundDraft, actor_id: int, key: str, now: datetime
) -> tuple[Round, bool]:
    """A budget round reserving its budget from the fund (RefusedError if not available)."""
    async with db.transaction() as tx:
        row = await tx.fetchone("SELECT * FROM fund_rounds WHERE key = ?", (key,))
        if row is not None:
            return _round(row), False
        if (refused := check_spend(await available(tx), draft.budget)) is not None:
            raise RefusedError(refused)
        round_id = await tx.execute(
            "INSERT INTO fund_rounds (title, budget, audience, secret, min_pct, min_projects,"
            " max_projects, submit_until, vote_until, created_by, created_at, key)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (draft.title, draft.budget, draft.audience.encode(), int(draft.secret), draft.min_pct,
             draft.min_projects, draft.max_projects, to_iso(draft.submit_until),
             to_iso(draft.vote_until), actor_id, to_iso(now), key),
        )  # fmt: skip
        await audit(tx, actor_id, "fund_round", f"round:{round_id}",
                    f"{yuan(draft.budget)} {draft.title}"[:200], now)  # fmt: skip
        rnd = await get_round(tx, round_id)
    assert rnd is not None
    return rnd, True


async def get_project(db: Database | Tx, project_id: int) -> Project | None:
    row = await db.fetchone("SELECT * FROM fund_projects WHERE id = ?", (project_id,))
    return _project(row) if row else None


async def projects(db: Database | Tx, round_id: int, *statuses: ProjectStatus) -> list[Project]:
    rows = await db.fetchall(
        "SELECT * FROM fund_projects WHERE round_id = ? ORDER BY id", (round_id,)
    )
    found = [_project(r) for r in rows]
    return [p for p in found if not statuses or p.status in statuses]


async def ballot_projects(db: Database | Tx, round_id: int) -> list[Project]:
    """The projects on the ballot, in a fixed order (a ballot's bit mask counts on it)."""
    return await projects(db, round_id, ProjectStatus.ACCEPTED, ProjectStatus.FUNDED,
                          ProjectStatus.SKIPPED, ProjectStatus.DONE)  # fmt: skip


async def proposal_title(db: Database | Tx, proposal_id: int) -> str | Refused:
    """A proposal that reached its co-signatures, as a project's title."""
    proposal = await proposals_db.get_proposal(db, proposal_id)
    if proposal is None:
        return Refused("unknown_proposal", {"id": proposal_id})
    if proposal.status is not ProposalStatus.READY and proposal.cosigns < proposal.threshold:
        return Refused("proposal_not_ready", {"id": proposal_id})
    return proposal.title


async def submit_project(
    db: Database,
    round_id: int,
    member: Member,
    title: str,
    cost: int,
    key: str,
    now: datetime,
    proposal_id: int | None = None,
) -> tuple[Project, bool]:
    async with db.transaction() as tx:
        row = await tx.fetchone("SELECT * FROM fund_projects WHERE key = ?", (key,))
        if row is not None:
            return _project(row), False
        rnd = await get_round(tx, round_id)
        if (refused := check_submission(rnd, now)) is not None:
            raise RefusedError(refused)
        assert rnd is not None
        if cost > rnd.budget:
            raise RefusedError(Refused("cost_over_budget", {"budget": yuan(rnd.budget)}))
        project_id = await tx.execute(
            "INSERT INTO fund_projects (round_id, title, cost, submitted_by, proposal_id, key,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (round_id, title, cost, member.id, proposal_id, key, to_iso(now)),
        )
        project = await get_project(tx, project_id)
    assert project is not None
    return project, True


async def review_project(
    db: Database, project_id: int, accept: bool, reason: str, actor_id: int, now: datetime
) -> Project:
    async with db.transaction() as tx:
        project = await get_project(tx, project_id)
        rnd = await get_round(tx, project.round_id) if project else None
        if (refused := check_review(rnd, project, now)) is not None:
            raise RefusedError(refused)
        status = ProjectStatus.ACCEPTED if accept else ProjectStatus.REJECTED
        await tx.execute(
            "UPDATE fund_projects SET status = ?, reason = ? WHERE id = ?",
            (status.value, reason, project_id),
        )
        await audit(tx, actor_id, f"fund_project_{status.value}", f"project:{project_id}",
                    reason[:200], now)  # fmt: skip
        updated = await get_project(tx, project_id)
    assert updated is not None
    return updated


_BOX = ballot_boxes.Box("fund_ballot_boxes", "round_id")


async def has_voted(db: Database | Tx, round_id: int, member: Member) -> bool:
    return bool(
        await db.scalar(
            "SELECT 1 FROM fund_round_voters WHERE round_id = ? AND voter_key = ?",
            (round_id, ballot_key(member)),
        )
    )


async def cast_ballot(
    db: Database, round_id: int, member: Member, mask: int, community: Community, now: datetime
) -> tuple[Round, list[Project]]:
    """One ballot for the member's household; RefusedError for anything the rules refuse."""
    async with db.transaction() as tx:
        rnd = await get_round(tx, round_id)
        if rnd is None:
            raise RefusedError(Refused("unknown_round"))
        if (refused := may_vote(rnd, member, community, now)) is not None:
            raise RefusedError(refused)
        if await has_voted(tx, round_id, member):
            raise RefusedError(Refused("household_voted"))
        on_ballot = await ballot_projects(tx, round_id)
        picks = picks_of(mask, len(on_ballot))
        if picks is None:
            raise RefusedError(Refused("stale_ballot"))
        chosen = [on_ballot[i] for i in picks]
        if (refused := rnd.rules.check([p.cost for p in chosen])) is not None:
            raise RefusedError(refused)
        ids = [p.id for p in chosen]
        await tx.execute(
            "INSERT INTO fund_round_voters (round_id, voter_key, member_id, household_id, picks)"
            " VALUES (?, ?, ?, ?, ?)",
            (round_id, ballot_key(member), None if rnd.secret else member.id,
             member.household_id, None if rnd.secret else json.dumps(ids)),
        )  # fmt: skip
        await ballot_boxes.drop_in(tx, _BOX, round_id, ids)
    if rnd.secret:
        await db.checkpoint()  # no older box left in the WAL (see the module doc)
    return rnd, chosen


async def counts(db: Database | Tx, round_id: int) -> dict[int, int]:
    return await ballot_boxes.counts_by_id(db, _BOX, round_id)


async def turnout(db: Database | Tx, round_id: int) -> int:
    return int(
        await db.scalar("SELECT COUNT(*) FROM fund_round_voters WHERE round_id = ?", (round_id,))
        or 0
    )


async def rounds_to_close(db: Database | Tx, now: datetime) -> list[Round]:
    rows = await db.fetchall(
        "SELECT * FROM fund_rounds WHERE status = 'open' AND vote_until <= ? ORDER BY id",
        (to_iso(now),),
    )
    return [_round(r) for r in rows]


async def close_round(db: Database, round_id: int, now: datetime) -> Allocation | None:
    """Close a round once its voting ended: count, fund projects in order of votes, each
    funded project a pending expense; the round's reservation ends. None if it was closed
    already (or is not due): a second tick or process closes nothing twice."""
    async with db.transaction() as tx:
        closed = await tx.rowcount(
            "UPDATE fund_rounds SET status = 'closed', closed_at = ? WHERE id = ?"
            " AND status = 'open' AND vote_until <= ?",
            (to_iso(now), round_id, to_iso(now)),
        )
        if closed != 1:
            return None
        rnd = await get_round(tx, round_id)
        assert rnd is not None
        votes = await counts(tx, round_id)
        on_ballot = await ballot_projects(tx, round_id)
        result = allocate(rnd.budget, [(p.id, p.cost, votes.get(p.id, 0)) for p in on_ballot])
        for p in on_ballot:
            await tx.execute(
                "UPDATE fund_projects SET votes = ?, status = ? WHERE id = ?",
                (votes.get(p.id, 0), (ProjectStatus.FUNDED if p.id in result.funded
                                      else ProjectStatus.SKIPPED).value, p.id),
            )  # fmt: skip
        await tx.execute(
            "UPDATE fund_projects SET status = 'rejected', reason = 'not reviewed'"
            " WHERE round_id = ? AND status = 'submitted'",
            (round_id,),
        )
        for project_id in result.funded:
            project = next(p for p in on_ballot if p.id == project_id)
            expense, _ = await _pending_expense(
                tx, amount=project.cost, purpose=project.title, receipt=None, actor_id=None,
                key=f"project:{project_id}", now=now, project_id=project_id,
            )  # fmt: skip
            await tx.execute(
                "UPDATE fund_projects SET expense_id = ? WHERE id = ?", (expense.id, project_id)
            )
        await audit(tx, None, "fund_round_close", f"round:{round_id}",
                    f"funded {len(result.funded)}, left {yuan(result.left)}", now)  # fmt: skip
    return result


async def closed_unannounced(db: Database | Tx) -> list[Round]:
    """Closed rounds (newest first) whose results may still need posting somewhere."""
    rows = await db.fetchall(
        "SELECT * FROM fund_rounds WHERE status = 'closed' ORDER BY id DESC LIMIT 10"
    )
    return [_round(r) for r in rows]


async def mark_done(
    db: Database, project_id: int, photos: list[str], actor_id: int, now: datetime
) -> Project:
    async with db.transaction() as tx:
        project = await get_project(tx, project_id)
        if project is None:
            raise RefusedError(Refused("unknown_project"))
        if project.status is not ProjectStatus.FUNDED:
            raise RefusedError(Refused("not_funded", {"id": project_id}))
        await tx.execute(
            "UPDATE fund_projects SET status = 'done', photos = ? WHERE id = ?",
            (json.dumps(photos), project_id),
        )
        await audit(tx, actor_id, "fund_project_done", f"project:{project_id}", "", now)
        updated = await get_project(tx, project_id)
    assert updated is not None
    return updated


async def project_photos(db: Database | Tx, project_id: int) -> list[str]:
    value = await db.scalar("SELECT photos FROM fund_projects WHERE id = ?", (project_id,))
    return list(json.loads(value)) if value else []


async def done_unannounced(db: Database | Tx) -> list[Project]:
    rows = await db.fetchall(
        "SELECT * FROM fund_projects WHERE status = 'done' ORDER BY id DESC LIMIT 10"
    )
    return [_project(r) for r in rows]


# --- Export ---------------------------------------------------------------------------------

EXPORT_HEADERS = ["entry", "booking", "created_at", "kind", "income_kind", "account",
                  "amount_fen", "amount_yuan", "purpose", "receipt", "reverses", "reversed_by",
                  "recorded_by", "approved_by"]  # fmt: skip


async def export_fund(db: Database, since: datetime) -> tuple[list[str], list[list[Any]]]:
    """One row per ledger entry since `since` (the books are public: no names, member ids)."""
    rows = await db.fetchall(
        "SELECT e.id AS entry, t.id, t.created_at, t.kind, t.income_kind, e.account, e.amount,"
        " t.purpose, t.receipt, t.reverses, t.reversed_by, t.actor_id, t.approved_by"
        " FROM fund_txns t JOIN fund_entries e ON e.txn_id = t.id"
        " WHERE t.created_at >= ? ORDER BY e.id",
        (to_iso(since),),
    )
    return EXPORT_HEADERS, [
        [r["entry"], r["id"], r["created_at"], r["kind"], r["income_kind"], r["account"],
         r["amount"], yuan(r["amount"]).replace(",", ""), r["purpose"],
         "yes" if r["receipt"] else "", r["reverses"], r["reversed_by"], r["actor_id"],
         r["approved_by"]]
        for r in rows
    ]  # fmt: skip
