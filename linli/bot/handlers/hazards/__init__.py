"""Hazard reports (随手拍), split along what a person does:

- report.py: /report and its private flow, a photo sent with no flow, Back and Cancel;
- send.py: sending (named or anonymous, within the hourly limit), or "me too" instead;
- triage.py: an organizer's or building leader's card buttons and their notes;
- followup.py: the reporter's answer to "is it fixed?";
- lists.py: /myreports and /reports.

Cards, keyboards and buttons are in linli/bot/views/hazards.py. Anonymous reports: nothing
here logs, stores or forwards who sent them (see storage/hazards)."""

from __future__ import annotations

from typing import Any

from telegram.ext import BaseHandler, CommandHandler

from linli.bot import flows
from linli.bot.commands import CommandSpec
from linli.bot.handlers.hazards import followup, lists, report, send, triage
from linli.bot.handlers.hazards.report import start_report
from linli.bot.handlers.hazards.shared import FEATURE, REPORT_FLOW, ROUTER, TRIAGE_FLOW
from linli.core.community import Role

flows.register_flow(REPORT_FLOW, report.on_report_input)
flows.register_flow(TRIAGE_FLOW, triage.on_triage_note)
flows.register_fallback("photo", report.on_photo_first)

HANDLERS: list[BaseHandler[Any, Any, Any]] = [
    CommandHandler("report", report.on_report),
    CommandHandler("myreports", lists.on_myreports),
    CommandHandler("reports", lists.on_reports),
    ROUTER.handler(),  # every "hz:" button, of each part above
]
COMMANDS: list[CommandSpec] = [
    CommandSpec("report", FEATURE, private=True, group=True),
    CommandSpec("myreports", FEATURE),
    CommandSpec("reports", FEATURE, role=Role.ORGANIZER),
]

__all__ = ["COMMANDS", "HANDLERS", "followup", "send", "start_report"]
