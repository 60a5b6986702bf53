"""Event rules with a fixed clock: parsing, sign-up decisions, check-in, reminders, .ics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st
from icalendar import Calendar

from linli.core.community import Building, Community, Compound, NodeKind, Role
from linli.core.events import (
    CAPACITY_MAX,
    TITLE_MAX,
    Confirmed,
    Event,
    EventDraft,
    EventKind,
    EventStatus,
    Signup,
    SignupStatus,
    Waitlisted,
    audience_allowed,
    check_audience,
    clean_line,
    decide_cancel_signup,
    decide_checkin,
    decide_signup,
    detail_buttons,
    normalize_code,
    occurrences,
    parse_count,
    parse_kind,
    parse_span,
    parse_when,
    reminder_due,
    reschedule,
    seats_to_fill,
    signup_state,
    to_ics,
    validate_draft,
    validate_times,
)
from linli.core.members import Audience, Member
from linli.core.outcomes import Refused

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
START = datetime(2026, 12, 5, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai
COMMUNITY = Community(
    "和平社区",
    (
        Compound("heyuan", "和苑", (Building("heyuan/1", "heyuan", "1"),)),
        Compound("lihu", "丽湖", (Building("lihu/A", "lihu", "A"),)),
    ),
)


def event(**changes: object) -> Event:
    values: dict[str, object] = dict(
        id=7,
        kind=EventKind.LECTURE,
        title="防诈骗讲座",
        description="",
        place="活动室",
        starts_at=START,
        ends_at=START + timedelta(hours=2),
        deadline=START,
        capacity=2,
        points=10,
        audience=Audience(NodeKind.COMMUNITY),
        status=EventStatus.OPEN,
        checkin_code="ABC234",
        created_by=1,
        created_at=NOW,
    )
    values.update(changes)
    return Event(**values)  # type: ignore[arg-type]


def member(**changes: object) -> Member:
    values: dict[str, object] = dict(
        id=5,
        name="王阿姨",
        username=None,
        locale=None,
        building_id="heyuan/1",
        household_id=1,
        unit="201",
        joined=True,
    )
    values.update(changes)
    return Member(**values)  # type: ignore[arg-type]


def signup(status: SignupStatus, **changes: object) -> Signup:
    values: dict[str, object] = dict(
        event_id=7, member_id=5, status=status, seq=1, signed_up_at=NOW, confirmed_at=NOW
    )
    values.update(changes)
    return Signup(**values)  # type: ignore[arg-type]


# --- parsing ------------------------------------------------------------------------------


def test_parse_when_full_and_short_forms_in_community_time() -> None:
    assert parse_when("2026-12-05 14:00", TZ, NOW) == START
    assert parse_when("12-05 14:00", TZ, NOW) == START
    assert parse_when("12月5日 14点", TZ, NOW) == START
    assert parse_when("2026/12/5 14:30", TZ, NOW) == START + timedelta(minutes=30)
    assert parse_when("12月5日 14点半", TZ, NOW) == START + timedelta(minutes=30)


def test_parse_when_without_year_means_the_next_one() -> None:
    # 26 Nov 2026: "01-10" is January 2027, "11-26" is today.
    assert parse_when("01-10 09:00", TZ, NOW) == datetime(2027, 1, 10, 1, 0, tzinfo=UTC)
    assert parse_when("11-26 18:00", TZ, NOW) == datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    assert parse_when("02-29 09:00", TZ, NOW) == datetime(2028, 2, 29, 1, 0, tzinfo=UTC)


def test_parse_when_refuses_nonsense_with_an_example() -> None:
    assert parse_when("tomorrow", TZ, NOW) == Refused(
        "bad_datetime", {"example": "2026-12-05 14:00"}
    )
    assert isinstance(parse_when("2026-02-30 10:00", TZ, NOW), Refused)
    assert isinstance(parse_when("12-05 25:00", TZ, NOW), Refused)
    assert isinstance(parse_when("12-05 14:61", TZ, NOW), Refused)
    assert isinstance(parse_when("", TZ, NOW), Refused)


def test_parse_span_same_day_and_across_days() -> None:
    assert parse_span("12-05 14:00-16:00", TZ, NOW) == (START, START + timedelta(hours=2))
    assert parse_span("2026-12-05 14:00 至 2026-12-06 10:00", TZ, NOW) == (
        START,
        START + timedelta(hours=20),
    )
    assert parse_span("12-05 14:00 ~ 16:30", TZ, NOW) == (START, START + timedelta(hours=2.5))
    assert isinstance(parse_span("12-05 14:00", TZ, NOW), Refused)
    assert isinstance(parse_span("12-05 14:00 - soon", TZ, NOW), Refused)


@given(
    st.datetimes(min_value=datetime(2026, 11, 27), max_value=datetime(2031, 12, 31)).map(
        lambda d: d.replace(second=0, microsecond=0)
    )
)
def test_parse_when_round_trips_what_organizers_type(local: datetime) -> None:
    expected = local.replace(tzinfo=TZ).astimezone(UTC)
    assert parse_when(local.strftime("%Y-%m-%d %H:%M"), TZ, NOW) == expected
    assert parse_when(local.strftime("%Y年%m月%d日 %H点%M分"), TZ, NOW) == expected


@given(
    st.datetimes(min_value=datetime(2026, 11, 26), max_value=datetime(2027, 11, 25)).map(
        lambda d: d.replace(second=0, microsecond=0)
    )
)
def test_parse_when_without_year_is_within_the_coming_year(local: datetime) -> None:
    parsed = parse_when(local.strftime("%m-%d %H:%M"), TZ, NOW)
    assert parsed == local.replace(tzinfo=TZ).astimezone(UTC)


@given(st.text(max_size=200))
def test_parse_never_raises_on_any_text(text: str) -> None:
    for result in (parse_when(text, TZ, NOW), parse_span(text, TZ, NOW)):
        assert isinstance(result, Refused | datetime | tuple)


def test_input_limits_are_named() -> None:
    assert parse_count("-1", "capacity", 0, CAPACITY_MAX) == Refused(
        "out_of_range", {"field": "capacity", "min": 0, "max": CAPACITY_MAX}
    )
    assert parse_count(str(10**9), "capacity", 0, CAPACITY_MAX) == Refused(
        "out_of_range", {"field": "capacity", "min": 0, "max": CAPACITY_MAX}
    )
    assert isinstance(parse_count("ten", "capacity", 0, 10), Refused)
    assert parse_count(" 20 ", "capacity", 0, CAPACITY_MAX) == 20
    long_title = clean_line("讲" * 5000, "title", TITLE_MAX)
    assert long_title == Refused("too_long", {"field": "title", "limit": TITLE_MAX, "length": 5000})
    assert clean_line("  防诈骗\n讲座  ", "title", TITLE_MAX) == "防诈骗 讲座"
    assert clean_line("   ", "title", TITLE_MAX) == Refused("empty", {"field": "title"})


def test_times_must_make_sense() -> None:
    end = START + timedelta(hours=2)
    assert validate_times(START, START - timedelta(hours=1), START, NOW) == Refused(
        "end_before_start"
    )
    assert validate_times(START, START, START, NOW) == Refused("end_before_start")
    assert validate_times(NOW - timedelta(hours=1), NOW, NOW, NOW) == Refused("start_in_past")
    assert validate_times(START, end, START + timedelta(minutes=1), NOW) == Refused(
        "deadline_after_start"
    )
    assert validate_times(START, end, NOW - timedelta(minutes=1), NOW) == Refused("deadline_past")
    assert validate_times(START, end, START, NOW) is None


def test_weekly_care_series_and_publishing_ahead() -> None:
    draft = EventDraft(
        kind=EventKind.CARE,
        title="助老理发",
        place="活动室",
        starts_at=START,
        ends_at=START + timedelta(hours=2),
        audience=Audience(NodeKind.COMMUNITY),
        weeks=4,
        deadline=START - timedelta(hours=12),
    )
    assert validate_draft(draft, NOW) is None
    plan = occurrences(draft, NOW)
    assert [o.starts_at for o in plan] == [START + timedelta(weeks=i) for i in range(4)]
    assert [o.deadline for o in plan] == [
        START - timedelta(hours=12) + timedelta(weeks=i) for i in range(4)
    ]
    assert plan[0].publish_at == NOW
    assert plan[3].publish_at == START + timedelta(weeks=3) - timedelta(days=7)
    lecture = EventDraft.from_data({**draft.to_data(), "kind": "lecture"})
    assert validate_draft(lecture, NOW) == Refused(
        "out_of_range", {"field": "weeks", "min": 1, "max": 12}
    )
    assert EventDraft.from_data(draft.to_data()) == draft


# --- sign-up --------------------------------------------------------------------------------


def test_signup_confirms_then_waitlists_with_position() -> None:
    e = event(capacity=2)
    assert decide_signup(e, 0, None, NOW) == Confirmed()
    assert decide_signup(e, 1, None, NOW) == Confirmed()
    assert decide_signup(e, 2, None, NOW, waitlisted_count=0) == Waitlisted(1)
    assert decide_signup(e, 2, None, NOW, waitlisted_count=4) == Waitlisted(5)
    assert decide_signup(event(capacity=0), 10**6, None, NOW) == Confirmed()


def test_signup_refusals() -> None:
    e = event()
    assert decide_signup(event(status=EventStatus.CANCELLED), 0, None, NOW) == Refused(
        "event_cancelled"
    )
    assert decide_signup(e, 0, None, START) == Refused("started")
    late = event(deadline=NOW - timedelta(minutes=1))
    assert decide_signup(late, 0, None, NOW) == Refused(
        "deadline_passed", {"deadline": late.deadline}
    )
    assert decide_signup(e, 0, signup(SignupStatus.CONFIRMED), NOW) == Refused("already_confirmed")
    assert decide_signup(e, 2, signup(SignupStatus.WAITLISTED), NOW) == Refused(
        "already_waitlisted"
    )
    assert decide_signup(e, 0, signup(SignupStatus.CANCELLED), NOW) == Confirmed()


def test_audience_decides_who_may_sign_up() -> None:
    compound = event(audience=Audience(NodeKind.COMPOUND, "lihu"))
    assert check_audience(compound, member(), COMMUNITY) == Refused("not_in_audience")
    assert check_audience(compound, member(building_id="lihu/A"), COMMUNITY) is None
    volunteers = event(audience=Audience(NodeKind.ROLE, "volunteer"))
    assert check_audience(volunteers, member(), COMMUNITY) == Refused("not_in_audience")
    assert check_audience(volunteers, member(roles=frozenset({Role.VOLUNTEER})), COMMUNITY) is None
    assert check_audience(event(), member(joined=False), COMMUNITY) == Refused("not_joined")


def test_cancel_and_promotion() -> None:
    e = event(capacity=3)
    assert decide_cancel_signup(e, None, NOW) == Refused("not_signed_up")
    assert decide_cancel_signup(e, signup(SignupStatus.CANCELLED), NOW) == Refused("not_signed_up")
    assert decide_cancel_signup(e, signup(SignupStatus.CONFIRMED), START) == Refused("started")
    assert decide_cancel_signup(e, signup(SignupStatus.WAITLISTED), NOW) is None
    assert seats_to_fill(e, 2, NOW) == 1
    assert seats_to_fill(e, 3, NOW) == 0
    assert seats_to_fill(e, 2, START) == 0
    assert seats_to_fill(event(capacity=0), 2, NOW) == 0


def test_reschedule_keeps_deadline_lead() -> None:
    e = event(deadline=START - timedelta(days=1))
    later = START + timedelta(days=2)
    assert reschedule(e, later, later + timedelta(hours=1), NOW) == (
        later,
        later + timedelta(hours=1),
        later - timedelta(days=1),
    )
    assert reschedule(e, later, later - timedelta(hours=1), NOW) == Refused("end_before_start")


# --- check-in ---------------------------------------------------------------------------------


def test_checkin_window_and_status() -> None:
    e = event()
    half = timedelta(minutes=30)
    confirmed = signup(SignupStatus.CONFIRMED)
    opens = START - half
    assert decide_checkin(e, confirmed, opens - timedelta(seconds=1), half) == Refused(
        "checkin_not_open", {"opens": opens}
    )
    assert decide_checkin(e, confirmed, opens, half) is None
    assert decide_checkin(e, confirmed, e.ends_at, half) is None
    assert decide_checkin(e, confirmed, e.ends_at + timedelta(seconds=1), half) == Refused(
        "checkin_closed"
    )
    assert decide_checkin(e, None, START, half) == Refused("not_signed_up")
    assert decide_checkin(e, signup(SignupStatus.WAITLISTED), START, half) == Refused(
        "checkin_waitlisted"
    )
    done = signup(SignupStatus.CONFIRMED, checked_in_at=START)
    assert decide_checkin(e, done, START, half) == Refused("already_checked_in")


def test_codes_as_typed() -> None:
    assert normalize_code(" abc-234 ") == "ABC234"
    assert normalize_code("abc 234") == "ABC234"
    assert normalize_code("ABC23") is None
    assert normalize_code("ABC10O") is None  # 0, 1 and O are never in a code
    assert normalize_code("<b>") is None


# --- reminders ---------------------------------------------------------------------------------

OFFSETS = [timedelta(hours=24), timedelta(hours=1)]


def test_reminders_due_once_each() -> None:
    signed = START - timedelta(days=3)
    assert reminder_due(START, signed, OFFSETS, [], START - timedelta(hours=25)) == (None, [])
    assert reminder_due(START, signed, OFFSETS, [], START - timedelta(hours=24)) == (1440, [1440])
    assert reminder_due(START, signed, OFFSETS, [1440], START - timedelta(hours=2)) == (None, [])
    assert reminder_due(START, signed, OFFSETS, [1440], START - timedelta(minutes=59)) == (60, [60])
    assert reminder_due(START, signed, OFFSETS, [1440, 60], START - timedelta(minutes=5)) == (
        None,
        [],
    )


def test_missed_reminders_late_only_before_start() -> None:
    signed = START - timedelta(days=3)
    # Down across the 24 h moment: sent late.
    assert reminder_due(START, signed, OFFSETS, [], START - timedelta(hours=5)) == (1440, [1440])
    # Down across both: only the nearer one, both marked.
    assert reminder_due(START, signed, OFFSETS, [], START - timedelta(minutes=10)) == (
        60,
        [60, 1440],
    )
    # Down until after the start: nothing.
    assert reminder_due(START, signed, OFFSETS, [], START + timedelta(minutes=1)) == (None, [])


def test_no_reminder_for_a_moment_before_signing_up() -> None:
    signed = START - timedelta(hours=3)
    assert reminder_due(START, signed, OFFSETS, [], START - timedelta(hours=2)) == (None, [])
    assert reminder_due(START, signed, OFFSETS, [], START - timedelta(minutes=30)) == (60, [60])


# --- calendar -------------------------------------------------------------------------------------


def test_ics_is_rfc5545_in_community_time() -> None:
    e = event(title="防诈骗 <b>讲座</b>", description="带上身份证\n准时到", version=2)
    data = to_ics(e, TZ, calendar_name="和平社区")
    text = data.decode()
    assert text.startswith("BEGIN:VCALENDAR\r\n")
    assert "\r\nVERSION:2.0\r\n" in text and "PRODID:" in text
    assert "DTSTART;TZID=Asia/Shanghai:20261205T140000" in text
    assert "DTEND;TZID=Asia/Shanghai:20261205T160000" in text
    assert "BEGIN:VTIMEZONE" in text and "TZID:Asia/Shanghai" in text
    parsed = Calendar.from_ical(data)
    (vevent,) = parsed.walk("VEVENT")
    assert str(vevent["SUMMARY"]) == "防诈骗 <b>讲座</b>"
    assert str(vevent["UID"]) == "event-7@linli"
    assert int(vevent["SEQUENCE"]) == 2
    assert vevent.decoded("DTSTART") == START.astimezone(TZ)
    cancelled = to_ics(event(status=EventStatus.CANCELLED), TZ, calendar_name="x").decode()
    assert "STATUS:CANCELLED" in cancelled


# --- what the bot offers ------------------------------------------------------------------


def test_signup_state_and_detail_buttons() -> None:
    assert signup_state(None) == "none"
    assert signup_state(signup(SignupStatus.WAITLISTED)) == "waitlisted"
    assert signup_state(signup(SignupStatus.CONFIRMED, checked_in_at=NOW)) == "checked_in"
    open_event, cancelled = event(), event(status=EventStatus.CANCELLED)
    assert detail_buttons(open_event, "none", False) == [["signup"], ["calendar"]]
    assert detail_buttons(open_event, "cancelled", False) == [["signup"], ["calendar"]]
    assert detail_buttons(open_event, "waitlisted", False) == [["cancel_signup"], ["calendar"]]
    assert detail_buttons(open_event, "checked_in", False) == [["calendar"]]
    assert detail_buttons(open_event, "confirmed", True) == [
        ["cancel_signup"],
        ["calendar"],
        ["attendees", "checkin_qr"],
        ["edit_time", "edit_place", "cancel_event"],
    ]
    assert detail_buttons(cancelled, "confirmed", True) == [
        ["calendar"],
        ["attendees", "checkin_qr"],
    ]


def test_audiences_a_button_may_set() -> None:
    assert audience_allowed(Audience(NodeKind.COMMUNITY), COMMUNITY)
    assert not audience_allowed(Audience(NodeKind.COMMUNITY, "heyuan"), COMMUNITY)
    assert audience_allowed(Audience(NodeKind.COMPOUND, "lihu"), COMMUNITY)
    assert not audience_allowed(Audience(NodeKind.COMPOUND, "nowhere"), COMMUNITY)
    assert audience_allowed(Audience(NodeKind.BUILDING, "heyuan/1"), COMMUNITY)
    assert not audience_allowed(Audience(NodeKind.BUILDING, "heyuan/9"), COMMUNITY)
    assert audience_allowed(Audience(NodeKind.ROLE, Role.VOLUNTEER.value), COMMUNITY)
    assert not audience_allowed(Audience(NodeKind.ROLE, Role.ORGANIZER.value), COMMUNITY)
    assert parse_kind("care") is EventKind.CARE
    assert parse_kind("party") is None
