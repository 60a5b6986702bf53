"""Members, households, roles, audiences and who may do what."""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from linli.core.community import GRANTABLE_ROLES, Binding, Building, Community, NodeKind, Role
from linli.core.outcomes import Refused

SUPPORTED_LOCALES: tuple[str, ...] = ("zh-CN", "en")
UNIT_MAX_CHARS = 20
_UNIT_RE = re.compile(r"^[0-9A-Za-z\-\u4e00-\u9fff ]+$")
NAME_MAX_CHARS = 64


class Verification(StrEnum):
    NONE = "none"
    LEADER = "leader"
    ORGANIZER = "organizer"


@dataclass(frozen=True, slots=True)
class Member:
    id: int
    name: str
    username: str | None
    locale: str | None  # the member's own choice; None = follow their platform's language
    building_id: str | None
    household_id: int | None
    unit: str | None
    roles: frozenset[Role] = field(default_factory=frozenset)
    verified: bool = False
    joined: bool = False  # finished onboarding (accepted the privacy notice)
    referral_code: str = ""
    referred_by: int | None = None
    rank_optout: bool = False
    created_at: datetime | None = None
    language_code: str | None = None  # their platform's, as last seen
    blocked: bool = False  # blocked the bot in the private chat: nothing is sent to them
    forgotten: bool = False  # used /forgetme: an anonymous row kept for the ledgers

    def has(self, role: Role) -> bool:
        return role in self.roles

    @property
    def is_organizer(self) -> bool:
        return Role.ORGANIZER in self.roles

    def with_roles(self, extra: frozenset[Role]) -> Member:
        return replace(self, roles=self.roles | extra)


def resolve_locale(chosen: str | None, platform_code: str | None, default: str) -> str:
    """The member's choice, else their platform's language, else the community's default."""
    if chosen in SUPPORTED_LOCALES:
        return chosen
    if platform_code:
        code = platform_code.lower()
        if code.startswith("zh"):
            return "zh-CN"
        if code.startswith("en"):
            return "en"
    return default if default in SUPPORTED_LOCALES else SUPPORTED_LOCALES[0]


def clean_unit(text: str) -> str | Refused:
    """A household's unit number as typed ("3-201", "201室"), or why it is refused."""
    unit = " ".join(text.split())
    if not unit:
        return Refused("unit_empty")
    if len(unit) > UNIT_MAX_CHARS:
        return Refused("unit_too_long", {"limit": UNIT_MAX_CHARS})
    if not _UNIT_RE.match(unit):
        return Refused("unit_bad_chars")
    return unit


def display_name(first: str | None, last: str | None) -> str:
    name = " ".join(p for p in (first, last) if p).strip() or "?"
    return name[:NAME_MAX_CHARS]


def new_referral_code() -> str:
    return secrets.token_hex(4)


def can_verify(actor: Member, target: Member, mode: Verification) -> bool:
    """Organizers verify anyone; in leader mode a building leader verifies their building."""
    if actor.is_organizer:
        return True
    return (
        mode is Verification.LEADER
        and actor.has(Role.BUILDING_LEADER)
        and actor.building_id is not None
        and actor.building_id == target.building_id
    )


def can_triage_building(actor: Member, building_id: str | None) -> bool:
    """Organizers act everywhere; a building leader acts for their own building."""
    if actor.is_organizer:
        return True
    return (
        actor.has(Role.BUILDING_LEADER)
        and building_id is not None
        and actor.building_id == building_id
    )


@dataclass(frozen=True, slots=True)
class Audience:
    """Who something is for: the community, a compound, a building, or a role team."""

    kind: NodeKind
    target: str = ""

    def includes(self, member: Member, community: Community) -> bool:
        if self.kind is NodeKind.COMMUNITY:
            return True
        if self.kind is NodeKind.ROLE:
            return Role(self.target) in member.roles
        building = community.building(member.building_id) if member.building_id else None
        return Binding(0, self.kind, self.target).covers_building(building)

    def covers_binding(self, binding: Binding, community: Community) -> bool:
        """Should a post for this audience go to the group with this binding?"""
        if self.kind is NodeKind.ROLE or binding.kind is NodeKind.ROLE:
            return binding.kind is self.kind and binding.target == self.target
        if binding.kind is NodeKind.COMMUNITY:
            return True  # the community group hears about everything in the community
        if self.kind is NodeKind.COMMUNITY:
            return False
        if self.kind is NodeKind.COMPOUND:
            return binding.kind is NodeKind.COMPOUND and binding.target == self.target
        # a building's audience: its own group and its compound's group
        building = community.building(self.target)
        return binding.covers_building(building)

    def encode(self) -> str:
        return f"{self.kind.value}:{self.target}"

    @classmethod
    def decode(cls, text: str) -> Audience:
        kind, _, target = text.partition(":")
        return cls(NodeKind(kind), target)


def building_of(member: Member, community: Community) -> Building | None:
    return community.building(member.building_id) if member.building_id else None


@dataclass(frozen=True, slots=True)
class StartIntent:
    """What a /start deep link asks for: plain, rider, ref_<code>, report, checkin_<code>,
    b_<building> (a poster's: joining starts at that building)."""

    kind: str  # "plain" | "rider" | "referral" | "report" | "treehole" | "checkin" | "building" | "unknown"
    arg: str = ""


_PAYLOAD_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def parse_start_payload(payload: str | None) -> StartIntent:
    if not payload:
        return StartIntent("plain")
    if not _PAYLOAD_RE.match(payload):
        return StartIntent("unknown")
    if payload == "rider":
        return StartIntent("rider")
    if payload in ("report", "treehole"):
        return StartIntent(payload)
    prefixes = (
        ("ref_", "referral"),
        ("checkin_", "checkin"),
        ("space_", "space"),
        ("b_", "building"),
    )
    for prefix, kind in prefixes:
        if payload.startswith(prefix) and len(payload) > len(prefix):
            return StartIntent(kind, payload[len(prefix) :])
    return StartIntent("unknown")


_READABLE_RE = re.compile(r"^[A-Za-z0-9-]+$")


def building_link_arg(building: Building) -> str:
    """The deep link's argument naming a building (`/start b_<arg>`): `heyuan_1` when the
    building's name is plain letters and digits, else its name in base64url (`heyuan__5LiA`);
    Telegram allows only A-Z a-z 0-9 _ - in a start payload."""
    if _READABLE_RE.match(building.name):
        return f"{building.compound_id}_{building.name}"
    name = base64.urlsafe_b64encode(building.name.encode()).decode().rstrip("=")
    return f"{building.compound_id}__{name}"


def building_from_link(arg: str, community: Community) -> Building | None:
    """The one building whose link argument is `arg` (none, or two alike: None)."""
    found = [b for b in community.all_buildings() if building_link_arg(b) == arg]
    return found[0] if len(found) == 1 else None


class JoinStep(StrEnum):
    """Where a newcomer is in joining (a member changing language or home walks part of it)."""

    LANGUAGE = "language"
    COMPOUND = "compound"
    BUILDING = "building"
    UNIT = "unit"
    PRIVACY = "privacy"


@dataclass(frozen=True, slots=True)
class JoinDraft:
    """The joining flow: each choice gives the next state, or None when it does not fit.

    language -> (a rider: privacy) | compound -> building -> unit -> privacy -> joined;
    "back" from building or unit returns to compound; staff (an organizer who has not
    joined) go from compound straight to privacy, with no household. Kept as JSON between
    messages (`to_data`/`from_data`, the same keys as before it was typed).
    """

    step: JoinStep = JoinStep.LANGUAGE
    rider: bool = False  # joined through the rider link: no home, the mobile reporter role
    referrer: int | None = None  # the member whose invite link brought them
    language_only: bool = False  # a member changing their language from /me
    staff: bool = False
    compound: int | None = None  # index in the community's compounds
    building: str | None = None
    unit: str | None = None

    @classmethod
    def start(
        cls, intent: StartIntent, referrer: int | None, home: tuple[int, str] | None = None
    ) -> JoinDraft:
        """`home`: (compound index, building id) a poster's link chose: no need to ask it."""
        if home is not None and intent.kind == "building":
            return cls(referrer=referrer, compound=home[0], building=home[1])
        return cls(rider=intent.kind == "rider", referrer=referrer)

    def to_data(self) -> dict[str, Any]:
        return {
            "rider": self.rider,
            "referrer": self.referrer,
            "language_only": self.language_only,
            "staff": self.staff,
            "compound": self.compound,
            "building": self.building,
            "unit": self.unit,
        }

    @classmethod
    def from_data(cls, step: str, data: Mapping[str, Any]) -> JoinDraft | None:
        """The draft at `step`, or None if the step is not one of joining's."""
        if step not in {s.value for s in JoinStep}:
            return None

        def optional(key: str, kind: type[int] | type[str]) -> Any:
            value = data.get(key)
            return kind(value) if value is not None else None

        return cls(
            step=JoinStep(step),
            rider=bool(data.get("rider")),
            referrer=optional("referrer", int),
            language_only=bool(data.get("language_only")),
            staff=bool(data.get("staff")),
            compound=optional("compound", int),
            building=optional("building", str),
            unit=optional("unit", str),
        )

    @property
    def without_home(self) -> bool:
        """Joining with no household (a rider, or staff): the privacy notice says so."""
        return self.rider or self.staff

    def after_language(self) -> JoinDraft | None:
        """The next step once the language is set; None when only the language was changing."""
        if self.language_only:
            return None
        if self.rider:
            return replace(self, step=JoinStep.PRIVACY)
        # A poster's link chose the building already: straight to the unit number.
        return replace(self, step=JoinStep.UNIT if self.building else JoinStep.COMPOUND)

    def choose_compound(self, index: int, community: Community) -> JoinDraft | None:
        if not 0 <= index < len(community.compounds):
            return None
        return replace(self, step=JoinStep.BUILDING, compound=index)

    def choose_building(self, compound: int, index: int, community: Community) -> JoinDraft | None:
        """A building of the compound chosen before (a button from another compound: None)."""
        if compound != self.compound or not 0 <= compound < len(community.compounds):
            return None
        buildings = community.compounds[compound].buildings
        if not 0 <= index < len(buildings):
            return None
        return replace(self, step=JoinStep.UNIT, building=buildings[index].id)

    def back(self) -> JoinDraft:
        return replace(self, step=JoinStep.COMPOUND)

    def as_staff(self) -> JoinDraft:
        return replace(self, step=JoinStep.PRIVACY, staff=True)

    def with_unit(self, unit: str) -> JoinDraft:
        return replace(self, step=JoinStep.PRIVACY, unit=unit)


def may_join_as_staff(member: Member) -> bool:
    """An organizer who has not joined may join as community staff, with no home."""
    return member.is_organizer and not member.joined


def verified_on_joining(member: Member, mode: Verification) -> bool:
    """With no verification asked for, a household is verified as it joins."""
    return member.household_id is not None and mode is Verification.NONE


def verification_asked(member: Member, mode: Verification, first_time: bool) -> bool:
    """A household joining for the first time is announced to whoever verifies it."""
    return first_time and member.household_id is not None and mode is not Verification.NONE


def check_verify(actor: Member, target: Member | None, mode: Verification) -> Refused | None:
    """Why `actor` may not verify `target`'s household now, or None."""
    if target is None or target.household_id is None:
        return Refused("unknown_member")
    if not can_verify(actor, target, mode):
        return Refused("not_allowed_verify")
    return None


def pending_scope(actor: Member) -> str | Refused | None:
    """Whose households `actor` sees waiting: all (None), their building's, or none (Refused)."""
    if actor.is_organizer:
        return None
    if not actor.has(Role.BUILDING_LEADER):
        return Refused("not_allowed_verify")
    return actor.building_id


def parse_role_change(args: list[str], *, grant: bool) -> tuple[str, Role] | Refused:
    """`/grant <user> <role>` or `/revoke <user> <role>`: (who, role), or why not."""
    if len(args) != 2:
        return Refused("role_usage", {"grant": grant})
    role = parse_role(args[1])
    if role is None:
        return Refused("unknown_role", {"value": args[1][:32]})
    return args[0], role


def check_role_change(target: Member | None, role: Role, *, grant: bool) -> Refused | None:
    if target is None:
        return Refused("unknown_member")
    if grant and role is Role.BUILDING_LEADER and target.building_id is None:
        return Refused("leader_needs_building")
    return None


def parse_role(text: str) -> Role | None:
    """A grantable role by its name ("volunteer", "building_leader", ...), else None."""
    try:
        role = Role(text.strip().lower())
    except ValueError:
        return None
    return role if role is not Role.RESIDENT else None


def parse_binding(args: list[str], community: Community, chat_id: int) -> Binding | Refused:
    """`/bind community`, `/bind compound <id>`, `/bind building <compound>/<name>`, `/bind role <role>`."""
    if not args:
        return Refused("bind_usage")
    kind_text, rest = args[0].lower(), " ".join(args[1:]).strip()
    try:
        kind = NodeKind(kind_text)
    except ValueError:
        return Refused("bind_usage")
    if kind is NodeKind.COMMUNITY:
        return Binding(chat_id, kind, "")
    if kind is NodeKind.COMPOUND:
        if community.compound(rest) is None:
            return Refused("unknown_compound", {"value": rest})
        return Binding(chat_id, kind, rest)
    if kind is NodeKind.BUILDING:
        if community.building(rest) is None:
            return Refused("unknown_building", {"value": rest})
        return Binding(chat_id, kind, rest)
    role = parse_role(rest) if rest else None
    if role is None:
        return Refused("unknown_role", {"value": rest})
    return Binding(chat_id, kind, role.value)


# The /bind menu: a kind, then (except for the whole community) one of its targets by index.
BIND_ROLES: tuple[Role, ...] = tuple(sorted(GRANTABLE_ROLES, key=lambda r: r.value))
BIND_BACK = "back"


@dataclass(frozen=True, slots=True)
class BindMenu:
    """What the /bind menu shows: the kinds (kind None), or the targets of one kind."""

    kind: NodeKind | None = None


def choose_bind_kind(choice: str, chat_id: int) -> BindMenu | Binding | None:
    """A kind pressed in the /bind menu: the whole community binds at once, another kind asks
    for its target, "back" shows the kinds again; anything else is None."""
    if choice == BIND_BACK:
        return BindMenu()
    if choice == NodeKind.COMMUNITY.value:
        return Binding(chat_id, NodeKind.COMMUNITY, "")
    if choice in {k.value for k in NodeKind}:
        return BindMenu(NodeKind(choice))
    return None


def choose_bind_target(
    kind: str, first: int, second: int, community: Community, chat_id: int
) -> Binding | None:
    """A target pressed in the /bind menu: a compound (first), a building (compound first,
    building second) or a role team (first, in `BIND_ROLES`); None if it does not exist."""
    if kind == "compound" and 0 <= first < len(community.compounds):
        return Binding(chat_id, NodeKind.COMPOUND, community.compounds[first].id)
    if kind == "building" and 0 <= first < len(community.compounds):
        buildings = community.compounds[first].buildings
        if 0 <= second < len(buildings):
            return Binding(chat_id, NodeKind.BUILDING, buildings[second].id)
    if kind == "role" and 0 <= first < len(BIND_ROLES):
        return Binding(chat_id, NodeKind.ROLE, BIND_ROLES[first].value)
    return None
