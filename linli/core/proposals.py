"""Proposals (提案): a resident's draft that collects co-signatures until organizers open a vote.

Lifecycle: collecting -> ready (the co-signature threshold is reached; organizers are told)
-> opened (an organizer published a poll from it) or declined (with a reason, the author is
told). An organizer may also open or decline a proposal still collecting.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from linli.core.community import Community, NodeKind
from linli.core.members import Audience, Member
from linli.core.outcomes import Refused
from linli.core.polls import BODY_MAX_CHARS, clean_title

REASON_MAX_CHARS = 500
TYPED_STEPS = ("title", "body")  # of /propose; the audience and the preview take buttons


class ProposalStatus(StrEnum):
    COLLECTING = "collecting"
    READY = "ready"
    OPENED = "opened"
    DECLINED = "declined"


@dataclass(frozen=True, slots=True)
class Proposal:
    id: int
    author_id: int
    audience: Audience
    title: str
    body: str
    threshold: int
    status: ProposalStatus
    cosigns: int
    created_at: datetime
    poll_id: int | None = None
    decline_reason: str | None = None

    @property
    def is_pending(self) -> bool:
        return self.status in (ProposalStatus.COLLECTING, ProposalStatus.READY)


def preview(
    number: int,
    author_id: int,
    audience: Audience,
    title: str,
    body: str,
    threshold: int,
    now: datetime,
) -> Proposal:
    """A draft as its card will show it once submitted: the number it will get, collecting,
    no co-signs."""
    return Proposal(
        number, author_id, audience, title, body, threshold, ProposalStatus.COLLECTING, 0, now
    )


def may_propose(member: Member) -> Refused | None:
    """Verified residents propose for their own compound or building."""
    if member.household_id is None or member.building_id is None:
        return Refused("no_household")
    if not member.verified:
        return Refused("not_verified")
    return None


def audiences_for(member: Member, community: Community) -> list[Audience]:
    """What a member may address: their building, and their compound."""
    if member.building_id is None:
        return []
    building = community.building(member.building_id)
    if building is None:
        return []
    return [
        Audience(NodeKind.BUILDING, building.id),
        Audience(NodeKind.COMPOUND, building.compound_id),
    ]


def clean_body(text: str) -> str | Refused:
    body = text.strip()
    if not body:
        return Refused("body_empty")
    if len(body) > BODY_MAX_CHARS:
        return Refused("body_too_long", {"limit": BODY_MAX_CHARS})
    return body


def clean_reason(text: str) -> str | Refused:
    reason = text.strip()
    if not reason:
        return Refused("reason_empty")
    if len(reason) > REASON_MAX_CHARS:
        return Refused("reason_too_long", {"limit": REASON_MAX_CHARS})
    return reason


def check_proposal(
    member: Member, audience: Audience, title: str, body: str, community: Community
) -> tuple[str, str] | Refused:
    refused = may_propose(member)
    if refused is not None:
        return refused
    if audience not in audiences_for(member, community):
        return Refused("bad_audience")
    clean = clean_title(title)
    if isinstance(clean, Refused):
        return clean
    text = clean_body(body)
    if isinstance(text, Refused):
        return text
    return clean, text


@dataclass(frozen=True, slots=True)
class Cosigned:
    count: int
    reached: bool  # this co-signature reached the threshold (organizers are told once)


def decide_cosign(
    proposal: Proposal, member: Member, already: bool, community: Community
) -> Cosigned | Refused:
    if not proposal.is_pending:
        return Refused("not_collecting", {"status": proposal.status.value})
    if member.id == proposal.author_id:
        return Refused("own_proposal")
    if already:
        return Refused("already_cosigned")
    if not proposal.audience.includes(member, community):
        return Refused("not_in_audience")
    if not member.verified or member.household_id is None:
        return Refused("not_verified")
    count = proposal.cosigns + 1
    reached = proposal.status is ProposalStatus.COLLECTING and count >= proposal.threshold
    return Cosigned(count, reached)


def decide_decision(proposal: Proposal, actor: Member) -> Refused | None:
    """May this member open a vote from, or decline, this proposal now?"""
    if not actor.is_organizer:
        return Refused("organizers_only")
    if not proposal.is_pending:
        return Refused("already_decided", {"status": proposal.status.value})
    return None


# --- /propose, step by step (the resident's draft, kept as JSON between messages) ------------


@dataclass(slots=True)
class ProposalDraft:
    """What a resident has written so far in /propose. Steps: title, body, audience, preview.
    Each answer takes the current step and returns the next one, or Refused and changes
    nothing."""

    key: str = field(default_factory=lambda: secrets.token_hex(8))  # one proposal per draft
    title: str = ""
    body: str = ""
    audience: Audience | None = None

    def to_data(self) -> dict[str, Any]:
        audience = self.audience.encode() if self.audience else None
        return {"key": self.key, "title": self.title, "body": self.body, "audience": audience}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> ProposalDraft:
        audience = data.get("audience")
        return cls(
            key=str(data.get("key") or secrets.token_hex(8)),
            title=str(data.get("title", "")),
            body=str(data.get("body", "")),
            audience=Audience.decode(audience) if audience else None,
        )

    def answer(self, step: str, typed: str) -> str | Refused:
        """The title, then the text."""
        if step == "title":
            title = clean_title(typed)
            if isinstance(title, Refused):
                return title
            self.title = title
            return "body"
        if step == "body":
            body = clean_body(typed)
            if isinstance(body, Refused):
                return body
            self.body = body
            return "audience"
        return Refused("use_buttons")

    def choose_audience(self, step: str, index: int, choices: list[Audience]) -> str | Refused:
        if step != "audience" or not 0 <= index < len(choices):
            return Refused("stale_step")
        self.audience = choices[index]
        return "preview"


@dataclass(frozen=True, slots=True)
class DeclineDraft:
    """An organizer declining a proposal: the reason is asked for in private chat."""

    proposal_id: int

    def to_data(self) -> dict[str, Any]:
        return {"proposal_id": self.proposal_id}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> DeclineDraft:
        return cls(int(data["proposal_id"]))
