"""A `telegram.request.BaseRequest` that answers from a `Simulator` in-process (no HTTP)."""

from __future__ import annotations

import json
import re
from typing import IO, Any
from urllib.parse import unquote

from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram._utils.types import ODVInput
from telegram.request import BaseRequest, RequestData

from linli.sim.core import Simulator, Upload

_API_URL = re.compile(r"/bot(?P<token>[^/]+)/(?P<method>[A-Za-z]+)/?$")
_FILE_URL = re.compile(r"/file/bot(?P<token>[^/]+)/(?P<path>.+)$")


class SimRequest(BaseRequest):
    """Routes a PTB Bot's requests into `Simulator.call`; file downloads into its file store."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        file_match = _FILE_URL.search(url)
        if file_match is not None:
            data = self.sim.download(unquote(file_match["token"]), unquote(file_match["path"]))
            if data is None:
                return 404, b'{"ok":false,"error_code":404,"description":"Not Found"}'
            return 200, data
        api_match = _API_URL.search(url)
        if api_match is None:
            return 404, b'{"ok":false,"error_code":404,"description":"Not Found"}'
        params: dict[str, Any] = {}
        files: dict[str, Upload] = {}
        if request_data is not None:
            params = dict(request_data.parameters)
            for name, part in request_data.multipart_data.items():
                files[name] = (part[0], _read(part[1]))
        status, body = await self.sim.call(
            unquote(api_match["token"]), api_match["method"], params, files
        )
        return status, json.dumps(body, ensure_ascii=False).encode("utf-8")


def _read(content: bytes | IO[bytes]) -> bytes:
    if isinstance(content, bytes):
        return content
    data = content.read()
    return data if isinstance(data, bytes) else bytes(data)


__all__ = ["SimRequest"]
