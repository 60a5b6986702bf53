"""The tree hole (树洞): an anonymous message to the organizers, answered through a secret code.

Nothing here knows who wrote a message: the sender keeps a follow-up code, the database
keeps only its hash (see core.hazards.new_followup_code / followup_hash)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from linli.core.outcomes import Refused

MESSAGE_MAX_CHARS = 1500
REPLY_MAX_CHARS = 1000


@dataclass(frozen=True, slots=True)
class TreeholeMessage:
    id: int
    text: str
    photo: str | None
    created_at: datetime
    replies: int = 0

    @property
    def code(self) -> str:
        return format_code(self.id)


@dataclass(frozen=True, slots=True)
class TreeholeReply:
    message_id: int
    text: str
    created_at: datetime


def format_code(message_id: int) -> str:
    return f"T-{message_id:04d}"


def clean_message(text: str | None, *, has_photo: bool = False) -> str | Refused:
    body = (text or "").strip()
    if not body and not has_photo:
        return Refused("message_empty")
    if len(body) > MESSAGE_MAX_CHARS:
        return Refused("message_too_long", {"limit": MESSAGE_MAX_CHARS, "length": len(body)})
    return body


def clean_reply(text: str | None) -> str | Refused:
    body = (text or "").strip()
    if not body:
        return Refused("reply_empty")
    if len(body) > REPLY_MAX_CHARS:
        return Refused("reply_too_long", {"limit": REPLY_MAX_CHARS, "length": len(body)})
    return body
