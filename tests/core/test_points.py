"""Earn rules, caps, amounts typed by organizers and ranking periods."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linli.bot.config import PointsSection, parse_config
from linli.core.outcomes import Refused
from linli.core.points import (
    EarnRules,
    Period,
    clean_reason,
    decide_earn,
    parse_amount,
    period_range,
    places,
    previous_week,
    week_start_at,
)

SH = ZoneInfo("Asia/Shanghai")


def rules(**caps: int) -> EarnRules:
    return EarnRules(
        amounts={"verified_report": 10, "attendance": 5, "referral": 20},
        daily_caps={"verified_report": 25, **caps},
        tz=SH,
        award_max=100,
    )


def test_earn_uses_the_configured_amount_and_stops_at_the_daily_cap() -> None:
    r = rules()
    assert decide_earn(r, "verified_report", None, 0) == 10
    assert decide_earn(r, "verified_report", None, 20) == 5  # only what is left under the cap
    assert decide_earn(r, "verified_report", None, 25) == 0
    assert decide_earn(r, "verified_report", None, 40) == 0
    assert decide_earn(r, "attendance", None, 1000) == 5  # no cap configured
    assert decide_earn(r, "attendance", 12, 0) == 12  # an explicit amount


def test_earn_refuses_unknown_rules_and_negative_amounts() -> None:
    with pytest.raises(ValueError):
        decide_earn(rules(), "redeem", None, 0)
    with pytest.raises(ValueError):
        decide_earn(rules(), "attendance", -1, 0)


@given(st.integers(0, 10_000), st.integers(0, 200))
def test_earn_never_exceeds_the_cap(earned_today: int, requested: int) -> None:
    credited = decide_earn(rules(), "verified_report", requested, earned_today)
    assert 0 <= credited <= requested
    assert earned_today + credited <= max(25, earned_today)


def test_days_are_counted_in_the_community_time_zone() -> None:
    r = rules()
    # 23:30 UTC on the 25th is 07:30 on the 26th in Shanghai.
    assert r.day_of(datetime(2026, 11, 25, 23, 30, tzinfo=UTC)) == "2026-11-26"
    assert r.day_of(datetime(2026, 11, 25, 15, 59, tzinfo=UTC)) == "2026-11-25"


def test_config_gives_earn_rules_with_defaults_and_overrides() -> None:
    config = parse_config(
        {
            "points": {
                "earn": {"attendance": 8},
                "daily_caps": {"attendance": 16},
                "award_max": 50,
            },
            "community": {"compounds": [{"id": "a", "name": "A", "buildings": ["1"]}]},
        }
    )
    r = config.points.earn_rules(config.tz)
    assert r.amount_for("attendance") == 8
    assert r.cap_for("attendance") == 16
    assert r.amount_for("verified_report") == PointsSection().earn.verified_report
    assert r.cap_for("award") is None  # 0 = no cap
    assert r.award_max == 50
    assert r.tz == ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("5", 5),
        (" +20 ", 20),
        ("100", 100),
        ("0", Refused("amount_not_positive")),
        ("-5", Refused("amount_not_number", {"raw": "-5"})),
        ("abc", Refused("amount_not_number", {"raw": "abc"})),
        ("101", Refused("amount_too_big", {"max": 100})),
        ("9" * 40, Refused("amount_too_big", {"max": 100})),
        ("１０", Refused("amount_not_number", {"raw": "１０"})),  # full-width digits are refused
        ("", Refused("amount_not_number", {"raw": ""})),
    ],
)
def test_parse_amount(raw: str, expected: int | Refused) -> None:
    assert parse_amount(raw, 100) == expected


def test_clean_reason() -> None:
    assert clean_reason("  helped   clean  ") == "helped clean"
    assert clean_reason("   ") == Refused("reason_required")
    assert isinstance(clean_reason("x" * 201), Refused)


def test_period_ranges_in_local_days() -> None:
    # Sunday 2026-11-29 20:00 UTC is Monday 2026-11-30 04:00 in Shanghai.
    now = datetime(2026, 11, 29, 20, 0, tzinfo=UTC)
    week = period_range(Period.WEEK, now, SH)
    assert (week.start, week.end, week.label) == ("2026-11-30", "2026-12-07", "2026-W49")
    month = period_range(Period.MONTH, now, SH)
    assert (month.start, month.end, month.label) == ("2026-11-01", "2026-12-01", "2026-11")
    dec = period_range(Period.MONTH, datetime(2026, 12, 15, tzinfo=UTC), SH)
    assert (dec.start, dec.end) == ("2026-12-01", "2027-01-01")
    assert period_range(Period.ALL, now, SH).start is None
    last = previous_week(now, SH)
    assert (last.start, last.end, last.label) == ("2026-11-23", "2026-11-30", "2026-W48")


def test_weekly_due_time() -> None:
    # Wednesday 2026-11-25 10:00 local: the last Monday 09:00 was the 23rd.
    now = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    assert week_start_at(now, SH, 0, time(9, 0)) == datetime(2026, 11, 23, 9, 0, tzinfo=SH)
    # Monday 08:59 local: still the previous Monday.
    early = datetime(2026, 11, 30, 0, 59, tzinfo=UTC)
    assert week_start_at(early, SH, 0, time(9, 0)) == datetime(2026, 11, 23, 9, 0, tzinfo=SH)
    on_time = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    assert week_start_at(on_time, SH, 0, time(9, 0)) == datetime(2026, 11, 30, 9, 0, tzinfo=SH)


def test_places_share_ties() -> None:
    assert places([50, 40, 40, 10]) == [1, 2, 2, 4]
    assert places([]) == []
