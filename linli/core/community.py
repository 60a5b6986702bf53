"""The community's shape: community -> compounds -> buildings -> households, and roles."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    RESIDENT = "resident"
    VOLUNTEER = "volunteer"
    BUILDING_LEADER = "building_leader"
    GRID_WORKER = "grid_worker"
    MOBILE_REPORTER = "mobile_reporter"
    PARTY_MEMBER = "party_member"
    ORGANIZER = "organizer"


# Roles an organizer may grant or revoke with /grant and /revoke ("resident" follows from a household).
GRANTABLE_ROLES: frozenset[Role] = frozenset(Role) - {Role.RESIDENT}


class NodeKind(StrEnum):
    """What a group chat can be bound to."""

    COMMUNITY = "community"
    COMPOUND = "compound"
    BUILDING = "building"
    ROLE = "role"


@dataclass(frozen=True, slots=True)
class Building:
    id: str  # "<compound id>/<building name>", stable across config edits that keep both names
    compound_id: str
    name: str
    # Where it stands (optional, from the config): the directory measures walks from here.
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True, slots=True)
class Compound:
    id: str
    name: str
    buildings: tuple[Building, ...]
    name_en: str = ""

    def title(self, locale: str) -> str:
        """The name in the reader's language (the Chinese one when there is no English one)."""
        return self.name_en if locale == "en" and self.name_en else self.name


@dataclass(frozen=True, slots=True)
class Community:
    name: str
    compounds: tuple[Compound, ...]
    name_en: str = ""
    # Lookups by id, built once: boards and cards name hundreds of buildings per message.
    _compounds: dict[str, Compound] = field(init=False, repr=False, compare=False)
    _buildings: dict[str, Building] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_compounds", {c.id: c for c in self.compounds})
        object.__setattr__(
            self, "_buildings", {b.id: b for c in self.compounds for b in c.buildings}
        )

    def title(self, locale: str) -> str:
        """The community's name in the reader's language (the Chinese one without an English one)."""
        return self.name_en if locale == "en" and self.name_en else self.name

    def compound(self, compound_id: str) -> Compound | None:
        return self._compounds.get(compound_id)

    def building(self, building_id: str) -> Building | None:
        return self._buildings.get(building_id)

    def all_buildings(self) -> tuple[Building, ...]:
        return tuple(b for c in self.compounds for b in c.buildings)


def building_id(compound_id: str, name: str) -> str:
    return f"{compound_id}/{name}"


@dataclass(frozen=True, slots=True)
class Binding:
    """A group chat bound to a node of the community or to a role team."""

    chat_id: int
    kind: NodeKind
    target: str  # "" for the community, a compound id, a building id, or a role name

    def covers_building(self, building: Building | None) -> bool:
        """Does a message for this building belong in this group?"""
        if self.kind is NodeKind.COMMUNITY:
            return True
        if building is None:
            return False
        if self.kind is NodeKind.COMPOUND:
            return building.compound_id == self.target
        if self.kind is NodeKind.BUILDING:
            return building.id == self.target
        return False
