"""The TOML config file, validated: a bad one is reported in one line naming the key.

Each section is a model that forbids unknown keys and checks types strictly; the whole
file is documented key by key in config.example.toml.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from linli.core.community import Building, Community, Compound, building_id
from linli.core.members import SUPPORTED_LOCALES, Verification

TOKEN_ENV = "LINLI_BOT_TOKEN"


class ConfigError(Exception):
    """One clear line: where in the config, and what is wrong."""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Webhook(Section):
    enabled: bool = False
    url: str = ""  # the public https URL Telegram posts to
    listen: str = "0.0.0.0"
    port: Annotated[int, Field(ge=1, le=65535)] = 8443
    path: str = "telegram"
    secret_token: str = ""

    @model_validator(mode="after")
    def _needs_url(self) -> Webhook:
        if self.enabled and not self.url.startswith("https://"):
            raise ValueError("url: a webhook needs a public https:// url")
        return self


class BotSection(Section):
    token: str = ""
    api_base_url: str = "https://api.telegram.org/bot"
    file_base_url: str = "https://api.telegram.org/file/bot"
    polling_timeout: Annotated[int, Field(ge=0, le=50)] = 30
    webhook: Webhook = Webhook()


class StorageSection(Section):
    database: str = "linli.sqlite3"


class CompoundSection(Section):
    id: Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
    name: Annotated[str, Field(min_length=1, max_length=64)]
    buildings: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=32)]], Field(min_length=1)
    ]

    @field_validator("buildings")
    @classmethod
    def _unique_buildings(cls, value: list[str]) -> list[str]:
        seen: set[str] = set()
        for name in value:
            if name in seen:
                raise ValueError(f"duplicate building {name!r}")
            if "/" in name:
                raise ValueError(f"building {name!r} may not contain '/'")
            seen.add(name)
        return value


class CommunitySection(Section):
    name: Annotated[str, Field(min_length=1, max_length=64)] = "邻里社区"
    timezone: str = "Asia/Shanghai"
    default_locale: Literal["zh-CN", "en"] = "zh-CN"
    verification: Verification = Verification.LEADER
    compounds: Annotated[list[CompoundSection], Field(min_length=1)] = Field(
        default_factory=lambda: [CompoundSection(id="main", name="小区", buildings=["1"])]
    )

    @field_validator("verification", mode="before")
    @classmethod
    def _verification(cls, value: Any) -> Any:
        if isinstance(value, str) and value not in {v.value for v in Verification}:
            raise ValueError("must be one of none, leader, organizer")
        return Verification(value) if isinstance(value, str) else value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("compounds")
    @classmethod
    def _unique_compounds(cls, value: list[CompoundSection]) -> list[CompoundSection]:
        ids = [c.id for c in value]
        for cid in ids:
            if ids.count(cid) > 1:
                raise ValueError(f"duplicate compound id {cid!r}")
        return value


class OrganizersSection(Section):
    user_ids: list[int] = Field(default_factory=list)
    group_chat_id: int | None = None


class SchedulerSection(Section):
    tick_seconds: Annotated[int, Field(ge=1, le=3600)] = 30


# --- Feature sections. Each feature owns its class; keys are documented in config.example.toml.


class PointsSection(Section):
    """Earn rules and caps (points feature)."""


class ShopSection(Section):
    """The rewards catalogue (shop feature)."""


class RankingsSection(Section):
    """Leaderboards and the weekly post (rankings feature)."""


class TimebankSection(Section):
    """Hours ledger settings (timebank feature)."""


class HazardsSection(Section):
    """Report categories, urgency, escalation, follow-up and limits (hazards feature)."""


class EventsSection(Section):
    """Reminders and card refresh (events feature)."""


class PollsSection(Section):
    """Proposals and polls (polls feature)."""

    # Co-signatures a proposal needs before organizers are asked to open a vote.
    cosign_threshold: Annotated[int, Field(ge=1, le=10_000)] = 5
    # Hours before closing that eligible members who have not voted are reminded (0 = never).
    reminder_hours: Annotated[int, Field(ge=0, le=24 * 30)] = 24
    # The most options a poll may have (at least 2; at most 10, a ranked ballot's limit).
    max_options: Annotated[int, Field(ge=2, le=10)] = 10
    # Closing time offered first in /newpoll, in days from publishing.
    default_days: Annotated[int, Field(ge=1, le=90)] = 7


class BroadcastsSection(Section):
    """Bulk messages, the weekly digest, backups (broadcasts feature)."""


class Config(Section):
    bot: BotSection = BotSection()
    storage: StorageSection = StorageSection()
    community: CommunitySection = CommunitySection()
    organizers: OrganizersSection = OrganizersSection()
    scheduler: SchedulerSection = SchedulerSection()
    points: PointsSection = PointsSection()
    shop: ShopSection = ShopSection()
    rankings: RankingsSection = RankingsSection()
    timebank: TimebankSection = TimebankSection()
    hazards: HazardsSection = HazardsSection()
    events: EventsSection = EventsSection()
    polls: PollsSection = PollsSection()
    broadcasts: BroadcastsSection = BroadcastsSection()

    # Where the file was read from: relative paths (the database) are taken from there.
    source: str = ""

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.community.timezone)

    @property
    def database_path(self) -> Path:
        path = Path(self.storage.database)
        if not path.is_absolute() and self.source:
            path = Path(self.source).parent / path
        return path

    def structure(self) -> Community:
        return Community(
            name=self.community.name,
            compounds=tuple(
                Compound(
                    id=c.id,
                    name=c.name,
                    buildings=tuple(Building(building_id(c.id, b), c.id, b) for b in c.buildings),
                )
                for c in self.community.compounds
            ),
        )


def _where(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out or "(top level)"


def _describe(error: dict[str, Any]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "missing"
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind.endswith("_type") or kind.endswith("_parsing"):
        return f"wrong type: {message.lower()} (got {error.get('input')!r})"
    return message


def parse_config(data: dict[str, Any], source: str = "") -> Config:
    """Validate a parsed TOML document; raises ConfigError with one line."""
    try:
        config = Config.model_validate({**data, "source": source})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = _where(tuple(first["loc"]))
        raise ConfigError(f"{where}: {_describe(dict(first))}") from None
    token = os.environ.get(TOKEN_ENV)
    if token:
        config = config.model_copy(update={"bot": config.bot.model_copy(update={"token": token})})
    return config


def load_config(path: str | Path) -> Config:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    try:
        return parse_config(data, str(path))
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def require_token(config: Config) -> None:
    if not config.bot.token.strip():
        where = f"{config.source}: " if config.source else ""
        raise ConfigError(f"{where}bot.token: missing (set it in the file or in {TOKEN_ENV})")


__all__ = ["SUPPORTED_LOCALES", "Config", "ConfigError", "load_config", "parse_config"]
