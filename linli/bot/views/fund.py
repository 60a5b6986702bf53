"""The fund's buttons, keyboards, names and cards (shared by its handlers and jobs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from linli.bot.buttons import button, pack
from linli.bot.common import deep_link, keyboard, label
from linli.bot.context import LinliContext, Services
from linli.core.fund import FUND, Expense, ExpenseStatus, Project, Round, Txn, yuan

PROJECT_LABEL_CHARS = 24


@button("fd", "ap")
@dataclass(frozen=True, slots=True)
class Approve:
    """A second organizer approves a pending expense."""

    expense_id: int


@button("fd", "rc")
@dataclass(frozen=True, slots=True)
class Receipt:
    """Show a booking's receipt photo."""

    txn_id: int


@button("fd", "pa")
@dataclass(frozen=True, slots=True)
class AcceptProject:
    """An organizer puts a submitted project on the ballot."""

    project_id: int


@button("fd", "bo")
@dataclass(frozen=True, slots=True)
class OpenBallot:
    """Open my household's ballot for a round (in the private chat)."""

    round_id: int


@button("fd", "bt")
@dataclass(frozen=True, slots=True)
class Toggle:
    """Pick or unpick a project on a ballot; the picks so far travel in `mask`."""

    round_id: int
    mask: int
    index: int


@button("fd", "bs")
@dataclass(frozen=True, slots=True)
class Cast:
    """Cast the ballot with these picks."""

    round_id: int
    mask: int


def names(services: Services, locale: str) -> dict[str, dict[str, str]]:
    """What templates call accounts and income kinds in `locale` (keys shown for unnamed kinds)."""
    zh = locale.startswith("zh")
    fund = services.config.fund
    accounts = {key: n.zh if zh else n.en for key, n in fund.accounts.items()}
    accounts[FUND] = services.renderer.label(locale, "fund.account_fund")
    kinds = {key: key for key in fund.splits}
    kinds.update({key: n.zh if zh else n.en for key, n in fund.kinds.items()})
    return {"accounts": accounts, "kinds": kinds}


def books_markup(
    context: LinliContext, locale: str, txns: tuple[Txn, ...], rounds: list[Round], voting: set[int]
) -> InlineKeyboardMarkup | None:
    """A receipt button per booking that has one; a ballot button per round being voted on."""
    rows = [[(label(context, locale, "fund.receipt", id=t.id), pack(Receipt(t.id)))]
            for t in txns if t.receipt]  # fmt: skip
    rows += [[(label(context, locale, "fund.vote", id=r.id), pack(OpenBallot(r.id)))]
             for r in rounds if r.id in voting]  # fmt: skip
    return keyboard(rows) if rows else None


def expense_markup(
    context: LinliContext, locale: str, expense: Expense
) -> InlineKeyboardMarkup | None:
    if expense.status is not ExpenseStatus.PENDING:
        return None
    return keyboard([[(label(context, locale, "fund.approve"), pack(Approve(expense.id)))]])


def project_markup(context: LinliContext, locale: str, project: Project) -> InlineKeyboardMarkup:
    return keyboard([[(label(context, locale, "fund.accept"), pack(AcceptProject(project.id)))]])


def ballot_markup(
    context: LinliContext, locale: str, rnd: Round, on_ballot: list[Project], mask: int
) -> InlineKeyboardMarkup:
    rows = []
    for i, p in enumerate(on_ballot):
        key = "fund.picked" if mask >> i & 1 else "fund.unpicked"
        title = (
            p.title
            if len(p.title) <= PROJECT_LABEL_CHARS
            else p.title[: PROJECT_LABEL_CHARS - 1] + "…"
        )
        rows.append([(label(context, locale, key, title=title, cost=yuan(p.cost)),
                      pack(Toggle(rnd.id, mask, i)))])  # fmt: skip
    rows.append([(label(context, locale, "fund.cast"), pack(Cast(rnd.id, mask)))])
    return keyboard(rows)


def ballot_values(rnd: Round, on_ballot: list[Project], mask: int) -> dict[str, Any]:
    picked = [p for i, p in enumerate(on_ballot) if mask >> i & 1]
    total = sum(p.cost for p in picked)
    return {"round": rnd, "projects": on_ballot, "picked": picked, "total": total,
            "left": rnd.budget - total, "over": total > rnd.budget}  # fmt: skip


def private_link(context: LinliContext, locale: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    label(context, locale, "fund.open_private"), url=deep_link(context)
                )
            ]
        ]
    )
