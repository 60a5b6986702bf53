"""Handlers for members."""

from __future__ import annotations

from typing import Any

from telegram.ext import BaseHandler

from linli.bot.commands import CommandSpec

HANDLERS: list[BaseHandler[Any, Any, Any]] = []
COMMANDS: list[CommandSpec] = []
