"""Which week a digest covers and when it is due, in Asia/Shanghai, with a fixed clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from linli.core.digest import (
    Digest,
    EventLine,
    HazardLine,
    PollLine,
    due_week,
    number_width,
    order_hazards,
    parse_time,
    week_before,
    weekday_number,
)

TZ = ZoneInfo("Asia/Shanghai")
NINE = time(9, 0)
MONDAY = weekday_number("mon")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_monday_nine_local_is_due_for_last_monday_to_sunday() -> None:
    week = due_week(utc(2026, 11, 30, 1, 0), TZ, MONDAY, NINE, 48)  # Mon 09:00 in Shanghai
    assert week is not None
    assert week.label == "2026-W48"
    assert (week.first_day, week.last_day) == (date(2026, 11, 23), date(2026, 11, 29))
    # Local midnights, stored in UTC: eight hours earlier.
    assert week.start == utc(2026, 11, 22, 16, 0) and week.end == utc(2026, 11, 29, 16, 0)


def test_before_the_time_on_monday_the_previous_digest_is_too_late() -> None:
    # 08:59 local on Monday (00:59 UTC): this week's is not due, last week's is 167 h late.
    assert due_week(utc(2026, 11, 30, 0, 59), TZ, MONDAY, NINE, 48) is None
    # Sunday 23:30 UTC is already Monday 07:30 in Shanghai: still not due.
    assert due_week(utc(2026, 11, 29, 23, 30), TZ, MONDAY, NINE, 48) is None


def test_a_late_digest_is_due_within_the_catch_up_hours_only() -> None:
    late = due_week(utc(2026, 12, 2, 0, 59), TZ, MONDAY, NINE, 48)  # 47 h 59 min late
    assert late is not None and late.label == "2026-W48"
    assert due_week(utc(2026, 12, 2, 1, 1), TZ, MONDAY, NINE, 48) is None  # 48 h 1 min
    assert due_week(utc(2026, 12, 2, 1, 1), TZ, MONDAY, NINE, 72) is not None


def test_another_weekday_covers_the_seven_days_before_it() -> None:
    friday = weekday_number("fri")
    week = due_week(utc(2026, 11, 27, 10, 0), TZ, friday, parse_time("18:00"), 48)
    assert week is not None
    assert (week.first_day, week.last_day) == (date(2026, 11, 20), date(2026, 11, 26))
    assert week.label == "2026-W47"  # the ISO week of its first day


def test_the_year_turns_inside_a_week() -> None:
    week = week_before(date(2027, 1, 4), TZ)
    assert week.label == "2026-W53" and week.first_day == date(2026, 12, 28)
    assert week_before(date(2026, 1, 5), TZ).label == "2026-W01"


@given(st.dates(date(2000, 1, 3), date(2099, 12, 1)))
def test_weeks_follow_each_other_without_gap_or_overlap(day: date) -> None:
    this, following = week_before(day, TZ), week_before(day + timedelta(days=7), TZ)
    assert this.end == following.start
    assert this.end - this.start == timedelta(days=7)
    assert this.label != following.label


def test_totals_attendance_and_polls() -> None:
    week = week_before(date(2026, 11, 30), TZ)
    when = utc(2026, 11, 25, 2, 0)
    digest = Digest(
        week,
        hazards=(HazardLine("fire", 2, 1, 0, 3), HazardLine("water", 1, 0, 1, 0)),
        events=(EventLine(1, "a", "lecture", when, 10, 7), EventLine(2, "b", "drill", when, 5, 5)),
        polls=(PollLine(1, "x", True, 3, 4), PollLine(2, "y", False, 0, 4)),
    )
    assert digest.hazard_totals == HazardLine("", 3, 1, 1, 3)
    assert (digest.signed_up, digest.checked_in, digest.attendance_pct) == (15, 12, 80)
    assert (digest.polls_passed, digest.polls_failed) == (1, 1)
    assert not digest.quiet


def test_a_week_with_only_old_open_reports_is_quiet() -> None:
    digest = Digest(week_before(date(2026, 11, 30), TZ), hazards=(HazardLine("fire", 0, 0, 0, 4),))
    assert digest.quiet and digest.attendance_pct is None


def test_categories_in_config_order_quiet_ones_out_unknown_ones_last() -> None:
    lines = [
        HazardLine("water", new=1),
        HazardLine("retired", still_open=2),  # no longer in the config: still shown
        HazardLine("gas"),
        HazardLine("fire", resolved=1),
    ]
    ordered = order_hazards(lines, ["fire", "gas", "water"])
    assert [h.category for h in ordered] == ["fire", "water", "retired"]


def test_number_width() -> None:
    assert number_width(3, 120, 7) == 3 and number_width() == 1
