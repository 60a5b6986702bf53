"""The TOML config file, validated: a bad one is reported in one line naming the key.

Each section is a model that forbids unknown keys and checks types strictly; the whole
file is documented key by key in config.example.toml.
"""

from __future__ import annotations

import os
import re
import tomllib
from datetime import time
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from linli.core.community import Building, Community, Compound, Role, building_id
from linli.core.members import SUPPORTED_LOCALES, Verification
from linli.core.points import EarnRules
from linli.core.spaces import Approval, Rules, parse_hours

TOKEN_ENV = "LINLI_BOT_TOKEN"


class ConfigError(Exception):
    """One clear line: where in the config, and what is wrong."""


def _require_unique(values: list[str], what: str) -> None:
    """A validator's check: the first value that repeats is named in the one-line error."""
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"duplicate {what} {value!r}")
        seen.add(value)


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
        # Telegram posts only to https; plain http is allowed on this machine's loopback,
        # for a self-hosted Bot API server or the simulator.
        local = re.match(r"^http://(127\.0\.0\.1|localhost)(:\d+)?(/|$)", self.url)
        if self.enabled and not (self.url.startswith("https://") or local):
            raise ValueError("url: a webhook needs a public https:// url")
        return self


class BotSection(Section):
    token: str = ""
    api_base_url: str = "https://api.telegram.org/bot"
    file_base_url: str = "https://api.telegram.org/file/bot"
    polling_timeout: Annotated[int, Field(ge=0, le=50)] = 30
    proxy_url: str = ""  # an http(s) proxy to reach the Bot API through; "" = HTTPS_PROXY or none
    webhook: Webhook = Webhook()

    @field_validator("proxy_url")
    @classmethod
    def _http_proxy(cls, value: str) -> str:
        if value and not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("an http:// or https:// proxy url, e.g. http://127.0.0.1:7890")
        return value


class StorageSection(Section):
    database: str = "linli.sqlite3"


class CompoundSection(Section):
    id: Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
    name: Annotated[str, Field(min_length=1, max_length=64)]
    name_en: Annotated[str, Field(max_length=64)] = ""
    buildings: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=32)]], Field(min_length=1)
    ]
    # Where each building stands, [lat, lon] by building name (the directory's distances).
    locations: dict[str, list[float]] = Field(default_factory=dict)

    @field_validator("buildings")
    @classmethod
    def _unique_buildings(cls, value: list[str]) -> list[str]:
        _require_unique(value, "building")
        for name in value:
            if "/" in name:
                raise ValueError(f"building {name!r} may not contain '/'")
        return value

    @model_validator(mode="after")
    def _known_locations(self) -> CompoundSection:
        for name, where in self.locations.items():
            if name not in self.buildings:
                raise ValueError(f"locations: unknown building {name!r}")
            if len(where) != 2 or not (-90 <= where[0] <= 90 and -180 <= where[1] <= 180):
                raise ValueError(f"locations.{name}: expected [lat, lon], e.g. [39.1252, 117.1950]")
        return self

    def location(self, name: str) -> tuple[float | None, float | None]:
        where = self.locations.get(name)
        return (where[0], where[1]) if where else (None, None)


_COMPOUNDS_HINT = "a [[community.compounds]] table with id, name and buildings"


class CommunitySection(Section):
    name: Annotated[str, Field(min_length=1, max_length=64)] = "邻里社区"
    name_en: Annotated[str, Field(max_length=64)] = ""
    timezone: str = "Asia/Shanghai"
    default_locale: Literal["zh-CN", "en"] = "zh-CN"
    verification: Verification = Verification.LEADER
    # No default: a made-up compound would be offered to residents and stored in their homes.
    compounds: list[CompoundSection]

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
        if not value:
            raise ValueError(f"at least one compound is needed ({_COMPOUNDS_HINT})")
        _require_unique([c.id for c in value], "compound id")
        return value


class OrganizersSection(Section):
    user_ids: list[int] = Field(default_factory=list)
    group_chat_id: int | None = None


class SchedulerSection(Section):
    tick_seconds: Annotated[int, Field(ge=1, le=3600)] = 30


# --- Feature sections. Each feature owns its class; keys are documented in config.example.toml.


Points = Annotated[int, Field(ge=0, le=100_000)]


class EarnAmounts(Section):
    """Points each deed earns."""

    verified_report: Points = 10
    urgent_bonus: Points = 5
    attendance: Points = 5
    volunteer_hour: Points = 10  # per hour confirmed in the time bank
    referral: Points = 20


class DailyCaps(Section):
    """The most one member earns from each rule in one local day; 0 = no cap."""

    verified_report: Points = 50
    urgent_bonus: Points = 25
    attendance: Points = 20
    volunteer_hour: Points = 80
    referral: Points = 100
    award: Points = 0


class PointsSection(Section):
    """Earn rules and caps (points feature)."""

    earn: EarnAmounts = EarnAmounts()
    daily_caps: DailyCaps = DailyCaps()
    # The most one /award or /deduct may move.
    award_max: Annotated[int, Field(ge=1, le=100_000)] = 500
    # Entries shown by /points.
    history_size: Annotated[int, Field(ge=1, le=30)] = 8

    def earn_rules(self, tz: ZoneInfo) -> EarnRules:
        return EarnRules(
            amounts=self.earn.model_dump(),
            daily_caps=self.daily_caps.model_dump(),
            tz=tz,
            award_max=self.award_max,
        )


class ShopItemSection(Section):
    key: Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
    name: Annotated[str, Field(min_length=1, max_length=64)]
    name_en: Annotated[str, Field(max_length=64)] = ""
    description: Annotated[str, Field(max_length=300)] = ""
    description_en: Annotated[str, Field(max_length=300)] = ""
    price: Annotated[int, Field(ge=1, le=100_000)]
    stock: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    active: bool = True


class ShopSection(Section):
    """The rewards catalogue (shop feature)."""

    # Items created in the database on start when their key is new; later edits are
    # made in the chat (/shopadmin) and are not overwritten by the config.
    items: list[ShopItemSection] = Field(default_factory=list)

    @field_validator("items")
    @classmethod
    def _unique_keys(cls, value: list[ShopItemSection]) -> list[ShopItemSection]:
        _require_unique([i.key for i in value], "item key")
        return value


class RankingsSection(Section):
    """Leaderboards and the weekly post (rankings feature)."""

    # Lines on one leaderboard.
    size: Annotated[int, Field(ge=3, le=50)] = 10
    # The weekly post: day (mon..sun) and local time HH:MM; weekly_post = false turns it off.
    weekly_post: bool = True
    weekly_day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    weekly_time: Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")] = "09:00"
    # A weekly post missed by more than this many hours (the bot was down) is skipped.
    catch_up_hours: Annotated[int, Field(ge=1, le=167)] = 72

    @property
    def weekday(self) -> int:
        return ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].index(self.weekly_day)

    @property
    def at(self) -> time:
        hours, minutes = self.weekly_time.split(":")
        return time(int(hours), int(minutes))


class TimebankSection(Section):
    """Hours ledger settings (timebank feature)."""

    # Confirmed hours come from the community pool instead of the receiver's balance.
    from_pool: bool = False
    # How far below zero a member's hours may go (hours; 0 = never negative).
    floor_hours: Annotated[float, Field(ge=0, le=1000)] = 10.0
    # The most one logged service may count (hours).
    max_hours: Annotated[float, Field(gt=0, le=24)] = 8.0


class HazardCategory(Section):
    """One kind of hazard residents can report; `urgent` ones alert the organizers at once."""

    key: Annotated[str, Field(min_length=1, max_length=16, pattern=r"^[a-z0-9_]+$")]
    zh: Annotated[str, Field(min_length=1, max_length=32)]
    en: Annotated[str, Field(min_length=1, max_length=48)]
    urgent: bool = False


def _default_hazard_categories() -> list[HazardCategory]:
    return [
        HazardCategory(key="fire", zh="火灾隐患", en="Fire risk", urgent=True),
        HazardCategory(key="exit", zh="消防通道/楼道堵塞", en="Blocked fire exit or corridor"),
        HazardCategory(key="electric", zh="电气隐患", en="Electrical", urgent=True),
        HazardCategory(key="gas", zh="燃气泄漏", en="Gas", urgent=True),
        HazardCategory(key="water", zh="漏水", en="Water leak"),
        HazardCategory(key="structure", zh="建筑/高空坠物", en="Structure, falling objects"),
        HazardCategory(key="security", zh="治安/诈骗", en="Security, fraud"),
        HazardCategory(key="elevator", zh="电梯故障", en="Elevator"),
        HazardCategory(key="other", zh="其他", en="Other"),
    ]


class HazardsSection(Section):
    """Report categories, urgency, escalation, follow-up and limits (hazards feature)."""

    categories: Annotated[list[HazardCategory], Field(min_length=1, max_length=30)] = Field(
        default_factory=_default_hazard_categories
    )
    # An unacknowledged urgent report is escalated again after this many minutes...
    escalate_after_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 15
    # ...at most this many times (0 = only the first alert).
    max_escalations: Annotated[int, Field(ge=0, le=20)] = 3
    # Days after resolution the reporter is asked "is it fixed?" (0 = never ask).
    followup_days: Annotated[int, Field(ge=0, le=90)] = 3
    max_reports_per_hour: Annotated[int, Field(ge=1, le=100)] = 5
    description_limit: Annotated[int, Field(ge=50, le=3000)] = 1000
    # Open reports of the same category this close (or in the same building) are offered as duplicates.
    duplicate_radius_m: Annotated[int, Field(ge=0, le=1000)] = 50

    @field_validator("categories")
    @classmethod
    def _unique_categories(cls, value: list[HazardCategory]) -> list[HazardCategory]:
        _require_unique([c.key for c in value], "category key")
        return value


class EventsSection(Section):
    """Reminders and card refresh (events feature)."""

    # Minutes before the start at which each confirmed member is reminded.
    reminder_offsets_minutes: Annotated[
        list[Annotated[int, Field(ge=1, le=60 * 24 * 14)]], Field(max_length=5)
    ] = Field(default_factory=lambda: [24 * 60, 60])
    # A group's event card is edited at most once per this many seconds as seats fill.
    card_edit_min_seconds: Annotated[int, Field(ge=1, le=3600)] = 5
    # Check-in opens this many minutes before the start (and closes at the end).
    checkin_opens_minutes: Annotated[int, Field(ge=0, le=24 * 60)] = 30

    @field_validator("reminder_offsets_minutes")
    @classmethod
    def _distinct_offsets(cls, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise ValueError("reminder offsets must be different from each other")
        return value


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


_CLOCK_TIME = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class BroadcastsSection(Section):
    """Bulk messages, the weekly digest, backups (broadcasts feature)."""

    # The organizer's progress message is edited at most this often while a broadcast runs.
    progress_interval_seconds: Annotated[int, Field(ge=1, le=600)] = 5
    # How many messages are in flight at once (the rate limiter keeps them within Telegram's limits).
    send_concurrency: Annotated[int, Field(ge=1, le=30)] = 8
    digest_enabled: bool = True
    digest_weekday: Weekday = "mon"
    digest_time: Annotated[str, Field(pattern=_CLOCK_TIME)] = "09:00"
    # A digest missed by more than this many hours (the bot was down) is skipped, not posted late.
    digest_catch_up_hours: Annotated[int, Field(ge=1, le=167)] = 48
    # A TrueType/OpenType font with Chinese glyphs for the chart ("" = look for one installed).
    digest_font: str = ""
    backup_enabled: bool = False
    backup_dir: str = "backups"  # relative paths are taken from the config file's folder
    backup_keep: Annotated[int, Field(ge=1, le=365)] = 7
    backup_time: Annotated[str, Field(pattern=_CLOCK_TIME)] = "03:30"


_KEY = r"^[a-z0-9_]{1,24}$"
Percent = Annotated[int, Field(ge=0, le=100)]


class FundName(Section):
    """What an account or an income kind is called, in Chinese and English."""

    zh: Annotated[str, Field(min_length=1, max_length=40)]
    en: Annotated[str, Field(min_length=1, max_length=60)]


def _default_accounts() -> dict[str, FundName]:
    return {
        "provider": FundName(zh="专业服务机构", en="Service provider"),
        "hub": FundName(zh="枢纽型社会企业孵化平台", en="Hub social enterprise"),
    }


def _default_splits() -> dict[str, dict[str, int]]:
    return {
        "service_outsourcing": {"provider": 70, "hub": 25, "fund": 5},
        "donation": {"fund": 100},
    }


class FundSection(Section):
    """Accounts, split rules, the monthly report (fund feature)."""

    # The accounts an income is split into besides the fund itself ("fund").
    accounts: dict[str, FundName] = Field(default_factory=_default_accounts)
    # Per income kind: account -> percent (summing to 100); remainders of rounding go to the fund.
    splits: dict[str, dict[str, Percent]] = Field(default_factory=_default_splits)
    # Names of the income kinds (a kind without one is shown by its key).
    kinds: dict[str, FundName] = Field(default_factory=dict)
    # The monthly report to the bound groups: on this day of the month at this local time.
    report_enabled: bool = True
    report_day: Annotated[int, Field(ge=1, le=28)] = 1
    report_time: Annotated[str, Field(pattern=_CLOCK_TIME)] = "09:00"
    # Bookings /fund shows.
    history_size: Annotated[int, Field(ge=1, le=20)] = 8

    @model_validator(mode="after")
    def _known_accounts(self) -> FundSection:
        for key in [*self.accounts, *self.splits, *self.kinds]:
            if not re.match(_KEY, key):
                raise ValueError(f"{key!r}: use lowercase letters, digits and _")
        if "fund" in self.accounts:
            raise ValueError("accounts: 'fund' is the fund itself, not another account")
        if not self.splits:
            raise ValueError("splits: at least one income kind is needed")
        for kind, rule in self.splits.items():
            for account in rule:
                if account != "fund" and account not in self.accounts:
                    raise ValueError(f"splits.{kind}: unknown account {account!r}")
            if sum(rule.values()) != 100:
                raise ValueError(f"splits.{kind}: percentages sum to {sum(rule.values())}, not 100")
        for kind in self.kinds:
            if kind not in self.splits:
                raise ValueError(f"kinds.{kind}: no split rule for this income kind")
        return self

    @property
    def at(self) -> time:
        hours, minutes = self.report_time.split(":")
        return time(int(hours), int(minutes))


_SPACE_HOURS = r"^(closed|([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-4]):[0-5][0-9])$"
SpaceHours = Annotated[str, Field(pattern=_SPACE_HOURS)]


class SpaceHoursSection(Section):
    """Opening hours per weekday: "08:30-21:00" or "closed"."""

    mon: SpaceHours = "08:00-21:00"
    tue: SpaceHours = "08:00-21:00"
    wed: SpaceHours = "08:00-21:00"
    thu: SpaceHours = "08:00-21:00"
    fri: SpaceHours = "08:00-21:00"
    sat: SpaceHours = "08:00-21:00"
    sun: SpaceHours = "08:00-21:00"

    @model_validator(mode="after")
    def _ranges(self) -> SpaceHoursSection:
        for day, value in self.model_dump().items():
            if value != "closed" and parse_hours(value) is None:
                raise ValueError(f"{day}: the closing time must come after the opening time")
        return self


class SpaceSection(Section):
    """One shared space residents book (spaces feature)."""

    key: Annotated[str, Field(min_length=1, max_length=24, pattern=r"^[a-z0-9_-]+$")]
    name: Annotated[str, Field(min_length=1, max_length=64)]
    name_en: Annotated[str, Field(max_length=64)] = ""
    place: Annotated[str, Field(max_length=100)] = ""
    kind: Annotated[str, Field(max_length=24, pattern=r"^[a-z0-9_-]*$")] = ""
    capacity: Annotated[int, Field(ge=0, le=10_000)] = 0
    hours: SpaceHoursSection = SpaceHoursSection()
    slot_minutes: Annotated[int, Field(ge=5, le=240)] = 30
    min_minutes: Annotated[int, Field(ge=5, le=1440)] = 30
    max_minutes: Annotated[int, Field(ge=5, le=1440)] = 120
    notice_minutes: Annotated[int, Field(ge=0, le=10_080)] = 120
    window_days: Annotated[int, Field(ge=1, le=365)] = 14
    audience: Annotated[str, Field(pattern=r"^(community|compound:\S+|building:\S+|role:\S+)$")] = (
        "community"
    )
    quota_hours: Annotated[int, Field(ge=0, le=168)] = 0
    approval: Literal["none", "organizer", "operator"] = "none"
    price: Annotated[int, Field(ge=0, le=100_000)] = 0
    operator: Annotated[int, Field(ge=1)] | None = None
    checkin_grace_minutes: Annotated[int, Field(ge=0, le=240)] = 15
    cancel_hours: Annotated[int, Field(ge=0, le=720)] = 2
    no_show_limit: Annotated[int, Field(ge=0, le=50)] = 3
    suspend_days: Annotated[int, Field(ge=0, le=365)] = 14
    reminder_minutes: Annotated[int, Field(ge=0, le=10_080)] = 60

    @model_validator(mode="after")
    def _lengths(self) -> SpaceSection:
        slot = self.slot_minutes
        if self.min_minutes % slot or self.max_minutes % slot:
            raise ValueError(
                f"min_minutes and max_minutes must be multiples of slot_minutes ({slot})"
            )
        if self.min_minutes > self.max_minutes:
            raise ValueError("min_minutes is longer than max_minutes")
        if self.approval == "operator" and self.operator is None:
            raise ValueError('approval = "operator" needs an operator (a Telegram user id)')
        return self

    def rules(self) -> Rules:
        hours = tuple(
            None if value == "closed" else parse_hours(value)
            for value in self.hours.model_dump().values()
        )
        return Rules(
            hours=hours, slot_minutes=self.slot_minutes, min_minutes=self.min_minutes,
            max_minutes=self.max_minutes, notice_minutes=self.notice_minutes,
            window_days=self.window_days, quota_minutes=self.quota_hours * 60,
            checkin_grace_minutes=self.checkin_grace_minutes, cancel_hours=self.cancel_hours,
            no_show_limit=self.no_show_limit, suspend_days=self.suspend_days,
            reminder_minutes=self.reminder_minutes,
        )  # fmt: skip

    @property
    def approval_kind(self) -> Approval:
        return Approval(self.approval)


class DirectoryCategory(Section):
    """A kind of neighbours' service or of place, with its names in both languages."""

    key: Annotated[str, Field(min_length=1, max_length=16, pattern=r"^[a-z0-9_]+$")]
    zh: Annotated[str, Field(min_length=1, max_length=32)]
    en: Annotated[str, Field(min_length=1, max_length=48)]


def _cats(*triples: tuple[str, str, str]) -> list[DirectoryCategory]:
    return [DirectoryCategory(key=k, zh=zh, en=en) for k, zh, en in triples]


def _default_service_categories() -> list[DirectoryCategory]:
    return _cats(
        ("repairs", "维修", "Repairs"), ("electrical", "水电", "Electrical"),
        ("tutoring", "辅导", "Tutoring"), ("haircut", "理发", "Haircuts"),
        ("elder", "陪伴老人", "Elder company"), ("childcare", "看护儿童", "Child care"),
        ("health", "健康", "Health"), ("advice", "法律/理财咨询", "Legal, financial advice"),
        ("computer", "电脑手机", "Computer help"), ("other", "其他", "Other"),
    )  # fmt: skip


def _default_place_categories() -> list[DirectoryCategory]:
    return _cats(
        ("grocery", "菜店超市", "Grocery"), ("pharmacy", "药店", "Pharmacy"),
        ("clinic", "诊所", "Clinic"), ("barber", "理发店", "Barber"), ("bank", "银行", "Bank"),
        ("school", "学校", "School"), ("lockers", "快递柜", "Parcel lockers"),
        ("repair", "修理铺", "Repair shop"), ("toilet", "公厕", "Public toilet"),
        ("canteen", "社区食堂", "Community canteen"), ("shop", "商店", "Shop"),
        ("station", "骑手驿站", "Rider station"),
    )  # fmt: skip


ORG_KINDS = ("party_committee", "party_branch", "residents_committee", "owners_committee",
             "property", "volunteer_team", "social_org")  # fmt: skip


class OrganizationSection(Section):
    """One of the community's organizations, in a tree by `parent`."""

    key: Annotated[str, Field(min_length=1, max_length=24, pattern=r"^[a-z0-9_-]+$")]
    name: Annotated[str, Field(min_length=1, max_length=64)]
    name_en: Annotated[str, Field(max_length=64)] = ""
    kind: Literal[
        "party_committee", "party_branch", "residents_committee", "owners_committee",
        "property", "volunteer_team", "social_org",
    ]  # fmt: skip
    parent: Annotated[str, Field(max_length=24)] = ""
    leader: Annotated[str, Field(max_length=64)] = ""
    contact: Annotated[str, Field(max_length=100)] = ""
    group_link: Annotated[str, Field(max_length=200, pattern=r"^(|https://t\.me/\S+)$")] = ""
    leader_id: Annotated[int, Field(ge=1)] | None = (
        None  # the leader's Telegram id (approves joins)
    )


class DirectorySection(Section):
    """Neighbours' services, the life circle, rider stations, organizations (directory)."""

    service_categories: Annotated[list[DirectoryCategory], Field(min_length=1, max_length=30)] = (
        Field(default_factory=_default_service_categories)
    )
    place_categories: Annotated[list[DirectoryCategory], Field(min_length=1, max_length=30)] = (
        Field(default_factory=_default_place_categories)
    )
    approve_offers: bool = False
    offers_per_day: Annotated[int, Field(ge=0, le=100)] = 3
    requests_per_day: Annotated[int, Field(ge=0, le=100)] = 5
    asks_per_day: Annotated[int, Field(ge=0, le=100)] = 10
    organizations: list[OrganizationSection] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> DirectorySection:
        _require_unique([c.key for c in self.service_categories], "service category")
        _require_unique([c.key for c in self.place_categories], "place category")
        _require_unique([o.key for o in self.organizations], "organization key")
        keys = {o.key for o in self.organizations}
        for org in self.organizations:
            if org.parent and org.parent not in keys:
                raise ValueError(f"organization {org.key!r}: unknown parent {org.parent!r}")
        return self


class Config(Section):
    bot: BotSection = BotSection()
    storage: StorageSection = StorageSection()
    community: CommunitySection  # required: its compounds are the community's own
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
    fund: FundSection = FundSection()
    spaces: list[SpaceSection] = Field(default_factory=list)
    directory: DirectorySection = DirectorySection()

    # Where the file was read from: relative paths (the database) are taken from there.
    source: str = ""

    @model_validator(mode="before")
    @classmethod
    def _community_table(cls, data: Any) -> Any:
        # A file without [community] is missing its compounds: say that, not "community".
        if isinstance(data, dict) and "community" not in data:
            return {**data, "community": {}}
        return data

    @field_validator("spaces")
    @classmethod
    def _spaces_known(cls, spaces: list[SpaceSection], info: ValidationInfo) -> list[SpaceSection]:
        """Keys unique; each audience a node of this community or a role."""
        _require_unique([s.key for s in spaces], "space key")
        community = info.data.get("community")
        compounds = {c.id: c for c in community.compounds} if community is not None else {}
        for space in spaces:
            kind, _, target = space.audience.partition(":")
            known = (
                space.audience == "community"
                or (kind == "role" and target in {r.value for r in Role})
                or (kind == "compound" and target in compounds)
                or (kind == "building" and target.partition("/")[0] in compounds
                    and target.partition("/")[2] in compounds[target.partition("/")[0]].buildings)
            )  # fmt: skip
            if not known:
                raise ValueError(
                    f"space {space.key!r}: unknown audience {space.audience!r} (community,"
                    " compound:<id>, building:<compound>/<building> or role:<role> of this file)"
                )
        return spaces

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
            name_en=self.community.name_en,
            compounds=tuple(
                Compound(
                    id=c.id,
                    name=c.name,
                    buildings=tuple(
                        Building(building_id(c.id, b), c.id, b, *c.location(b)) for b in c.buildings
                    ),
                    name_en=c.name_en,
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


_MISSING_HINTS = {("community", "compounds"): f"missing ({_COMPOUNDS_HINT})"}


def _describe(error: dict[str, Any]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return _MISSING_HINTS.get(tuple(error["loc"]), "missing")
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
