"""Hazard rules: codes, descriptions, duplicates, the triage state machine, what is due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from linli.core import hazards as h
from linli.core.community import Building, Community, Compound
from linli.core.hazards import Action, NewReport, Report, Status
from linli.core.outcomes import Refused

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
COMMUNITY = Community(
    "test",
    (
        Compound("heyuan", "和苑小区", tuple(Building(f"heyuan/{n}", "heyuan", n) for n in "123")),
        Compound("lihu", "丽湖小区", tuple(Building(f"lihu/{n}", "lihu", n) for n in "AB")),
    ),
)


def report(**kw: object) -> Report:
    base: dict[str, object] = dict(
        id=42,
        category="fire",
        description="d",
        status=Status.NEW,
        anonymous=False,
        reporter_id=7,
        urgent=True,
        created_at=T0,
        updated_at=T0,
    )
    base.update(kw)
    return Report(**base)  # type: ignore[arg-type]


def test_codes_round_trip_and_reject_garbage() -> None:
    assert h.format_code(42) == "H-0042"
    assert h.format_code(12345) == "H-12345"
    assert h.parse_code("H-0042") == 42
    assert h.parse_code(" h42 ") == 42
    for bad in ("", "H-", "42x", "T-0042", "H-0", "H--1", "H-99999999999"):
        assert h.parse_code(bad) is None
    assert h.code_in_note("duplicate of H-0012, see there") == 12
    assert h.code_in_note("not a hazard") is None


@given(st.integers(min_value=1, max_value=10**9 - 1))
def test_any_code_parses_back(n: int) -> None:
    assert h.parse_code(h.format_code(n)) == n


def test_description_limit_is_named_and_exact() -> None:
    assert h.clean_description("  leak  ", 1000) == "leak"
    assert h.clean_description("x" * 1000, 1000) == "x" * 1000
    refused = h.clean_description("x" * 1001, 1000)
    assert refused == Refused("description_too_long", {"limit": 1000, "length": 1001})
    assert h.clean_description("   ", 1000) == Refused("description_empty")
    assert h.clean_description(None, 1000) == Refused("description_empty")


def test_haversine_against_known_distances() -> None:
    assert h.haversine_m(39.0, 117.0, 39.0, 117.0) == 0
    # one degree of latitude is about 111.2 km
    assert abs(h.haversine_m(39.0, 117.0, 40.0, 117.0) - 111_195) < 50
    # ~45 m apart in Tianjin
    assert 40 < h.haversine_m(39.1, 117.2, 39.1004, 117.2) < 50


def test_duplicates_same_category_and_near_or_same_building() -> None:
    near = report(lat=39.1, lon=117.2)
    new = NewReport("fire", "x", False, True, lat=39.1003, lon=117.2)
    assert h.is_possible_duplicate(near, new, 50)
    far = NewReport("fire", "x", False, True, lat=39.101, lon=117.2)  # ~111 m
    assert not h.is_possible_duplicate(near, far, 50)
    other_category = NewReport("gas", "x", False, True, lat=39.1, lon=117.2)
    assert not h.is_possible_duplicate(near, other_category, 50)
    closed = report(lat=39.1, lon=117.2, status=Status.RESOLVED)
    assert not h.is_possible_duplicate(closed, new, 50)
    in_building = report(building_id="heyuan/1")
    assert h.is_possible_duplicate(
        in_building, NewReport("fire", "", False, True, building_id="heyuan/1"), 50
    )
    assert not h.is_possible_duplicate(
        in_building, NewReport("fire", "", False, True, building_id="heyuan/2"), 50
    )
    assert not h.is_possible_duplicate(report(), NewReport("fire", "", False, True), 50)


def test_triage_state_machine() -> None:
    assert h.decide_triage(report(), Action.ACK) is Status.ACKNOWLEDGED
    assert h.decide_triage(report(), Action.RESOLVE) is Status.RESOLVED
    acked = report(status=Status.ACKNOWLEDGED)
    assert isinstance(h.decide_triage(acked, Action.ACK), Refused)
    assert h.decide_triage(acked, Action.WORK) is Status.IN_PROGRESS
    working = report(status=Status.IN_PROGRESS)
    assert h.decide_triage(working, Action.RESOLVE) is Status.RESOLVED
    assert isinstance(h.decide_triage(working, Action.WORK), Refused)
    for closed in (Status.RESOLVED, Status.REJECTED):
        for action in Action:
            outcome = h.decide_triage(report(status=closed), action)
            assert isinstance(outcome, Refused) and outcome.reason == "not_allowed_now"


def test_points_only_when_leaving_new_and_not_rejected_or_anonymous() -> None:
    assert h.earns_points(Status.NEW, Status.ACKNOWLEDGED, anonymous=False)
    assert h.earns_points(Status.NEW, Status.RESOLVED, anonymous=False)
    assert not h.earns_points(Status.NEW, Status.REJECTED, anonymous=False)
    assert not h.earns_points(Status.ACKNOWLEDGED, Status.IN_PROGRESS, anonymous=False)
    assert not h.earns_points(Status.NEW, Status.ACKNOWLEDGED, anonymous=True)


def test_escalation_schedule() -> None:
    r = report()
    assert not h.escalation_due(r, T0 + timedelta(minutes=14), 15, 3)
    assert h.escalation_due(r, T0 + timedelta(minutes=15), 15, 3)
    second = report(escalations=1)
    assert not h.escalation_due(second, T0 + timedelta(minutes=29), 15, 3)
    assert h.escalation_due(second, T0 + timedelta(minutes=30), 15, 3)
    assert not h.escalation_due(report(escalations=3), T0 + timedelta(days=1), 15, 3)
    assert not h.escalation_due(report(urgent=False), T0 + timedelta(days=1), 15, 3)
    assert not h.escalation_due(report(status=Status.ACKNOWLEDGED), T0 + timedelta(days=1), 15, 3)


def test_followup_schedule() -> None:
    resolved = report(status=Status.RESOLVED, resolved_at=T0)
    assert not h.followup_due(resolved, T0 + timedelta(days=2, hours=23), 3)
    assert h.followup_due(resolved, T0 + timedelta(days=3), 3)
    assert not h.followup_due(
        report(status=Status.RESOLVED, resolved_at=T0, followup_sent_at=T0),
        T0 + timedelta(days=9),
        3,
    )
    anon = report(status=Status.RESOLVED, resolved_at=T0, anonymous=True, reporter_id=None)
    assert not h.followup_due(anon, T0 + timedelta(days=9), 3)
    assert not h.followup_due(resolved, T0 + timedelta(days=9), 0)


def test_followup_codes_are_random_and_normalised() -> None:
    codes = {h.new_followup_code() for _ in range(200)}
    assert len(codes) == 200
    code = next(iter(codes))
    assert h.normalize_followup_code(code.lower().replace("-", " ")) == code
    assert h.normalize_followup_code("ABCD") is None
    assert h.normalize_followup_code("0000-0000-0000") is None  # 0 is not in the alphabet
    assert h.followup_hash(code) != h.followup_hash(h.new_followup_code())
    assert code not in h.followup_hash(code)


def test_rate_limit() -> None:
    assert h.may_report(4, 5) is None
    assert h.may_report(5, 5) == Refused("too_many_reports", {"limit": 5})


def test_hourly_quota_counts_both_kinds_per_sender_over_a_sliding_hour() -> None:
    quota = h.ReportQuota()
    assert not quota.knows(9)
    quota.seed(9, [T0 - timedelta(minutes=50)])  # a named report filed before a restart
    assert quota.knows(9)
    assert quota.check(9, T0, 2) is None
    quota.record(9, T0)  # an anonymous one: the same counter
    assert quota.check(9, T0 + timedelta(minutes=5), 2) == Refused("too_many_reports", {"limit": 2})
    assert quota.check(8, T0, 2) is None  # another sender has their own
    assert quota.check(9, T0 + timedelta(minutes=10), 2) is None  # the seeded one is an hour old
    assert quota.check(9, T0 + timedelta(minutes=60), 2) is None and not quota.knows(9)


def test_report_draft_round_trips_and_reads_the_old_short_keys() -> None:
    draft = h.ReportDraft(
        category="fire", urgent=True, description="smoke", photos=["p1"], lat=39.1, lon=117.2,
        address="3号楼下", building_id="heyuan/3", anonymous=False, photo_first=True,
        duplicates=[4, 5],
    )  # fmt: skip
    assert h.ReportDraft.from_data(draft.to_data()) == draft
    old = {
        "photos": ["p1"], "cat": "fire", "urgent": True, "desc": "smoke", "lat": 39.1,
        "lon": 117.2, "addr": "3号楼下", "bld": "heyuan/3", "anon": False, "pf": True,
        "dups": [4, 5],
    }  # fmt: skip
    assert h.ReportDraft.from_data(old) == draft
    assert h.ReportDraft.from_data({}) == h.ReportDraft()  # a draft started before any answer
    assert h.ReportDraft.from_data({"photos": []}).anonymous is None


def test_report_draft_walks_its_steps() -> None:
    draft = h.ReportDraft(photo_first=True)
    assert draft.next_step("category") == "location"
    assert draft.next_step("location") == "confirm"
    draft.duplicates = [3]
    assert draft.next_step("location") == "duplicates"
    assert draft.previous_step("confirm") == "duplicates"
    assert [draft.add_photo(p) for p in "abcd"] == [True, True, True, False]
    assert draft.photos_full and draft.photos == ["a", "b", "c"]
    assert draft.new_report(anonymous=True).category == "other"  # never chosen: "other"


def test_triage_note_draft_reads_the_old_keys() -> None:
    note = h.TriageNote(7, Action.REJECT)
    assert h.TriageNote.from_data(note.to_data()) == note
    assert h.TriageNote.from_data({"rid": 7, "act": "rej"}) == note


def test_typed_building_names() -> None:
    assert h.match_building("heyuan/1", COMMUNITY) == "heyuan/1"
    assert h.match_building("和苑小区1号楼", COMMUNITY) == "heyuan/1"
    assert h.match_building("和苑 2 栋", COMMUNITY) == "heyuan/2"
    assert h.match_building("A", COMMUNITY) == "lihu/A"  # unique across the community
    assert h.match_building("中山路12号", COMMUNITY) is None


def test_back_goes_to_the_previous_step() -> None:
    assert h.previous_step("category", False, False) is None
    assert h.previous_step("anonymous", False, had_duplicates=False) == "location"
    assert h.previous_step("anonymous", False, had_duplicates=True) == "duplicates"
    assert h.previous_step("confirm", True, had_duplicates=False) == "location"
    assert h.previous_step("description", True, False) == "confirm"


def test_next_step_walks_each_flow_and_skips_empty_duplicates() -> None:
    full = ["category"]
    while (step := h.next_step(full[-1], False, had_duplicates=False)) is not None:
        full.append(step)
    assert full == ["category", "description", "photos", "location", "anonymous", "confirm"]
    assert h.next_step("location", False, had_duplicates=True) == "duplicates"
    assert h.next_step("duplicates", False) == "anonymous"
    photo_first = ["category"]
    while (step := h.next_step(photo_first[-1], True, had_duplicates=True)) is not None:
        photo_first.append(step)
    assert photo_first == ["category", "location", "duplicates", "confirm"]
    assert h.next_step("location", True, had_duplicates=False) == "confirm"
    assert h.next_step("description", True) == "confirm"  # added from the confirm screen
    assert h.next_step("photos", True) == "location"
    assert h.next_step("nonsense", False) is None


def test_flow_buttons_fit_only_their_step() -> None:
    assert h.button_fits("cat", "category")
    assert not h.button_fits("cat", "confirm")
    assert h.button_fits("send", "confirm") and not h.button_fits("send", "anonymous")
    assert h.button_fits("back", "photos") and h.button_fits("back", "confirm")


def test_triage_notes_rejections_need_a_reason() -> None:
    assert h.triage_note(Action.ACK, "  ") == ""
    assert h.triage_note(Action.REJECT, "  ") == Refused("reason_needed")
    assert h.triage_note(Action.REJECT, " duplicate of H-12 ") == "duplicate of H-12"
    too_long = "x" * (h.NOTE_MAX_CHARS + 1)
    assert h.triage_note(Action.RESOLVE, too_long) == Refused(
        "note_too_long", {"limit": h.NOTE_MAX_CHARS}
    )
    assert h.duplicate_of(Action.REJECT, "duplicate of H-12") == 12
    assert h.duplicate_of(Action.RESOLVE, "duplicate of H-12") is None


def test_visible_changes_leave_out_filing_and_support() -> None:
    when = datetime(2026, 5, 1, tzinfo=UTC)
    history = [
        h.ReportChange(1, status, None, "", when)
        for status in ("new", "supported", "acknowledged", "reopened", "resolved")
    ]
    assert [e.status for e in h.visible_changes(history)] == [
        "acknowledged",
        "reopened",
        "resolved",
    ]


def test_report_filters_parse_and_round_trip() -> None:
    keys = ("fire", "gas")
    default = h.parse_filter([], keys, COMMUNITY)
    assert isinstance(default, h.ReportFilter)
    assert set(default.statuses) == h.OPEN_STATUSES
    parsed = h.parse_filter(["resolved", "gas", "和苑1号楼"], keys, COMMUNITY)
    assert parsed == h.ReportFilter((Status.RESOLVED,), "gas", "heyuan/1")
    assert isinstance(parsed, h.ReportFilter)
    assert h.ReportFilter.decode(parsed.encode()) == parsed
    assert h.ReportFilter.decode(default.encode()) == default
    assert h.parse_filter(["nonsense"], keys, COMMUNITY) == Refused(
        "bad_filter", {"word": "nonsense"}
    )
    assert h.ReportFilter.decode("bogus|x") is None
    assert h.ReportFilter.decode("weird||") is None
