"""Polls: kinds, settings, who may vote, what a valid ballot is, and how votes are counted.

Counting rules (also in the README):
- *proposal*: options agree / disagree / abstain. Abstentions count for turnout and quorum
  but not for the pass threshold: the proposal passes when the quorum is met, agree is more
  than disagree, and agree is at least `pass_pct` % of agree + disagree.
- *single* and *multiple*: each option's count; the leader is the option with the most votes
  (no leader on a tie for first). It passes (is *decided*) when the quorum is met, there is one
  leader, and the leader was chosen on at least `pass_pct` % of the ballots cast.
- *ranked*: instant runoff (see `instant_runoff` for the rounds and the tie-break). It is
  decided when the quorum is met and the runoff found a winner.
- Quorum: turnout (voters, or households with at least one vote) is at least `quorum_pct` %
  of those eligible (members, or households, in the audience who may vote).
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from linli.core.clock import from_iso, to_iso
from linli.core.community import Community, NodeKind, Role
from linli.core.members import Audience, Member
from linli.core.outcomes import Refused

TITLE_MAX_CHARS = 200
BODY_MAX_CHARS = 2000
OPTION_MAX_CHARS = 80
MIN_OPTIONS = 2
# Ranked ballots travel in callback data as one character per option: at most ten options.
HARD_MAX_OPTIONS = 10
MIN_OPEN_MINUTES = 10
MAX_OPEN_DAYS = 90

Choice = tuple[int, ...]


class PollKind(StrEnum):
    PROPOSAL = "proposal"  # agree / disagree / abstain
    SINGLE = "single"
    MULTIPLE = "multiple"
    RANKED = "ranked"


class PollStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class QuorumBasis(StrEnum):
    VOTERS = "voters"
    HOUSEHOLDS = "households"


AGREE, DISAGREE, ABSTAIN = 0, 1, 2
PROPOSAL_OPTIONS = 3


@dataclass(frozen=True, slots=True)
class PollSettings:
    audience: Audience
    verified_only: bool = True
    per_household: bool = False
    secret: bool = False
    hide_results: bool = False
    quorum_pct: int = 0
    quorum_basis: QuorumBasis = QuorumBasis.VOTERS
    pass_pct: int = 50


@dataclass(frozen=True, slots=True)
class PollDraft:
    """What an organizer has typed, before it is checked and published."""

    kind: PollKind
    title: str
    body: str
    options: tuple[str, ...]
    max_picks: int
    closes_at: datetime
    settings: PollSettings


@dataclass(frozen=True, slots=True)
class Poll:
    id: int
    kind: PollKind
    title: str
    body: str
    options: tuple[str, ...]  # empty for proposals (their three options are fixed labels)
    max_picks: int
    settings: PollSettings
    closes_at: datetime
    created_by: int
    created_at: datetime
    status: PollStatus = PollStatus.OPEN
    proposal_id: int | None = None
    eligible: int = 0  # eligible voters (or households) when published, then when closed
    closed_at: datetime | None = None
    outcome: str | None = None

    @property
    def counts_households(self) -> bool:
        """Turnout and quorum are counted in households (else in voters)."""
        return counts_households(self.settings)

    @property
    def option_count(self) -> int:
        return PROPOSAL_OPTIONS if self.kind is PollKind.PROPOSAL else len(self.options)

    def is_open(self, now: datetime) -> bool:
        return self.status is PollStatus.OPEN and now < self.closes_at

    def results_visible(self, now: datetime) -> bool:
        return not self.settings.hide_results or not self.is_open(now)


# --- Drafting ------------------------------------------------------------------------


def clean_title(text: str) -> str | Refused:
    title = " ".join(text.split())
    if not title:
        return Refused("title_empty")
    if len(title) > TITLE_MAX_CHARS:
        return Refused("title_too_long", {"limit": TITLE_MAX_CHARS})
    return title


def split_question(text: str) -> tuple[str, str] | Refused:
    """The first line is the question, the rest an optional explanation."""
    first, _, rest = text.strip().partition("\n")
    title = clean_title(first)
    if isinstance(title, Refused):
        return title
    body = rest.strip()
    if len(body) > BODY_MAX_CHARS:
        return Refused("body_too_long", {"limit": BODY_MAX_CHARS})
    return title, body


def parse_options(text: str, max_options: int) -> tuple[str, ...] | Refused:
    """Options typed one per line; 2..max_options distinct, each short."""
    limit = min(max_options, HARD_MAX_OPTIONS)
    options = [" ".join(line.split()) for line in text.splitlines()]
    options = [o.lstrip("-•*·").strip() for o in options]
    options = [o for o in options if o]
    if len(options) < MIN_OPTIONS:
        return Refused("too_few_options", {"min": MIN_OPTIONS, "count": len(options)})
    if len(options) > limit:
        return Refused("too_many_options", {"max": limit, "count": len(options)})
    for option in options:
        if len(option) > OPTION_MAX_CHARS:
            return Refused("option_too_long", {"limit": OPTION_MAX_CHARS, "option": option[:30]})
    if len({o.casefold() for o in options}) != len(options):
        return Refused("duplicate_options")
    return tuple(options)


def check_closing(closes_at: datetime, now: datetime) -> Refused | None:
    if closes_at < now + timedelta(minutes=MIN_OPEN_MINUTES):
        if closes_at <= now:
            return Refused("closing_in_past", {"when": closes_at})
        return Refused("closing_too_soon", {"minutes": MIN_OPEN_MINUTES})
    if closes_at > now + timedelta(days=MAX_OPEN_DAYS):
        return Refused("closing_too_late", {"days": MAX_OPEN_DAYS})
    return None


def check_draft(draft: PollDraft, now: datetime, max_options: int) -> Refused | None:
    """Everything a poll must satisfy to be published, checked again at the moment of publishing."""
    title = clean_title(draft.title)
    if isinstance(title, Refused):
        return title
    if len(draft.body) > BODY_MAX_CHARS:
        return Refused("body_too_long", {"limit": BODY_MAX_CHARS})
    if draft.kind is not PollKind.PROPOSAL:
        limit = min(max_options, HARD_MAX_OPTIONS)
        if len(draft.options) < MIN_OPTIONS:
            return Refused("too_few_options", {"min": MIN_OPTIONS, "count": len(draft.options)})
        if len(draft.options) > limit:
            return Refused("too_many_options", {"max": limit, "count": len(draft.options)})
    elif draft.options:
        return Refused("bad_options")
    if draft.kind is PollKind.MULTIPLE and not 1 <= draft.max_picks <= len(draft.options):
        return Refused("bad_max_picks", {"max": len(draft.options)})
    s = draft.settings
    if not 0 <= s.quorum_pct <= 100 or not 1 <= s.pass_pct <= 100:
        return Refused("bad_percent")
    return check_closing(draft.closes_at, now)


# --- Voting ------------------------------------------------------------------------


def eligible(poll: Poll, member: Member, community: Community) -> Refused | None:
    """May this member vote in this poll (as they are right now)?"""
    return member_eligible(poll.settings, member, community)


def counts_households(settings: PollSettings) -> bool:
    return settings.per_household or settings.quorum_basis is QuorumBasis.HOUSEHOLDS


def count_eligible(settings: PollSettings, members: Sequence[Member], community: Community) -> int:
    """Eligible voters, or eligible households when turnout is counted in households."""
    ok = [m for m in members if member_eligible(settings, m, community) is None]
    if counts_households(settings):
        return len({m.household_id for m in ok if m.household_id is not None})
    return len(ok)


def member_eligible(settings: PollSettings, member: Member, community: Community) -> Refused | None:
    s = settings
    if member.forgotten:
        return Refused("not_eligible")
    if not s.audience.includes(member, community):
        return Refused("not_in_audience")
    if s.verified_only and not (member.verified and member.household_id is not None):
        return Refused("not_verified")
    if s.per_household and member.household_id is None:
        return Refused("no_household")
    return None


def voter_key(poll: Poll, member: Member) -> str:
    """Whose vote this is: the household's under one vote per household, else the member's."""
    if poll.settings.per_household and member.household_id is not None:
        return f"h:{member.household_id}"
    return f"m:{member.id}"


def check_choice(poll: Poll, choice: Sequence[int]) -> Choice | Refused:
    """A ballot as the rules accept it (forged indexes, repeats and too many picks refused)."""
    n = poll.option_count
    picked = tuple(choice)
    if not picked or any(not isinstance(i, int) or i < 0 or i >= n for i in picked):
        return Refused("bad_choice")
    if len(set(picked)) != len(picked):
        return Refused("bad_choice")
    if poll.kind in (PollKind.PROPOSAL, PollKind.SINGLE):
        return picked if len(picked) == 1 else Refused("bad_choice")
    if poll.kind is PollKind.MULTIPLE:
        if len(picked) > poll.max_picks:
            return Refused("too_many_picks", {"max": poll.max_picks})
        return tuple(sorted(picked))
    return picked  # ranked: order is the preference; a partial ranking is allowed


@dataclass(frozen=True, slots=True)
class ExistingVote:
    """A vote already recorded for the voter key (member or household)."""

    member_id: int | None  # who cast it (None when secret and by household)
    member_name: str | None
    choice: Choice | None  # None in a secret ballot: we do not know, by design


@dataclass(frozen=True, slots=True)
class Recorded:
    choice: Choice
    changed: bool  # True when an earlier vote of this member was replaced
    unchanged: bool = False  # the same choice again (a second tap): nothing written


def decide_vote(
    poll: Poll,
    member: Member,
    choice: Sequence[int],
    existing: ExistingVote | None,
    community: Community,
    now: datetime,
) -> Recorded | Refused:
    """Whether this vote is accepted, replaces an earlier one, or is refused (and why)."""
    if not poll.is_open(now):
        return Refused("poll_closed", {"poll": poll.id})
    refused = eligible(poll, member, community)
    if refused is not None:
        return refused
    checked = check_choice(poll, choice)
    if isinstance(checked, Refused):
        return checked
    if existing is None:
        return Recorded(checked, changed=False)
    if poll.settings.per_household and existing.member_id != member.id:
        if poll.settings.secret or existing.member_name is None:
            return Refused("household_voted_secret")
        return Refused("household_voted", {"name": existing.member_name})
    if poll.settings.secret:
        return Refused("already_voted_secret")
    if existing.choice == checked:
        return Recorded(checked, changed=False, unchanged=True)
    return Recorded(checked, changed=True)


# --- Counting ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Round:
    counts: dict[int, int]  # continuing option -> ballots whose top continuing choice it is
    exhausted: int  # ballots with no continuing choice left
    eliminated: int | None  # the option dropped after this round (None in the last round)


@dataclass(frozen=True, slots=True)
class Runoff:
    rounds: tuple[Round, ...]
    winner: int | None  # None: no ballots, or the last candidates tied exactly


def instant_runoff(option_count: int, ballots: Sequence[Sequence[int]]) -> Runoff:
    """Instant-runoff voting over ranked ballots (partial rankings allowed).

    Each round counts every ballot for its highest-ranked option still in the race. An
    option with more than half of the ballots still counting wins. Otherwise the option
    with the fewest votes is eliminated. Tie-break for elimination: among the options tied
    for fewest, compare their counts in the previous round, then the one before, back to
    the first round, and eliminate the one that was weakest most recently; if they tied in
    every round, eliminate the one listed last on the ballot. When every remaining option
    has the same count (say two options at 5 and 5), the runoff ends with no winner: a tie.
    """
    continuing = set(range(option_count))
    history: list[dict[int, int]] = []
    rounds: list[Round] = []
    while continuing:
        counts = dict.fromkeys(sorted(continuing), 0)
        exhausted = 0
        for ballot in ballots:
            top = next((o for o in ballot if o in continuing), None)
            if top is None:
                exhausted += 1
            else:
                counts[top] += 1
        history.append(counts)
        active = sum(counts.values())
        if active == 0:
            rounds.append(Round(counts, exhausted, None))
            return Runoff(tuple(rounds), None)
        best = max(counts.values())
        if best * 2 > active or len(continuing) == 1:
            winner = next(o for o, c in counts.items() if c == best)
            rounds.append(Round(counts, exhausted, None))
            return Runoff(tuple(rounds), winner)
        lowest = min(counts.values())
        if lowest == best:  # everyone left is tied
            rounds.append(Round(counts, exhausted, None))
            return Runoff(tuple(rounds), None)
        tied = [o for o, c in counts.items() if c == lowest]
        loser = _break_elimination_tie(tied, history)
        rounds.append(Round(counts, exhausted, loser))
        continuing.discard(loser)
    return Runoff(tuple(rounds), None)  # pragma: no cover - the loop always returns


def _break_elimination_tie(tied: list[int], history: list[dict[int, int]]) -> int:
    candidates = list(tied)
    for counts in reversed(history[:-1]):
        lowest = min(counts[o] for o in candidates)
        candidates = [o for o in candidates if counts[o] == lowest]
        if len(candidates) == 1:
            return candidates[0]
    return max(candidates)


@dataclass(frozen=True, slots=True)
class Tally:
    kind: PollKind
    counts: tuple[int, ...]  # per option (ranked: first choices)
    ballots: int  # ballots cast (turnout in votes)
    turnout: int  # voters or households, per the quorum basis
    eligible: int
    quorum_pct: int
    quorum_met: bool
    passed: bool
    leader: int | None  # the winning option (proposals: None)
    runoff: Runoff | None = None

    @property
    def turnout_pct(self) -> int:
        return round(100 * self.turnout / self.eligible) if self.eligible else 0


def quorum_met(turnout: int, eligible_count: int, quorum_pct: int) -> bool:
    if quorum_pct <= 0:
        return True
    return eligible_count > 0 and turnout * 100 >= quorum_pct * eligible_count


def proposal_passes(agree: int, disagree: int, pass_pct: int) -> bool:
    """Agree beats disagree and reaches pass_pct % of the votes for or against."""
    return agree > disagree and agree * 100 >= pass_pct * (agree + disagree)


def tally(poll: Poll, ballots: Sequence[Sequence[int]], turnout: int, eligible_count: int) -> Tally:
    """The counts and the decision, from the ballots as stored."""
    n = poll.option_count
    s = poll.settings
    runoff: Runoff | None = None
    if poll.kind is PollKind.RANKED:
        firsts = Counter(b[0] for b in ballots if b)
        counts = tuple(firsts.get(i, 0) for i in range(n))
        runoff = instant_runoff(n, ballots)
    else:
        every = Counter(i for b in ballots for i in b)
        counts = tuple(every.get(i, 0) for i in range(n))
    met = quorum_met(turnout, eligible_count, s.quorum_pct)
    leader: int | None = None
    if poll.kind is PollKind.PROPOSAL:
        passed = met and proposal_passes(counts[AGREE], counts[DISAGREE], s.pass_pct)
    elif poll.kind is PollKind.RANKED:
        assert runoff is not None
        leader = runoff.winner
        passed = met and leader is not None
    else:
        best = max(counts) if counts else 0
        top = [i for i, c in enumerate(counts) if c == best]
        if best > 0 and len(top) == 1:
            leader = top[0]
        passed = met and leader is not None and counts[leader] * 100 >= s.pass_pct * len(ballots)
    return Tally(
        kind=poll.kind,
        counts=counts,
        ballots=len(ballots),
        turnout=turnout,
        eligible=eligible_count,
        quorum_pct=s.quorum_pct,
        quorum_met=met,
        passed=passed,
        leader=leader,
        runoff=runoff,
    )


# --- Scheduling --------------------------------------------------------------------


def reminder_due(poll: Poll, now: datetime, hours_before: int) -> bool:
    """The one reminder, `hours_before` closing, only if the poll was already open then."""
    at = poll.closes_at - timedelta(hours=hours_before)
    return poll.is_open(now) and now >= at and poll.created_at < at


def close_due(poll: Poll, now: datetime) -> bool:
    return poll.status is PollStatus.OPEN and now >= poll.closes_at


_CLOSING_FORMATS = ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%m-%d %H:%M", "%m/%d %H:%M")


def parse_closing(text: str, tz: ZoneInfo, now: datetime) -> datetime | Refused:
    """A closing time typed in the community's time zone: "2026-12-01 18:00", "12-01 18:00",
    or a date alone (closes at 20:00 that day). Checked against `now`."""
    raw = " ".join(
        text.replace("：", ":").replace("年", "-").replace("月", "-").replace("日", " ").split()
    )
    for fmt in _CLOSING_FORMATS:
        try:
            parsed = datetime.strptime(raw, fmt)
        except ValueError:
            continue
        if "%Y" not in fmt:
            parsed = parsed.replace(year=now.astimezone(tz).year)
            if parsed.replace(tzinfo=tz) < now:
                parsed = parsed.replace(year=parsed.year + 1)
        if "%H" not in fmt:
            parsed = parsed.replace(hour=20)
        when = parsed.replace(tzinfo=tz).astimezone(UTC)
        refused = check_closing(when, now)
        return refused if refused is not None else when
    return Refused("bad_time")


# --- A private ballot's state, carried in its buttons (so a restart loses nothing) -------------


def parse_order(raw: str, n: int) -> tuple[int, ...] | None:
    """A ranked ballot's order from its button ("_" = empty); None if forged."""
    if raw == "_":
        return ()
    if not raw.isdigit() or len(raw) > n or len(set(raw)) != len(raw):
        return None
    order = tuple(int(c) for c in raw)
    return order if all(i < n for i in order) else None


def encode_order(order: tuple[int, ...]) -> str:
    return "".join(str(i) for i in order) or "_"


def mask_picks(mask: int, n: int) -> tuple[int, ...] | None:
    """The picks a multiple-choice button's bit mask stands for; None if forged."""
    if not 0 <= mask < (1 << n):
        return None
    return tuple(i for i in range(n) if mask >> i & 1)


def picks_mask(picks: Sequence[int]) -> int:
    return sum(1 << i for i in picks)


def ranked_next(order: tuple[int, ...], n: int) -> list[tuple[int, tuple[int, ...]]]:
    """The options not ranked yet, each with the order once it is ranked next."""
    return [(i, (*order, i)) for i in range(n) if i not in order]


def next_setup_step(kind: PollKind, answered: str) -> str:
    """/newpoll after a typed question or options: a proposal's choices are fixed (agree,
    disagree, abstain), and only a multiple-choice poll asks how many may be picked."""
    if answered == "question":
        return "audience" if kind is PollKind.PROPOSAL else "options"
    return "picks" if kind is PollKind.MULTIPLE else "audience"


# --- /newpoll, step by step (the organizer's draft, kept as JSON between messages) -----------

KIND_CODES = {
    "p": PollKind.PROPOSAL,
    "s": PollKind.SINGLE,
    "m": PollKind.MULTIPLE,
    "r": PollKind.RANKED,
}
QUORUM_STEPS = (0, 10, 20, 25, 30, 40, 50, 60, 75)
PASS_STEPS = (50, 60, 67, 75, 90)
DAY_CHOICES = (1, 3, 7, 14)
# The settings a button switches on or off, by the code the button carries.
SETTING_FLAGS = {"v": "verified_only", "h": "per_household", "s": "secret", "r": "hide_results"}
SETTING_CODES = (*SETTING_FLAGS, "q", "b", "x")  # and quorum, its basis, the pass threshold
TYPED_STEPS = ("question", "options", "closing")  # the others take buttons
TEAM_ROLES = (
    Role.VOLUNTEER,
    Role.BUILDING_LEADER,
    Role.GRID_WORKER,
    Role.MOBILE_REPORTER,
    Role.PARTY_MEMBER,
    Role.ORGANIZER,
)
_STALE = Refused("stale_step")


def poll_audiences(community: Community) -> list[Audience]:
    """Every audience a poll can have, in the order the /newpoll buttons list them."""
    found = [Audience(NodeKind.COMMUNITY)]
    for compound in community.compounds:
        found.append(Audience(NodeKind.COMPOUND, compound.id))
        found.extend(Audience(NodeKind.BUILDING, b.id) for b in compound.buildings)
    found.extend(Audience(NodeKind.ROLE, role.value) for role in TEAM_ROLES)
    return found


def _cycle(steps: tuple[int, ...], current: int) -> int:
    later = [s for s in steps if s > current]
    return later[0] if later else steps[0]


@dataclass(slots=True)
class PollSetup:
    """What an organizer has chosen so far in /newpoll. Steps: kind, question, options, picks
    (multiple choice), audience, closing, settings, preview. Each answer takes the current
    step and returns the next one, or Refused and changes nothing."""

    key: str = field(default_factory=lambda: secrets.token_hex(8))  # one poll per setup
    kind: PollKind | None = None
    title: str = ""
    body: str = ""
    options: tuple[str, ...] = ()
    max_picks: int = 1
    audience: Audience | None = None
    closes_at: datetime | None = None
    verified_only: bool = True
    per_household: bool = False
    secret: bool = False
    hide_results: bool = False
    quorum_pct: int = 0
    quorum_basis: QuorumBasis = QuorumBasis.VOTERS
    pass_pct: int = 50
    proposal_id: int | None = None  # a vote opened on a proposal

    def to_data(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "kind": self.kind.value if self.kind else None,
            "title": self.title,
            "body": self.body,
            "options": list(self.options),
            "max_picks": self.max_picks,
            "audience": self.audience.encode() if self.audience else None,
            "closes_at": to_iso(self.closes_at) if self.closes_at else None,
            "verified_only": self.verified_only,
            "per_household": self.per_household,
            "secret": self.secret,
            "hide_results": self.hide_results,
            "quorum_pct": self.quorum_pct,
            "quorum_basis": self.quorum_basis.value,
            "pass_pct": self.pass_pct,
            "proposal_id": self.proposal_id,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> PollSetup:
        """Also reads a setup saved before this class (the same keys, some missing)."""
        kind, audience, closes = data.get("kind"), data.get("audience"), data.get("closes_at")
        proposal_id = data.get("proposal_id")
        return cls(
            key=str(data.get("key") or secrets.token_hex(8)),
            kind=PollKind(kind) if kind else None,
            title=str(data.get("title", "")),
            body=str(data.get("body", "")),
            options=tuple(str(o) for o in data.get("options") or ()),
            max_picks=int(data.get("max_picks", 1)),
            audience=Audience.decode(audience) if audience else None,
            closes_at=from_iso(closes) if isinstance(closes, str) else None,
            verified_only=bool(data.get("verified_only", True)),
            per_household=bool(data.get("per_household", False)),
            secret=bool(data.get("secret", False)),
            hide_results=bool(data.get("hide_results", False)),
            quorum_pct=int(data.get("quorum_pct", 0)),
            quorum_basis=QuorumBasis(data.get("quorum_basis", QuorumBasis.VOTERS.value)),
            pass_pct=int(data.get("pass_pct", 50)),
            proposal_id=int(proposal_id) if proposal_id is not None else None,
        )

    def choose_kind(self, step: str, code: str) -> str | Refused:
        if step != "kind" or code not in KIND_CODES:
            return _STALE
        self.kind = KIND_CODES[code]
        return "question"

    def answer(
        self, step: str, typed: str, max_options: int, tz: ZoneInfo, now: datetime
    ) -> str | Refused:
        """Typed text for the question, the options or the closing time."""
        if step == "question":
            return self._question(typed)
        if step == "options":
            return self._options(typed, max_options)
        if step == "closing":
            when = parse_closing(typed, tz, now)
            if isinstance(when, Refused):
                return when
            self.closes_at = when
            return "settings"
        return Refused("use_buttons")

    def _question(self, typed: str) -> str | Refused:
        parsed = split_question(typed)
        if isinstance(parsed, Refused) or self.kind is None:
            return parsed if isinstance(parsed, Refused) else _STALE
        self.title, self.body = parsed
        following = next_setup_step(self.kind, "question")
        if following == "audience":  # a proposal: agree, disagree, abstain
            self.options = ()
        return following

    def _options(self, typed: str, max_options: int) -> str | Refused:
        options = parse_options(typed, max_options)
        if isinstance(options, Refused) or self.kind is None:
            return options if isinstance(options, Refused) else _STALE
        self.options = options
        following = next_setup_step(self.kind, "options")
        if following == "audience":  # one pick each
            self.max_picks = 1
        return following

    def choose_picks(self, step: str, count: int) -> str | Refused:
        if step != "picks" or not 1 <= count <= len(self.options):
            return _STALE
        self.max_picks = count
        return "audience"

    def choose_audience(self, step: str, index: int, community: Community) -> str | Refused:
        choices = poll_audiences(community)
        if step != "audience" or not 0 <= index < len(choices):
            return _STALE
        self.audience = choices[index]
        return "closing"

    def choose_days(self, step: str, days: int, now: datetime) -> str | Refused:
        if step != "closing" or days not in DAY_CHOICES:
            return _STALE
        self.closes_at = now + timedelta(days=days)
        return "settings"

    def toggle(self, step: str, code: str) -> str | Refused:
        """Switch a setting, or move the quorum, its basis or the pass threshold on."""
        if step != "settings" or code not in SETTING_CODES:
            return _STALE
        if code in SETTING_FLAGS:
            flag = SETTING_FLAGS[code]
            setattr(self, flag, not getattr(self, flag))
        elif code == "q":
            self.quorum_pct = _cycle(QUORUM_STEPS, self.quorum_pct)
        elif code == "x":
            self.pass_pct = _cycle(PASS_STEPS, self.pass_pct)
        else:
            basis = QuorumBasis.VOTERS
            self.quorum_basis = QuorumBasis.HOUSEHOLDS if self.quorum_basis is basis else basis
        return "settings"

    def back_to_settings(self, step: str) -> str | Refused:
        return "settings" if step == "preview" else _STALE

    def checked(
        self, step: str, steps: tuple[str, ...], now: datetime, max_options: int
    ) -> PollDraft | Refused:
        """The poll to preview or publish (only from `steps`), checked as at publishing."""
        if (
            step not in steps
            or self.kind is None
            or self.audience is None
            or self.closes_at is None
        ):
            return _STALE
        settings = PollSettings(
            audience=self.audience,
            verified_only=self.verified_only,
            per_household=self.per_household,
            secret=self.secret,
            hide_results=self.hide_results,
            quorum_pct=self.quorum_pct,
            quorum_basis=self.quorum_basis,
            pass_pct=self.pass_pct,
        )
        draft = PollDraft(
            self.kind, self.title, self.body, self.options, self.max_picks, self.closes_at, settings
        )
        refused = check_draft(draft, now, max_options)
        return refused if refused is not None else draft


def preview_poll(d: PollDraft, number: int, by: int, now: datetime, eligible_count: int) -> Poll:
    """The poll as it will be published, with the number it will get."""
    return Poll(
        id=number,
        kind=d.kind,
        title=d.title,
        body=d.body,
        options=d.options,
        max_picks=d.max_picks,
        settings=d.settings,
        closes_at=d.closes_at,
        created_by=by,
        created_at=now,
        eligible=eligible_count,
    )


OUTCOME_MAX_CHARS = 2000


def parse_outcome(text: str) -> tuple[int, str] | Refused:
    """ "/outcome <poll> <statement>": the poll's number ("#3" or "3") and the statement."""
    parts = text.split(maxsplit=2)
    poll_ref = parts[1].lstrip("#") if len(parts) > 1 else ""
    statement = parts[2].strip() if len(parts) > 2 else ""
    if not poll_ref.isdigit() or not statement or len(statement) > OUTCOME_MAX_CHARS:
        return Refused("outcome_usage")
    return int(poll_ref), statement
