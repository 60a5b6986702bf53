"""The residents' side: create users and groups, open the private chat, send text, photos,
documents, locations and stickers, edit them, press inline buttons, join and leave groups,
add or remove the bot, block it. Each action queues the update Telegram would send the bot.
"""

from __future__ import annotations

import re
import unicodedata

from telegram import (
    User,
)

from linli.sim.checks import TEXT_LIMIT
from linli.sim.entities import Entity
from linli.sim.models import (
    JSON,
    Alert,
    Button,
    QueryRecord,
    SentMessage,
    SimError,
    SimGroup,
    SimUser,
    png_bytes,
)
from linli.sim.state import SimState, member_of


class Residents(SimState):
    """What people do in Telegram, as plain method calls."""

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

    # --- messages

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

    # --- buttons

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
        query = QueryRecord(str(next(self._query_ids)), sim_user.id, chat_id, message_id, data)
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
        query = QueryRecord(
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

    def _chat_member(self, group: SimGroup, by: User, user: SimUser, old: str, new: str) -> None:
        if group.bot_status != "administrator":
            return  # Telegram tells only administrator bots about other members
        self._enqueue(
            "chat_member",
            {
                "chat": self.ptb_chat(group.id).to_dict(),
                "from": by.to_dict(),
                "date": int(self._now().timestamp()),
                "old_chat_member": member_of(old, user.to_ptb()).to_dict(),
                "new_chat_member": member_of(new, user.to_ptb()).to_dict(),
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


_COMMAND_RE = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,64})?(?![^\s])")


def _command_entities(text: str) -> list[Entity]:
    entities = []
    for match in _COMMAND_RE.finditer(text):
        prefix = text[: match.start()]
        offset = len(prefix.encode("utf-16-le")) // 2
        length = len(match.group(0).encode("utf-16-le")) // 2
        entities.append(Entity("bot_command", offset, length))
    return entities


def _label_core(text: str) -> str:
    """A button label without emoji, symbols, punctuation and spaces."""
    return "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN").casefold()
