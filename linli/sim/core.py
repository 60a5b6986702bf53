"""An in-memory Telegram Bot API, strict where Telegram is strict, with a user side for tests.

The bot side is `Simulator.call(token, method, params, files) -> (http_status, json_body)`:
the same answers the Bot API gives, built from python-telegram-bot's own classes so every
required field is present. `linli.sim.request.SimRequest` routes a PTB `Bot` here in-process;
`linli.sim.server` exposes it over HTTP on 127.0.0.1.

The user side is plain Python: create users and groups, open a private chat (`/start`),
send text, photos, locations, press inline buttons by label, add and remove the bot; then
read back what the bot sent with `transcript(chat_id)` (edits applied, deletions flagged).

What it checks, as Telegram does: text 1-4096 characters and captions up to 1024 after
entity parsing, `parse_mode=HTML` (tag set and escaping), callback_data 1-64 bytes,
inline keyboard shape, "message is not modified", unknown or already answered callback
queries, 403 for users who never opened the chat or blocked the bot and for groups the
bot is not in, 400 "chat not found", and (with `flood_limits=True`) 30 messages per second
per bot, 20 per minute per group and, per private chat, a burst of 5 then one a second,
answered with 429 and `retry_after`. Groups follow
privacy mode by default: the bot only receives commands, replies to its own messages and
service messages, unless it is an administrator.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import re
import struct
import time
import unicodedata
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from telegram import (
    AcceptedGiftTypes,
    BotCommand,
    Chat,
    ChatFullInfo,
    ChatMember,
    ChatMemberAdministrator,
    ChatMemberBanned,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberOwner,
    Document,
    File,
    InlineKeyboardMarkup,
    Location,
    Message,
    MessageEntity,
    MessageOriginUser,
    PhotoSize,
    Sticker,
    User,
    WebhookInfo,
)

from linli.sim.entities import Entity, EntityParseError, parse_html, plain_entities

JSON = dict[str, Any]
Upload = tuple[str | None, bytes]
Files = dict[str, Upload]
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_ANSWER_LIMIT = 200
BOT_MESSAGES_PER_SECOND = 30
GROUP_MESSAGES_PER_MINUTE = 20
# One private chat: a short burst, then about one message a second (a token bucket).
PRIVATE_BURST = 5
PRIVATE_MESSAGES_PER_SECOND = 1.0
# Updates Telegram sends when allowed_updates is empty: everything but these.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "callback_game",
    "pay",
    "web_app",
    "copy_text",
)
_INT_PARAMS = frozenset(
    {
        "message_id",
        "user_id",
        "offset",
        "limit",
        "timeout",
        "from_chat_id",
        "reply_to_message_id",
        "message_thread_id",
        "cache_time",
        "max_connections",
        "live_period",
        "heading",
        "proximity_alert_radius",
    }
)
_FLOAT_PARAMS = frozenset({"latitude", "longitude", "horizontal_accuracy"})
_BOOL_PARAMS = frozenset(
    {
        "show_alert",
        "disable_notification",
        "protect_content",
        "drop_pending_updates",
        "disable_web_page_preview",
        "allow_sending_without_reply",
        "has_spoiler",
        "disable_content_type_detection",
        "only_if_banned",
        "revoke_messages",
    }
)
_JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "allowed_updates",
        "commands",
        "scope",
        "link_preview_options",
        "reply_parameters",
        "media",
        "message_ids",
    }
)


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
class _Query:
    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    answered: Alert | None = None


@dataclass
class _Chat:
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


def _png_size(data: bytes) -> tuple[int, int]:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    return 320, 320


def normalize_params(params: dict[str, Any]) -> JSON:
    """Bot API parameters arrive as strings (form, query) or JSON values; give them their types."""
    out: JSON = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, str):
            if key in _JSON_PARAMS:
                try:
                    value = json.loads(value)
                except ValueError:
                    raise bad_request(f"can't parse {key} JSON object") from None
            elif key in _INT_PARAMS or key == "chat_id":
                value = _to_int(key, value)
            elif key in _FLOAT_PARAMS:
                try:
                    value = float(value)
                except ValueError:
                    raise bad_request(f"wrong {key} specified") from None
            elif key in _BOOL_PARAMS:
                value = value.strip().lower() in ("true", "1")
        out[key] = value
    return out


def _to_int(key: str, value: str) -> int | str:
    try:
        return int(value)
    except ValueError:
        if key == "chat_id" and value.startswith("@"):
            return value
        raise bad_request(f"invalid {key} specified") from None


class Simulator:
    """One bot, its users, groups and chats, all in memory."""

    def __init__(
        self,
        token: str = "123:TEST",
        *,
        bot_username: str = "linli_test_bot",
        bot_name: str = "邻里",
        flood_limits: bool = False,
        privacy_mode: bool = True,
        clock: Callable[[], datetime] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.flood_limits = flood_limits
        self.privacy_mode = privacy_mode
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.monotonic = monotonic
        self.users: dict[int, SimUser] = {}
        self.groups: dict[int, SimGroup] = {}
        self.started: set[int] = set()
        self.blocked: set[int] = set()
        self.calls: list[BotCall] = []
        self.flood_429s = 0
        self.polls = 0  # getUpdates calls (they are not recorded in `calls`)
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.webhook: Webhook | None = None
        self.allowed_updates: frozenset[str] | None = None  # None: Telegram's default set
        self.files: dict[str, SimFile] = {}
        self._chats: dict[int, _Chat] = {}
        self._queries: dict[str, _Query] = {}
        self._pending: list[JSON] = []
        self._all_updates: dict[int, JSON] = {}
        self._update_ids = itertools.count(1)
        self._query_ids = itertools.count(4_000_000_001)
        self._file_ids = itertools.count(1)
        self._arrival = asyncio.Event()
        self._poller = 0
        self._waiting = 0
        self._bot_sends: deque[float] = deque()
        self._group_sends: dict[int, deque[float]] = {}
        self._private_allowance: dict[int, tuple[float, float]] = {}  # (messages, at)
        self.on_update: Callable[[JSON], None] | None = None
        # Every message the bot sent, in order across chats (tests read "what came back").
        self.sent_log: list[SentMessage] = []
        # Calls Telegram refuses that a bot can only make by mistake (a second answer to one
        # button press): the bot may swallow the 400, so the harness fails the test on these.
        self.violations: list[str] = []

    # ------------------------------------------------------------------ bot side

    async def call(
        self,
        token: str,
        method: str,
        params: dict[str, Any],
        files: dict[str, bytes] | Files | None = None,
    ) -> tuple[int, JSON]:
        """Answer one Bot API request: (HTTP status, JSON body).

        `files` maps a multipart part name to its bytes, or to (file name, bytes).
        """
        files = {
            name: value if isinstance(value, tuple) else (None, value)
            for name, value in (files or {}).items()
        }
        key = method.lower()
        try:
            if token != self.token:
                raise ApiError(401, "Unauthorized")
            handler = getattr(self, f"_api_{key}", None)
            if handler is None:
                raise ApiError(404, "Not Found")
            typed = normalize_params(params)
            result = await handler(typed, files)
        except ApiError as exc:
            self._record(method, params, files, exc.status, exc.description)
            if exc.status == 429:
                self.flood_429s += 1
            return exc.status, exc.body()
        self._record(method, params, files, 200)
        return 200, {"ok": True, "result": result}

    def _record(
        self, method: str, params: dict[str, Any], files: Files, status: int, desc: str = ""
    ) -> None:
        if method.lower() == "getupdates":
            return  # long polls would drown every other call
        self.calls.append(
            BotCall(method, dict(params), tuple(files), self.monotonic(), status, desc)
        )

    def count(self, method: str, *, ok_only: bool = True) -> int:
        """How many times the bot called `method` (successfully, by default)."""
        return sum(
            1
            for c in self.calls
            if c.method.lower() == method.lower() and (c.status == 200 or not ok_only)
        )

    # --- identity and updates

    def bot_user(self) -> User:
        return User(
            self.bot_id,
            self.bot_name,
            is_bot=True,
            username=self.bot_username,
            can_join_groups=True,
            can_read_all_group_messages=not self.privacy_mode,
            supports_inline_queries=False,
        )

    async def _api_getme(self, p: JSON, f: Files) -> JSON:
        return self.bot_user().to_dict()

    async def _api_logout(self, p: JSON, f: Files) -> bool:
        return True

    async def _api_close(self, p: JSON, f: Files) -> bool:
        return True

    async def _api_getupdates(self, p: JSON, f: Files) -> list[JSON]:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active;"
                " use deleteWebhook to delete the webhook first",
            )
        self._set_allowed(p.get("allowed_updates"))
        offset = int(p.get("offset", 0))
        if offset > 0:
            self.confirm(offset - 1)
        elif offset < 0:
            self._pending = self._pending[offset:]
        self.polls += 1
        limit = min(max(int(p.get("limit", 100)), 1), 100)
        timeout = max(float(p.get("timeout", 0)), 0.0)
        self._poller += 1
        me = self._poller
        if self._waiting:
            self._wake()  # a second poller ends the first, as on Telegram
        if not self._pending and timeout > 0:
            arrival = self._arrival
            self._waiting += 1
            try:
                await asyncio.wait_for(arrival.wait(), timeout)
            except TimeoutError:
                pass
            finally:
                self._waiting -= 1
            if self._poller != me:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request;"
                    " make sure that only one bot instance is running",
                )
        return [dict(u) for u in self._pending[:limit]]

    def _set_allowed(self, allowed: Any) -> None:
        if allowed is None:
            return
        self.allowed_updates = frozenset(allowed) if allowed else None

    def confirm(self, up_to_update_id: int) -> None:
        """Forget pending updates up to this id (getUpdates' offset, a webhook's 200)."""
        self._pending = [u for u in self._pending if u["update_id"] > up_to_update_id]

    def pending_updates(self) -> list[JSON]:
        return [dict(u) for u in self._pending]

    def take_updates(self) -> list[JSON]:
        """Every pending update, confirmed at once (the in-process harness's getUpdates)."""
        taken, self._pending = self._pending, []
        return taken

    async def wait_for_updates(self, seconds: float) -> list[JSON]:
        """Pending updates, waiting up to `seconds` for one (webhook delivery)."""
        if not self._pending and seconds > 0:
            arrival = self._arrival
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(arrival.wait(), seconds)
        return [dict(u) for u in self._pending]

    def _wants(self, kind: str) -> bool:
        if self.allowed_updates is None:
            return kind not in _OPT_IN_UPDATES
        return kind in self.allowed_updates

    def _enqueue(self, kind: str, payload: JSON) -> JSON | None:
        if not self._wants(kind):
            return None
        update_id = next(self._update_ids)
        update: JSON = {"update_id": update_id, kind: payload}
        self._all_updates[update_id] = update
        self._push(update)
        return update

    def _wake(self) -> None:
        arrival, self._arrival = self._arrival, asyncio.Event()
        arrival.set()

    def _push(self, update: JSON) -> None:
        self._pending.append(update)
        self._wake()
        if self.on_update is not None:
            self.on_update(update)

    def redeliver(self, update_id: int | None = None) -> JSON:
        """Queue an update again with the same update_id (Telegram's redelivery after a crash)."""
        if not self._all_updates:
            raise SimError("no update has been sent yet")
        uid = update_id if update_id is not None else max(self._all_updates)
        if uid not in self._all_updates:
            raise SimError(f"no update {uid}")
        update: JSON = json.loads(json.dumps(self._all_updates[uid]))
        self._push(update)
        return update

    @property
    def last_update(self) -> JSON | None:
        return self._all_updates[max(self._all_updates)] if self._all_updates else None

    # --- webhooks

    async def _api_setwebhook(self, p: JSON, f: Files) -> bool:
        url = str(p.get("url", "")).strip()
        if p.get("drop_pending_updates"):
            self._pending.clear()
        self._set_allowed(p.get("allowed_updates"))
        if not url:
            self.webhook = None
            return True
        local = re.match(r"^http://(127\.0\.0\.1|localhost)(:\d+)?/", url + "/")
        if not url.startswith("https://") and not local:
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = p.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise bad_request("bad webhook: secret token contains unallowed characters")
        self.webhook = Webhook(url, secret, int(p.get("max_connections", 40)))
        self._poller += 1  # a waiting getUpdates ends
        self._wake()
        return True

    async def _api_deletewebhook(self, p: JSON, f: Files) -> bool:
        self.webhook = None
        if p.get("drop_pending_updates"):
            self._pending.clear()
        return True

    async def _api_getwebhookinfo(self, p: JSON, f: Files) -> JSON:
        hook = self.webhook
        info = WebhookInfo(
            url=hook.url if hook else "",
            has_custom_certificate=False,
            pending_update_count=len(self._pending),
            max_connections=hook.max_connections if hook else None,
            allowed_updates=sorted(self.allowed_updates) if self.allowed_updates else None,
            last_error_date=hook.last_error_date if hook else None,
            last_error_message=hook.last_error if hook else None,
        )
        return info.to_dict()

    def webhook_failed(self, message: str) -> None:
        if self.webhook is not None:
            self.webhook.last_error = message
            self.webhook.last_error_date = self.clock()

    # --- chats: who may be written to

    def _chat(self, chat_id: int) -> _Chat:
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._chats[chat_id] = _Chat(chat_id)
        return chat

    def _resolve_chat_id(self, value: Any) -> int:
        if isinstance(value, str) and value.startswith("@"):
            name = value[1:].lower()
            for group in self.groups.values():
                if group.username and group.username.lower() == name:
                    return group.id
            raise bad_request("chat not found")
        if not isinstance(value, int) or isinstance(value, bool):
            raise bad_request("chat_id is empty" if value in (None, "") else "chat not found")
        return value

    def _writable(self, raw_chat_id: Any) -> int:
        """The chat id, if the bot may send there now; else the Bot API's refusal."""
        chat_id = self._resolve_chat_id(raw_chat_id)
        if chat_id > 0:
            if chat_id not in self.users:
                raise bad_request("chat not found")
            if chat_id in self.blocked:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if chat_id not in self.started:
                raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
            return chat_id
        group = self.groups.get(chat_id)
        if group is None:
            raise bad_request("chat not found")
        if group.migrated_to is not None:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                migrate_to_chat_id=group.migrated_to,
            )
        kind = "supergroup chat" if group.type == "supergroup" else "group chat"
        if group.bot_status == "kicked" or (group.bot_status == "left" and group.ever_had_bot):
            raise ApiError(403, f"Forbidden: bot was kicked from the {kind}")
        if not group.bot_present:
            raise ApiError(403, f"Forbidden: bot is not a member of the {kind}")
        return chat_id

    def _readable(self, raw_chat_id: Any) -> int:
        """getChat and friends: like _writable, but a blocked user's chat can still be read."""
        chat_id = self._resolve_chat_id(raw_chat_id)
        if chat_id > 0:
            if chat_id not in self.users or (
                chat_id not in self.started and chat_id not in self.blocked
            ):
                raise bad_request("chat not found")
            return chat_id
        return self._writable(chat_id)

    def _flood(self, chat_id: int, count: int = 1) -> None:
        if not self.flood_limits:
            return
        now = self.monotonic()
        sends = self._bot_sends
        while sends and sends[0] <= now - 1.0:
            sends.popleft()
        if len(sends) + count > BOT_MESSAGES_PER_SECOND:
            wait = max(1, math.ceil(sends[0] + 1.0 - now))
            raise ApiError(429, f"Too Many Requests: retry after {wait}", retry_after=wait)
        group_sends = self._group_sends.setdefault(chat_id, deque()) if chat_id < 0 else None
        if group_sends is not None:
            while group_sends and group_sends[0] <= now - 60.0:
                group_sends.popleft()
            if len(group_sends) + count > GROUP_MESSAGES_PER_MINUTE:
                wait = max(1, math.ceil(group_sends[0] + 60.0 - now))
                raise ApiError(429, f"Too Many Requests: retry after {wait}", retry_after=wait)
            group_sends.extend([now] * count)
        if chat_id > 0:
            left, at = self._private_allowance.get(chat_id, (PRIVATE_BURST, now))
            left = min(PRIVATE_BURST, left + (now - at) * PRIVATE_MESSAGES_PER_SECOND)
            need = min(count, PRIVATE_BURST)  # a media group of more goes once the burst is back
            if left < need - 1e-9:
                wait = max(1, math.ceil((need - left) / PRIVATE_MESSAGES_PER_SECOND))
                raise ApiError(429, f"Too Many Requests: retry after {wait}", retry_after=wait)
            self._private_allowance[chat_id] = (left - need, now)
        sends.extend([now] * count)

    def _event(self, chat_id: int, kind: str, message_id: int | None, detail: str = "") -> None:
        self._chat(chat_id).events.append(ChatEvent(kind, message_id, self.monotonic(), detail))

    # --- PTB shapes

    def ptb_chat(self, chat_id: int) -> Chat:
        if chat_id > 0:
            user = self.users[chat_id]
            return Chat(
                chat_id,
                Chat.PRIVATE,
                username=user.username,
                first_name=user.first_name,
                last_name=user.last_name,
            )
        group = self.groups[chat_id]
        return Chat(chat_id, group.type, title=group.title, username=group.username)

    def _sender(self, message: SentMessage) -> User:
        return self.bot_user() if message.from_bot else self.users[message.sender_id].to_ptb()

    def message_dict(self, message: SentMessage, *, with_reply: bool = True) -> JSON:
        """The message as the Bot API returns it (and as updates carry it)."""
        reply_to: Message | None = None
        if with_reply and message.reply_to is not None:
            original = self._chat(message.chat_id).messages.get(message.reply_to)
            if original is not None and not original.deleted:
                reply_to = Message.de_json(self.message_dict(original, with_reply=False), None)
        markup = None
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            markup = InlineKeyboardMarkup.de_json(message.reply_markup, None)
        origin = None
        if message.forwarded_from is not None:
            origin = MessageOriginUser(message.date, self.bot_user())
        built = Message(
            message.message_id,
            message.date,
            self.ptb_chat(message.chat_id),
            from_user=self._sender(message),
            text=message.text,
            entities=[_ptb_entity(e) for e in message.entities] or None,
            caption=message.caption,
            caption_entities=[_ptb_entity(e) for e in message.caption_entities] or None,
            photo=self._photo_sizes(message.photo) if message.photo else None,
            document=self._document(message.document) if message.document else None,
            location=(
                Location(longitude=message.location[1], latitude=message.location[0])
                if message.location
                else None
            ),
            sticker=(
                Sticker(
                    "sticker-" + str(message.message_id),
                    "su" + str(message.message_id),
                    512,
                    512,
                    is_animated=False,
                    is_video=False,
                    type=Sticker.REGULAR,
                    emoji=message.sticker,
                )
                if message.sticker
                else None
            ),
            reply_markup=markup,
            reply_to_message=reply_to,
            edit_date=message.edit_date,
            forward_origin=origin,
        )
        data = built.to_dict()
        if message.service:
            data.update(message.service)
        return data

    def _photo_sizes(self, file: SimFile) -> list[PhotoSize]:
        thumb = PhotoSize(
            file.file_id + "-s", file.file_unique_id + "s", 90, 90, file_size=len(file.data) // 4
        )
        full = PhotoSize(
            file.file_id, file.file_unique_id, file.width, file.height, file_size=len(file.data)
        )
        return [thumb, full]

    def _document(self, file: SimFile) -> Document:
        return Document(
            file.file_id,
            file.file_unique_id,
            file_name=file.file_name,
            mime_type=file.mime_type,
            file_size=len(file.data),
        )

    # --- sending

    def _new_message(self, chat_id: int, *, from_bot: bool, sender_id: int) -> SentMessage:
        chat = self._chat(chat_id)
        message = SentMessage(chat_id, chat.next_id, from_bot, sender_id, self._now())
        chat.next_id += 1
        chat.messages[message.message_id] = message
        chat.order.append(message.message_id)
        return message

    def _now(self) -> datetime:
        return self.clock().replace(microsecond=0)

    def _parse(
        self, text: Any, parse_mode: Any, entities: Any, *, caption: bool
    ) -> tuple[str, list[Entity]]:
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        try:
            if entities:
                plain, found = plain_entities(text)
                found = [
                    Entity(e["type"], int(e["offset"]), int(e["length"]), e.get("url"))
                    for e in entities
                ]
            elif parse_mode in (None, ""):
                plain, found = plain_entities(text)
            elif str(parse_mode).lower() == "html":
                plain, found = parse_html(text)
            elif str(parse_mode) in ("Markdown", "MarkdownV2"):
                plain, found = plain_entities(text)  # not modelled: taken as plain text
            else:
                raise bad_request("unsupported parse_mode")
        except EntityParseError as exc:
            raise bad_request(str(exc)[:1].lower() + str(exc)[1:]) from None
        limit = CAPTION_LIMIT if caption else TEXT_LIMIT
        if len(plain) > limit:
            raise bad_request("message caption is too long" if caption else "message is too long")
        if not plain and not caption:
            raise bad_request("message text is empty")
        return plain, found

    def _check_markup(self, markup: Any) -> JSON | None:
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise bad_request(
                    'field "inline_keyboard" of the InlineKeyboardMarkup'
                    " should be an Array of Arrays"
                )
            if sum(len(r) for r in rows) > 100:
                raise bad_request("reply markup is too long")
            for row in rows:
                for button in row:
                    _check_inline_button(button)
            return markup
        if "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise bad_request(
                    'field "keyboard" of the ReplyKeyboardMarkup should be an Array of Arrays'
                )
            for row in rows:
                for button in row:
                    label = button if isinstance(button, str) else button.get("text", "")
                    if not str(label).strip():
                        raise bad_request("keyboard button text is empty")
            return markup
        if markup.get("remove_keyboard") or markup.get("force_reply"):
            return markup
        if markup == {}:
            return None
        raise bad_request("can't parse reply keyboard markup JSON object")

    def _apply_keyboard(self, chat_id: int, markup: JSON | None) -> None:
        if markup is None:
            return
        if "keyboard" in markup:
            self._chat(chat_id).reply_keyboard = markup
        elif markup.get("remove_keyboard"):
            self._chat(chat_id).reply_keyboard = None

    def _reply_target(self, chat_id: int, p: JSON) -> int | None:
        params = p.get("reply_parameters")
        target = p.get("reply_to_message_id")
        allow = bool(p.get("allow_sending_without_reply"))
        if isinstance(params, dict):
            target = params.get("message_id")
            allow = allow or bool(params.get("allow_sending_without_reply"))
        if target is None:
            return None
        existing = self._chat(chat_id).messages.get(int(target))
        if existing is None or existing.deleted:
            if allow:
                return None
            raise bad_request("message to be replied not found")
        return int(target)

    def _store_bot_message(self, chat_id: int, p: JSON, markup: JSON | None) -> SentMessage:
        reply_to = self._reply_target(chat_id, p)
        message = self._new_message(chat_id, from_bot=True, sender_id=self.bot_id)
        self.sent_log.append(message)
        message.reply_to = reply_to
        message.reply_markup = markup if markup and "inline_keyboard" in markup else None
        self._apply_keyboard(chat_id, markup)
        return message

    async def _api_sendmessage(self, p: JSON, f: Files) -> JSON:
        chat_id = self._writable(p.get("chat_id"))
        text, entities = self._parse(
            p.get("text"), p.get("parse_mode"), p.get("entities"), caption=False
        )
        markup = self._check_markup(p.get("reply_markup"))
        self._flood(chat_id)
        message = self._store_bot_message(chat_id, p, markup)
        message.text, message.entities, message.html = text, entities, str(p.get("text"))
        self._event(chat_id, "sent", message.message_id)
        return self.message_dict(message)

    def _input_file(self, p: JSON, f: Files, key: str, kind: str) -> SimFile:
        value = p.get(key)
        upload_name = key
        if isinstance(value, str) and value.startswith("attach://"):
            upload_name = value.removeprefix("attach://")
        if upload_name in f:
            name, data = f[upload_name]
            return self.register_file(data, kind, file_name=name)
        if isinstance(value, str) and value:
            if value in self.files:
                return self.files[value]
            if value.startswith(("http://", "https://")):
                return self.register_file(png_bytes(8, 8), kind, file_name=value.rsplit("/", 1)[-1])
            raise bad_request("wrong file identifier/HTTP URL specified")
        raise bad_request(f"there is no {key} in the request")

    def register_file(
        self,
        data: bytes,
        kind: str = "photo",
        *,
        file_name: str | None = None,
        mime: str | None = None,
    ) -> SimFile:
        """Store bytes as a Telegram file (for getFile and the download route)."""
        number = next(self._file_ids)
        is_png = data[:8] == b"\x89PNG\r\n\x1a\n"
        ext = ".png" if is_png else ".jpg" if kind == "photo" else ""
        if file_name and "." in file_name and not is_png:
            ext = "." + file_name.rsplit(".", 1)[1]
        folder = "photos" if kind == "photo" else "documents"
        width, height = _png_size(data) if kind == "photo" else (0, 0)
        file = SimFile(
            file_id=f"AgAC{kind[:3]}{number:06d}",
            file_unique_id=f"AQAD{number:06d}",
            file_path=f"{folder}/file_{number}{ext}",
            data=data,
            mime_type=mime or ("image/png" if is_png else "application/octet-stream"),
            file_name=file_name,
            width=width,
            height=height,
        )
        self.files[file.file_id] = file
        return file

    async def _send_media(self, p: JSON, f: Files, kind: str) -> JSON:
        chat_id = self._writable(p.get("chat_id"))
        caption = p.get("caption")
        text, entities = _no_text()
        if caption:
            text, entities = self._parse(
                caption, p.get("parse_mode"), p.get("caption_entities"), caption=True
            )
        markup = self._check_markup(p.get("reply_markup"))
        file = self._input_file(p, f, kind, kind)
        self._flood(chat_id)
        message = self._store_bot_message(chat_id, p, markup)
        if kind == "photo":
            message.photo = file
        else:
            message.document = file
        if text:
            message.caption, message.caption_entities, message.html = text, entities, str(caption)
        self._event(chat_id, "sent", message.message_id, kind)
        return self.message_dict(message)

    async def _api_sendphoto(self, p: JSON, f: Files) -> JSON:
        return await self._send_media(p, f, "photo")

    async def _api_senddocument(self, p: JSON, f: Files) -> JSON:
        return await self._send_media(p, f, "document")

    async def _api_sendmediagroup(self, p: JSON, f: Files) -> list[JSON]:
        chat_id = self._writable(p.get("chat_id"))
        media = p.get("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise bad_request("wrong number of messages specified; must be between 2 and 10")
        prepared: list[tuple[str, SimFile, str, list[Entity], str | None]] = []
        for item in media:
            kind = item.get("type")
            if kind not in ("photo", "document"):
                raise bad_request(f"unsupported media type {kind!r} in the simulator")
            file = self._input_file({"media": item.get("media")}, f, "media", kind)
            caption = item.get("caption")
            text, entities = _no_text()
            if caption:
                text, entities = self._parse(
                    caption,
                    item.get("parse_mode", p.get("parse_mode")),
                    item.get("caption_entities"),
                    caption=True,
                )
            prepared.append((kind, file, text, entities, caption))
        self._flood(chat_id, len(prepared))
        out = []
        for kind, file, text, entities, caption in prepared:
            message = self._store_bot_message(chat_id, p, None)
            if kind == "photo":
                message.photo = file
            else:
                message.document = file
            if text:
                message.caption, message.caption_entities, message.html = text, entities, caption
            self._event(chat_id, "sent", message.message_id, kind)
            out.append(self.message_dict(message))
        return out

    async def _api_sendlocation(self, p: JSON, f: Files) -> JSON:
        chat_id = self._writable(p.get("chat_id"))
        lat, lon = p.get("latitude"), p.get("longitude")
        if not isinstance(lat, int | float) or not -90 <= lat <= 90:
            raise bad_request("wrong latitude specified")
        if not isinstance(lon, int | float) or not -180 <= lon <= 180:
            raise bad_request("wrong longitude specified")
        markup = self._check_markup(p.get("reply_markup"))
        self._flood(chat_id)
        message = self._store_bot_message(chat_id, p, markup)
        message.location = (float(lat), float(lon))
        self._event(chat_id, "sent", message.message_id, "location")
        return self.message_dict(message)

    async def _api_sendchataction(self, p: JSON, f: Files) -> bool:
        chat_id = self._writable(p.get("chat_id"))
        action = p.get("action")
        if action not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self._event(chat_id, "action", None, str(action))
        return True

    # --- editing

    def _own_message(self, p: JSON, verb: str = "edit") -> SentMessage:
        if p.get("inline_message_id"):
            raise bad_request("inline messages are not modelled by the simulator")
        chat_id = self._writable(p.get("chat_id"))
        message_id = p.get("message_id")
        if not isinstance(message_id, int):
            raise bad_request("message identifier is not specified")
        message = self._chat(chat_id).messages.get(message_id)
        if message is None or message.deleted:
            raise bad_request(f"message to {verb} not found")
        if not message.from_bot:
            raise bad_request(f"message can't be {verb}ed")
        return message

    def _finish_edit(
        self,
        message: SentMessage,
        *,
        text: str | None,
        entities: list[Entity],
        html: str | None,
        markup: JSON | None,
        caption: bool = False,
    ) -> JSON:
        new_markup = markup if markup and "inline_keyboard" in markup else None
        current_text = message.caption if caption else message.text
        current_entities = message.caption_entities if caption else message.entities
        same_text = text is None or (text == (current_text or "") and entities == current_entities)
        if same_text and new_markup == message.reply_markup:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are"
                " exactly the same as a current content and reply markup of the message"
            )
        if text is not None:
            if caption:
                message.caption, message.caption_entities = text or None, entities
            else:
                message.text, message.entities = text, entities
            message.html = html
        message.reply_markup = new_markup
        message.edits += 1
        message.edit_date = self._now()
        self._event(message.chat_id, "edited", message.message_id)
        return self.message_dict(message)

    async def _api_editmessagetext(self, p: JSON, f: Files) -> JSON:
        message = self._own_message(p)
        if message.text is None:
            raise bad_request("there is no text in the message to edit")
        text, entities = self._parse(
            p.get("text"), p.get("parse_mode"), p.get("entities"), caption=False
        )
        # Like Telegram: an edit without reply_markup removes the inline keyboard.
        markup = self._check_markup(p.get("reply_markup"))
        return self._finish_edit(
            message, text=text, entities=entities, html=str(p.get("text")), markup=markup
        )

    async def _api_editmessagecaption(self, p: JSON, f: Files) -> JSON:
        message = self._own_message(p)
        if message.photo is None and message.document is None:
            raise bad_request("there is no caption in the message to edit")
        caption = p.get("caption")
        text, entities = _no_text()
        if caption:
            text, entities = self._parse(
                caption, p.get("parse_mode"), p.get("caption_entities"), caption=True
            )
        markup = self._check_markup(p.get("reply_markup"))
        return self._finish_edit(
            message,
            text=text,
            entities=entities,
            html=str(caption) if caption else None,
            markup=markup,
            caption=True,
        )

    async def _api_editmessagereplymarkup(self, p: JSON, f: Files) -> JSON:
        message = self._own_message(p)
        markup = self._check_markup(p.get("reply_markup"))
        return self._finish_edit(message, text=None, entities=[], html=None, markup=markup)

    async def _api_deletemessage(self, p: JSON, f: Files) -> bool:
        chat_id = self._readable(p.get("chat_id"))
        message_id = p.get("message_id")
        message = (
            self._chat(chat_id).messages.get(message_id) if isinstance(message_id, int) else None
        )
        if message is None or message.deleted:
            raise bad_request("message to delete not found")
        if (
            chat_id < 0
            and not message.from_bot
            and self.groups[chat_id].bot_status != "administrator"
        ):
            raise bad_request("message can't be deleted")
        message.deleted = True
        self._event(chat_id, "deleted", message.message_id)
        return True

    async def _api_pinchatmessage(self, p: JSON, f: Files) -> bool:
        chat_id = self._writable(p.get("chat_id"))
        if chat_id < 0 and self.groups[chat_id].bot_status != "administrator":
            raise bad_request("not enough rights to manage pinned messages in the chat")
        message_id = p.get("message_id")
        message = (
            self._chat(chat_id).messages.get(message_id) if isinstance(message_id, int) else None
        )
        if message is None or message.deleted:
            raise bad_request("message to pin not found")
        message.pinned = True
        self._event(chat_id, "pinned", message.message_id)
        return True

    async def _api_unpinchatmessage(self, p: JSON, f: Files) -> bool:
        chat_id = self._writable(p.get("chat_id"))
        for message in self._chat(chat_id).messages.values():
            if p.get("message_id") in (None, message.message_id):
                message.pinned = False
        return True

    # --- callback queries

    async def _api_answercallbackquery(self, p: JSON, f: Files) -> bool:
        query = self._queries.get(str(p.get("callback_query_id", "")))
        if query is not None and query.answered is not None:
            self.violations.append(
                f"button press {query.id} ({query.data!r}) answered twice:"
                f" {query.answered.text!r}, then {p.get('text')!r}"
            )
        if query is None or query.answered is not None:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = p.get("text")
        if text is not None and len(str(text)) > CALLBACK_ANSWER_LIMIT:
            raise bad_request("MESSAGE_TOO_LONG")
        query.answered = Alert(
            str(text) if text is not None else None, bool(p.get("show_alert")), p.get("url")
        )
        return True

    # --- commands

    async def _api_setmycommands(self, p: JSON, f: Files) -> bool:
        commands = p.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request(
                "too many commands" if isinstance(commands, list) else "commands not specified"
            )
        for command in commands:
            name = str(command.get("command", ""))
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise bad_request("BOT_COMMAND_INVALID")
            description = str(command.get("description", ""))
            if not 1 <= len(description.strip()) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[self._command_key(p)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    async def _api_getmycommands(self, p: JSON, f: Files) -> list[JSON]:
        return [BotCommand(**c).to_dict() for c in self.commands.get(self._command_key(p), [])]

    async def _api_deletemycommands(self, p: JSON, f: Files) -> bool:
        self.commands.pop(self._command_key(p), None)
        return True

    def _command_key(self, p: JSON) -> tuple[str, str]:
        scope = p.get("scope") or {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in (
            "default",
            "all_private_chats",
            "all_group_chats",
            "all_chat_administrators",
            "chat",
            "chat_administrators",
            "chat_member",
        ):
            raise bad_request("can't parse BotCommandScope")
        if "chat_id" in scope:
            self._readable(scope["chat_id"])
        language = str(p.get("language_code") or "")
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise bad_request("invalid language code specified")
        return scope_key(scope), language

    def commands_for(self, scope: dict[str, Any] | None = None, language: str = "") -> list[str]:
        """The command names set for a scope and language (e.g. {"type": "all_private_chats"})."""
        return [
            c["command"]
            for c in self.commands.get((scope_key(scope or {"type": "default"}), language), [])
        ]

    # --- chats and members

    async def _api_getchat(self, p: JSON, f: Files) -> JSON:
        chat_id = self._readable(p.get("chat_id"))
        base = self.ptb_chat(chat_id)
        info = ChatFullInfo(
            chat_id,
            base.type,
            accent_color_id=0,
            max_reaction_count=11,
            accepted_gift_types=AcceptedGiftTypes(False, False, False, False, False),
            title=base.title,
            username=base.username,
            first_name=base.first_name,
            last_name=base.last_name,
        )
        return info.to_dict()

    def _member(self, chat_id: int, user_id: int) -> ChatMember:
        if user_id == self.bot_id:
            if chat_id > 0:
                return ChatMemberMember(self.bot_user())
            return _member_of(self.groups[chat_id].bot_status, self.bot_user())
        user = self.users.get(user_id)
        if user is None:
            raise bad_request("user not found")
        if chat_id > 0:
            if user_id != chat_id:
                raise bad_request("user not found")
            return ChatMemberMember(user.to_ptb())
        return _member_of(self.groups[chat_id].members.get(user_id, "left"), user.to_ptb())

    async def _api_getchatmember(self, p: JSON, f: Files) -> JSON:
        chat_id = self._readable(p.get("chat_id"))
        user_id = p.get("user_id")
        if not isinstance(user_id, int):
            raise bad_request("invalid user_id specified")
        return self._member(chat_id, user_id).to_dict()

    async def _api_getchatadministrators(self, p: JSON, f: Files) -> list[JSON]:
        chat_id = self._readable(p.get("chat_id"))
        if chat_id > 0:
            raise bad_request("there are no administrators in the private chat")
        group = self.groups[chat_id]
        out = [
            self._member(chat_id, uid).to_dict()
            for uid, status in group.members.items()
            if status in ("creator", "administrator")
        ]
        if group.bot_status == "administrator":
            out.append(self._member(chat_id, self.bot_id).to_dict())
        return out

    async def _api_getchatmembercount(self, p: JSON, f: Files) -> int:
        chat_id = self._readable(p.get("chat_id"))
        if chat_id > 0:
            return 2
        group = self.groups[chat_id]
        return len(group.member_ids()) + (1 if group.bot_present else 0)

    async def _api_leavechat(self, p: JSON, f: Files) -> bool:
        chat_id = self._writable(p.get("chat_id"))
        if chat_id > 0:
            raise bad_request("chat member status can't be changed in private chats")
        group = self.groups[chat_id]
        old = group.bot_status
        group.bot_status = "left"
        self._my_chat_member(chat_id, self.bot_user(), old, "left")
        return True

    # --- files

    async def _api_getfile(self, p: JSON, f: Files) -> JSON:
        file = self.files.get(str(p.get("file_id", "")).removesuffix("-s"))
        if file is None:
            raise bad_request("invalid file_id")
        return File(file.file_id, file.file_unique_id, len(file.data), file.file_path).to_dict()

    def download(self, token: str, path: str) -> bytes | None:
        """The file download route's answer (None: 404)."""
        if token != self.token:
            return None
        for file in self.files.values():
            if file.file_path == path:
                return file.data
        return None

    # ------------------------------------------------------------------ user side

    def create_user(
        self,
        user_id: int,
        first_name: str,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> SimUser:
        if user_id <= 0:
            raise SimError("user ids are positive")
        user = SimUser(user_id, first_name, last_name, username, language_code)
        self.users[user_id] = user
        return user

    def create_group(
        self,
        chat_id: int,
        title: str,
        *,
        owner: SimUser | None = None,
        username: str | None = None,
        supergroup: bool = True,
    ) -> SimGroup:
        if chat_id >= 0:
            raise SimError("group chat ids are negative")
        group = SimGroup(chat_id, title, "supergroup" if supergroup else "group", username)
        if owner is not None:
            group.members[owner.id] = "creator"
        self.groups[chat_id] = group
        return group

    def _user(self, user: SimUser | int) -> SimUser:
        uid = user if isinstance(user, int) else user.id
        if uid not in self.users:
            raise SimError(f"no user {uid}; create_user first")
        return self.users[uid]

    def _group(self, group: SimGroup | int) -> SimGroup:
        gid = group if isinstance(group, int) else group.id
        if gid not in self.groups:
            raise SimError(f"no group {gid}; create_group first")
        return self.groups[gid]

    def _user_chat(self, user: SimUser, chat_id: int) -> None:
        if chat_id > 0:
            if chat_id != user.id:
                raise SimError("a user can only write in their own private chat with the bot")
            if chat_id in self.blocked:
                raise SimError(f"user {user.id} blocked the bot; unblock_bot first")
            if chat_id not in self.started:
                raise SimError(
                    f"user {user.id} has not opened the private chat; start_private first"
                )
            return
        group = self._group(chat_id)
        if group.members.get(user.id, "left") in ("left", "kicked"):
            raise SimError(f"user {user.id} is not a member of group {chat_id}")

    def start_private(self, user: SimUser | int, payload: str | None = None) -> int:
        """The user opens the private chat (or presses Restart after blocking) and sends /start."""
        sim_user = self._user(user)
        if sim_user.id in self.blocked:
            self.unblock_bot(sim_user)
        self.started.add(sim_user.id)
        text = "/start" + (f" {payload}" if payload else "")
        return self.send_text(sim_user, sim_user.id, text)

    def send_text(
        self, user: SimUser | int, chat_id: int, text: str, *, reply_to: int | None = None
    ) -> int:
        """The user sends `text` (commands carry their bot_command entity); returns its id."""
        sim_user = self._user(user)
        if chat_id == sim_user.id and text.split(" ", 1)[0] == "/start":
            self.unblock_bot(sim_user)  # Restart after blocking: the bot hears my_chat_member
            self.started.add(sim_user.id)
        self._user_chat(sim_user, chat_id)
        if not text.strip() or len(text) > TEXT_LIMIT:
            raise SimError("Telegram clients send 1-4096 characters")
        message = self._new_message(chat_id, from_bot=False, sender_id=sim_user.id)
        message.text, message.entities = text, _command_entities(text)
        if reply_to is not None:
            if reply_to not in self._chat(chat_id).messages:
                raise SimError(f"no message {reply_to} in chat {chat_id}")
            message.reply_to = reply_to
        self._deliver_message(message)
        return message.message_id

    def send_photo(
        self,
        user: SimUser | int,
        chat_id: int,
        caption: str | None = None,
        *,
        data: bytes | None = None,
    ) -> int:
        sim_user = self._user(user)
        self._user_chat(sim_user, chat_id)
        file = self.register_file(data or png_bytes(320, 240), "photo", mime="image/png")
        message = self._new_message(chat_id, from_bot=False, sender_id=sim_user.id)
        message.photo, message.caption = file, caption
        if caption:
            message.caption_entities = _command_entities(caption)
        self._deliver_message(message)
        return message.message_id

    def send_document(
        self,
        user: SimUser | int,
        chat_id: int,
        file_name: str = "note.txt",
        data: bytes = b"hello\n",
        *,
        mime: str = "text/plain",
        caption: str | None = None,
    ) -> int:
        sim_user = self._user(user)
        self._user_chat(sim_user, chat_id)
        file = self.register_file(data, "document", file_name=file_name, mime=mime)
        message = self._new_message(chat_id, from_bot=False, sender_id=sim_user.id)
        message.document, message.caption = file, caption
        self._deliver_message(message)
        return message.message_id

    def send_location(self, user: SimUser | int, chat_id: int, lat: float, lon: float) -> int:
        sim_user = self._user(user)
        self._user_chat(sim_user, chat_id)
        message = self._new_message(chat_id, from_bot=False, sender_id=sim_user.id)
        message.location = (lat, lon)
        self._deliver_message(message)
        return message.message_id

    def send_sticker(self, user: SimUser | int, chat_id: int, emoji: str = "👍") -> int:
        sim_user = self._user(user)
        self._user_chat(sim_user, chat_id)
        message = self._new_message(chat_id, from_bot=False, sender_id=sim_user.id)
        message.sticker = emoji
        self._deliver_message(message)
        return message.message_id

    def edit_text(self, user: SimUser | int, chat_id: int, message_id: int, text: str) -> None:
        """The user edits a text message of theirs: the bot gets an `edited_message` update."""
        sim_user = self._user(user)
        self._user_chat(sim_user, chat_id)
        message = self._chat(chat_id).messages.get(message_id)
        if message is None or message.from_bot or message.sender_id != sim_user.id:
            raise SimError(f"user {sim_user.id} has no message {message_id} in chat {chat_id}")
        if message.text is None or not text.strip() or len(text) > TEXT_LIMIT:
            raise SimError("only a text message can be edited, to 1-4096 characters")
        message.text, message.entities = text, _command_entities(text)
        message.edit_date = self._now()
        self._event(chat_id, "edited", message_id)
        if chat_id < 0 and not self._group_sees(message):
            return
        self._enqueue("edited_message", self.message_dict(message))

    def move_location(
        self, user: SimUser | int, chat_id: int, message_id: int, lat: float, lon: float
    ) -> None:
        """A live location the user shares moves: Telegram sends it as an `edited_message`."""
        sim_user = self._user(user)
        message = self._chat(chat_id).messages.get(message_id)
        if message is None or message.sender_id != sim_user.id or message.location is None:
            raise SimError(f"user {sim_user.id} shares no location as message {message_id}")
        message.location, message.edit_date = (lat, lon), self._now()
        self._event(chat_id, "edited", message_id)
        self._enqueue("edited_message", self.message_dict(message))

    def _deliver_message(self, message: SentMessage) -> None:
        self._event(message.chat_id, "received", message.message_id)
        if message.chat_id < 0 and not self._group_sees(message):
            return
        self._enqueue("message", self.message_dict(message))

    def _group_sees(self, message: SentMessage) -> bool:
        group = self.groups[message.chat_id]
        if not group.bot_present:
            return False
        if message.service or not self.privacy_mode or group.bot_status == "administrator":
            return True
        content = message.text if message.text is not None else (message.caption or "")
        entities = message.entities if message.text is not None else message.caption_entities
        if entities and entities[0].type == "bot_command" and entities[0].offset == 0:
            command = content[: entities[0].length]
            target = command.partition("@")[2]
            return not target or target.lower() == self.bot_username.lower()
        if message.reply_to is not None:
            original = self._chat(message.chat_id).messages.get(message.reply_to)
            return original is not None and original.from_bot
        return False

    def find_button(
        self, chat_id: int, label: str, message_id: int | None = None
    ) -> tuple[SentMessage, Button]:
        """The newest bot message in the chat with a button labelled `label`, and that button.

        Exact labels first; then the same letters and digits ignoring emoji and symbols
        ("同意" finds "✅ 同意"); then a unique substring."""
        chat = self._chat(chat_id)
        ids = [message_id] if message_id is not None else list(reversed(chat.order))
        for mid in ids:
            message = chat.messages.get(mid)
            if message is None or message.deleted or not message.from_bot:
                continue
            buttons = [b for row in message.buttons for b in row]
            exact = [b for b in buttons if b.text == label]
            if exact:
                return message, exact[0]
            # "同意" finds "✅ 同意" (emoji and symbols aside) before "不同意" (a substring).
            core = [b for b in buttons if _label_core(b.text) == _label_core(label) != ""]
            if len(core) == 1:
                return message, core[0]
            loose = [b for b in buttons if label.strip() and label.strip() in b.text]
            if len(loose) == 1:
                return message, loose[0]
        shown = self.last(chat_id)
        raise SimError(
            f"no button {label!r} in chat {chat_id};"
            f" the last message offers {shown.labels if shown else []}"
        )

    def press(
        self, user: SimUser | int, chat_id: int, label: str, *, message_id: int | None = None
    ) -> str | None:
        """Press the inline button labelled `label` on the newest message carrying one.

        Returns the callback query id. A deep-link button (t.me/<bot>?start=...) opens the
        private chat with that payload instead, and a reply-keyboard button sends its text;
        both return None.
        """
        sim_user = self._user(user)
        try:
            message, button = self.find_button(chat_id, label, message_id)
        except SimError:
            keyboard = self._chat(chat_id).reply_keyboard
            if keyboard is not None and message_id is None:
                for row in keyboard["keyboard"]:
                    for entry in row:
                        text = entry if isinstance(entry, str) else entry.get("text", "")
                        if text == label:
                            self.send_text(sim_user, chat_id, text)
                            return None
            raise
        if button.callback_data is not None:
            return self.send_callback(sim_user, chat_id, message.message_id, button.callback_data)
        deep = re.match(
            rf"^https://t\.me/{re.escape(self.bot_username)}\?start=(.*)$", button.url or "", re.I
        )
        if deep:
            self.start_private(sim_user, deep.group(1) or None)
            return None
        raise SimError(f"button {label!r} opens {button.url!r}; nothing to simulate")

    def send_callback(self, user: SimUser | int, chat_id: int, message_id: int, data: str) -> str:
        """A callback query with any data (forged data tests). Returns its id."""
        sim_user = self._user(user)
        self._user_chat(sim_user, chat_id)
        message = self._chat(chat_id).messages.get(message_id)
        if message is None or message.deleted:
            raise SimError(f"no message {message_id} in chat {chat_id}")
        query = _Query(str(next(self._query_ids)), sim_user.id, chat_id, message_id, data)
        self._queries[query.id] = query
        payload = {
            "id": query.id,
            "from": sim_user.to_ptb().to_dict(),
            "chat_instance": f"ci{abs(chat_id)}",
            "message": self.message_dict(message),
            "data": data,
        }
        self._enqueue("callback_query", payload)
        return query.id

    def forward_press(
        self, user: SimUser | int, from_chat_id: int, label: str, to_chat_id: int
    ) -> str:
        """Forward the bot's message carrying `label` to another chat, and press it there."""
        sim_user = self._user(user)
        original, button = self.find_button(from_chat_id, label)
        self._user_chat(sim_user, to_chat_id)
        copy = self._new_message(to_chat_id, from_bot=False, sender_id=sim_user.id)
        copy.text, copy.entities = original.text, list(original.entities)
        copy.caption, copy.photo = original.caption, original.photo
        copy.reply_markup, copy.forwarded_from = original.reply_markup, original.chat_id
        if button.callback_data is None:
            raise SimError(f"button {label!r} has no callback data")
        query = _Query(
            str(next(self._query_ids)),
            sim_user.id,
            to_chat_id,
            copy.message_id,
            button.callback_data,
        )
        self._queries[query.id] = query
        self._enqueue(
            "callback_query",
            {
                "id": query.id,
                "from": sim_user.to_ptb().to_dict(),
                "chat_instance": f"ci{abs(to_chat_id)}",
                "message": self.message_dict(copy),
                "data": button.callback_data,
            },
        )
        return query.id

    def alerts(self, user: SimUser | int) -> list[Alert]:
        """The bot's answers to this user's button presses, in order."""
        uid = user if isinstance(user, int) else user.id
        return [q.answered for q in self._queries.values() if q.user_id == uid and q.answered]

    def answered_queries(self) -> list[tuple[str, int, Alert]]:
        """(query id, user id, answer) for every button press the bot has answered."""
        return [(q.id, q.user_id, q.answered) for q in self._queries.values() if q.answered]

    def query_answered(self, query_id: str) -> bool:
        query = self._queries.get(query_id)
        return query is not None and query.answered is not None

    def query_data(self, query_id: str) -> str | None:
        """The callback data of a button press (None for an unknown id)."""
        query = self._queries.get(query_id)
        return query.data if query is not None else None

    # --- membership

    def _my_chat_member(self, chat_id: int, by: User, old: str, new: str) -> None:
        self._enqueue(
            "my_chat_member",
            {
                "chat": self.ptb_chat(chat_id).to_dict(),
                "from": by.to_dict(),
                "date": int(self._now().timestamp()),
                "old_chat_member": _member_of(old, self.bot_user()).to_dict(),
                "new_chat_member": _member_of(new, self.bot_user()).to_dict(),
            },
        )

    def _chat_member(self, group: SimGroup, by: User, user: SimUser, old: str, new: str) -> None:
        if group.bot_status != "administrator":
            return  # Telegram tells only administrator bots about other members
        self._enqueue(
            "chat_member",
            {
                "chat": self.ptb_chat(group.id).to_dict(),
                "from": by.to_dict(),
                "date": int(self._now().timestamp()),
                "old_chat_member": _member_of(old, user.to_ptb()).to_dict(),
                "new_chat_member": _member_of(new, user.to_ptb()).to_dict(),
            },
        )

    def _service(self, group: SimGroup, by: SimUser, service: JSON) -> None:
        message = self._new_message(group.id, from_bot=False, sender_id=by.id)
        message.service = service
        self._deliver_message(message)

    def add_bot_to_group(
        self, group: SimGroup | int, by_user: SimUser | int, *, admin: bool = False
    ) -> None:
        """`by_user` adds the bot: my_chat_member (left -> member) and new_chat_members."""
        sim_group, by = self._group(group), self._user(by_user)
        if sim_group.members.get(by.id, "left") in ("left", "kicked"):
            sim_group.members[by.id] = "member"
        old = sim_group.bot_status
        sim_group.bot_status = "administrator" if admin else "member"
        sim_group.ever_had_bot = True
        self._my_chat_member(sim_group.id, by.to_ptb(), old, sim_group.bot_status)
        self._service(sim_group, by, {"new_chat_members": [self.bot_user().to_dict()]})

    def promote_bot(self, group: SimGroup | int, by_user: SimUser | int) -> None:
        sim_group, by = self._group(group), self._user(by_user)
        old = sim_group.bot_status
        sim_group.bot_status = "administrator"
        self._my_chat_member(sim_group.id, by.to_ptb(), old, "administrator")

    def remove_bot_from_group(self, group: SimGroup | int, by_user: SimUser | int) -> None:
        """`by_user` removes the bot; it hears only my_chat_member, then sends get 403."""
        sim_group, by = self._group(group), self._user(by_user)
        old = sim_group.bot_status
        sim_group.bot_status = "kicked" if sim_group.type == "supergroup" else "left"
        self._my_chat_member(sim_group.id, by.to_ptb(), old, sim_group.bot_status)

    def add_member(
        self, group: SimGroup | int, user: SimUser | int, by: SimUser | int | None = None
    ) -> None:
        sim_group, sim_user = self._group(group), self._user(user)
        adder = self._user(by) if by is not None else sim_user
        old = sim_group.members.get(sim_user.id, "left")
        sim_group.members[sim_user.id] = "member"
        self._chat_member(sim_group, adder.to_ptb(), sim_user, old, "member")
        self._service(sim_group, adder, {"new_chat_members": [sim_user.to_ptb().to_dict()]})

    def remove_member(
        self, group: SimGroup | int, user: SimUser | int, by: SimUser | int | None = None
    ) -> None:
        sim_group, sim_user = self._group(group), self._user(user)
        remover = self._user(by) if by is not None else sim_user
        old = sim_group.members.get(sim_user.id, "left")
        sim_group.members[sim_user.id] = "left"
        self._chat_member(sim_group, remover.to_ptb(), sim_user, old, "left")
        self._service(sim_group, remover, {"left_chat_member": sim_user.to_ptb().to_dict()})

    def block_bot(self, user: SimUser | int) -> None:
        sim_user = self._user(user)
        self.blocked.add(sim_user.id)
        self._my_chat_member(sim_user.id, sim_user.to_ptb(), "member", "kicked")

    def unblock_bot(self, user: SimUser | int) -> None:
        sim_user = self._user(user)
        if sim_user.id in self.blocked:
            self.blocked.discard(sim_user.id)
            self._my_chat_member(sim_user.id, sim_user.to_ptb(), "kicked", "member")

    def migrate_group(self, group: SimGroup | int, new_chat_id: int) -> SimGroup:
        """A basic group becomes a supergroup with a new id (old id answers migrate_to_chat_id)."""
        old = self._group(group)
        new = SimGroup(new_chat_id, old.title, "supergroup", old.username, dict(old.members))
        new.bot_status, new.ever_had_bot = old.bot_status, old.ever_had_bot
        self.groups[new_chat_id] = new
        old.migrated_to = new_chat_id
        anyone = self._user(next(iter(old.member_ids())))
        old_message = self._new_message(old.id, from_bot=False, sender_id=anyone.id)
        old_message.service = {"migrate_to_chat_id": new_chat_id}
        self._deliver_message(old_message)
        self._service(new, anyone, {"migrate_from_chat_id": old.id})
        return new

    # ------------------------------------------------------------------ reading

    def transcript(self, chat_id: int, *, include_users: bool = False) -> list[SentMessage]:
        """The bot's messages here, in order, as they stand (edits applied, deletions flagged)."""
        chat = self._chat(chat_id)
        return [
            chat.messages[mid] for mid in chat.order if include_users or chat.messages[mid].from_bot
        ]

    def last(self, chat_id: int) -> SentMessage | None:
        """The bot's newest message in the chat that is not deleted."""
        for message in reversed(self.transcript(chat_id)):
            if not message.deleted:
                return message
        return None

    def events(self, chat_id: int) -> list[ChatEvent]:
        return list(self._chat(chat_id).events)

    def chat_ids(self) -> list[int]:
        return list(self._chats)


def scope_key(scope: dict[str, Any]) -> str:
    return json.dumps(scope, sort_keys=True, separators=(",", ":"))


def _member_of(status: str, user: User) -> ChatMember:
    if status == "creator":
        return ChatMemberOwner(user, is_anonymous=False)
    if status == "administrator":
        return ChatMemberAdministrator(
            user,
            can_be_edited=False,
            is_anonymous=False,
            can_manage_chat=True,
            can_delete_messages=True,
            can_manage_video_chats=False,
            can_restrict_members=True,
            can_promote_members=False,
            can_change_info=False,
            can_invite_users=True,
            can_post_stories=False,
            can_edit_stories=False,
            can_delete_stories=False,
            can_pin_messages=True,
        )
    if status == "member":
        return ChatMemberMember(user)
    if status == "kicked":
        return ChatMemberBanned(user, until_date=datetime.fromtimestamp(0, UTC))
    return ChatMemberLeft(user)


_COMMAND_RE = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,64})?(?![^\s])")


def _command_entities(text: str) -> list[Entity]:
    entities = []
    for match in _COMMAND_RE.finditer(text):
        prefix = text[: match.start()]
        offset = len(prefix.encode("utf-16-le")) // 2
        length = len(match.group(0).encode("utf-16-le")) // 2
        entities.append(Entity("bot_command", offset, length))
    return entities


def _no_text() -> tuple[str, list[Entity]]:
    return "", []


def _label_core(text: str) -> str:
    """A button label without emoji, symbols, punctuation and spaces."""
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN").casefold()


def _ptb_entity(entity: Entity) -> MessageEntity:
    user = User(entity.user_id, "?", is_bot=False) if entity.user_id is not None else None
    return MessageEntity(
        entity.type,
        entity.offset,
        entity.length,
        url=entity.url,
        user=user,
        language=entity.language,
        custom_emoji_id=entity.custom_emoji_id,
    )


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict):
        raise bad_request(
            "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
        )
    text = button.get("text")
    if not isinstance(text, str) or not text.strip():
        raise bad_request("can't parse inline keyboard button: Text must be non-empty")
    actions = [key for key in _BUTTON_ACTIONS if key in button]
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if len(actions) > 1:
        raise bad_request(
            "can't parse inline keyboard button: only one of the optional fields must be used"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button:
        url = button["url"]
        if not isinstance(url, str) or not re.match(r"^(https?|tg)://[^\s]+$", url):
            raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")


__all__ = [
    "Alert",
    "ApiError",
    "BotCall",
    "Button",
    "ChatEvent",
    "SentMessage",
    "SimError",
    "SimFile",
    "SimGroup",
    "SimUser",
    "Simulator",
    "png_bytes",
]
