"""Compact, typed callback data: "<feature>:<action>:<arg>:...", at most 64 bytes.

Anything can arrive as callback data (old buttons, forwarded cards, forged payloads), so
`unpack` returns None for anything that does not parse exactly; the handler then answers
with the "button no longer valid" text and changes nothing.
"""

from __future__ import annotations

from typing import Any

CALLBACK_LIMIT = 64
SEP = ":"


class CallbackTooLong(ValueError):
    pass


def pack(feature: str, action: str, *args: str | int) -> str:
    parts = [feature, action, *(str(a) for a in args)]
    for part in parts:
        if SEP in part:
            raise ValueError(f"callback part {part!r} contains {SEP!r}")
    data = SEP.join(parts)
    if len(data.encode("utf-8")) > CALLBACK_LIMIT:
        raise CallbackTooLong(data)
    return data


def pattern(feature: str) -> str:
    """The CallbackQueryHandler pattern for one feature's buttons."""
    return rf"^{feature}{SEP}"


def unpack(data: str | None, feature: str, *types: type) -> tuple[Any, ...] | None:
    """(action, *args) converted to `types` (the action is a str), or None if malformed."""
    if not data:
        return None
    parts = data.split(SEP)
    if parts[0] != feature or len(parts) != len(types) + 2:
        return None
    out: list[Any] = [parts[1]]
    for raw, kind in zip(parts[2:], types, strict=True):
        if kind is int:
            if not raw.lstrip("-").isdigit() or len(raw) > 19:
                return None
            out.append(int(raw))
        else:
            out.append(kind(raw))
    return tuple(out)


def action_of(data: str | None, feature: str) -> str | None:
    """Just the action, to route before the arguments are checked."""
    if not data:
        return None
    parts = data.split(SEP)
    return parts[1] if len(parts) >= 2 and parts[0] == feature else None
