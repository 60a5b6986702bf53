"""Members, households, roles, audiences and who may do what."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from linli.core.community import Binding, Building, Community, NodeKind, Role
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
    telegram_id: int | None  # None once the member used /forgetme
    name: str
    username: str | None
    locale: str | None  # the member's own choice; None = follow Telegram's language
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
    language_code: str | None = None  # Telegram's, as last seen

    def has(self, role: Role) -> bool:
        return role in self.roles

    @property
    def is_organizer(self) -> bool:
        return Role.ORGANIZER in self.roles

    def with_roles(self, extra: frozenset[Role]) -> Member:
        from dataclasses import replace

        return replace(self, roles=self.roles | extra)


def resolve_locale(chosen: str | None, telegram_code: str | None, default: str) -> str:
    """The member's choice, else Telegram's language, else the community's default."""
    if chosen in SUPPORTED_LOCALES:
        return chosen
    if telegram_code:
        code = telegram_code.lower()
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
    """What a /start deep link asks for: plain, rider, ref_<code>, report, checkin_<code>."""

    kind: str  # "plain" | "rider" | "referral" | "report" | "treehole" | "checkin" | "unknown"
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
    for prefix, kind in (("ref_", "referral"), ("checkin_", "checkin"), ("space_", "space")):
        if payload.startswith(prefix) and len(payload) > len(prefix):
            return StartIntent(kind, payload[len(prefix) :])
    return StartIntent("unknown")


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
