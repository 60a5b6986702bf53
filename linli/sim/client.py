"""Residents over HTTP: a small client for the simulator server's `/sim/...` API.

Used by the end-to-end tests and benchmarks, where the bot runs in another process and
replies arrive whenever it gets to them: `wait_for` polls the transcript (bounded).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import aiohttp

Message = dict[str, Any]


class SimClientError(Exception):
    """The simulator refused a user action, or a wait ran out."""


class SimClient:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> SimClient:
        self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def post(self, path: str, **body: Any) -> dict[str, Any]:
        clean = {k: v for k, v in body.items() if v is not None}
        async with self._http().post(f"{self.base_url}/sim/{path}", json=clean) as response:
            data: dict[str, Any] = await response.json()
            if response.status != 200:
                raise SimClientError(data.get("error", f"HTTP {response.status}"))
            return data

    async def get(self, path: str, **query: str) -> dict[str, Any]:
        async with self._http().get(f"{self.base_url}/sim/{path}", params=query) as response:
            data: dict[str, Any] = await response.json()
            if response.status != 200:
                raise SimClientError(data.get("error", f"HTTP {response.status}"))
            return data

    # --- acting

    async def user(
        self,
        user_id: int,
        first_name: str,
        *,
        language_code: str | None = "zh-hans",
        username: str | None = None,
        last_name: str | None = None,
    ) -> int:
        await self.post(
            "users",
            id=user_id,
            first_name=first_name,
            language_code=language_code,
            username=username,
            last_name=last_name,
        )
        return user_id

    async def group(
        self,
        chat_id: int,
        title: str,
        *,
        owner: int | None = None,
        members: list[int] | None = None,
        bot_added_by: int | None = None,
        admin: bool = False,
    ) -> int:
        await self.post(
            "groups",
            id=chat_id,
            title=title,
            owner=owner,
            members=members or [],
            bot_added_by=bot_added_by,
            admin=admin,
        )
        return chat_id

    async def start(self, user: int, payload: str | None = None) -> int:
        return int((await self.post("start", user=user, payload=payload))["message_id"])

    async def send(self, user: int, text: str, chat: int | None = None) -> int:
        return int((await self.post("send", user=user, text=text, chat=chat))["message_id"])

    async def photo(self, user: int, chat: int | None = None, caption: str | None = None) -> int:
        return int((await self.post("photo", user=user, chat=chat, caption=caption))["message_id"])

    async def location(self, user: int, lat: float, lon: float, chat: int | None = None) -> int:
        data = await self.post("location", user=user, lat=lat, lon=lon, chat=chat)
        return int(data["message_id"])

    async def press(
        self, user: int, label: str, chat: int | None = None, message_id: int | None = None
    ) -> str | None:
        data = await self.post("press", user=user, label=label, chat=chat, message_id=message_id)
        query_id = data.get("query_id")
        return str(query_id) if query_id is not None else None

    async def callback(
        self, user: int, data: str, chat: int | None = None, message_id: int | None = None
    ) -> str:
        answer = await self.post("callback", user=user, data=data, chat=chat, message_id=message_id)
        return str(answer["query_id"])

    async def add_bot(self, group: int, by: int, admin: bool = False) -> None:
        await self.post("bot/add", group=group, by=by, admin=admin)

    async def remove_bot(self, group: int, by: int) -> None:
        await self.post("bot/remove", group=group, by=by)

    async def add_member(self, group: int, user: int, by: int | None = None) -> None:
        await self.post("members/add", group=group, user=user, by=by)

    async def block(self, user: int) -> None:
        await self.post("block", user=user)

    # --- reading

    async def transcript(self, chat: int, *, users: bool = False) -> list[Message]:
        data = await self.get(f"transcript/{chat}", **({"users": "1"} if users else {}))
        return list(data["messages"])

    async def texts(self, chat: int) -> list[str]:
        return [m["text"] for m in await self.transcript(chat) if not m["deleted"]]

    async def last(self, chat: int) -> Message | None:
        live = [m for m in await self.transcript(chat) if not m["deleted"]]
        return live[-1] if live else None

    async def alerts(self, user: int) -> list[dict[str, Any]]:
        return list((await self.get(f"alerts/{user}"))["alerts"])

    async def state(self) -> dict[str, Any]:
        return await self.get("state")

    async def wait_for(
        self,
        chat: int,
        match: str | Callable[[Message], bool],
        *,
        after: int = 0,
        within: float = 10.0,
    ) -> Message:
        """The first bot message in `chat` with id > `after` that contains `match` (or satisfies
        it), waiting up to `within` seconds. Edits count: a message edited to match is found."""
        test: Callable[[Message], bool] = (
            (lambda m: match in m["text"]) if isinstance(match, str) else match
        )
        deadline = time.monotonic() + within
        seen: list[Message] = []
        while True:
            seen = [m for m in await self.transcript(chat) if not m["deleted"]]
            for message in seen:
                if message["message_id"] > after and test(message):
                    return message
            if time.monotonic() >= deadline:
                shown = [m["text"][:80] for m in seen[-3:]]
                raise SimClientError(f"no message matching {match!r} in chat {chat}; last: {shown}")
            await asyncio.sleep(0.05)

    async def wait_for_buttons(self, chat: int, label: str, *, within: float = 10.0) -> Message:
        """The newest message in `chat` carrying a button labelled `label`."""
        return await self.wait_for(
            chat,
            lambda m: any(b["text"] == label for row in m["buttons"] for b in row),
            within=within,
        )

    async def last_id(self, chat: int) -> int:
        """The id of the bot's newest message (0 if none): pass as `after=` to wait for a reply."""
        messages = await self.transcript(chat)
        return max((m["message_id"] for m in messages), default=0)


__all__ = ["SimClient", "SimClientError"]
