"""The outbox: what handling an update promised to say is committed with what it did.

Every update is handled inside one unit of work (`Database.unit_of_work`): its writes
commit together at the end, with the update's processed mark. From the first write on,
every Bot API call the handlers make (a confirmation, the organizers' card, a notice, the
edit of the card a button sits on) is not sent but recorded in the outbox table, in that
same transaction, and answered at once with what Telegram would answer (a message whose
number is the row's id, negated: a placeholder). After the commit the rows are delivered,
in order; a crash between the commit and the sending leaves them pending, and the next
start delivers them. So the effect and its messages exist together or not at all.

- A row in flight when the process dies (its request had left): an edit is made again
  (it shows the same thing twice at worst), a new message is not: nobody gets one twice.
- The answer to a button tap (the small pop-up) is kept in memory and sent after the
  commit: Telegram forgets a tap within seconds, so it cannot survive a crash anyway.
- A placeholder message id stored with a card is turned into Telegram's number whenever
  that card is edited later (`LinliBot` resolves it through the outbox).
- Messages to a chat that must leave no trace (the sender of an anonymous report or of a
  tree-hole message, a secret voter) stay off disk: `keep_off_disk` (sent after the commit
  from memory, like the pop-up).
Before the first write nothing is committed and nothing can be lost, so calls go out
directly (a read-only update, such as /points, never touches the outbox).
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from telegram import Bot, InputFile
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import JSONDict
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import ExtBot
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from linli.storage import outbox as outbox_db
from linli.storage.db import Database

log = logging.getLogger(__name__)

# Sent after the commit, from memory: a tap's answer, and calls nobody is promised.
AFTER_COMMIT = frozenset(
    {"answerCallbackQuery", "setMyCommands", "deleteMyCommands", "sendChatAction"}
)
# Calls whose answer the handler needs: they are made at once, even inside a unit.
READS = frozenset(
    {
        "getMe",
        "getFile",
        "getChat",
        "getChatMember",
        "getChatAdministrators",
        "getChatMemberCount",
        "getUserProfilePhotos",
        "getMyCommands",
        "getUpdates",
    }
)
_EDITS = frozenset(
    {"editMessageText", "editMessageCaption", "editMessageReplyMarkup", "editMessageMedia"}
)
RETRY_NETWORK = timedelta(seconds=15)
RETRY_TIMEOUT = timedelta(seconds=30)

_SESSION: ContextVar[Session | None] = ContextVar("linli_outbox_session", default=None)


@dataclass(eq=False)
class Session:
    """What one update's handling has recorded so far."""

    db: Database
    now: Callable[[], datetime]
    # The task handling the update; a task it starts (a broadcast's sender) sends on its own.
    owner: asyncio.Task[Any] | None = field(default_factory=asyncio.current_task)
    rows: list[int] = field(default_factory=list)
    after: list[tuple[str, JSONDict]] = field(default_factory=list)
    off_disk: set[int] = field(default_factory=set)
    direct: bool = False

    async def intercept(self, endpoint: str, data: JSONDict) -> Any:
        """The answer to give instead of sending, or `_SEND` to send now."""
        if endpoint in READS or self.direct or asyncio.current_task() is not self.owner:
            return _SEND
        tx = self.db.unit_tx()
        if tx is None:  # nothing written yet: nothing to lose by sending now
            return _SEND
        chat_id = data.get("chat_id")
        chat = (
            int(chat_id)
            if isinstance(chat_id, int | str) and str(chat_id).lstrip("-").isdigit()
            else None
        )
        if endpoint in AFTER_COMMIT or (chat is not None and chat in self.off_disk):
            self.after.append((endpoint, dict(data)))
            return _stand_in(endpoint, data, 0, self.now())
        row_id = await outbox_db.record(tx, chat, endpoint, _params(data), self.now())
        self.rows.append(row_id)
        return _stand_in(endpoint, data, -row_id, self.now())


_SEND = object()


def keep_off_disk(chat_id: int) -> None:
    """This update's messages to `chat_id` are not recorded: sent from memory after the
    commit (a crash may lose them). For the chats whose link to what was written must not
    exist anywhere on disk."""
    session = _SESSION.get()
    if session is not None:
        session.off_disk.add(chat_id)


def keep_on_disk(chat_id: int) -> None:
    """From here on, this update's messages to `chat_id` are recorded again (a report that
    turned out to be under the reporter's name: its confirmation is promised)."""
    session = _SESSION.get()
    if session is not None:
        session.off_disk.discard(chat_id)


@contextmanager
def sending_now() -> Iterator[None]:
    """Calls inside are made at once, even after a write: for the rare message whose
    failure the handler must know right away (a question in a private chat the member may
    never have opened). It holds the write lock while Telegram answers: keep it rare."""
    session = _SESSION.get()
    if session is None:
        yield
        return
    before, session.direct = session.direct, True
    try:
        yield
    finally:
        session.direct = before


def discard() -> None:
    """Handling failed and its unit was rolled back: what it recorded is gone with it, and
    nothing it kept in memory is sent."""
    session = _SESSION.get()
    if session is not None:
        session.rows.clear()
        session.after.clear()


@asynccontextmanager
async def handling(bot: Bot, db: Database, now: Callable[[], datetime]) -> AsyncIterator[Session]:
    """One update's unit of work; on leaving it commits, then answers and delivers."""
    session = Session(db, now)
    token = _SESSION.set(session)
    try:
        async with db.unit_of_work():
            yield session
    finally:
        _SESSION.reset(token)
    for endpoint, data in session.after:
        try:
            await _direct(bot, endpoint, data)
        except TelegramError as exc:  # a tap's answer too late, a chat gone: nothing to keep
            log.info("after-commit %s not made: %s", endpoint, exc)
    for row_id in session.rows:
        await deliver_one(bot, db, row_id, now)


async def _direct(bot: Bot, endpoint: str, data: JSONDict) -> Any:
    if isinstance(bot, LinliBot):
        return await bot.post_now(endpoint, data)
    return await bot.do_api_request(endpoint, api_kwargs=data)


async def deliver_one(bot: Bot, db: Database, row_id: int, now: Callable[[], datetime]) -> str:
    """Send one recorded call, claiming its row right as its request leaves (a call still
    waiting for its rate-limit slot was never on the wire); returns the row's new state
    ("taken" if it was not pending, or another sender had it)."""
    row = await outbox_db.get(db, row_id)
    if row is None:
        return "taken"
    claimed: list[bool] = []

    async def leave() -> bool:
        if not claimed:
            claimed.append(await outbox_db.claim(db, row_id, now()))
        return claimed[0]

    try:
        result = await cast(LinliBot, bot).post_recorded(row, leave)
    except RetryAfter as exc:
        await outbox_db.retry_later(db, row_id, now() + _seconds(exc.retry_after), str(exc))
        return "pending"
    except TimedOut as exc:
        # It may have arrived: an edit is made again, a new message is not.
        if row.method in outbox_db.REPEATABLE:
            await outbox_db.retry_later(db, row_id, now() + RETRY_TIMEOUT, str(exc))
            return "pending"
        await outbox_db.failed(db, row_id, f"timed out: {exc}", state="unknown")
        return "unknown"
    except NetworkError as exc:  # no connection: it did not leave
        if not claimed or not claimed[0]:
            return "taken"
        await outbox_db.retry_later(db, row_id, now() + RETRY_NETWORK, str(exc))
        return "pending"
    except (BadRequest, Forbidden) as exc:
        if "not modified" in str(exc):  # the card already shows it
            await outbox_db.sent(db, row_id, None, now())
            return "sent"
        log.info("outbox row %s refused: %s", row_id, exc)
        await outbox_db.failed(db, row_id, str(exc))
        return "failed"
    except TelegramError as exc:
        await outbox_db.failed(db, row_id, str(exc))
        return "failed"
    if result is _NOT_CLAIMED:
        return "taken"
    message_id = result.get("message_id") if isinstance(result, dict) else None
    await outbox_db.sent(db, row_id, message_id if isinstance(message_id, int) else None, now())
    return "sent"


_NOT_CLAIMED = object()


async def deliver_due(bot: Bot, db: Database, now: Callable[[], datetime]) -> int:
    """Everything pending whose time has come (after a restart, a flood wait, a network
    error), oldest first; returns how many were sent."""
    delivered = 0
    for row_id in await outbox_db.due(db, now()):
        if await deliver_one(bot, db, row_id, now) == "sent":
            delivered += 1
    return delivered


def _seconds(value: float | timedelta) -> timedelta:
    return value if isinstance(value, timedelta) else timedelta(seconds=float(value))


class LinliBot(ExtBot[None]):
    """PTB's bot, with Linli's outbox in front of the wire (see the module docstring)."""

    __slots__ = ("_linli_db",)

    def __init__(self, *args: Any, database: Database | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._linli_db = database

    async def _do_post(
        self,
        endpoint: str,
        data: JSONDict,
        *,
        read_timeout: Any = DEFAULT_NONE,
        write_timeout: Any = DEFAULT_NONE,
        connect_timeout: Any = DEFAULT_NONE,
        pool_timeout: Any = DEFAULT_NONE,
    ) -> bool | JSONDict | list[JSONDict]:
        session = _SESSION.get()
        if session is not None:
            answer = await session.intercept(endpoint, data)
            if answer is not _SEND:
                return cast(JSONDict, answer)
        if self._linli_db is not None and _placeholder(data) is not None:
            data = await _resolved_params(self._linli_db, dict(data))
        return await super()._do_post(
            endpoint,
            data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )

    async def post_now(self, endpoint: str, data: JSONDict) -> Any:
        """Make a call now (after a commit: no session is recording any more)."""
        return await self._do_post(endpoint, data)

    async def post_recorded(
        self, row: outbox_db.Recorded, leave: Callable[[], Awaitable[bool]]
    ) -> Any:
        """Make a recorded call through the rate limiter; `leave()` claims its row as the
        request is let out, and the call is not made if the claim fails."""
        db = self._linli_db
        if db is None:
            raise RuntimeError("the outbox needs the bot's database")

        async def out(*_: Any, **__: Any) -> Any:
            if not await leave():
                return _NOT_CLAIMED
            params = await _resolved_params(db, row.params)
            return await self._request[1].post(
                url=f"{self.base_url}/{row.method}", request_data=_request_data(params)
            )

        if self.rate_limiter is None:
            return await out()
        return await self.rate_limiter.process_request(
            callback=out,
            args=(),
            kwargs={},
            endpoint=row.method,
            data=row.params,
            rate_limit_args=None,
        )


def _params(data: JSONDict) -> dict[str, Any]:
    """A call's parameters as JSON: Telegram objects as dicts, files as base64."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        parameter = RequestParameter.from_input(key, value)
        entry: Any = parameter.value
        if parameter.input_files:
            files = [
                {
                    "attach": f.attach_name,
                    "name": f.filename,
                    "mime": f.mimetype,
                    "data": base64.b64encode(cast(bytes, f.input_file_content)).decode("ascii"),
                }
                for f in parameter.input_files
            ]
            entry = {"__files__": files, "value": parameter.value}
        if entry is not None:
            out[key] = entry
    return out


def _request_data(params: dict[str, Any]) -> RequestData:
    parameters: list[RequestParameter] = []
    for key, entry in params.items():
        if isinstance(entry, dict) and "__files__" in entry:
            files = []
            for spec in entry["__files__"]:
                upload = InputFile(base64.b64decode(spec["data"]), filename=spec["name"])
                upload.mimetype = spec["mime"]
                upload.attach_name = spec["attach"]
                files.append(upload)
            parameters.append(RequestParameter(key, entry["value"], files))
        else:
            parameters.append(RequestParameter(key, entry, None))
    return RequestData(parameters)


def _placeholder(data: JSONDict) -> int | None:
    message_id = data.get("message_id")
    return -message_id if isinstance(message_id, int) and message_id < 0 else None


async def _resolved_params(db: Database, params: dict[str, Any]) -> dict[str, Any]:
    row_id = _placeholder(params)
    if row_id is None:
        return params
    found = (await outbox_db.message_ids(db, [row_id])).get(row_id)
    if found is None:
        raise BadRequest("Bad Request: message to edit not found (its card was never sent)")
    return {**params, "message_id": found}


def _stand_in(endpoint: str, data: JSONDict, message_id: int, now: datetime) -> Any:
    """What Telegram would answer, for a call recorded rather than made."""
    if endpoint in _EDITS:
        if "inline_message_id" in data:
            return True
        message_id = int(data.get("message_id") or 0)
    elif not endpoint.startswith("send") and endpoint != "copyMessage":
        return True
    chat_id = data.get("chat_id")
    chat = int(chat_id) if isinstance(chat_id, int) else 0
    message = {
        "message_id": message_id,
        "date": int(now.timestamp()),
        "chat": {"id": chat, "type": "private" if chat > 0 else "supergroup"},
    }
    if endpoint == "sendMediaGroup":
        return [message]
    return message
