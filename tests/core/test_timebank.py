"""Time bank rules: hours as typed, who confirms, the floor, points per hour."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from linli.core.outcomes import Refused
from linli.core.timebank import (
    LogStatus,
    ServiceLog,
    can_decide,
    can_withdraw,
    clean_what,
    format_hours,
    parse_hours,
    volunteer_points,
    within_floor,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", 60),
        ("1.5", 90),
        ("0,5", 30),
        ("2h", 120),
        ("1.5小时", 90),
        ("0.25", 15),
        ("0", Refused("hours_not_positive")),
        ("0.001", Refused("hours_not_number", {"raw": "0.001"})),
        ("-1", Refused("hours_not_number", {"raw": "-1"})),
        ("abc", Refused("hours_not_number", {"raw": "abc"})),
        ("9", Refused("hours_too_many", {"max": "8"})),
        ("1e3", Refused("hours_not_number", {"raw": "1e3"})),
    ],
)
def test_parse_hours(raw: str, expected: int | Refused) -> None:
    assert parse_hours(raw, 8.0) == expected


def test_format_hours() -> None:
    assert [format_hours(m) for m in (90, 60, 20, -30, 0, 600)] == [
        "1.5", "1", "0.33", "-0.5", "0", "10",
    ]  # fmt: skip


def log(status: LogStatus = LogStatus.PENDING) -> ServiceLog:
    return ServiceLog(7, giver_id=1, receiver_id=2, minutes=60, what="x", from_pool=False,
                      status=status, created_at=datetime(2026, 1, 1, tzinfo=UTC))  # fmt: skip


def test_who_decides() -> None:
    assert can_decide(log(), 2, False) is None  # the receiver
    assert can_decide(log(), 3, True) is None  # an organizer
    assert can_decide(log(), 3, False) == Refused("not_receiver")
    assert can_decide(log(), 1, True) == Refused("own_log")  # never the giver, even an organizer
    assert can_decide(None, 2, False) == Refused("unknown_log")
    assert can_decide(log(LogStatus.CONFIRMED), 2, False) == Refused(
        "log_closed", {"status": "confirmed", "code": "T-0007"}
    )
    assert can_withdraw(log(), 1) is None
    assert can_withdraw(log(), 2) == Refused("not_giver")


def test_floor_and_points() -> None:
    assert within_floor(0, 600, 600)
    assert not within_floor(0, 601, 600)
    assert not within_floor(-30, 1, 0)
    assert volunteer_points(90, 10) == 15
    assert volunteer_points(20, 10) == 3
    assert clean_what("  walked  the dog ") == "walked the dog"
    assert clean_what("") == Refused("what_required")
