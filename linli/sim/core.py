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

The pieces: `linli.sim.models` (the dataclasses and errors), `linli.sim.checks` (Telegram's
rules as functions: parameters, HTML, markup, flood limits), `linli.sim.state` (users, chats,
messages, files, the update queue), `linli.sim.botapi` and `linli.sim.botsession` (the Bot API
methods), `linli.sim.residents` (the user side). `Simulator` is all of them at once.
"""

from __future__ import annotations

from linli.sim.botapi import BotApi
from linli.sim.botsession import BotSession
from linli.sim.checks import (
    BOT_MESSAGES_PER_SECOND,
    CALLBACK_ANSWER_LIMIT,
    CAPTION_LIMIT,
    GROUP_MESSAGES_PER_MINUTE,
    PRIVATE_BURST,
    PRIVATE_MESSAGES_PER_SECOND,
    TEXT_LIMIT,
    normalize_params,
    scope_key,
)
from linli.sim.models import (
    JSON,
    Alert,
    ApiError,
    BotCall,
    Button,
    ChatEvent,
    Files,
    SentMessage,
    SimError,
    SimFile,
    SimGroup,
    SimUser,
    Upload,
    Webhook,
    bad_request,
    png_bytes,
)
from linli.sim.residents import Residents


class Simulator(BotApi, BotSession, Residents):
    """One bot, its users, groups and chats, all in memory."""


__all__ = [
    "BOT_MESSAGES_PER_SECOND",
    "CALLBACK_ANSWER_LIMIT",
    "CAPTION_LIMIT",
    "GROUP_MESSAGES_PER_MINUTE",
    "JSON",
    "PRIVATE_BURST",
    "PRIVATE_MESSAGES_PER_SECOND",
    "TEXT_LIMIT",
    "Alert",
    "ApiError",
    "BotCall",
    "Button",
    "ChatEvent",
    "Files",
    "SentMessage",
    "SimError",
    "SimFile",
    "SimGroup",
    "SimUser",
    "Simulator",
    "Upload",
    "Webhook",
    "bad_request",
    "normalize_params",
    "png_bytes",
    "scope_key",
]
