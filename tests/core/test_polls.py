"""Poll rules: drafting, eligibility, ballots, the household rule, tallies and instant runoff."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from linli.core.community import Building, Community, Compound, NodeKind, Role
from linli.core.members import Audience, Member
from linli.core.outcomes import Refused
from linli.core.polls import (
    ExistingVote,
    Poll,
    PollDraft,
    PollKind,
    PollSettings,
    PollSetup,
    PollStatus,
    QuorumBasis,
    Recorded,
    check_choice,
    check_closing,
    check_draft,
    count_eligible,
    decide_vote,
    encode_order,
    instant_runoff,
    mask_picks,
    next_setup_step,
    parse_options,
    parse_order,
    parse_outcome,
    picks_mask,
    poll_audiences,
    proposal_passes,
    ranked_next,
    reminder_due,
    split_question,
    tally,
)

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
COMMUNITY = Community(
    "和平社区",
    (
        Compound(
            "heyuan",
            "和苑",
            (Building("heyuan/1", "heyuan", "1"), Building("heyuan/2", "heyuan", "2")),
        ),
        Compound("lihu", "丽湖", (Building("lihu/A", "lihu", "A"),)),
    ),
)


def member(
    mid: int,
    building: str | None = "heyuan/1",
    household: int | None = None,
    *,
    verified: bool = True,
    roles: frozenset[Role] = frozenset(),
) -> Member:
    return Member(
        id=mid,
        name=f"m{mid}",
        username=None,
        locale=None,
        building_id=building,
        household_id=household if household is not None else (mid if building else None),
        unit="101" if building else None,
        roles=roles,
        verified=verified,
        joined=True,
    )


def poll(kind: PollKind = PollKind.SINGLE, options: int = 3, **settings_: object) -> Poll:
    settings_.setdefault("audience", Audience(NodeKind.COMMUNITY))
    return Poll(
        id=1,
        kind=kind,
        title="Q",
        body="",
        options=() if kind is PollKind.PROPOSAL else tuple(f"o{i}" for i in range(options)),
        max_picks=2,
        settings=PollSettings(**settings_),  # type: ignore[arg-type]
        closes_at=NOW + timedelta(days=3),
        created_by=1,
        created_at=NOW - timedelta(days=4),
    )


# --- drafting -----------------------------------------------------------------------------


def test_options_one_per_line_between_two_and_the_limit() -> None:
    assert parse_options("红色\n- 蓝色\n\n • 绿色 ", 10) == ("红色", "蓝色", "绿色")
    assert parse_options("only one", 10) == Refused("too_few_options", {"min": 2, "count": 1})
    thirty = "\n".join(f"option {i}" for i in range(30))
    assert parse_options(thirty, 10) == Refused("too_many_options", {"max": 10, "count": 30})
    assert parse_options("A\na", 10) == Refused("duplicate_options")
    assert isinstance(parse_options("x\n" + "y" * 81, 10), Refused)


def test_question_first_line_is_the_title() -> None:
    assert split_question("  停车位怎么分？\n按户抽签还是先到先得 ") == (
        "停车位怎么分？",
        "按户抽签还是先到先得",
    )
    assert split_question("   \n") == Refused("title_empty")


def test_closing_time_must_be_ahead() -> None:
    assert check_closing(NOW - timedelta(hours=1), NOW) == Refused(
        "closing_in_past", {"when": NOW - timedelta(hours=1)}
    )
    assert check_closing(NOW + timedelta(minutes=5), NOW) == Refused(
        "closing_too_soon", {"minutes": 10}
    )
    assert check_closing(NOW + timedelta(days=91), NOW) == Refused("closing_too_late", {"days": 90})
    assert check_closing(NOW + timedelta(days=7), NOW) is None


def test_draft_with_one_or_thirty_options_is_refused() -> None:
    base = dict(
        kind=PollKind.SINGLE,
        title="Q",
        body="",
        max_picks=1,
        closes_at=NOW + timedelta(days=1),
        settings=PollSettings(Audience(NodeKind.COMMUNITY)),
    )
    one = PollDraft(options=("a",), **base)  # type: ignore[arg-type]
    thirty = PollDraft(options=tuple(str(i) for i in range(30)), **base)  # type: ignore[arg-type]
    ok = PollDraft(options=("a", "b"), **base)  # type: ignore[arg-type]
    assert check_draft(one, NOW, 10) == Refused("too_few_options", {"min": 2, "count": 1})
    assert check_draft(thirty, NOW, 10) == Refused("too_many_options", {"max": 10, "count": 30})
    assert check_draft(ok, NOW, 10) is None


# --- voting -------------------------------------------------------------------------------


def test_forged_option_indexes_are_refused() -> None:
    p = poll(PollKind.SINGLE, 3)
    assert check_choice(p, (3,)) == Refused("bad_choice")
    assert check_choice(p, (-1,)) == Refused("bad_choice")
    assert check_choice(p, (0, 1)) == Refused("bad_choice")
    assert check_choice(p, ()) == Refused("bad_choice")
    assert check_choice(poll(PollKind.MULTIPLE, 4), (3, 0)) == (0, 3)
    assert check_choice(poll(PollKind.MULTIPLE, 4), (0, 1, 2)) == Refused(
        "too_many_picks", {"max": 2}
    )
    assert check_choice(poll(PollKind.RANKED, 4), (2, 0)) == (2, 0)
    assert check_choice(poll(PollKind.RANKED, 4), (2, 2)) == Refused("bad_choice")
    assert check_choice(poll(PollKind.PROPOSAL), (2,)) == (2,)


def test_eligibility_checked_at_vote_time() -> None:
    p = poll(audience=Audience(NodeKind.COMPOUND, "heyuan"), verified_only=True)
    assert decide_vote(p, member(1), (0,), None, COMMUNITY, NOW) == Recorded((0,), changed=False)
    assert decide_vote(p, member(2, verified=False), (0,), None, COMMUNITY, NOW) == Refused(
        "not_verified"
    )
    assert decide_vote(p, member(3, "lihu/A"), (0,), None, COMMUNITY, NOW) == Refused(
        "not_in_audience"
    )
    rider = member(4, None, roles=frozenset({Role.MOBILE_REPORTER}), verified=False)
    open_poll = poll(verified_only=False)
    assert decide_vote(open_poll, rider, (1,), None, COMMUNITY, NOW) == Recorded(
        (1,), changed=False
    )
    assert decide_vote(poll(verified_only=True), rider, (1,), None, COMMUNITY, NOW) == Refused(
        "not_verified"
    )
    assert decide_vote(p, member(1), (0,), None, COMMUNITY, p.closes_at) == Refused(
        "poll_closed", {"poll": 1}
    )


def test_changing_a_vote_and_secret_ballots() -> None:
    p = poll()
    mine = ExistingVote(1, "m1", (0,))
    assert decide_vote(p, member(1), (2,), mine, COMMUNITY, NOW) == Recorded((2,), changed=True)
    assert decide_vote(p, member(1), (0,), mine, COMMUNITY, NOW) == Recorded(
        (0,), False, unchanged=True
    )
    secret = poll(secret=True)
    assert decide_vote(
        secret, member(1), (2,), ExistingVote(1, None, None), COMMUNITY, NOW
    ) == Refused("already_voted_secret")


def test_household_rule_names_who_voted_unless_secret() -> None:
    p = poll(per_household=True)
    wife, husband = member(1, household=7), member(2, household=7)
    theirs = ExistingVote(1, "王芳", (0,))
    assert decide_vote(p, husband, (1,), theirs, COMMUNITY, NOW) == Refused(
        "household_voted", {"name": "王芳"}
    )
    assert decide_vote(p, wife, (1,), theirs, COMMUNITY, NOW) == Recorded((1,), changed=True)
    secret = poll(per_household=True, secret=True)
    assert decide_vote(
        secret, husband, (1,), ExistingVote(None, None, None), COMMUNITY, NOW
    ) == Refused("household_voted_secret")


def test_eligible_count_in_voters_or_households() -> None:
    people = [
        member(1, household=1),
        member(2, household=1),
        member(3, household=2),
        member(4, household=3, verified=False),
        member(5, "lihu/A", household=9),
    ]
    heyuan = PollSettings(Audience(NodeKind.COMPOUND, "heyuan"))
    assert count_eligible(heyuan, people, COMMUNITY) == 3
    by_household = PollSettings(
        Audience(NodeKind.COMPOUND, "heyuan"), quorum_basis=QuorumBasis.HOUSEHOLDS
    )
    assert count_eligible(by_household, people, COMMUNITY) == 2


# --- counting -----------------------------------------------------------------------------


def test_proposal_pass_excludes_abstentions() -> None:
    p = poll(PollKind.PROPOSAL, quorum_pct=50, pass_pct=60)
    # 6 agree, 4 disagree, 10 abstain: 60 % of for+against; turnout 20/30 meets 50 %.
    result = tally(p, [(0,)] * 6 + [(1,)] * 4 + [(2,)] * 10, turnout=20, eligible_count=30)
    assert result.counts == (6, 4, 10) and result.quorum_met and result.passed
    assert not tally(p, [(0,)] * 5 + [(1,)] * 5, 10, 30).passed  # a tie never passes
    low = tally(p, [(0,)] * 6, turnout=6, eligible_count=30)
    assert not low.quorum_met and not low.passed and low.turnout_pct == 20
    assert proposal_passes(2, 1, 67) is False and proposal_passes(2, 1, 66) is True


def test_single_and_multiple_choice_tallies() -> None:
    single = tally(poll(PollKind.SINGLE, 3), [(0,), (1,), (1,), (2,)], 4, 10)
    assert single.counts == (1, 2, 1) and single.leader == 1 and single.passed  # 2 of 4 = 50 %
    tie = tally(poll(PollKind.SINGLE, 2), [(0,), (1,)], 2, 10)
    assert tie.leader is None and not tie.passed
    multi = tally(poll(PollKind.MULTIPLE, 4), [(0, 1), (1, 2), (1,)], 3, 10)
    assert multi.counts == (1, 3, 1, 0) and multi.leader == 1 and multi.ballots == 3


def test_runoff_with_rounds() -> None:
    # 0 leads on first choices but 2's voters prefer 1, who wins in round 2.
    ballots = [(0,)] * 4 + [(1, 0)] * 3 + [(2, 1)] * 2
    result = instant_runoff(3, ballots)
    assert [r.counts for r in result.rounds] == [{0: 4, 1: 3, 2: 2}, {0: 4, 1: 5}]
    assert result.rounds[0].eliminated == 2 and result.winner == 1


def test_runoff_tie_break_looks_back_then_eliminates_the_last_listed() -> None:
    # Round 2: 1 and 2 tie at 3; in round 1 option 2 had fewer, so 2 goes.
    ballots = [(0,)] * 4 + [(1,)] * 3 + [(2,)] * 2 + [(3, 2)] * 1
    result = instant_runoff(4, ballots)
    assert result.rounds[0].eliminated == 3
    assert result.rounds[1].counts == {0: 4, 1: 3, 2: 3} and result.rounds[1].eliminated == 2
    # Tied in every round: the option listed last is eliminated.
    equal = [(0,)] * 3 + [(1,)] * 2 + [(2,)] * 2
    assert instant_runoff(3, equal).rounds[0].eliminated == 2
    # Everyone left tied: no winner.
    assert instant_runoff(2, [(0,), (1,)]).winner is None
    assert instant_runoff(3, []).winner is None


ranked_ballots = st.integers(2, 6).flatmap(
    lambda n: st.tuples(
        st.just(n),
        st.lists(
            st.permutations(range(n)).flatmap(
                lambda p: st.integers(1, len(p)).map(lambda k: tuple(p[:k]))
            ),
            max_size=60,
        ),
    )
)


@settings(max_examples=200, deadline=None)
@given(ranked_ballots)
def test_runoff_every_ballot_is_counted_in_every_round(
    case: tuple[int, list[tuple[int, ...]]],
) -> None:
    n, ballots = case
    result = instant_runoff(n, ballots)
    for rnd in result.rounds:
        assert sum(rnd.counts.values()) + rnd.exhausted == len(ballots)
    if result.winner is not None:
        last = result.rounds[-1].counts
        assert last[result.winner] == max(last.values())
    assert len(result.rounds) <= n


@settings(max_examples=200, deadline=None)
@given(ranked_ballots, st.integers(0, 5))
def test_runoff_majority_of_first_choices_wins(
    case: tuple[int, list[tuple[int, ...]]], seed: int
) -> None:
    n, ballots = case
    favourite = seed % n
    majority = [(favourite, *[o for o in range(n) if o != favourite])] * (len(ballots) + 1)
    result = instant_runoff(n, ballots + majority)
    assert result.winner == favourite and len(result.rounds) == 1


@settings(max_examples=100, deadline=None)
@given(
    st.integers(2, 6).flatmap(
        lambda n: st.tuples(st.just(n), st.lists(st.integers(0, n - 1), max_size=80))
    )
)
def test_single_choice_counts_equal_ballots(case: tuple[int, list[int]]) -> None:
    n, picks = case
    result = tally(poll(PollKind.SINGLE, n), [(p,) for p in picks], len(picks), 100)
    assert sum(result.counts) == len(picks) == result.ballots
    if result.leader is not None:
        assert result.counts[result.leader] > max(
            c for i, c in enumerate(result.counts) if i != result.leader
        )


# --- scheduling ---------------------------------------------------------------------------


def test_reminder_only_once_the_day_before_and_only_if_open_then() -> None:
    p = poll()
    assert not reminder_due(p, p.closes_at - timedelta(hours=25), 24)
    assert reminder_due(p, p.closes_at - timedelta(hours=23), 24)
    assert not reminder_due(p, p.closes_at, 24)
    short = replace(p, created_at=p.closes_at - timedelta(hours=3))
    assert not reminder_due(short, p.closes_at - timedelta(hours=1), 24)
    closed = replace(p, status=PollStatus.CLOSED)
    assert not reminder_due(closed, p.closes_at - timedelta(hours=1), 24)


def test_ballot_state_in_buttons_round_trips_and_refuses_forgeries() -> None:
    assert parse_order("_", 4) == () and encode_order(()) == "_"
    assert parse_order(encode_order((2, 0, 3)), 4) == (2, 0, 3)
    for forged in ("00", "4", "01234", "x1", ""):
        assert parse_order(forged, 4) is None
    assert mask_picks(picks_mask((0, 2)), 3) == (0, 2)
    assert mask_picks(0, 3) == ()
    assert mask_picks(8, 3) is None and mask_picks(-1, 3) is None
    assert ranked_next((2,), 3) == [(0, (2, 0)), (1, (2, 1))]
    assert ranked_next((0, 1, 2), 3) == []


def test_newpoll_steps_after_typed_answers() -> None:
    assert next_setup_step(PollKind.PROPOSAL, "question") == "audience"
    assert next_setup_step(PollKind.SINGLE, "question") == "options"
    assert next_setup_step(PollKind.RANKED, "question") == "options"
    assert next_setup_step(PollKind.MULTIPLE, "options") == "picks"
    assert next_setup_step(PollKind.SINGLE, "options") == "audience"


TZ = ZoneInfo("Asia/Shanghai")


def test_newpoll_setup_walks_its_steps_and_survives_json() -> None:
    setup = PollSetup()
    assert setup.choose_kind("kind", "m") == "question"
    assert setup.answer("question", "Which days?\nFor the clean-up", 10, TZ, NOW) == "options"
    assert setup.answer("options", "Mon\nTue\nWed", 10, TZ, NOW) == "picks"
    assert setup.choose_picks("picks", 2) == "audience"
    assert setup.choose_audience("audience", 3, COMMUNITY) == "closing"
    assert setup.choose_days("closing", 3, NOW) == "settings"
    for code in "qqbxsh":
        assert setup.toggle("settings", code) == "settings"
    assert setup.back_to_settings("preview") == "settings"
    draft = setup.checked("settings", ("settings", "preview"), NOW, 10)
    assert draft == PollDraft(
        PollKind.MULTIPLE, "Which days?", "For the clean-up", ("Mon", "Tue", "Wed"), 2,
        NOW + timedelta(days=3),
        PollSettings(
            Audience(NodeKind.BUILDING, "heyuan/2"), verified_only=True, per_household=True,
            secret=True, quorum_pct=20, quorum_basis=QuorumBasis.HOUSEHOLDS, pass_pct=60,
        ),
    )  # fmt: skip
    assert poll_audiences(COMMUNITY)[3] == Audience(NodeKind.BUILDING, "heyuan/2")
    stored = json.loads(json.dumps(setup.to_data()))
    assert PollSetup.from_data(stored) == setup


def test_newpoll_setup_refuses_stale_and_bad_answers_and_changes_nothing() -> None:
    setup = PollSetup(kind=PollKind.SINGLE)
    before = PollSetup.from_data(setup.to_data())
    stale = Refused("stale_step")
    assert setup.choose_kind("question", "s") == stale  # an old message's button
    assert setup.choose_kind("kind", "z") == stale  # a forged one
    assert setup.choose_picks("audience", 1) == stale
    assert setup.choose_audience("audience", 99, COMMUNITY) == stale
    assert setup.choose_days("closing", 2, NOW) == stale
    assert setup.toggle("settings", "z") == stale
    assert setup.back_to_settings("settings") == stale
    assert setup.checked("preview", ("preview",), NOW, 10) == stale  # no audience, no closing
    assert setup.answer("question", "x" * 300, 10, TZ, NOW) == Refused(
        "title_too_long", {"limit": 200}
    )
    assert setup.answer("options", "only one", 10, TZ, NOW) == Refused(
        "too_few_options", {"min": 2, "count": 1}
    )
    assert setup.answer("closing", "2020-01-01 10:00", 10, TZ, NOW) == Refused(
        "closing_in_past", {"when": datetime(2020, 1, 1, 2, 0, tzinfo=UTC)}
    )
    assert setup.answer("settings", "typed", 10, TZ, NOW) == Refused("use_buttons")
    assert setup == before


def test_newpoll_setup_reads_a_draft_saved_by_the_old_flow() -> None:
    """A /newpoll in progress when the bot is upgraded goes on where it was."""
    assert PollSetup.from_data({"key": "abc"}) == PollSetup(key="abc")
    old = {
        "key": "abc", "kind": "proposal", "title": "Bikes?", "body": "", "options": [],
        "audience": "building:heyuan/1", "proposal_id": 4, "max_picks": 1,
        "closes_at": "2026-11-29T02:00:00+00:00", "verified_only": True,
        "per_household": False, "secret": True, "hide_results": False, "quorum_pct": 25,
        "quorum_basis": "voters", "pass_pct": 67,
    }  # fmt: skip
    setup = PollSetup.from_data(old)
    assert setup.proposal_id == 4 and setup.secret and setup.pass_pct == 67
    assert setup.audience == Audience.decode("building:heyuan/1")
    assert setup.closes_at == NOW + timedelta(days=3)
    assert setup.to_data() == old


def test_outcome_command_needs_a_number_and_a_statement() -> None:
    assert parse_outcome("/outcome #3 We paint it blue") == (3, "We paint it blue")
    assert parse_outcome("/outcome 3  a\nb ") == (3, "a\nb")
    for bad in ("/outcome", "/outcome 3", "/outcome x text", "/outcome 3 " + "x" * 2001):
        assert parse_outcome(bad) == Refused("outcome_usage")
