"""Telegram's strictness as plain functions: parameter types, text and HTML parsing with
the length limits, reply markup, and the 429 flood limits (per bot, per group, per private chat).
"""

from __future__ import annotations

import json
import math
import re
from collections import deque
from typing import Any

from linli.sim.entities import Entity, EntityParseError, parse_html, plain_entities
from linli.sim.models import JSON, ApiError, bad_request

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_ANSWER_LIMIT = 200
BOT_MESSAGES_PER_SECOND = 30
GROUP_MESSAGES_PER_MINUTE = 20
# One private chat: a short burst, then about one message a second (a token bucket).
PRIVATE_BURST = 5
PRIVATE_MESSAGES_PER_SECOND = 1.0
CHAT_ACTIONS = frozenset(
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


def parse_text(
    text: Any, parse_mode: Any, entities: Any, *, caption: bool
) -> tuple[str, list[Entity]]:
    """A text or caption as Telegram reads it: (plain text, entities), or the Bot API's 400."""
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


def check_markup(markup: Any) -> JSON | None:
    """The reply markup if Telegram would take it (None for none), else the Bot API's 400."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad_request(
                'field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays'
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


def no_text() -> tuple[str, list[Entity]]:
    return "", []


def scope_key(scope: dict[str, Any]) -> str:
    return json.dumps(scope, sort_keys=True, separators=(",", ":"))


class FloodLimits:
    """Telegram's 429s: 30 messages a second per bot, 20 a minute per group and, per private
    chat, a burst of PRIVATE_BURST then about one a second (a token bucket)."""

    def __init__(self) -> None:
        self._bot_sends: deque[float] = deque()
        self._group_sends: dict[int, deque[float]] = {}
        self._private_allowance: dict[int, tuple[float, float]] = {}  # (messages, at)

    def check(self, chat_id: int, now: float, count: int = 1) -> None:
        """Count `count` messages to `chat_id` at `now`, or raise 429 with `retry_after`."""
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
