"""The community fund (社区基金): money in integer fen, income split by rule, the ledger's
rules, and participatory budgeting (居民点单).

- Money is an int of fen (分). `parse_amount("1200.00")` is strict: digits, at most two
  decimals, more than zero, at most `AMOUNT_MAX`. No float ever touches an amount.
- A split gives each account `amount * percent // 100` (rounded down) and the fund the
  rest: so every split sums exactly to its income, and the fen lost to rounding stay in the
  community (at most one fen per other account).
- The fund never goes below zero: an expense (or a correction, or a budget round) may take
  only what is *available*: the balance less what pending expenses and open rounds reserve.
- Budget allocation (Decidim's rule): projects in order of votes (ties: the cheaper, then
  the earlier), each funded while the money left covers it; one that does not fit is
  skipped and the next is tried. Projects nobody voted for are not funded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from linli.core.community import Community, NodeKind
from linli.core.members import Audience, Member
from linli.core.outcomes import Refused

FUND = "fund"  # the fund's own account; every split's remainder goes here
AMOUNT_MAX = 1_000_000_000  # ¥10,000,000.00 in fen: more is a typo
PURPOSE_MAX_CHARS = 200
TITLE_MAX_CHARS = 80
MAX_PROJECTS = 20  # on one ballot (a ballot's picks travel as a bit mask in its buttons)
_AMOUNT = re.compile(r"^([0-9]+)(?:\.([0-9]+))?$")


# --- Money ------------------------------------------------------------------------------


def parse_amount(text: str) -> int | Refused:
    """Yuan as typed ("1200", "1200.5", "1200.00") to fen; Refused for anything else."""
    raw = text.strip().removeprefix("¥").removesuffix("元")
    if raw.startswith("-"):
        return Refused("amount_negative", {"value": text[:20]})
    match = _AMOUNT.match(raw)
    if match is None:
        return Refused("bad_amount", {"value": text[:20]})
    whole, decimals = match.group(1), match.group(2) or ""
    if len(decimals) > 2:
        return Refused("amount_decimals", {"value": text[:20]})
    if len(whole) > 12:
        return Refused("amount_too_big", {"max": yuan(AMOUNT_MAX)})
    fen = int(whole) * 100 + int(decimals.ljust(2, "0"))
    if fen == 0:
        return Refused("amount_zero")
    if fen > AMOUNT_MAX:
        return Refused("amount_too_big", {"max": yuan(AMOUNT_MAX)})
    return fen


def yuan(fen: int) -> str:
    """Fen as people write yuan: 120000 -> "1,200.00", -5 -> "-0.05"."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}"


# --- Splits -------------------------------------------------------------------------------


def split(amount: int, rule: Mapping[str, int]) -> dict[str, int]:
    """Each account's share of `amount` fen under `rule` (account -> percent, summing to 100):
    rounded down, the remainder to the fund. Accounts in the rule's order, the fund last;
    the shares sum exactly to `amount`, and none is negative for a non-negative amount."""
    if sum(rule.values()) != 100 or any(p < 0 for p in rule.values()):
        raise ValueError(f"a split rule's percentages must be >= 0 and sum to 100: {rule}")
    shares = {account: amount * pct // 100 for account, pct in rule.items() if account != FUND}
    shares[FUND] = amount - sum(shares.values())
    return {account: share for account, share in shares.items() if share or account == FUND}


# --- The ledger ---------------------------------------------------------------------------


class TxnKind(StrEnum):
    INCOME = "income"
    EXPENSE = "expense"
    CORRECTION = "correction"


class ExpenseStatus(StrEnum):
    PENDING = "pending"  # recorded, waiting for a second organizer; its money is reserved
    APPROVED = "approved"  # booked: the fund paid it
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Txn:
    """One booking: an income split into entries, an expense, or the reversal of one."""

    id: int
    kind: TxnKind
    income_kind: str  # "" for expenses
    amount: int  # fen, positive; a correction's sign is in its entries
    purpose: str
    receipt: str | None  # Telegram file_id of the receipt photo
    actor_id: int | None
    created_at: datetime
    reverses: int | None = None  # the txn a correction reverses
    reversed_by: int | None = None
    entries: tuple[tuple[str, int], ...] = ()  # (account, fen), signed


@dataclass(frozen=True, slots=True)
class Expense:
    id: int
    amount: int
    purpose: str
    receipt: str | None
    status: ExpenseStatus
    recorded_by: int | None  # None: made by the scheduler (a funded project)
    decided_by: int | None
    txn_id: int | None
    project_id: int | None
    created_at: datetime
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Books:
    """What /fund shows: the fund's balance, what is reserved, and what is left to spend."""

    balance: int
    reserved: int
    latest: tuple[Txn, ...] = ()
    pending: tuple[Expense, ...] = ()

    @property
    def available(self) -> int:
        return self.balance - self.reserved


def clean_text(text: str, limit: int = PURPOSE_MAX_CHARS) -> str | Refused:
    cleaned = " ".join(text.split())
    if not cleaned:
        return Refused("purpose_missing")
    if len(cleaned) > limit:
        return Refused("too_long", {"max": limit})
    return cleaned


def check_spend(available: int, amount: int) -> Refused | None:
    """The fund may not promise more than it has free."""
    if amount > available:
        return Refused("not_enough_money", {"available": yuan(max(available, 0)),
                                            "need": yuan(amount)})  # fmt: skip
    return None


def check_approval(expense: Expense | None, approver_id: int) -> Refused | None:
    """A pending expense, approved by an organizer other than the one who recorded it."""
    if expense is None:
        return Refused("unknown_expense")
    if expense.status is not ExpenseStatus.PENDING:
        return Refused("expense_decided", {"id": expense.id, "status": expense.status.value})
    if expense.recorded_by == approver_id:
        return Refused("own_expense", {"id": expense.id})
    return None


def check_correction(txn: Txn | None) -> Refused | None:
    if txn is None:
        return Refused("unknown_entry")
    if txn.kind is TxnKind.CORRECTION:
        return Refused("correct_a_correction", {"id": txn.id})
    if txn.reversed_by is not None:
        return Refused("already_corrected", {"id": txn.id, "by": txn.reversed_by})
    return None


# --- Months and the monthly report ---------------------------------------------------------


def month_of(when: datetime, tz: ZoneInfo) -> str:
    return f"{when.astimezone(tz):%Y-%m}"


def month_start(month: str, tz: ZoneInfo) -> datetime:
    year, mon = (int(part) for part in month.split("-"))
    return datetime(year, mon, 1, tzinfo=tz)


def next_month(month: str) -> str:
    year, mon = (int(part) for part in month.split("-"))
    return f"{year + mon // 12}-{mon % 12 + 1:02d}"


def previous_month(month: str) -> str:
    year, mon = (int(part) for part in month.split("-"))
    return f"{year - 1}-12" if mon == 1 else f"{year}-{mon - 1:02d}"


def report_due(now: datetime, tz: ZoneInfo, day: int, at: time) -> str | None:
    """The month whose report is due at `now`: last month, from `day` of this month at `at`."""
    local = now.astimezone(tz)
    due = datetime.combine(date(local.year, local.month, day), at, tzinfo=tz)
    return previous_month(f"{local:%Y-%m}") if local >= due else None


def last_months(month: str, count: int) -> list[str]:
    out = [month]
    while len(out) < count:
        out.insert(0, previous_month(out[0]))
    return out


@dataclass(frozen=True, slots=True)
class MonthLine:
    """One aggregate line of a month: income of a kind into an account, or expenses."""

    kind: TxnKind  # INCOME or EXPENSE (corrections are netted into what they reverse)
    income_kind: str
    account: str
    amount: int


@dataclass(frozen=True, slots=True)
class MonthReport:
    month: str
    lines: tuple[MonthLine, ...]
    expenses: tuple[Txn, ...]  # this month's expenses (and their corrections), newest last
    expense_count: int
    balance: int  # the fund at the month's end
    history: tuple[tuple[str, int, int, int], ...]  # (month, fund in, fund out, balance)

    def income_by_kind(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for line in self.lines:
            if line.kind is TxnKind.INCOME:
                out[line.income_kind] = out.get(line.income_kind, 0) + line.amount
        return out

    def split_by_account(self) -> dict[str, int]:
        """Income per account: the largest share first, the fund last."""
        out: dict[str, int] = {}
        for line in self.lines:
            if line.kind is TxnKind.INCOME:
                out[line.account] = out.get(line.account, 0) + line.amount
        return dict(sorted(out.items(), key=lambda item: (item[0] == FUND, -item[1], item[0])))

    @property
    def income(self) -> int:
        return sum(self.income_by_kind().values())

    @property
    def fund_in(self) -> int:
        return self.split_by_account().get(FUND, 0)

    @property
    def spent(self) -> int:
        return -sum(line.amount for line in self.lines if line.kind is TxnKind.EXPENSE)


# --- Participatory budgeting ------------------------------------------------------------


class RoundStatus(StrEnum):
    OPEN = "open"  # submitting, then voting, by the clock
    CLOSED = "closed"


class Phase(StrEnum):
    SUBMITTING = "submitting"
    VOTING = "voting"
    CLOSED = "closed"


class ProjectStatus(StrEnum):
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    FUNDED = "funded"
    SKIPPED = "skipped"  # on the ballot, not funded
    DONE = "done"


@dataclass(frozen=True, slots=True)
class BallotRules:
    budget: int
    min_pct: int = 0  # the picks must cost at least this share of the budget
    min_projects: int = 1
    max_projects: int = 0  # 0: no limit

    def check(self, costs: Sequence[int]) -> Refused | None:
        """Whether a ballot with picks of these costs may be cast."""
        total = sum(costs)
        if not costs:
            return Refused("ballot_empty")
        if total > self.budget:
            return Refused("over_budget", {"total": yuan(total), "budget": yuan(self.budget)})
        if total * 100 < self.min_pct * self.budget:
            return Refused("under_minimum", {"total": yuan(total), "pct": self.min_pct,
                                             "minimum": yuan(-(-self.min_pct * self.budget // 100))})  # fmt: skip
        if len(costs) < self.min_projects:
            return Refused("too_few_projects", {"min": self.min_projects})
        if self.max_projects and len(costs) > self.max_projects:
            return Refused("too_many_projects", {"max": self.max_projects})
        return None


@dataclass(frozen=True, slots=True)
class Round:
    id: int
    title: str
    audience: Audience
    rules: BallotRules
    secret: bool
    submit_until: datetime
    vote_until: datetime
    status: RoundStatus
    created_by: int
    created_at: datetime
    closed_at: datetime | None = None

    @property
    def budget(self) -> int:
        return self.rules.budget

    def phase(self, now: datetime) -> Phase:
        if self.status is RoundStatus.CLOSED:
            return Phase.CLOSED
        return Phase.SUBMITTING if now < self.submit_until else Phase.VOTING


@dataclass(frozen=True, slots=True)
class Project:
    id: int
    round_id: int
    title: str
    cost: int
    submitted_by: int
    status: ProjectStatus
    reason: str = ""
    proposal_id: int | None = None
    votes: int = 0
    expense_id: int | None = None


@dataclass(frozen=True, slots=True)
class Allocation:
    funded: tuple[int, ...]
    skipped: tuple[int, ...]
    left: int


def allocate(budget: int, projects: Sequence[tuple[int, int, int]]) -> Allocation:
    """Fund (id, cost, votes) projects in order of votes while the money lasts."""
    order = sorted(projects, key=lambda p: (-p[2], p[1], p[0]))
    left, funded, skipped = budget, [], []
    for project_id, cost, votes in order:
        if votes > 0 and cost <= left:
            funded.append(project_id)
            left -= cost
        else:
            skipped.append(project_id)
    return Allocation(tuple(funded), tuple(skipped), left)


def ballot_key(member: Member) -> str:
    """One ballot per household: the household's key (the polls' rule, `voter_key`)."""
    return f"h:{member.household_id}"


def may_vote(rnd: Round, member: Member, community: Community, now: datetime) -> Refused | None:
    """Verified residents of the round's audience, during voting, one ballot per household."""
    if rnd.phase(now) is not Phase.VOTING:
        return Refused("not_voting", {"round": rnd.id})
    if not (member.verified and member.household_id is not None):
        return Refused("not_verified")
    if not rnd.audience.includes(member, community):
        return Refused("not_in_audience")
    return None


@dataclass(frozen=True, slots=True)
class RoundDraft:
    title: str
    budget: int
    audience: Audience
    submit_until: datetime
    vote_until: datetime
    secret: bool = False
    min_pct: int = 0
    min_projects: int = 1
    max_projects: int = 0


def _day_end(text: str, tz: ZoneInfo) -> datetime | None:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)


@dataclass(frozen=True, slots=True)
class ProjectArgs:
    """`/fund propose <round> <cost> <title | #proposal>`, read."""

    round_id: int
    cost: int
    title: str  # "" when the project is a proposal's (its title is looked up)
    proposal_id: int | None


def parse_project(args: Sequence[str]) -> ProjectArgs | Refused:
    """A project as a resident submits it: a round, a cost in yuan, a title or `#<proposal>`."""
    if len(args) < 3 or not args[0].isdigit():
        return Refused("propose_usage")
    cost = parse_amount(args[1])
    if isinstance(cost, Refused):
        return cost
    if args[2].startswith("#") and args[2][1:].isdigit():
        return ProjectArgs(int(args[0]), cost, "", int(args[2][1:]))
    title = clean_text(" ".join(args[2:]), TITLE_MAX_CHARS)
    if isinstance(title, Refused):
        return title
    return ProjectArgs(int(args[0]), cost, title, None)


def parse_round(
    args: Sequence[str], tz: ZoneInfo, now: datetime, community: Community
) -> RoundDraft | Refused:
    """`<amount> submit=YYYY-MM-DD vote=YYYY-MM-DD [min=50%] [projects=1-3] [for=<compound
    or compound/building>] [secret] <title...>`: submissions until the end of the `submit`
    day, voting until the end of the `vote` day (community time)."""
    if not args:
        return Refused("round_usage")
    budget = parse_amount(args[0])
    if isinstance(budget, Refused):
        return budget
    options: dict[str, str] = {}
    words: list[str] = []
    secret = False
    for arg in args[1:]:
        key, eq, value = arg.partition("=")
        if eq and key in {"submit", "vote", "min", "projects", "for"}:
            options[key] = value
        elif arg == "secret":
            secret = True
        else:
            words.append(arg)
    title = clean_text(" ".join(words), TITLE_MAX_CHARS)
    if isinstance(title, Refused):
        return Refused("round_usage")
    submit = _day_end(options.get("submit", ""), tz)
    vote = _day_end(options.get("vote", ""), tz)
    if submit is None or vote is None:
        return Refused("round_usage")
    if submit <= now or vote <= submit:
        return Refused("round_dates")
    pct_text = options.get("min", "0").removesuffix("%")
    if not pct_text.isdigit() or int(pct_text) > 100:
        return Refused("round_usage")
    low, _, high = options.get("projects", "1-0").partition("-")
    if not low.isdigit() or not (high or "0").isdigit():
        return Refused("round_usage")
    min_projects, max_projects = int(low), int(high or low)
    if min_projects < 1 or (max_projects and max_projects < min_projects):
        return Refused("round_usage")
    audience = _audience(options.get("for", ""), community)
    if audience is None:
        return Refused("unknown_place", {"value": options.get("for", "")[:30]})
    return RoundDraft(title, budget, audience, submit, vote, secret, int(pct_text),
                      min_projects, max_projects)  # fmt: skip


def _audience(target: str, community: Community) -> Audience | None:
    if not target:
        return Audience(NodeKind.COMMUNITY)
    if community.building(target) is not None:
        return Audience(NodeKind.BUILDING, target)
    if community.compound(target) is not None:
        return Audience(NodeKind.COMPOUND, target)
    return None


def check_submission(rnd: Round | None, now: datetime) -> Refused | None:
    if rnd is None:
        return Refused("unknown_round")
    if rnd.phase(now) is not Phase.SUBMITTING:
        return Refused("submissions_closed", {"round": rnd.id})
    return None


def check_review(rnd: Round | None, project: Project | None, now: datetime) -> Refused | None:
    """Organizers accept or reject a submitted project until voting starts."""
    if project is None or rnd is None:
        return Refused("unknown_project")
    if rnd.phase(now) is not Phase.SUBMITTING:
        return Refused("review_closed", {"round": rnd.id})
    if project.status is not ProjectStatus.SUBMITTED:
        return Refused("project_reviewed", {"id": project.id, "status": project.status.value})
    return None
