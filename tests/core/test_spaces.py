"""The space booking rules: grid, hours, notice/window, lengths, quota, overlap, emergencies."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from linli.core.community import NodeKind
from linli.core.members import Audience
from linli.core.outcomes import Refused
from linli.core.spaces import (
    Approval,
    BookingDraft,
    Cell,
    Emergency,
    Facts,
    Hours,
    Rules,
    Slot,
    Space,
    check_no_shows,
    check_overlap,
    check_quota,
    decide_booking,
    lengths_at,
    new_booking_code,
    normalize_code,
    overlaps,
    parse_edit,
    parse_switch,
    rules_from_data,
    rules_to_data,
    week_grid,
)

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # Thursday 10:00 in Shanghai
OPEN = Hours(9 * 60, 21 * 60)
RULES = Rules(hours=(None, OPEN, OPEN, OPEN, OPEN, OPEN, Hours(9 * 60, 17 * 60)),
              min_minutes=60, max_minutes=180, quota_minutes=240)  # fmt: skip
SPACE = Space(1, "activity", "活动室", "Activity room", "3号楼", "hall", 40, RULES,
              Audience(NodeKind.COMMUNITY), Approval.NONE, 0, None, "ABCDEF")  # fmt: skip
NONE = Facts((), (), 0, ())


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SH)


def test_a_free_slot_inside_the_rules_is_bookable() -> None:
    assert decide_booking(SPACE, Slot(local(27, 19), 120), NONE, NOW, SH) is None


def test_each_rule_refuses_with_its_reason() -> None:
    cases = {
        Slot(local(27, 19, 15), 60): "off_grid",
        Slot(local(27, 19), 30): "too_short",
        Slot(local(27, 15), 240): "too_long",
        Slot(local(30, 10), 60): "closed",  # Monday: closed
        Slot(local(27, 20), 120): "closed",  # runs past 21:00
        Slot(local(26, 9), 60): "in_past",
        Slot(local(26, 11), 60): "notice",  # one hour ahead, two needed
        Slot(local(26, 11) + timedelta(days=15), 60): "window",
    }
    for slot, reason in cases.items():
        refused = decide_booking(SPACE, slot, NONE, NOW, SH)
        assert refused is not None and refused.reason == reason, (slot, refused)


def test_staff_skip_notice_window_and_quota_but_not_overlap() -> None:
    facts = Facts(((local(27, 19), local(27, 21)),), (), 10_000, ())
    assert decide_booking(SPACE, Slot(local(26, 11), 60), NONE, NOW, SH, staff=True) is None
    refused = decide_booking(SPACE, Slot(local(27, 20), 60), facts, NOW, SH, staff=True)
    assert refused == Refused("taken")


def test_an_emergency_window_refuses_bookings_inside_it_only() -> None:
    e = Emergency(1, 1, "shelter", "寒潮", local(27, 12), local(27, 18))
    facts = Facts((), (e,), 0, ())
    assert decide_booking(SPACE, Slot(local(27, 17), 60), facts, NOW, SH) == Refused(
        "emergency", {"use": "shelter"}
    )
    assert decide_booking(SPACE, Slot(local(27, 18), 60), facts, NOW, SH) is None


times = st.integers(min_value=0, max_value=48).map(
    lambda q: local(27, 0) + timedelta(minutes=30 * q)
)
lengths = st.integers(min_value=1, max_value=8).map(lambda n: 30 * n)


@given(st.lists(st.tuples(times, lengths), max_size=30), times, lengths)
def test_overlap_rule_agrees_with_a_minute_by_minute_check(
    existing: list[tuple[datetime, int]], start: datetime, minutes: int
) -> None:
    taken = [(s, s + timedelta(minutes=m)) for s, m in existing]
    slot = Slot(start, minutes)
    minutes_taken = {s + timedelta(minutes=i) for s, m in existing for i in range(m)}
    mine = {start + timedelta(minutes=i) for i in range(minutes)}
    assert (check_overlap(slot, taken) is None) == (not (minutes_taken & mine))


@given(st.lists(st.tuples(times, lengths), max_size=40))
def test_accepting_greedily_never_leaves_two_overlapping(
    requests: list[tuple[datetime, int]],
) -> None:
    accepted: list[tuple[datetime, datetime]] = []
    for start, minutes in requests:
        if check_overlap(Slot(start, minutes), accepted) is None:
            accepted.append((start, start + timedelta(minutes=minutes)))
    for i, a in enumerate(accepted):
        for b in accepted[i + 1 :]:
            assert not overlaps(a[0], a[1], b[0], b[1])


@given(st.lists(st.integers(min_value=1, max_value=8), max_size=30), st.integers(0, 20))
def test_a_household_never_goes_over_its_quota(requests: list[int], quota_slots: int) -> None:
    rules = Rules(hours=RULES.hours, quota_minutes=30 * quota_slots)
    used = 0
    for n in requests:
        if check_quota(rules, Slot(NOW, 30 * n), used) is None:
            used += 30 * n
    assert quota_slots == 0 or used <= 30 * quota_slots


def test_no_shows_suspend_until_days_after_the_last() -> None:
    marks = (NOW - timedelta(days=20), NOW - timedelta(days=5), NOW - timedelta(days=1))
    refused = check_no_shows(RULES, marks, NOW)
    assert refused is not None and refused.detail["until"] == NOW + timedelta(days=13)
    assert check_no_shows(RULES, marks[:2], NOW) is None
    assert check_no_shows(RULES, marks, NOW + timedelta(days=14)) is None


def test_lengths_offered_stop_at_the_next_booking() -> None:
    facts = Facts(((local(27, 20), local(27, 21)),), (), 0, ())
    assert lengths_at(SPACE, local(27, 18), facts, NOW, SH) == [60, 90, 120]


def test_week_grid_marks_closed_booked_and_emergency_hours() -> None:
    e = Emergency(1, 1, "shelter", "寒潮", local(28, 9), None)
    grid = week_grid(SPACE, date(2026, 11, 26), [(local(27, 19), local(27, 21))], [e], NOW, SH)
    assert grid.first_hour == 9 and grid.last_hour == 21
    assert grid.cells[0][0] == Cell.PAST  # Thursday 09:00, before now
    assert grid.cells[0][5] == Cell.FREE
    assert grid.cells[1][10] == Cell.BOOKED
    assert grid.cells[2][0] == Cell.EMERGENCY
    assert grid.cells[4][0] == Cell.EMERGENCY  # no end: still on Monday
    assert grid.cells[3][8] == Cell.EMERGENCY  # Saturday after 17:00 too


def test_codes_rules_and_drafts_round_trip() -> None:
    assert normalize_code("b-4k7q") == "B-4K7Q"
    assert normalize_code("abcdef") == "ABCDEF"
    assert normalize_code("B-40I0") is None
    # Codes grow when the 4-character space is crowded; a door code stays 6 without "B-".
    assert normalize_code("b-4k7qz") == "B-4K7QZ" and normalize_code("B-4K7QZ2") == "B-4K7QZ2"
    assert normalize_code("b4k7qz") == "B4K7QZ"  # typed without the dash: a door code
    assert normalize_code("B-4K7Q0") is None
    assert [len(new_booking_code(a)) for a in (0, 9, 10, 20, 29)] == [6, 6, 7, 8, 8]
    assert rules_from_data(rules_to_data(RULES)) == RULES
    draft = BookingDraft(1, local(27, 19), 120, "舞蹈队排练", weeks=3)
    assert BookingDraft.from_data(draft.to_data()) == draft


def test_switch_and_edit_commands_parse() -> None:
    switch = parse_switch(
        ["activity", "临时避难点", "until=2026-11-28T20:00", "寒潮", "避寒"], NOW, SH
    )
    assert not isinstance(switch, Refused)
    assert (switch.use, switch.reason, switch.ends_at) == ("临时避难点", "寒潮 避寒", local(28, 20))
    assert parse_switch(["activity", "off"], NOW, SH).off  # type: ignore[union-attr]
    assert parse_switch(["activity", "shelter"], NOW, SH) == Refused("emergency_reason")
    assert parse_switch(["a", "x", "until=2026-11-20", "r"], NOW, SH) == Refused(
        "emergency_bad_time", {"text": "until"}
    )
    assert parse_edit(["activity", "price", "5"]).value == 5  # type: ignore[union-attr]
    assert isinstance(parse_edit(["activity", "price", "-5"]), Refused)
    edit = parse_edit(["activity", "hours", "mon", "10:00-12:00"])
    assert not isinstance(edit, Refused) and edit.value == (0, Hours(600, 720))


def test_only_the_audience_and_organizers_may_book() -> None:
    from dataclasses import replace

    from linli.core.community import Building, Community, Compound, Role
    from linli.core.members import Member
    from linli.core.spaces import may_book

    community = Community(
        "c",
        (
            Compound("lihu", "丽湖", (Building("lihu/A", "lihu", "A"),)),
            Compound("heyuan", "和苑", (Building("heyuan/1", "heyuan", "1"),)),
        ),
    )
    lihu_only = replace(SPACE, audience=Audience(NodeKind.COMPOUND, "lihu"))
    resident = Member(1, "王", None, None, "heyuan/1", 1, "101")
    assert may_book(lihu_only, resident, community) == Refused("not_for_you")
    assert may_book(lihu_only, replace(resident, building_id="lihu/A"), community) is None
    organizer = replace(resident, roles=frozenset({Role.ORGANIZER}))
    assert may_book(lihu_only, organizer, community) is None
