"""The simulator over HTTP on 127.0.0.1: the Bot API for a bot process, and `/sim/...` for
the residents (end-to-end tests, the demo, benchmarks).

Bot side, as api.telegram.org:  GET|POST /bot<token>/<method>   (JSON, form or multipart)
                                GET      /file/bot<token>/<path>
When the bot calls setWebhook, updates are POSTed to its URL (with the
X-Telegram-Bot-Api-Secret-Token header) instead of waiting for getUpdates.

User side (JSON in, JSON out; errors are {"error": "..."} with status 409 for something a
Telegram user could not do, 400 for a malformed request):

    POST /sim/users            {id, first_name, last_name?, username?, language_code?}
    POST /sim/groups           {id, title, owner?, members?: [ids], bot_added_by?, admin?}
    POST /sim/start            {user, payload?}
    POST /sim/send             {user, text, chat?, reply_to?}        -> {message_id}
    POST /sim/photo            {user, chat?, caption?}               -> {message_id}
    POST /sim/location         {user, lat, lon, chat?}               -> {message_id}
    POST /sim/document         {user, chat?, file_name?, text?}      -> {message_id}
    POST /sim/sticker          {user, chat?, emoji?}                 -> {message_id}
    POST /sim/press            {user, label, chat?, message_id?}     -> {query_id}
    POST /sim/callback         {user, data, chat?, message_id?}      -> {query_id}
    POST /sim/bot/add          {group, by, admin?}
    POST /sim/bot/remove       {group, by}
    POST /sim/members/add      {group, user, by?}
    POST /sim/members/remove   {group, user, by?}
    POST /sim/block            {user}          POST /sim/unblock {user}
    POST /sim/redeliver        {update_id?}
    GET  /sim/transcript/<chat_id>[?users=1]   -> {messages: [...]}  (edits applied)
    GET  /sim/alerts/<user_id>                 -> {alerts: [...]}
    GET  /sim/calls[?method=sendMessage]       -> {calls: [...]}
    GET  /sim/state                            -> pending updates, webhook, 429 count
`chat` defaults to the user's private chat.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web

from linli.sim.core import SentMessage, SimError, Simulator, Upload

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def message_json(message: SentMessage) -> dict[str, Any]:
    """A transcript entry: what a user sees of one message."""
    return {
        "message_id": message.message_id,
        "chat_id": message.chat_id,
        "from_bot": message.from_bot,
        "sender_id": message.sender_id,
        "date": int(message.date.timestamp()),
        "text": message.content,
        "html": message.html,
        "buttons": [
            [{"text": b.text, "callback_data": b.callback_data, "url": b.url} for b in row]
            for row in message.buttons
        ],
        "photo": message.has_photo,
        "document": message.document.file_name if message.document else None,
        "location": list(message.location) if message.location else None,
        "sticker": message.sticker,
        "service": sorted(message.service) if message.service else None,
        "reply_to": message.reply_to,
        "deleted": message.deleted,
        "edits": message.edits,
        "pinned": message.pinned,
    }


class SimServer:
    """Serves a Simulator on 127.0.0.1 (port 0: any free port)."""

    def __init__(self, sim: Simulator, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sim = sim
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        # Bot API methods whose requests are held and never applied (a network that
        # swallows them): for killing the bot while a request is on the wire.
        self._held: dict[str, asyncio.Event] = {}
        self.held_calls: list[tuple[str, dict[str, Any]]] = []

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base_url(self) -> str:
        """For config `bot.api_base_url` (PTB appends the token)."""
        return f"{self.base_url}/bot"

    @property
    def file_base_url(self) -> str:
        return f"{self.base_url}/file/bot"

    async def start(self) -> SimServer:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._bot_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        for name, handler in self._user_routes().items():
            method, _, path = name.partition(" ")
            app.router.add_route(method, path, handler)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or ()
        if not sockets:
            raise RuntimeError("the simulator server is not listening")
        self.port = int(sockets[0].getsockname()[1])
        self._webhook_task = asyncio.create_task(self._deliver_webhooks())
        return self

    async def stop(self) -> None:
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> SimServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def hold(self, method: str) -> None:
        """From now on, `method` calls hang and are never applied (see `release`)."""
        self._held.setdefault(method, asyncio.Event())

    def release(self) -> None:
        """Let held calls end (with 502, unapplied) and stop holding."""
        for gate in self._held.values():
            gate.set()
        self._held.clear()

    # --- bot side

    async def _bot_api(self, request: web.Request) -> web.Response:
        params: dict[str, Any] = dict(request.query)
        files: dict[str, Upload] = {}
        if request.method == "POST" and request.can_read_body:
            kind = request.content_type
            if kind == "application/json":
                try:
                    body = await request.json()
                except ValueError:
                    return _api_error(400, "Bad Request: can't parse JSON")
                if isinstance(body, dict):
                    params.update(body)
            elif kind == "multipart/form-data":
                reader = await request.multipart()
                async for part in reader:
                    if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
                        continue
                    if part.filename is not None:
                        files[part.name] = (part.filename, bytes(await part.read()))
                    else:
                        params[part.name] = await part.text()
            else:
                params.update({k: v for k, v in (await request.post()).items()})
        method = request.match_info["method"]
        gate = self._held.get(method)
        if gate is not None:
            self.held_calls.append((method, params))
            await gate.wait()
            return _api_error(502, "Bad Gateway")  # the call never reached Telegram
        status, body = await self.sim.call(request.match_info["token"], method, params, files)
        return web.json_response(body, status=status, dumps=_dumps)

    async def _file(self, request: web.Request) -> web.Response:
        data = self.sim.download(request.match_info["token"], request.match_info["path"])
        if data is None:
            return _api_error(404, "Not Found")
        return web.Response(body=data, content_type="application/octet-stream")

    async def _deliver_webhooks(self) -> None:
        """While a webhook is set, POST each pending update to it; a 2xx confirms it."""
        while True:
            hook = self.sim.webhook
            if hook is None:
                await asyncio.sleep(0.05)
                continue
            updates = await self.sim.wait_for_updates(0.5)
            if self.sim.webhook is not hook:
                continue
            for update in updates:
                if not await self._post_update(hook.url, hook.secret_token, update):
                    await asyncio.sleep(0.2)
                    break
                self.sim.confirm(update["update_id"])

    async def _post_update(self, url: str, secret: str | None, update: dict[str, Any]) -> bool:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
        try:
            async with self._session.post(
                url,
                data=_dumps(update),
                headers={**headers, "Content-Type": "application/json"},
                timeout=aiohttp.ClientTimeout(total=10),
            ) as response:
                if 200 <= response.status < 300:
                    return True
                self.sim.webhook_failed(f"Wrong response from the webhook: {response.status}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.sim.webhook_failed(f"Connection failed: {exc}")
        return False

    # --- user side

    def _user_routes(self) -> dict[str, Handler]:
        sim = self.sim

        def chat_of(body: dict[str, Any]) -> int:
            chat = body.get("chat")
            return int(chat) if chat is not None else int(body["user"])

        async def users(body: dict[str, Any]) -> dict[str, Any]:
            user = sim.create_user(
                int(body["id"]),
                str(body["first_name"]),
                body.get("last_name"),
                body.get("username"),
                body.get("language_code"),
            )
            return {"id": user.id, "first_name": user.first_name}

        async def groups(body: dict[str, Any]) -> dict[str, Any]:
            owner = sim.users.get(int(body["owner"])) if body.get("owner") else None
            group = sim.create_group(int(body["id"]), str(body["title"]), owner=owner)
            for uid in body.get("members", []):
                group.members.setdefault(int(uid), "member")
            if body.get("bot_added_by") is not None:
                sim.add_bot_to_group(
                    group, int(body["bot_added_by"]), admin=bool(body.get("admin"))
                )
            return {"id": group.id, "title": group.title, "type": group.type}

        async def start(body: dict[str, Any]) -> dict[str, Any]:
            return {"message_id": sim.start_private(int(body["user"]), body.get("payload"))}

        async def send(body: dict[str, Any]) -> dict[str, Any]:
            reply_to = body.get("reply_to")
            message_id = sim.send_text(
                int(body["user"]),
                chat_of(body),
                str(body["text"]),
                reply_to=int(reply_to) if reply_to is not None else None,
            )
            return {"message_id": message_id}

        async def photo(body: dict[str, Any]) -> dict[str, Any]:
            return {
                "message_id": sim.send_photo(int(body["user"]), chat_of(body), body.get("caption"))
            }

        async def location(body: dict[str, Any]) -> dict[str, Any]:
            return {
                "message_id": sim.send_location(
                    int(body["user"]), chat_of(body), float(body["lat"]), float(body["lon"])
                )
            }

        async def document(body: dict[str, Any]) -> dict[str, Any]:
            return {
                "message_id": sim.send_document(
                    int(body["user"]),
                    chat_of(body),
                    str(body.get("file_name", "note.txt")),
                    str(body.get("text", "hello\n")).encode(),
                )
            }

        async def sticker(body: dict[str, Any]) -> dict[str, Any]:
            return {
                "message_id": sim.send_sticker(
                    int(body["user"]), chat_of(body), body.get("emoji", "👍")
                )
            }

        async def press(body: dict[str, Any]) -> dict[str, Any]:
            message_id = body.get("message_id")
            query_id = sim.press(
                int(body["user"]),
                chat_of(body),
                str(body["label"]),
                message_id=int(message_id) if message_id is not None else None,
            )
            return {"query_id": query_id}

        async def callback(body: dict[str, Any]) -> dict[str, Any]:
            chat_id = chat_of(body)
            message_id = body.get("message_id")
            if message_id is None:
                last = sim.last(chat_id)
                if last is None:
                    raise SimError(f"the bot has sent nothing in chat {chat_id}")
                message_id = last.message_id
            return {
                "query_id": sim.send_callback(
                    int(body["user"]), chat_id, int(message_id), str(body["data"])
                )
            }

        async def bot_add(body: dict[str, Any]) -> dict[str, Any]:
            sim.add_bot_to_group(int(body["group"]), int(body["by"]), admin=bool(body.get("admin")))
            return {}

        async def bot_remove(body: dict[str, Any]) -> dict[str, Any]:
            sim.remove_bot_from_group(int(body["group"]), int(body["by"]))
            return {}

        async def member_add(body: dict[str, Any]) -> dict[str, Any]:
            by = body.get("by")
            sim.add_member(int(body["group"]), int(body["user"]), int(by) if by else None)
            return {}

        async def member_remove(body: dict[str, Any]) -> dict[str, Any]:
            by = body.get("by")
            sim.remove_member(int(body["group"]), int(body["user"]), int(by) if by else None)
            return {}

        async def block(body: dict[str, Any]) -> dict[str, Any]:
            sim.block_bot(int(body["user"]))
            return {}

        async def unblock(body: dict[str, Any]) -> dict[str, Any]:
            sim.unblock_bot(int(body["user"]))
            return {}

        async def redeliver(body: dict[str, Any]) -> dict[str, Any]:
            uid = body.get("update_id")
            update = sim.redeliver(int(uid) if uid is not None else None)
            return {"update_id": update["update_id"]}

        posts: dict[str, Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]] = {
            "/sim/users": users,
            "/sim/groups": groups,
            "/sim/start": start,
            "/sim/send": send,
            "/sim/photo": photo,
            "/sim/location": location,
            "/sim/document": document,
            "/sim/sticker": sticker,
            "/sim/press": press,
            "/sim/callback": callback,
            "/sim/bot/add": bot_add,
            "/sim/bot/remove": bot_remove,
            "/sim/members/add": member_add,
            "/sim/members/remove": member_remove,
            "/sim/block": block,
            "/sim/unblock": unblock,
            "/sim/redeliver": redeliver,
        }
        routes: dict[str, Handler] = {f"POST {path}": _json_route(fn) for path, fn in posts.items()}

        async def transcript(request: web.Request) -> web.Response:
            chat_id = int(request.match_info["chat_id"])
            users_too = request.query.get("users") in ("1", "true")
            messages = sim.transcript(chat_id, include_users=users_too)
            return web.json_response(
                {"messages": [message_json(m) for m in messages]}, dumps=_dumps
            )

        async def alerts(request: web.Request) -> web.Response:
            found = sim.alerts(int(request.match_info["user_id"]))
            return web.json_response(
                {
                    "alerts": [
                        {"text": a.text, "show_alert": a.show_alert, "url": a.url} for a in found
                    ]
                },
                dumps=_dumps,
            )

        async def calls(request: web.Request) -> web.Response:
            method = request.query.get("method", "").lower()
            chosen = [c for c in sim.calls if not method or c.method.lower() == method]
            return web.json_response(
                {
                    "calls": [
                        {
                            "method": c.method,
                            "params": c.params,
                            "status": c.status,
                            "at": c.at,
                            "description": c.description,
                        }
                        for c in chosen
                    ]
                },
                dumps=_dumps,
            )

        async def state(request: web.Request) -> web.Response:
            hook = sim.webhook
            return web.json_response(
                {
                    "pending_updates": len(sim.pending_updates()),
                    "webhook": hook.url if hook else None,
                    "flood_429s": sim.flood_429s,
                    "calls": len(sim.calls),
                    "users": sorted(sim.users),
                    "groups": sorted(sim.groups),
                    "bot_username": sim.bot_username,
                },
                dumps=_dumps,
            )

        routes["GET /sim/transcript/{chat_id}"] = transcript
        routes["GET /sim/alerts/{user_id}"] = alerts
        routes["GET /sim/calls"] = calls
        routes["GET /sim/state"] = state
        return routes


def _json_route(fn: Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]) -> Handler:
    async def route(request: web.Request) -> web.Response:
        try:
            body = await request.json() if request.can_read_body else {}
        except ValueError:
            return web.json_response({"error": "the body is not JSON"}, status=400)
        if not isinstance(body, dict):
            return web.json_response({"error": "the body must be a JSON object"}, status=400)
        try:
            result = await fn(body)
        except SimError as exc:
            return web.json_response({"error": str(exc)}, status=409, dumps=_dumps)
        except (KeyError, ValueError, TypeError) as exc:
            return web.json_response({"error": f"bad request: {exc!r}"}, status=400, dumps=_dumps)
        return web.json_response({"ok": True, **result}, dumps=_dumps)

    return route


def _api_error(status: int, description: str) -> web.Response:
    return web.json_response(
        {"ok": False, "error_code": status, "description": description}, status=status
    )


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


__all__ = ["SimServer", "message_json"]
