"""The whole bot in one process, against the simulator: for handler/job tests and benchmarks.

    async with Harness() as h:
        alice = h.user(2001, "王芳")
        await h.start(alice)
        assert "欢迎" in h.last_text(alice)
        await h.press(alice, "中文")

Every user action queues updates in the simulator; the awaited helpers then feed *all*
pending updates through `app.process_update`, in order, before returning, so a test reads
the bot's answers right after. A handler that raises fails the test (``raise_errors``).
"""

from __future__ import annotations

import asyncio
import math
import tempfile
import tomllib
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Any

from telegram import Update

from linli.bot.app import build_application
from linli.bot.config import Config, parse_config
from linli.bot.context import LinliApp, LinliContext, Services
from linli.bot.jobs import run_ticks
from linli.bot.limits import Limiter
from linli.bot.render import Renderer
from linli.core.clock import FakeClock
from linli.sim.core import Alert, SentMessage, SimError, SimGroup, Simulator, SimUser
from linli.sim.request import SimRequest
from linli.storage.db import Database

ChatRef = int | SimUser | SimGroup
DEFAULT_TOKEN = "123:TEST"
DEFAULT_ORGANIZER = 1000
DEFAULT_ORGANIZERS_GROUP = -1001000
GROUP_CREATOR = 999_999  # created the organizers' group and added the bot to it
_MAX_ROUNDS = 1000


def example_config_data() -> dict[str, Any]:
    """config.example.toml (shipped inside the package), parsed."""
    text = (resources.files("linli") / "config.example.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def deep_merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `base` with `overrides` merged in, tables recursively, other values replaced."""
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def chat_id_of(chat: ChatRef) -> int:
    return chat if isinstance(chat, int) else chat.id


class HandlerError(AssertionError):
    """A handler raised while the harness processed an update."""


class Harness:
    """A Linli Application wired to a Simulator, a FakeClock and a temporary database."""

    sim: Simulator
    app: LinliApp
    db: Database
    clock: FakeClock
    config: Config
    services: Services

    organizers_group: SimGroup | None
    """The organizers' group from the config (created with the bot in it unless disabled)."""

    def __init__(
        self,
        overrides: Mapping[str, Any] | None = None,
        *,
        flood_limits: bool = False,
        rate_limit: bool = False,
        privacy_mode: bool = True,
        raise_errors: bool = True,
        clock: FakeClock | None = None,
        directory: str | Path | None = None,
        with_organizers_group: bool = True,
    ) -> None:
        self._overrides = dict(overrides or {})
        self._flood_limits = flood_limits
        # The bot's own rate limiter, on the fake clock: its waits move the clock (and the
        # simulator's flood limits then run on it too) instead of taking real time.
        self._rate_limit = rate_limit
        self._privacy_mode = privacy_mode
        self.raise_errors = raise_errors
        self.clock = clock or FakeClock()
        self._directory = Path(directory) if directory is not None else None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.errors: list[BaseException] = []
        self._running = False
        self._with_organizers_group = with_organizers_group
        self.organizers_group: SimGroup | None = None

    # --- lifecycle

    async def __aenter__(self) -> Harness:
        if self._directory is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="linli-harness-")
            self._directory = Path(self._tmp.name)
        defaults = {
            "bot": {"token": DEFAULT_TOKEN},
            "storage": {"database": str(self._directory / "linli.sqlite3")},
            "organizers": {
                "user_ids": [DEFAULT_ORGANIZER],
                "group_chat_id": DEFAULT_ORGANIZERS_GROUP,
            },
        }
        data = deep_merge(deep_merge(example_config_data(), defaults), self._overrides)
        self.config = parse_config(data, str(self._directory / "config.toml"))
        self.sim = Simulator(
            self.config.bot.token,
            clock=self.clock,
            flood_limits=self._flood_limits,
            privacy_mode=self._privacy_mode,
        )
        # As `linli run` asks for: every update kind (chat_member needs asking).
        self.sim.allowed_updates = frozenset(str(kind) for kind in Update.ALL_TYPES)
        if self._rate_limit:
            self.sim.monotonic = self.monotonic
        self.db = await Database.open(self.config.database_path)
        await self._build()
        group_id = self.config.organizers.group_chat_id
        if self._with_organizers_group and group_id is not None:
            # As deployed: the organizers' group exists with the bot in it. The organizers are
            # members by id only, so a test still creates user 1000 with the name and
            # language it wants; the group's creator (who added the bot) is a staff account.
            staff = self.sim.create_user(GROUP_CREATOR, "社区工作站", language_code="zh-hans")
            group = self.sim.create_group(group_id, "组织者群", owner=staff)
            for uid in self.config.organizers.user_ids:
                group.members.setdefault(uid, "member")
            self.sim.add_bot_to_group(group, staff)
            self.organizers_group = group
            await self.process()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    async def _build(self) -> None:
        self.services = Services(
            self.config, self.db, self.clock, Renderer(self.config.tz), self.config.structure()
        )
        limiter = Limiter(clock=self.monotonic, sleep=self._sleep) if self._rate_limit else False
        self.app = build_application(
            self.services, request=SimRequest(self.sim), rate_limit=limiter, scheduler=False
        )
        self.app.add_error_handler(self._record_error)
        await self.app.initialize()
        # Application.initialize does not run post_init (run_polling does): run it here so
        # set_my_commands and the like are exercised as in production.
        if self.app.post_init is not None:
            await self.app.post_init(self.app)
        self._running = True

    def monotonic(self) -> float:
        """The fake clock as seconds (the rate limiter's and, with it on, the simulator's)."""
        return self.clock().timestamp()

    async def _sleep(self, seconds: float) -> None:
        # The fake clock counts whole microseconds: round up, or a short wait never ends.
        self.clock.advance(microseconds=math.ceil(seconds * 1e6))
        await asyncio.sleep(0)

    async def _stop(self) -> None:
        if not self._running:
            return
        self._running = False
        await self.app.shutdown()
        await self.db.close()

    async def restart(self) -> None:
        """Like a process restart: a fresh Application and Services on the same database file
        and clock. The simulator (Telegram) keeps its state and undelivered updates."""
        await self._stop()
        self.db = await Database.open(self.config.database_path)
        await self._build()

    async def _record_error(self, update: object, context: LinliContext) -> None:
        if context.error is not None:
            self.errors.append(context.error)

    # --- people and places

    def user(
        self, id: int, first_name: str, lang: str | None = "zh-hans", username: str | None = None
    ) -> SimUser:
        """A Telegram user (not yet talking to the bot)."""
        return self.sim.create_user(id, first_name, username=username, language_code=lang)

    @property
    def organizer(self) -> SimUser:
        """The first organizer from the config, as a Telegram user (created on first use)."""
        uid = self.config.organizers.user_ids[0]
        return self.sim.users.get(uid) or self.user(uid, "组织者")

    def group(
        self,
        chat_id: int,
        title: str,
        members: Sequence[SimUser] = (),
        *,
        admin: bool = False,
        by: SimUser | None = None,
    ) -> SimGroup:
        """A group with these members, to which an organizer adds the bot.

        Not awaited: the bot's updates (my_chat_member, new_chat_members) are queued and
        processed by the next awaited helper (or `await h.process()`).
        """
        adder = by or self.organizer
        group = self.sim.create_group(chat_id, title, owner=adder)
        for member in members:
            group.members.setdefault(member.id, "member")
        self.sim.add_bot_to_group(group, adder, admin=admin)
        return group

    # --- acting as users (each processes every pending update before returning)

    async def process(self) -> list[SentMessage]:
        """Feed every pending update to the app; returns what the bot sent meanwhile."""
        before = len(self.sim.sent_log)
        for _ in range(_MAX_ROUNDS):
            updates = self.sim.take_updates()
            if not updates:
                break
            for data in updates:
                await self.app.process_update(Update.de_json(data, self.app.bot))
                self._check_answered(data)
                self._raise_errors()
        else:
            raise HandlerError("updates keep coming: the bot seems to loop")
        return self.sim.sent_log[before:]

    def _check_answered(self, update: Mapping[str, Any]) -> None:
        """Every button press gets exactly one answer (else Telegram shows a spinner until it
        gives up, or refuses the second answer): a press left unanswered or answered twice
        fails the test like a handler that raised."""
        query = update.get("callback_query")
        if query is not None and not self.sim.query_answered(str(query["id"])):
            self.sim.violations.append(
                f"button press {query['id']} ({query.get('data')!r}) was never answered"
            )
        if self.sim.violations:
            violations, self.sim.violations = self.sim.violations, []
            if self.raise_errors:
                raise HandlerError("; ".join(violations))

    def _raise_errors(self) -> None:
        if self.raise_errors and self.errors:
            error, self.errors = self.errors[0], []
            raise HandlerError(f"a handler raised {error!r}") from error

    async def send(
        self, user: SimUser, text: str, chat: ChatRef | None = None
    ) -> list[SentMessage]:
        """`user` sends `text` (private chat by default); returns the bot's new messages."""
        self.sim.send_text(user, chat_id_of(chat) if chat is not None else user.id, text)
        return await self.process()

    async def start(self, user: SimUser, payload: str | None = None) -> list[SentMessage]:
        """`user` opens the private chat with /start [payload]."""
        self.sim.start_private(user, payload)
        return await self.process()

    async def photo(
        self, user: SimUser, chat: ChatRef | None = None, caption: str | None = None
    ) -> list[SentMessage]:
        self.sim.send_photo(user, chat_id_of(chat) if chat is not None else user.id, caption)
        return await self.process()

    async def location(
        self, user: SimUser, lat: float, lon: float, chat: ChatRef | None = None
    ) -> list[SentMessage]:
        self.sim.send_location(user, chat_id_of(chat) if chat is not None else user.id, lat, lon)
        return await self.process()

    async def press(self, user: SimUser, label: str, chat: ChatRef | None = None) -> str | None:
        """Press the button labelled `label` on the newest message carrying it; returns the
        callback query id (None for a deep-link or reply-keyboard button)."""
        query_id = self.sim.press(user, chat_id_of(chat) if chat is not None else user.id, label)
        await self.process()
        return query_id

    async def callback(
        self,
        user: SimUser,
        data: str,
        chat: ChatRef | None = None,
        message_id: int | None = None,
    ) -> str:
        """A button press with any callback data (forged or replayed), on `message_id` or the
        bot's newest message in the chat."""
        chat_id = chat_id_of(chat) if chat is not None else user.id
        if message_id is None:
            last = self.sim.last(chat_id)
            if last is None:
                raise SimError(f"the bot has sent nothing in chat {chat_id} to press on")
            message_id = last.message_id
        query_id = self.sim.send_callback(user, chat_id, message_id, data)
        await self.process()
        return query_id

    async def edit(
        self, user: SimUser, message_id: int, text: str, chat: ChatRef | None = None
    ) -> list[SentMessage]:
        """`user` edits their message `message_id` (private chat by default) to `text`."""
        self.sim.edit_text(
            user, chat_id_of(chat) if chat is not None else user.id, message_id, text
        )
        return await self.process()

    async def redeliver_last(self) -> list[SentMessage]:
        """Telegram delivers the last update again, with the same update_id."""
        self.sim.redeliver()
        return await self.process()

    async def tick(self) -> list[SentMessage]:
        """One pass of the scheduler (`run_ticks`), then any updates it caused."""
        before = len(self.sim.sent_log)
        await run_ticks(LinliContext(self.app))
        await self.process()
        return self.sim.sent_log[before:]

    # --- reading what users see

    def messages(self, chat: ChatRef) -> list[SentMessage]:
        """The bot's messages in the chat that are still there (edits applied)."""
        return [m for m in self.sim.transcript(chat_id_of(chat)) if not m.deleted]

    def texts(self, chat: ChatRef) -> list[str]:
        """Texts (or captions) of the bot's messages here, edits applied, deleted left out."""
        return [m.content for m in self.messages(chat)]

    def last_text(self, chat: ChatRef) -> str:
        """The text of the bot's newest message in the chat ("" if it has sent none)."""
        last = self.sim.last(chat_id_of(chat))
        return last.content if last is not None else ""

    def last(self, chat: ChatRef) -> SentMessage | None:
        return self.sim.last(chat_id_of(chat))

    def buttons(self, chat: ChatRef) -> list[str]:
        """Button labels on the bot's newest message in the chat."""
        last = self.sim.last(chat_id_of(chat))
        return last.labels if last is not None else []

    def alerts(self, user: SimUser) -> list[Alert]:
        """The bot's answers to this user's button presses (text, show_alert), in order."""
        return self.sim.alerts(user)


__all__ = ["ChatRef", "HandlerError", "Harness", "chat_id_of", "deep_merge"]
