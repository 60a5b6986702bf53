"""Recognition (最美家庭评选, 模范宣讲): selections with their windows, nominations, the
nominees' consent, the shortlist, an approval vote one ballot per household, the winners,
and the stories of the community's people.

A selection moves by the clock: nominations until `nominate_until`, then organizers
shortlist until `vote_from`, then households vote until `vote_until`; the scheduler closes
it once. A *candidate* is what is honoured (a household, or a member); neighbours'
nominations point at candidates, so two neighbours may nominate the same family. A
candidate is shown only once its nominee accepted being shown; one who declined is never
shown and cannot be nominated again in that selection.

Winners: candidates in order of votes (approval: each ballot ticks up to `max_picks`);
the first `winners` of them win, and a candidate tied with the last winner wins too (an
honour is not drawn by lot). Nobody wins without a vote.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from linli.core.community import Community, NodeKind
from linli.core.members import Audience, Member
from linli.core.outcomes import Refused

TITLE_MAX_CHARS = 60
REASON_MAX_CHARS = 300
REASON_MAX_LINES = 6
STORY_MAX_CHARS = 3000
STORY_TITLE_MAX_CHARS = 60
CONSENT_MAX_CHARS = 100
MAX_WINNERS = 10
MAX_POINTS = 1000
MAX_ON_BALLOT = 20  # a ballot's picks travel as a bit mask in its buttons
_NOMINEE_HOUSEHOLD = re.compile(r"^([^/\s]+/[^/\s]+)/([^/\s]+)$")


class Subject(StrEnum):
    HOUSEHOLD = "household"  # 最美家庭: the family is honoured
    MEMBER = "member"  # 好邻居, 志愿之星: a person is honoured


class Phase(StrEnum):
    NOMINATING = "nominating"
    SHORTLISTING = "shortlisting"
    VOTING = "voting"
    COUNTING = "counting"  # voting ended, the scheduler has not closed it yet
    CLOSED = "closed"


class Consent(StrEnum):
    ASKED = "asked"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"  # the nominee used /forgetme


@dataclass(frozen=True, slots=True)
class Selection:
    id: int
    title: str
    subject: Subject
    audience: Audience
    nominate_until: datetime
    vote_from: datetime
    vote_until: datetime
    winners: int
    points: int
    secret: bool
    created_by: int
    created_at: datetime
    closed_at: datetime | None = None

    @property
    def max_picks(self) -> int:
        """Approval voting: a ballot ticks up to as many as there are honours."""
        return self.winners

    def phase(self, now: datetime) -> Phase:
        if self.closed_at is not None:
            return Phase.CLOSED
        if now < self.nominate_until:
            return Phase.NOMINATING
        if now < self.vote_from:
            return Phase.SHORTLISTING
        return Phase.VOTING if now < self.vote_until else Phase.COUNTING


@dataclass(frozen=True, slots=True)
class Candidate:
    id: int
    selection_id: int
    nominee_id: int  # the member asked for consent (for a household: who was named)
    household_id: int | None
    name: str  # the nominee's name as it is now
    place: str | None  # the nominee's building id
    unit: str | None
    consent: Consent
    shortlisted: bool = False
    shortlist_reason: str = ""
    votes: int = 0
    won: bool = False
    nominations: int = 0

    @property
    def shown(self) -> bool:
        return self.consent is Consent.ACCEPTED


@dataclass(frozen=True, slots=True)
class Nomination:
    selection_id: int
    nominator_id: int
    candidate_id: int
    reason: str
    photo: str | None
    created_at: datetime


def candidate_key(subject: Subject, nominee: Member) -> str:
    """What makes two nominations one candidate: the household, or the member."""
    if subject is Subject.HOUSEHOLD:
        return f"h:{nominee.household_id}"
    return f"m:{nominee.id}"


def is_resident(member: Member) -> bool:
    return member.verified and member.household_id is not None and not member.forgotten


def nominee_ref(text: str) -> tuple[str, str] | None:
    """A household typed as `<compound>/<building>/<unit>` -> (building id, unit); else None
    (then it is a member: @username, #id)."""
    match = _NOMINEE_HOUSEHOLD.match(text.strip())
    return (match.group(1), match.group(2)) if match else None


def clean_reason(text: str, limit: int = REASON_MAX_CHARS) -> str | Refused:
    """A reason of a few lines: blank lines and spaces squeezed, at most `limit` characters."""
    lines = [" ".join(line.split()) for line in text.strip().splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return Refused("reason_missing")
    if len(lines) > REASON_MAX_LINES:
        return Refused("reason_lines", {"max": REASON_MAX_LINES})
    cleaned = "\n".join(lines)
    if len(cleaned) > limit:
        return Refused("too_long", {"max": limit})
    return cleaned


def check_nomination(
    selection: Selection | None,
    nominator: Member,
    nominee: Member | None,
    community: Community,
    now: datetime,
    *,
    already_nominated: bool,
    declined: bool,
) -> Refused | None:
    """Whether `nominator` may nominate `nominee` now. `already_nominated`: the nominator has
    a nomination in this selection; `declined`: the nominee's candidate declined (or was
    withdrawn) in it."""
    if selection is None:
        return Refused("unknown_selection")
    if selection.phase(now) is not Phase.NOMINATING:
        return Refused("nominations_closed", {"id": selection.id})
    if not is_resident(nominator):
        return Refused("not_verified")
    if not selection.audience.includes(nominator, community):
        return Refused("not_in_audience")
    if nominee is None or nominee.forgotten:
        return Refused("unknown_nominee")
    if nominee.id == nominator.id:
        return Refused("self_nomination")
    if nominee.household_id is not None and nominee.household_id == nominator.household_id:
        return Refused("own_household")
    if not is_resident(nominee) or not selection.audience.includes(nominee, community):
        return Refused("nominee_outside", {"name": nominee.name})
    if declined:
        return Refused("nominee_declined")
    if already_nominated:
        return Refused("already_nominated", {"id": selection.id})
    return None


def check_shortlist(
    selection: Selection | None, candidate: Candidate | None, now: datetime
) -> Refused | None:
    """Organizers shortlist shown candidates once nominations close, until voting starts."""
    if selection is None or candidate is None or candidate.selection_id != selection.id:
        return Refused("unknown_candidate")
    if selection.phase(now) is not Phase.SHORTLISTING:
        return Refused("not_shortlisting", {"id": selection.id})
    if not candidate.shown:
        return Refused("candidate_not_shown")
    if candidate.shortlisted:
        return Refused("already_shortlisted")
    return None


def ballot_key(member: Member) -> str:
    """One ballot per household (the polls' household rule)."""
    return f"h:{member.household_id}"


def may_vote(
    selection: Selection, member: Member, community: Community, now: datetime
) -> Refused | None:
    if selection.phase(now) is not Phase.VOTING:
        return Refused("not_voting", {"id": selection.id})
    if not is_resident(member):
        return Refused("not_verified")
    if not selection.audience.includes(member, community):
        return Refused("not_in_audience")
    return None


def check_picks(selection: Selection, picked: Sequence[Candidate]) -> Refused | None:
    if not picked:
        return Refused("ballot_empty")
    if len(picked) > selection.max_picks:
        return Refused("too_many_picks", {"max": selection.max_picks})
    if any(not c.shortlisted or not c.shown for c in picked):
        return Refused("stale_ballot")
    return None


def choose_winners(tally: Sequence[tuple[int, int]], winners: int) -> tuple[int, ...]:
    """(candidate id, votes) -> the winners' ids, most votes first (ties: the earlier
    candidate first); a candidate tied with the last winner wins too; no votes, no honour."""
    order = sorted((t for t in tally if t[1] > 0), key=lambda t: (-t[1], t[0]))
    if len(order) <= winners:
        return tuple(c for c, _ in order)
    cutoff = order[winners - 1][1]
    return tuple(c for c, votes in order if votes >= cutoff)


# --- Opening a selection ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SelectionDraft:
    title: str
    subject: Subject
    audience: Audience
    nominate_until: datetime
    vote_from: datetime
    vote_until: datetime
    winners: int
    points: int
    secret: bool = False


def _day_end(text: str, tz: ZoneInfo) -> datetime | None:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)


def audience_of(target: str, community: Community) -> Audience | None:
    if not target:
        return Audience(NodeKind.COMMUNITY)
    if community.building(target) is not None:
        return Audience(NodeKind.BUILDING, target)
    if community.compound(target) is not None:
        return Audience(NodeKind.COMPOUND, target)
    return None


def _small_int(text: str, low: int, high: int) -> int | None:
    return int(text) if text.isdigit() and low <= int(text) <= high else None


def parse_selection(
    args: Sequence[str], tz: ZoneInfo, now: datetime, community: Community
) -> SelectionDraft | Refused:
    """`households|members nominate=DAY shortlist=DAY vote=DAY [winners=N] [points=P]
    [for=<compound or compound/building>] [secret] <title...>`: nominations until the end of
    the `nominate` day, shortlisting until the end of `shortlist`, voting until the end of
    `vote` (community time)."""
    if not args or args[0] not in {"households", "members"}:
        return Refused("new_usage")
    subject = Subject.HOUSEHOLD if args[0] == "households" else Subject.MEMBER
    options: dict[str, str] = {}
    words: list[str] = []
    secret = False
    for arg in args[1:]:
        key, eq, value = arg.partition("=")
        if eq and key in {"nominate", "shortlist", "vote", "winners", "points", "for"}:
            options[key] = value
        elif arg == "secret":
            secret = True
        else:
            words.append(arg)
    title = " ".join(" ".join(words).split())
    if not title:
        return Refused("new_usage")
    if len(title) > TITLE_MAX_CHARS:
        return Refused("too_long", {"max": TITLE_MAX_CHARS})
    days = [_day_end(options.get(k, ""), tz) for k in ("nominate", "shortlist", "vote")]
    nominate, shortlist, vote = days
    if nominate is None or shortlist is None or vote is None:
        return Refused("new_usage")
    if not now < nominate < shortlist < vote:
        return Refused("bad_dates")
    winners = _small_int(options.get("winners", "3"), 1, MAX_WINNERS)
    points = _small_int(options.get("points", "0"), 0, MAX_POINTS)
    if winners is None or points is None:
        return Refused("bad_numbers", {"winners": MAX_WINNERS, "points": MAX_POINTS})
    audience = audience_of(options.get("for", ""), community)
    if audience is None:
        return Refused("unknown_place", {"value": options.get("for", "")[:30]})
    return SelectionDraft(
        title, subject, audience, nominate, shortlist, vote, winners, points, secret
    )


# --- Stories ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Story:
    id: int
    title: str
    body: str
    photos: tuple[str, ...]
    consent: str  # how the subject's consent was given, as the organizer recorded it
    audience: Audience
    post_at: datetime
    posted: bool
    created_by: int
    created_at: datetime
    likes: int = 0


@dataclass(frozen=True, slots=True)
class StoryDraft:
    title: str
    body: str
    consent: str
    audience: Audience
    post_at: datetime


def parse_story(
    text: str, tz: ZoneInfo, now: datetime, community: Community
) -> StoryDraft | Refused:
    """The words after /story: `consent=<how> [at=YYYY-MM-DDTHH:MM] [for=<place>] <title>`
    on the first line, the story on the next lines. `consent=` is required: a story about a
    person is told only with their agreement, and the record says how it was given."""
    first, _, body = text.strip().partition("\n")
    options: dict[str, str] = {}
    words: list[str] = []
    for arg in first.split():
        key, eq, value = arg.partition("=")
        if eq and key in {"consent", "at", "for"}:
            options[key] = value
        else:
            words.append(arg)
    title = " ".join(words)
    if not title or not body.strip():
        return Refused("story_usage")
    consent = options.get("consent", "").strip()
    if not consent:
        return Refused("consent_missing")
    if len(title) > STORY_TITLE_MAX_CHARS or len(consent) > CONSENT_MAX_CHARS:
        return Refused("too_long", {"max": STORY_TITLE_MAX_CHARS})
    body = body.strip()
    if len(body) > STORY_MAX_CHARS:
        return Refused("too_long", {"max": STORY_MAX_CHARS})
    post_at = now
    if "at" in options:
        try:
            post_at = datetime.fromisoformat(options["at"]).replace(tzinfo=tz)
        except ValueError:
            return Refused("bad_time", {"value": options["at"][:20]})
        if post_at <= now:
            return Refused("time_past")
    audience = audience_of(options.get("for", ""), community)
    if audience is None:
        return Refused("unknown_place", {"value": options.get("for", "")[:30]})
    return StoryDraft(title, body, consent, audience, post_at)
