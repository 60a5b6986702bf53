"""The fund's rules: strict amounts, exact splits, allocation in order of votes, ballots."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linli.core.ballots import picks_of
from linli.core.community import NodeKind
from linli.core.fund import (
    AMOUNT_MAX,
    FUND,
    BallotRules,
    allocate,
    parse_amount,
    parse_round,
    report_due,
    split,
    yuan,
)
from linli.core.outcomes import Refused
from tests.support.polls import COMMUNITY

TZ = ZoneInfo("Asia/Shanghai")
RULE = {"provider": 70, "hub": 25, FUND: 5}


@pytest.mark.parametrize(
    ("text", "fen"),
    [("1200.00", 120000), ("1200", 120000), ("0.05", 5), ("12.3", 1230), ("¥8", 800)],
)
def test_amounts_are_read_to_the_fen(text: str, fen: int) -> None:
    assert parse_amount(text) == fen


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("12.345", "amount_decimals"),
        ("-5", "amount_negative"),
        ("0", "amount_zero"),
        ("0.00", "amount_zero"),
        ("99999999999", "amount_too_big"),
        ("1e3", "bad_amount"),
        ("12,00", "bad_amount"),
        ("", "bad_amount"),
        ("NaN", "bad_amount"),
        ("١٢", "bad_amount"),
    ],
)
def test_bad_amounts_are_refused_with_a_reason(text: str, reason: str) -> None:
    result = parse_amount(text)
    assert isinstance(result, Refused) and result.reason == reason


@given(st.integers(min_value=1, max_value=AMOUNT_MAX))
def test_amounts_read_back_as_written(fen: int) -> None:
    assert parse_amount(yuan(fen).replace(",", "")) == fen


def test_the_example_split_and_its_rounding() -> None:
    assert split(120000, RULE) == {"provider": 84000, "hub": 30000, FUND: 6000}
    # 1.01 yuan: 70.7 -> 70, 25.25 -> 25, the fund gets 5.05 + the 0.95 fen rounded away = 6
    assert split(101, RULE) == {"provider": 70, "hub": 25, FUND: 6}
    assert split(500, {FUND: 100}) == {FUND: 500}


rules = st.lists(st.integers(min_value=0, max_value=100), min_size=1, max_size=5).map(
    lambda parts: {f"a{i}": p for i, p in enumerate(parts)}
)


@given(st.integers(min_value=0, max_value=AMOUNT_MAX), st.data())
def test_a_split_sums_exactly_never_negative_and_the_fund_gets_the_rest(
    amount: int, data: st.DataObject
) -> None:
    cuts = sorted(data.draw(st.lists(st.integers(0, 100), min_size=0, max_size=4)))
    bounds = [0, *cuts, 100]
    rule = {f"a{i}": bounds[i + 1] - bounds[i] for i in range(len(bounds) - 1)}
    if data.draw(st.booleans()):
        rule[FUND] = rule.pop("a0")
    shares = split(amount, rule)
    assert sum(shares.values()) == amount
    assert all(v >= 0 for v in shares.values())
    for account, pct in rule.items():
        if account != FUND:
            assert shares.get(account, 0) == amount * pct // 100
    # Rounding never takes more than a fen from each other account.
    assert shares[FUND] - amount * rule.get(FUND, 0) // 100 < len(rule)
    assert split(amount, rule) == shares  # the same income always splits the same way


def test_a_rule_that_does_not_sum_to_100_is_a_bug() -> None:
    with pytest.raises(ValueError):
        split(100, {"provider": 70, FUND: 20})


projects = st.lists(
    st.tuples(st.integers(1, 10_000), st.integers(0, 50)), min_size=0, max_size=12
).map(lambda ps: [(i + 1, cost, votes) for i, (cost, votes) in enumerate(ps)])


@given(st.integers(0, 50_000), projects)
def test_allocation_funds_in_order_of_votes_while_money_remains(
    budget: int, items: list[tuple[int, int, int]]
) -> None:
    result = allocate(budget, items)
    by_id = {p[0]: p for p in items}
    spent = sum(by_id[i][1] for i in result.funded)
    assert spent + result.left == budget and result.left >= 0
    assert sorted(result.funded + result.skipped) == [p[0] for p in items]
    for skipped in result.skipped:
        _, cost, votes = by_id[skipped]
        # Skipped only when nobody wanted it, or it did not fit in what was left when its turn came.
        ahead = [i for i in result.funded
                 if (-by_id[i][2], by_id[i][1], i) < (-votes, cost, skipped)]  # fmt: skip
        assert votes == 0 or cost > budget - sum(by_id[i][1] for i in ahead)
    # Funded projects come in order of votes.
    funded_votes = [by_id[i][2] for i in result.funded]
    assert funded_votes == sorted(funded_votes, reverse=True)


def test_a_project_that_does_not_fit_is_skipped_and_the_next_is_tried() -> None:
    result = allocate(1000, [(1, 600, 9), (2, 500, 8), (3, 400, 7), (4, 100, 0)])
    assert result.funded == (1, 3) and result.skipped == (2, 4) and result.left == 0


def test_ballot_rules() -> None:
    rules_ = BallotRules(budget=10000, min_pct=50, min_projects=1, max_projects=2)
    assert rules_.check([3000, 4000]) is None
    assert rules_.check([6000, 5000]) == Refused(
        "over_budget", {"total": "110.00", "budget": "100.00"}
    )
    assert isinstance(r := rules_.check([1000]), Refused) and r.reason == "under_minimum"
    assert (
        isinstance(r := rules_.check([2000, 2000, 2000]), Refused)
        and r.reason == "too_many_projects"
    )
    assert isinstance(r := rules_.check([]), Refused) and r.reason == "ballot_empty"


def test_picks_of_a_mask() -> None:
    assert picks_of(0b101, 3) == (0, 2)
    assert picks_of(0b1000, 3) is None
    assert picks_of(-1, 3) is None


def test_a_round_command_is_parsed_strictly() -> None:
    now = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    draft = parse_round(
        ["5000", "submit=2026-12-05", "vote=2026-12-10", "min=50%", "projects=1-3", "secret",
         "for=heyuan", "楼道", "改造"], TZ, now, COMMUNITY,
    )  # fmt: skip
    assert not isinstance(draft, Refused)
    assert (draft.budget, draft.min_pct, draft.min_projects, draft.max_projects) == (
        500000,
        50,
        1,
        3,
    )
    assert draft.secret and draft.title == "楼道 改造"
    assert draft.audience.kind is NodeKind.COMPOUND
    assert draft.submit_until == datetime(2026, 12, 6, tzinfo=TZ)
    bad = parse_round(["5000", "submit=2026-11-01", "vote=2026-12-10", "x"], TZ, now, COMMUNITY)
    assert bad == Refused("round_dates")
    assert parse_round(["50.001"], TZ, now, COMMUNITY) == Refused(
        "amount_decimals", {"value": "50.001"}
    )


def test_the_monthly_report_is_due_from_the_first_of_the_month() -> None:
    at = time(9, 0)
    assert report_due(datetime(2026, 12, 1, 0, 59, tzinfo=UTC), TZ, 1, at) is None
    assert report_due(datetime(2026, 12, 1, 1, 0, tzinfo=UTC), TZ, 1, at) == "2026-11"
    assert report_due(datetime(2027, 1, 20, tzinfo=UTC), TZ, 1, at) == "2026-12"
