"""The simulator's data: users, groups, messages, files, button presses, and its errors.

Plain dataclasses with no behaviour beyond reading themselves; `linli.sim.state` keeps them.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from telegram import (
    User,
)

from linli.sim.entities import Entity

JSON = dict[str, Any]
Upload = tuple[str | None, bytes]
Files = dict[str, Upload]


class ApiError(Exception):
    """An error answer of the Bot API."""

    def __init__(self, status: int, description: str, **parameters: Any) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


class SimError(Exception):
    """The user side was asked for something a Telegram user could not do (no such button...)."""


@dataclass
class SimUser:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None

    def to_ptb(self) -> User:
        return User(
            self.id,
            self.first_name,
            is_bot=False,
            last_name=self.last_name,
            username=self.username,
            language_code=self.language_code,
        )

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name


@dataclass
class SimGroup:
    id: int
    title: str
    type: str = "supergroup"
    username: str | None = None
    # user id -> creator | administrator | member | left | kicked
    members: dict[int, str] = field(default_factory=dict)
    bot_status: str = "left"
    ever_had_bot: bool = False
    migrated_to: int | None = None

    @property
    def bot_present(self) -> bool:
        return self.bot_status in ("member", "administrator")

    def member_ids(self) -> list[int]:
        return [uid for uid, status in self.members.items() if status not in ("left", "kicked")]


@dataclass(frozen=True)
class Button:
    text: str
    callback_data: str | None = None
    url: str | None = None
    row: int = 0
    column: int = 0


@dataclass
class SimFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes = field(repr=False)
    mime_type: str
    file_name: str | None = None
    width: int = 0
    height: int = 0


@dataclass
class SentMessage:
    """One message in a chat, as it stands now (edits applied)."""

    chat_id: int
    message_id: int
    from_bot: bool
    sender_id: int
    date: datetime
    text: str | None = None
    entities: list[Entity] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[Entity] = field(default_factory=list)
    html: str | None = None  # the text or caption as the bot sent it, before parsing
    photo: SimFile | None = None
    document: SimFile | None = None
    location: tuple[float, float] | None = None
    sticker: str | None = None
    reply_markup: JSON | None = None
    reply_to: int | None = None
    service: JSON | None = None  # new_chat_members and the like
    forwarded_from: int | None = None
    deleted: bool = False
    edits: int = 0
    edit_date: datetime | None = None
    pinned: bool = False

    @property
    def content(self) -> str:
        """The text, or the caption of a media message ("" if neither)."""
        return self.text if self.text is not None else (self.caption or "")

    @property
    def has_photo(self) -> bool:
        return self.photo is not None

    @property
    def has_document(self) -> bool:
        return self.document is not None

    @property
    def has_location(self) -> bool:
        return self.location is not None

    @property
    def edited(self) -> bool:
        return self.edits > 0

    @property
    def buttons(self) -> list[list[Button]]:
        """The inline keyboard, row by row ([] if none)."""
        if not self.reply_markup or "inline_keyboard" not in self.reply_markup:
            return []
        return [
            [
                Button(b["text"], b.get("callback_data"), b.get("url"), r, c)
                for c, b in enumerate(row)
            ]
            for r, row in enumerate(self.reply_markup["inline_keyboard"])
        ]

    @property
    def labels(self) -> list[str]:
        return [b.text for row in self.buttons for b in row]


@dataclass(frozen=True)
class ChatEvent:
    """What happened in a chat, in order: sent, edited, deleted, pinned, action."""

    kind: str
    message_id: int | None
    at: float
    detail: str = ""


@dataclass(frozen=True)
class Alert:
    """The bot's answer to a button press (answerCallbackQuery)."""

    text: str | None
    show_alert: bool
    url: str | None = None


@dataclass(frozen=True)
class BotCall:
    method: str
    params: JSON
    files: tuple[str, ...]
    at: float
    status: int
    description: str = ""


@dataclass
class QueryRecord:
    """A button press (callback query) and the bot's answer to it, once given."""

    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answered: Alert | None = None


@dataclass
class ChatRecord:
    """One chat as Telegram keeps it: its messages in order, what happened, its reply keyboard."""

    id: int
    messages: dict[int, SentMessage] = field(default_factory=dict)
    order: list[int] = field(default_factory=list)
    next_id: int = 1
    events: list[ChatEvent] = field(default_factory=list)
    reply_keyboard: JSON | None = None


@dataclass
class Webhook:
    url: str
    secret_token: str | None
    max_connections: int = 40
    last_error: str | None = None
    last_error_date: datetime | None = None


def png_bytes(width: int, height: int, rgb: tuple[int, int, int] = (80, 160, 90)) -> bytes:
    """A small valid PNG of one colour (a stand-in for a resident's photo)."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(tag + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


def png_size(data: bytes) -> tuple[int, int]:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    return 320, 320
