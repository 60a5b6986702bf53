"""The tree hole (树洞): an anonymous message to the organizers, answered through a secret code.

Nothing here knows who wrote a message: the sender keeps a follow-up code, the database
keeps only its hash (see core.hazards.new_followup_code / followup_hash)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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


@dataclass(frozen=True, slots=True)
class TreeholeDraft:
    """/treehole's message, written but not sent yet (kept between messages)."""

    text: str = ""
    photo: str | None = None

    def to_data(self) -> dict[str, Any]:
        return {"text": self.text, "photo": self.photo}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> TreeholeDraft:
        photo = data.get("photo")
        return cls(str(data.get("text") or ""), str(photo) if photo else None)


@dataclass(frozen=True, slots=True)
class ReplyDraft:
    """An organizer's answer being written to message `message_id`."""

    message_id: int

    def to_data(self) -> dict[str, Any]:
        return {"message_id": self.message_id}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> ReplyDraft:
        # "mid": how a reply asked for before an upgrade was kept
        return cls(int(data.get("message_id", data.get("mid", 0))))
