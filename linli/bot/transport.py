"""How the bot talks HTTP to the Bot API: PTB's `BaseRequest` on aiohttp.

PTB's default request is built on httpx; every Bot API call then costs this process about
1.1 ms of CPU (request, connection pool, response), against about 0.4 ms on aiohttp for
the same call (`python -m bench --only transport`). A community bot spends most of its CPU
on those calls, so Linli ships aiohttp's client, which it already depends on for the
simulator. PTB documents `BaseRequest` as the place to plug in another HTTP library; its
own companion project (ptbcontrib) carries an aiohttp request for the same reason.

What it keeps from PTB's httpx request: the four timeouts (connect, read, write, pool) with
the per-call overrides PTB passes (long polling adds its own wait to the read timeout),
uploads as multipart form data, `TimedOut` for a timeout and `NetworkError` for anything
else that goes wrong on the way, and the proxy in the environment (HTTPS_PROXY, NO_PROXY)
or in the config (`bot.proxy_url`).
"""

from __future__ import annotations

import urllib.request
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput, UploadFileDict
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

# PTB's httpx defaults, so behaviour under a slow network does not change with the library.
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 5.0
WRITE_TIMEOUT = 5.0
POOL_TIMEOUT = 1.0
MEDIA_WRITE_TIMEOUT = 20.0


class AiohttpRequest(BaseRequest):
    """A `BaseRequest` on one aiohttp session with a bounded pool of kept-alive connections."""

    __slots__ = ("_env_proxies", "_pool_size", "_proxy", "_session", "_timeouts")

    def __init__(
        self,
        *,
        connection_pool_size: int = 16,
        proxy_url: str | None = None,
        connect_timeout: float | None = CONNECT_TIMEOUT,
        read_timeout: float | None = READ_TIMEOUT,
        write_timeout: float | None = WRITE_TIMEOUT,
        pool_timeout: float | None = POOL_TIMEOUT,
        media_write_timeout: float | None = MEDIA_WRITE_TIMEOUT,
    ) -> None:
        if connection_pool_size < 1:
            raise ValueError("connection_pool_size must be at least 1")
        self._pool_size = connection_pool_size
        self._proxy = proxy_url or None
        self._timeouts: dict[str, float | None] = {
            "connect": connect_timeout,
            "read": read_timeout,
            "write": write_timeout,
            "pool": pool_timeout,
            "media_write": media_write_timeout,
        }
        self._session: aiohttp.ClientSession | None = None
        self._env_proxies: dict[tuple[str, str], str | None] = {}

    @property
    def read_timeout(self) -> float | None:
        return self._timeouts["read"]

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, enable_cleanup_closed=True)
            # The environment's proxy is read once per host (_proxy_for), not by aiohttp's
            # trust_env, which looks it up in a thread on every request.
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers={"User-Agent": self.USER_AGENT},
                # PTB parses the answer itself; aiohttp should not raise on 4xx/5xx.
                raise_for_status=False,
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data is not None else None
        read = self._pick(read_timeout, "read")
        write = self._pick(write_timeout, "media_write" if files else "write")
        connect = self._pick(connect_timeout, "connect")
        pool = self._pick(pool_timeout, "pool")
        # aiohttp has no write timeout of its own: sending the body is bounded by the total,
        # which is the write and the read allowance together (None where either is unbounded).
        total = None if read is None or write is None else read + write
        timeout = aiohttp.ClientTimeout(
            total=total,
            connect=None if connect is None or pool is None else connect + pool,
            sock_connect=connect,
            sock_read=read,
        )
        body = _body(request_data, files)
        try:
            async with session.request(
                method, url, data=body, timeout=timeout, proxy=self._proxy_for(url)
            ) as response:
                return response.status, await response.read()
        except TimeoutError as err:  # aiohttp's ServerTimeoutError is one too
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{err.__class__.__name__}: {err}") from err

    def _proxy_for(self, url: str) -> str | None:
        """The configured proxy, else HTTPS_PROXY/HTTP_PROXY unless NO_PROXY names the host."""
        if self._proxy is not None:
            return self._proxy
        parts = urlsplit(url)
        key = (parts.scheme, parts.hostname or "")
        if key not in self._env_proxies:
            bypass = bool(parts.hostname) and urllib.request.proxy_bypass(parts.hostname or "")
            self._env_proxies[key] = None if bypass else urllib.request.getproxies().get(key[0])
        return self._env_proxies[key]

    def _pick(self, given: ODVInput[float], default: str) -> float | None:
        if isinstance(given, DefaultValue):
            return self._timeouts[default]
        return given


def _body(request_data: RequestData | None, files: UploadFileDict | None) -> Any:
    """The parameters as one JSON body (PTB's `json_payload`, which the Bot API takes like
    form fields: url-encoding every field instead cost ~0.1 ms a call); multipart form data
    when there is a file to upload."""
    if request_data is None:
        return None
    if not files:
        return aiohttp.BytesPayload(request_data.json_payload, content_type="application/json")
    fields = request_data.json_parameters
    form = aiohttp.FormData(quote_fields=False)
    for name, value in fields.items():
        form.add_field(name, value)
    for name, (filename, content, mime_type) in files.items():
        form.add_field(name, content, filename=filename, content_type=mime_type)
    return form
