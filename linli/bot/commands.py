"""Which commands exist, where they are offered and to whom (for /help and set_my_commands).

A command's description is the label `<feature>.cmd_<name>` in each locale.
"""

from __future__ import annotations

from dataclasses import dataclass

from linli.core.community import Role


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    feature: str
    private: bool = True
    group: bool = False
    role: Role | None = None  # shown only to members with this role (organizer-only commands)

    @property
    def label_key(self) -> str:
        return f"{self.feature}.cmd_{self.name}"
