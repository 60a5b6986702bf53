"""The simulator's state: the bot, its users, groups and chats, messages and files, and the
queue of updates waiting for the bot; how Telegram shows them (PTB shapes); who the bot may
reach. The Bot API (`linli.sim.botapi`, `linli.sim.botsession`) and the residents
(`linli.sim.residents`) act on it; `linli.sim.core.Simulator` puts them together.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from telegram import (
    Chat,
    ChatMember,
    ChatMemberAdministrator,
    ChatMemberBanned,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberOwner,
    Document,
    InlineKeyboardMarkup,
    Location,
    Message,
    MessageEntity,
    MessageOriginUser,
    PhotoSize,
    Sticker,
    User,
)

from linli.sim.checks import FloodLimits
from linli.sim.entities import Entity
from linli.sim.models import (
    JSON,
    ApiError,
    BotCall,
    ChatEvent,
    ChatRecord,
    QueryRecord,
    SentMessage,
    SimError,
    SimFile,
    SimGroup,
    SimUser,
    Webhook,
    bad_request,
    png_size,
)

# Updates Telegram sends when allowed_updates is empty: everything but these.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class SimState:
    """What the simulated Telegram knows: the bot, users, groups, chats, files, updates."""

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
        self._chats: dict[int, ChatRecord] = {}
        self._queries: dict[str, QueryRecord] = {}
        self._pending: list[JSON] = []
        self._all_updates: dict[int, JSON] = {}
        self._update_ids = itertools.count(1)
        self._query_ids = itertools.count(4_000_000_001)
        self._file_ids = itertools.count(1)
        self._arrival = asyncio.Event()
        self._poller = 0
        self._waiting = 0
        self._floods = FloodLimits()
        self.on_update: Callable[[JSON], None] | None = None
        # Every message the bot sent, in order across chats (tests read "what came back").
        self.sent_log: list[SentMessage] = []
        # Calls Telegram refuses that a bot can only make by mistake (a second answer to one
        # button press): the bot may swallow the 400, so the harness fails the test on these.
        self.violations: list[str] = []

    # --- identity

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

    # --- the updates waiting for the bot

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

    def _my_chat_member(self, chat_id: int, by: User, old: str, new: str) -> None:
        self._enqueue(
            "my_chat_member",
            {
                "chat": self.ptb_chat(chat_id).to_dict(),
                "from": by.to_dict(),
                "date": int(self._now().timestamp()),
                "old_chat_member": member_of(old, self.bot_user()).to_dict(),
                "new_chat_member": member_of(new, self.bot_user()).to_dict(),
            },
        )

    # --- chats: who the bot may reach

    def _chat(self, chat_id: int) -> ChatRecord:
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = self._chats[chat_id] = ChatRecord(chat_id)
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

    def _event(self, chat_id: int, kind: str, message_id: int | None, detail: str = "") -> None:
        self._chat(chat_id).events.append(ChatEvent(kind, message_id, self.monotonic(), detail))

    # --- messages and files

    def _new_message(self, chat_id: int, *, from_bot: bool, sender_id: int) -> SentMessage:
        chat = self._chat(chat_id)
        message = SentMessage(chat_id, chat.next_id, from_bot, sender_id, self._now())
        chat.next_id += 1
        chat.messages[message.message_id] = message
        chat.order.append(message.message_id)
        return message

    def _now(self) -> datetime:
        return self.clock().replace(microsecond=0)

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
        width, height = png_size(data) if kind == "photo" else (0, 0)
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

    def download(self, token: str, path: str) -> bytes | None:
        """The file download route's answer (None: 404)."""
        if token != self.token:
            return None
        for file in self.files.values():
            if file.file_path == path:
                return file.data
        return None

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
            location=_location(message),
            sticker=_sticker(message),
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

    # --- reading

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


def member_of(status: str, user: User) -> ChatMember:
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


def _location(message: SentMessage) -> Location | None:
    if not message.location:
        return None
    return Location(longitude=message.location[1], latitude=message.location[0])


def _sticker(message: SentMessage) -> Sticker | None:
    if not message.sticker:
        return None
    return Sticker(
        "sticker-" + str(message.message_id),
        "su" + str(message.message_id),
        512,
        512,
        is_animated=False,
        is_video=False,
        type=Sticker.REGULAR,
        emoji=message.sticker,
    )


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
