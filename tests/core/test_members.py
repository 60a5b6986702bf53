"""Membership rules: locales, unit numbers, deep links, who may verify, audiences."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from linli.core.community import Binding, Building, Community, Compound, NodeKind, Role
from linli.core.members import (
    UNIT_MAX_CHARS,
    Audience,
    BindMenu,
    JoinDraft,
    JoinStep,
    Member,
    StartIntent,
    Verification,
    can_triage_building,
    can_verify,
    choose_bind_kind,
    choose_bind_target,
    clean_unit,
    parse_binding,
    parse_role,
    parse_start_payload,
    resolve_locale,
)
from linli.core.outcomes import Refused

COMMUNITY = Community(
    "C",
    (
        Compound("hy", "和苑", (Building("hy/1", "hy", "1"), Building("hy/2", "hy", "2"))),
        Compound("lh", "丽湖", (Building("lh/A", "lh", "A"),)),
    ),
)


def member(building: str | None = "hy/1", *roles: Role, verified: bool = False) -> Member:
    return Member(
        1, "n", None, None, building, 1 if building else None, "1", frozenset(roles), verified
    )


def test_locale_prefers_choice_then_telegram_then_default() -> None:
    assert resolve_locale("en", "zh-hans", "zh-CN") == "en"
    assert resolve_locale(None, "zh-hant", "en") == "zh-CN"
    assert resolve_locale(None, "en-GB", "zh-CN") == "en"
    assert resolve_locale(None, "fr", "zh-CN") == "zh-CN"
    assert resolve_locale("xx", None, "en") == "en"


def test_unit_numbers() -> None:
    assert clean_unit("  3-201 ") == "3-201"
    assert clean_unit("2单元 501") == "2单元 501"
    assert clean_unit("") == Refused("unit_empty")
    assert clean_unit("x" * 500) == Refused("unit_too_long", {"limit": UNIT_MAX_CHARS})
    assert clean_unit("<b>1</b>") == Refused("unit_bad_chars")


@given(st.text())
def test_clean_unit_never_accepts_more_than_the_limit(text: str) -> None:
    result = clean_unit(text)
    if isinstance(result, str):
        assert 0 < len(result) <= UNIT_MAX_CHARS and "<" not in result


def test_start_payloads() -> None:
    assert parse_start_payload(None).kind == "plain"
    assert parse_start_payload("rider").kind == "rider"
    assert parse_start_payload("ref_ab12").arg == "ab12"
    assert parse_start_payload("checkin_X7K2").kind == "checkin"
    assert parse_start_payload("ref_").kind == "unknown"
    assert parse_start_payload("<script>").kind == "unknown"


def test_who_may_verify() -> None:
    leader = member("hy/1", Role.BUILDING_LEADER)
    other_leader = member("hy/2", Role.BUILDING_LEADER)
    organizer = member(None, Role.ORGANIZER)
    newcomer = member("hy/1")
    assert can_verify(leader, newcomer, Verification.LEADER)
    assert not can_verify(leader, newcomer, Verification.ORGANIZER)
    assert not can_verify(other_leader, newcomer, Verification.LEADER)
    assert can_verify(organizer, newcomer, Verification.ORGANIZER)
    assert not can_verify(member("hy/1", Role.VOLUNTEER), newcomer, Verification.LEADER)
    assert can_triage_building(leader, "hy/1") and not can_triage_building(leader, "hy/2")


def test_roles_and_bindings_parse() -> None:
    assert parse_role("Volunteer") is Role.VOLUNTEER
    assert parse_role("resident") is None and parse_role("king") is None
    assert parse_binding(["building", "hy/2"], COMMUNITY, -5) == Binding(
        -5, NodeKind.BUILDING, "hy/2"
    )
    assert parse_binding(["building", "hy/9"], COMMUNITY, -5) == Refused(
        "unknown_building", {"value": "hy/9"}
    )
    assert parse_binding([], COMMUNITY, -5) == Refused("bind_usage")
    assert parse_binding(["role", "organizer"], COMMUNITY, -5) == Binding(
        -5, NodeKind.ROLE, "organizer"
    )


def test_audience_membership_and_groups() -> None:
    resident = member("hy/2")
    assert Audience(NodeKind.COMPOUND, "hy").includes(resident, COMMUNITY)
    assert not Audience(NodeKind.BUILDING, "hy/1").includes(resident, COMMUNITY)
    assert not Audience(NodeKind.ROLE, "volunteer").includes(resident, COMMUNITY)
    assert Audience(NodeKind.ROLE, "volunteer").includes(member("hy/2", Role.VOLUNTEER), COMMUNITY)
    assert Audience.decode(Audience(NodeKind.BUILDING, "hy/1").encode()) == Audience(
        NodeKind.BUILDING, "hy/1"
    )


def test_joining_walks_its_steps_and_refuses_what_does_not_fit() -> None:
    join = JoinDraft.start(StartIntent("referral", "ab12"), referrer=7)
    assert (join.step, join.referrer, join.rider) == (JoinStep.LANGUAGE, 7, False)
    at_compound = join.after_language()
    assert at_compound is not None and at_compound.step is JoinStep.COMPOUND
    assert at_compound.choose_compound(2, COMMUNITY) is None  # only two compounds
    at_building = at_compound.choose_compound(0, COMMUNITY)
    assert at_building is not None and at_building.step is JoinStep.BUILDING
    assert at_building.choose_building(1, 0, COMMUNITY) is None  # another compound's button
    at_unit = at_building.choose_building(0, 1, COMMUNITY)
    assert at_unit is not None and (at_unit.step, at_unit.building) == (JoinStep.UNIT, "hy/2")
    assert at_unit.back().step is JoinStep.COMPOUND
    assert at_unit.with_unit("3-201").step is JoinStep.PRIVACY
    rider = JoinDraft.start(StartIntent("rider"), None).after_language()
    assert rider is not None and rider.step is JoinStep.PRIVACY and rider.without_home
    assert JoinDraft(language_only=True).after_language() is None


def test_a_join_draft_reads_back_what_it_wrote_and_drafts_kept_before_it_was_typed() -> None:
    draft = JoinDraft(JoinStep.UNIT, referrer=3, compound=0, building="hy/1")
    assert JoinDraft.from_data(draft.step.value, draft.to_data()) == draft
    # A draft saved by the untyped flow (only the keys it had set) still reads.
    old = JoinDraft.from_data("building", {"rider": False, "referrer": None, "compound": 1})
    assert old == JoinDraft(JoinStep.BUILDING, compound=1)
    assert JoinDraft.from_data("category", {}) is None


def test_the_bind_menu_resolves_kinds_and_targets() -> None:
    assert choose_bind_kind("community", -5) == Binding(-5, NodeKind.COMMUNITY, "")
    assert choose_bind_kind("building", -5) == BindMenu(NodeKind.BUILDING)
    assert choose_bind_kind("back", -5) == BindMenu()
    assert choose_bind_kind("king", -5) is None
    assert choose_bind_target("building", 1, 0, COMMUNITY, -5) == Binding(
        -5, NodeKind.BUILDING, "lh/A"
    )
    assert choose_bind_target("building", 1, 1, COMMUNITY, -5) is None
    assert choose_bind_target("compound", 0, 0, COMMUNITY, -5) == Binding(
        -5, NodeKind.COMPOUND, "hy"
    )
