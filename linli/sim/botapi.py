"""The Bot API methods that send and change messages, as strict as Telegram: sendMessage,
sendPhoto, sendDocument, sendMediaGroup, sendLocation, sendChatAction, editMessage*,
deleteMessage, (un)pinChatMessage, answerCallbackQuery; and `call`, which answers any method.

Limits and parsing live in `linli.sim.checks`; the other methods in `linli.sim.botsession`.
"""

from __future__ import annotations

from typing import Any

from linli.sim.checks import (
    CALLBACK_ANSWER_LIMIT,
    CHAT_ACTIONS,
    check_markup,
    no_text,
    normalize_params,
    parse_text,
)
from linli.sim.entities import Entity
from linli.sim.models import (
    JSON,
    Alert,
    ApiError,
    BotCall,
    Files,
    SentMessage,
    SimFile,
    bad_request,
    png_bytes,
)
from linli.sim.state import SimState


class BotApi(SimState):
    """The bot's side: `call` dispatches to `_api_<method>` (here and in BotSession)."""

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

    def _flood(self, chat_id: int, count: int = 1) -> None:
        if not self.flood_limits:
            return
        self._floods.check(chat_id, self.monotonic(), count)

    # --- sending

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
        text, entities = parse_text(
            p.get("text"), p.get("parse_mode"), p.get("entities"), caption=False
        )
        markup = check_markup(p.get("reply_markup"))
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

    async def _send_media(self, p: JSON, f: Files, kind: str) -> JSON:
        chat_id = self._writable(p.get("chat_id"))
        caption = p.get("caption")
        text, entities = no_text()
        if caption:
            text, entities = parse_text(
                caption, p.get("parse_mode"), p.get("caption_entities"), caption=True
            )
        markup = check_markup(p.get("reply_markup"))
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
            text, entities = no_text()
            if caption:
                text, entities = parse_text(
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
        markup = check_markup(p.get("reply_markup"))
        self._flood(chat_id)
        message = self._store_bot_message(chat_id, p, markup)
        message.location = (float(lat), float(lon))
        self._event(chat_id, "sent", message.message_id, "location")
        return self.message_dict(message)

    async def _api_sendchataction(self, p: JSON, f: Files) -> bool:
        chat_id = self._writable(p.get("chat_id"))
        action = p.get("action")
        if action not in CHAT_ACTIONS:
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
        text, entities = parse_text(
            p.get("text"), p.get("parse_mode"), p.get("entities"), caption=False
        )
        # Like Telegram: an edit without reply_markup removes the inline keyboard.
        markup = check_markup(p.get("reply_markup"))
        return self._finish_edit(
            message, text=text, entities=entities, html=str(p.get("text")), markup=markup
        )

    async def _api_editmessagecaption(self, p: JSON, f: Files) -> JSON:
        message = self._own_message(p)
        if message.photo is None and message.document is None:
            raise bad_request("there is no caption in the message to edit")
        caption = p.get("caption")
        text, entities = no_text()
        if caption:
            text, entities = parse_text(
                caption, p.get("parse_mode"), p.get("caption_entities"), caption=True
            )
        markup = check_markup(p.get("reply_markup"))
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
        markup = check_markup(p.get("reply_markup"))
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
