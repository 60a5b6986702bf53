"""What every handler and job reaches through `context.services`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from linli.bot.config import Config
from linli.bot.render import Renderer
from linli.core.clock import Clock
from linli.core.community import Community
from linli.storage.db import Database


@dataclass
class Services:
    config: Config
    db: Database
    clock: Clock
    renderer: Renderer
    community: Community

    def now(self) -> datetime:
        return self.clock()


class LinliContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """PTB's context with typed access to Linli's services."""

    @property
    def services(self) -> Services:
        services: Services = self.application.bot_data["services"]
        return services


LinliApp = Application[
    ExtBot[None], LinliContext, dict[Any, Any], dict[Any, Any], dict[Any, Any], Any
]
