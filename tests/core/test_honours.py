"""Recognition's rules: opening a selection, who may nominate whom, the phases, approval
ballots, the winners (ties honoured, no vote no honour), and stories with their consent."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from linli.core.ballots import picks_of
from linli.core.community import NodeKind
from linli.core.honours import (
    Candidate,
    Consent,
    Phase,
    Selection,
    SelectionDraft,
    StoryDraft,
    Subject,
    check_nomination,
    check_picks,
    choose_winners,
    clean_reason,
    nominee_ref,
    parse_selection,
    parse_story,
)
from linli.core.members import Audience, Member
from linli.core.outcomes import Refused
from tests.support.polls import COMMUNITY, NOW

TZ = ZoneInfo("Asia/Shanghai")


def member(mid: int, household: int | None = None, building: str = "heyuan/1") -> Member:
    return Member(mid, f"居民{mid}", None, None, building, household or mid, "101",
                  verified=True, joined=True)  # fmt: skip


def selection(**changes: object) -> Selection:
    base = Selection(1, "2026 年度最美家庭", Subject.HOUSEHOLD, Audience(NodeKind.COMPOUND, "heyuan"),
                     NOW + timedelta(days=1), NOW + timedelta(days=2), NOW + timedelta(days=3),
                     2, 50, False, 1, NOW)  # fmt: skip
    return replace(base, **changes)  # type: ignore[arg-type]


def nominate(nominee: Member | None, *, nominator: Member | None = None, when: datetime = NOW,
             already: bool = False, declined: bool = False) -> Refused | None:  # fmt: skip
    return check_nomination(selection(), nominator or member(1), nominee, COMMUNITY, when,
                            already_nominated=already, declined=declined)  # fmt: skip


def test_a_selection_is_opened_from_one_line() -> None:
    draft = parse_selection(
        ["households", "nominate=2026-12-01", "shortlist=2026-12-03", "vote=2026-12-10",
         "winners=3", "points=50", "for=heyuan", "secret", "2026", "年度最美家庭"],
        TZ, NOW, COMMUNITY,
    )  # fmt: skip
    assert isinstance(draft, SelectionDraft)
    assert draft.title == "2026 年度最美家庭" and draft.subject is Subject.HOUSEHOLD
    assert draft.audience == Audience(NodeKind.COMPOUND, "heyuan") and draft.secret
    assert draft.nominate_until == datetime(2026, 12, 2, tzinfo=TZ)
    assert (draft.winners, draft.points) == (3, 50)


def test_bad_selection_lines_are_refused() -> None:
    days = ["nominate=2026-12-01", "shortlist=2026-12-03", "vote=2026-12-10"]
    cases = {
        ("people", *days, "x"): "new_usage",
        ("households", *days): "new_usage",
        ("households", "nominate=2026-12-05", "shortlist=2026-12-03", "vote=2026-12-10", "x"): "bad_dates",
        ("households", "nominate=2020-01-01", "shortlist=2026-12-03", "vote=2026-12-10", "x"): "bad_dates",
        ("households", *days, "winners=0", "x"): "bad_numbers",
        ("households", *days, "points=-5", "x"): "bad_numbers",
        ("households", *days, "for=nowhere", "x"): "unknown_place",
        ("households", *days, "题" * 61): "too_long",
    }  # fmt: skip
    for args, reason in cases.items():
        refused = parse_selection(list(args), TZ, NOW, COMMUNITY)
        assert isinstance(refused, Refused) and refused.reason == reason, args


def test_phases_follow_the_clock() -> None:
    s = selection()
    assert s.phase(NOW) is Phase.NOMINATING
    assert s.phase(s.nominate_until) is Phase.SHORTLISTING
    assert s.phase(s.vote_from) is Phase.VOTING
    assert s.phase(s.vote_until) is Phase.COUNTING
    assert replace(s, closed_at=s.vote_until).phase(s.vote_until) is Phase.CLOSED


def test_who_may_nominate_whom() -> None:
    assert nominate(member(2)) is None
    assert nominate(member(1)) == Refused("self_nomination")
    assert nominate(member(2, household=1)) == Refused("own_household")
    stranger = member(3, building="lihu/A")
    assert nominate(stranger) == Refused("nominee_outside", {"name": "居民3"})
    assert nominate(member(2), nominator=stranger) == Refused("not_in_audience")
    unverified = replace(member(4), verified=False)
    assert nominate(member(2), nominator=unverified) == Refused("not_verified")
    assert nominate(member(2), already=True) == Refused("already_nominated", {"id": 1})
    assert nominate(member(2), declined=True) == Refused("nominee_declined")
    late = selection().nominate_until
    assert nominate(member(2), when=late) == Refused("nominations_closed", {"id": 1})
    assert nominate(None) == Refused("unknown_nominee")
    forgotten = replace(member(5), forgotten=True)
    assert nominate(forgotten) == Refused("unknown_nominee")


def test_a_reason_is_a_few_clean_lines() -> None:
    assert clean_reason("  热心  助人 \n\n 常年照顾\t孤寡老人 ") == "热心 助人\n常年照顾 孤寡老人"
    assert clean_reason("   ") == Refused("reason_missing")
    assert clean_reason("a\n" * 7) == Refused("reason_lines", {"max": 6})
    assert clean_reason("长" * 301) == Refused("too_long", {"max": 300})


def test_households_are_typed_as_building_and_unit() -> None:
    assert nominee_ref("heyuan/1/101") == ("heyuan/1", "101")
    assert nominee_ref("@wang") is None and nominee_ref("#7") is None


def candidate(cid: int, **changes: object) -> Candidate:
    base = Candidate(cid, 1, cid, cid, "x", "heyuan/1", "101", Consent.ACCEPTED, shortlisted=True)
    return replace(base, **changes)  # type: ignore[arg-type]


def test_an_approval_ballot_ticks_up_to_the_number_of_honours() -> None:
    s = selection()
    assert check_picks(s, [candidate(1), candidate(2)]) is None
    assert check_picks(s, []) == Refused("ballot_empty")
    assert check_picks(s, [candidate(i) for i in (1, 2, 3)]) == Refused(
        "too_many_picks", {"max": 2}
    )
    assert check_picks(s, [candidate(1, consent=Consent.WITHDRAWN)]) == Refused("stale_ballot")
    assert picks_of(0b101, 3) == (0, 2) and picks_of(8, 3) is None and picks_of(-1, 3) is None


def test_winners_ties_at_the_cutoff_are_all_honoured() -> None:
    assert choose_winners([(1, 5), (2, 3), (3, 3), (4, 1)], 2) == (1, 2, 3)
    assert choose_winners([(1, 5), (2, 3), (3, 1)], 2) == (1, 2)
    assert choose_winners([(1, 0), (2, 0)], 2) == ()


@given(st.lists(st.integers(0, 6), max_size=12), st.integers(1, 5))
def test_winners_are_never_outvoted_by_a_loser(votes: list[int], n: int) -> None:
    tally = list(enumerate(votes, start=1))
    won = choose_winners(tally, n)
    by_id = dict(tally)
    losers = [c for c, v in tally if c not in won]
    assert all(by_id[w] > 0 for w in won)
    assert all(by_id[w] >= by_id[loser] for w in won for loser in losers)
    with_votes = sum(1 for v in votes if v > 0)
    assert len(won) >= min(n, with_votes)
    if len(won) > n:  # only ties with the last place push past n
        assert len({by_id[w] for w in won[n - 1 :]}) == 1


def test_a_story_needs_its_subjects_consent() -> None:
    story = parse_story("consent=本人同意 at=2026-12-01T09:00 for=heyuan 王阿姨的故事\n二十年如一日",
                        TZ, NOW, COMMUNITY)  # fmt: skip
    assert isinstance(story, StoryDraft)
    assert story.title == "王阿姨的故事" and story.body == "二十年如一日"
    assert story.post_at == datetime(2026, 12, 1, 9, 0, tzinfo=TZ)
    assert parse_story("王阿姨的故事\n正文", TZ, NOW, COMMUNITY) == Refused("consent_missing")
    assert parse_story("consent=同意 标题", TZ, NOW, COMMUNITY) == Refused("story_usage")
    assert parse_story("consent=同意 at=2020-01-01T09:00 t\nb", TZ, NOW, COMMUNITY) == Refused(
        "time_past"
    )
    now_story = parse_story("consent=同意 t\nb", TZ, NOW, COMMUNITY)
    assert isinstance(now_story, StoryDraft) and now_story.post_at == NOW
