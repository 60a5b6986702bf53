"""The Bot API methods around the messages: getMe, getUpdates and webhooks, the command
menus, getChat and chat members, leaveChat, getFile. `BotApi.call` dispatches here too.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from telegram import (
    AcceptedGiftTypes,
    BotCommand,
    ChatFullInfo,
    ChatMember,
    ChatMemberMember,
    File,
    WebhookInfo,
)

from linli.sim.checks import scope_key
from linli.sim.models import JSON, ApiError, Files, Webhook, bad_request
from linli.sim.state import SimState, member_of


class BotSession(SimState):
    """The bot's session (identity, updates, webhooks, commands) and what it reads of chats."""

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
            return member_of(self.groups[chat_id].bot_status, self.bot_user())
        user = self.users.get(user_id)
        if user is None:
            raise bad_request("user not found")
        if chat_id > 0:
            if user_id != chat_id:
                raise bad_request("user not found")
            return ChatMemberMember(user.to_ptb())
        return member_of(self.groups[chat_id].members.get(user_id, "left"), user.to_ptb())

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
