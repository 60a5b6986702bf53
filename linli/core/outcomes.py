"""What a rule answers when it says no: a reason code that a template turns into words."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar


@dataclass(frozen=True, slots=True)
class Refused:
    """An action the rules do not allow; `reason` names the template text, `detail` fills it."""

    reason: str
    detail: dict[str, Any] = field(default_factory=dict)


class RefusedError(Exception):
    """Raised inside a storage transaction to roll it back and answer with a Refused."""

    def __init__(self, refused: Refused) -> None:
        super().__init__(refused.reason)
        self.refused = refused


T = TypeVar("T")


def checked(value: T | Refused) -> T:
    """A parsed value, or the refusal raised (so one `except RefusedError` says no to every
    bad input of a command)."""
    if isinstance(value, Refused):
        raise RefusedError(value)
    return value
