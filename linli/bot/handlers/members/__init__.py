"""Members: joining (/start and its deep links), /me, /privacy, /forgetme, roles and verification.

join.py     /start, its deep links and the joining flow (also /me's language and home buttons)
profile.py  /me, /privacy, /forgetme
roles.py    /grant, /revoke, /verify and the Verify buttons
Their buttons (views/members.py) share one router (prefix "m").
"""

from __future__ import annotations

from typing import Any

from telegram.ext import BaseHandler, CommandHandler, filters

from linli.bot.commands import CommandSpec
from linli.bot.handlers.members import join, profile, roles
from linli.bot.handlers.members.router import ROUTER
from linli.core.community import Role

HANDLERS: list[BaseHandler[Any, Any, Any]] = [
    CommandHandler("start", join.on_start, filters.ChatType.PRIVATE),
    CommandHandler("me", profile.on_me),
    CommandHandler("privacy", profile.on_privacy),
    CommandHandler("forgetme", profile.on_forgetme, filters.ChatType.PRIVATE),
    CommandHandler("verify", roles.on_verify),
    CommandHandler("grant", roles.on_grant),
    CommandHandler("revoke", roles.on_revoke),
    ROUTER.handler(),
]

COMMANDS: list[CommandSpec] = [
    CommandSpec("start", "members"),
    CommandSpec("me", "members"),
    CommandSpec("privacy", "members"),
    CommandSpec("forgetme", "members"),
    CommandSpec("verify", "members", role=Role.BUILDING_LEADER),
    CommandSpec("grant", "members", role=Role.ORGANIZER),
    CommandSpec("revoke", "members", role=Role.ORGANIZER),
]
