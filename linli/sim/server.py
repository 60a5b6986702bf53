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
`chat` defaults to the user's private chat. The user-side routes are in `linli.sim.routes`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import aiohttp
from aiohttp import web

from linli.sim.core import Simulator, Upload
from linli.sim.routes import dumps, message_json, user_routes

log = logging.getLogger(__name__)


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
        for name, handler in user_routes(self.sim).items():
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
        return web.json_response(body, status=status, dumps=dumps)

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
                data=dumps(update),
                headers={**headers, "Content-Type": "application/json"},
                timeout=aiohttp.ClientTimeout(total=10),
            ) as response:
                if 200 <= response.status < 300:
                    return True
                self.sim.webhook_failed(f"Wrong response from the webhook: {response.status}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.sim.webhook_failed(f"Connection failed: {exc}")
        return False


def _api_error(status: int, description: str) -> web.Response:
    return web.json_response(
        {"ok": False, "error_code": status, "description": description}, status=status
    )


__all__ = ["SimServer", "message_json"]
