"""Proposal rules: who may propose and co-sign, the threshold, and decisions."""

from __future__ import annotations

from datetime import UTC, datetime

from linli.core.community import NodeKind, Role
from linli.core.members import Audience
from linli.core.outcomes import Refused
from linli.core.proposals import (
    Cosigned,
    DeclineDraft,
    Proposal,
    ProposalDraft,
    ProposalStatus,
    audiences_for,
    check_proposal,
    decide_cosign,
    decide_decision,
    preview,
)
from tests.core.test_polls import COMMUNITY, member

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
BUILDING = Audience(NodeKind.BUILDING, "heyuan/1")


def proposal(status: ProposalStatus = ProposalStatus.COLLECTING, cosigns: int = 0) -> Proposal:
    return Proposal(
        1,
        author_id=1,
        audience=BUILDING,
        title="T",
        body="B",
        threshold=3,
        status=status,
        cosigns=cosigns,
        created_at=NOW,
    )


def test_only_verified_residents_propose_to_their_own_building_or_compound() -> None:
    assert audiences_for(member(1), COMMUNITY) == [BUILDING, Audience(NodeKind.COMPOUND, "heyuan")]
    assert check_proposal(member(1), BUILDING, " 加装电梯 ", "  理由 ", COMMUNITY) == (
        "加装电梯",
        "理由",
    )
    assert check_proposal(member(1, verified=False), BUILDING, "T", "B", COMMUNITY) == Refused(
        "not_verified"
    )
    assert check_proposal(member(1, None), BUILDING, "T", "B", COMMUNITY) == Refused("no_household")
    lihu = Audience(NodeKind.COMPOUND, "lihu")
    assert check_proposal(member(1), lihu, "T", "B", COMMUNITY) == Refused("bad_audience")
    assert check_proposal(member(1), BUILDING, "T", " ", COMMUNITY) == Refused("body_empty")
    assert check_proposal(member(1), BUILDING, "T", "x" * 2001, COMMUNITY) == Refused(
        "body_too_long", {"limit": 2000}
    )


def test_cosign_rules_and_threshold() -> None:
    assert decide_cosign(proposal(), member(1), False, COMMUNITY) == Refused("own_proposal")
    assert decide_cosign(proposal(), member(2), True, COMMUNITY) == Refused("already_cosigned")
    assert decide_cosign(proposal(), member(2, "lihu/A"), False, COMMUNITY) == Refused(
        "not_in_audience"
    )
    assert decide_cosign(proposal(), member(2, verified=False), False, COMMUNITY) == Refused(
        "not_verified"
    )
    assert decide_cosign(proposal(cosigns=1), member(2), False, COMMUNITY) == Cosigned(
        2, reached=False
    )
    assert decide_cosign(proposal(cosigns=2), member(2), False, COMMUNITY) == Cosigned(
        3, reached=True
    )
    # Past the threshold, more support is welcome but organizers are not told again.
    assert decide_cosign(
        proposal(ProposalStatus.READY, 3), member(2), False, COMMUNITY
    ) == Cosigned(4, False)
    assert decide_cosign(proposal(ProposalStatus.DECLINED), member(2), False, COMMUNITY) == Refused(
        "not_collecting", {"status": "declined"}
    )


def test_only_organizers_decide_and_only_once() -> None:
    organizer = member(9, roles=frozenset({Role.ORGANIZER}))
    assert decide_decision(proposal(), member(2)) == Refused("organizers_only")
    assert decide_decision(proposal(ProposalStatus.READY), organizer) is None
    assert decide_decision(proposal(ProposalStatus.OPENED), organizer) == Refused(
        "already_decided", {"status": "opened"}
    )


def test_preview_is_a_fresh_collecting_proposal() -> None:
    now = datetime(2026, 5, 1, tzinfo=UTC)
    shown = preview(3, 5, Audience(NodeKind.BUILDING, "heyuan/1"), "装路灯", "楼下太暗", 10, now)
    assert (shown.id, shown.author_id, shown.cosigns, shown.threshold) == (3, 5, 0, 10)
    assert shown.status is ProposalStatus.COLLECTING and shown.is_pending
    assert (shown.title, shown.body, shown.created_at) == ("装路灯", "楼下太暗", now)


def test_propose_draft_walks_its_steps_and_reads_the_old_flows_data() -> None:
    draft = ProposalDraft.from_data({"key": "k1"})  # as /propose started it before
    assert draft.answer("title", "  ") == Refused("title_empty")
    assert draft.answer("title", " Ramp  at the door ") == "body"
    assert draft.answer("body", " ") == Refused("body_empty")
    assert draft.answer("body", "It costs <b>3000</b>") == "audience"
    assert draft.answer("audience", "typed") == Refused("use_buttons")
    choices = [BUILDING, Audience(NodeKind.COMPOUND, "heyuan")]
    assert draft.choose_audience("audience", 2, choices) == Refused("stale_step")
    assert draft.choose_audience("title", 0, choices) == Refused("stale_step")
    assert draft.audience is None
    assert draft.choose_audience("audience", 1, choices) == "preview"
    data = draft.to_data()
    assert data == {
        "key": "k1",
        "title": "Ramp at the door",
        "body": "It costs <b>3000</b>",
        "audience": "compound:heyuan",
    }
    assert ProposalDraft.from_data(data) == draft
    assert DeclineDraft.from_data(DeclineDraft(7).to_data()) == DeclineDraft(7)
    assert DeclineDraft.from_data({"proposal_id": 7}).proposal_id == 7
