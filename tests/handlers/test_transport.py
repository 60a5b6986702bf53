"""The aiohttp transport, against the simulator's Bot API server over real loopback HTTP:
what PTB sends arrives, uploads arrive whole, Telegram's errors and the network's failures
come back as PTB's errors, and a proxy (configured or from the environment) is used."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import ClientSession, web
from telegram import Bot
from telegram.error import BadRequest, NetworkError, TimedOut

from linli.bot.config import ConfigError, load_config
from linli.bot.transport import AiohttpRequest
from linli.sim.core import Simulator
from linli.sim.server import SimServer

TOKEN = "123456:TRANSPORT"
RESIDENT = 4242


@pytest.fixture
async def server() -> AsyncIterator[SimServer]:
    sim = Simulator(TOKEN)
    sim.create_user(RESIDENT, "李阿姨", language_code="zh-hans")
    sim.started.add(RESIDENT)
    async with SimServer(sim) as running:
        yield running


def _bot(server: SimServer, request: AiohttpRequest) -> Bot:
    return Bot(TOKEN, base_url=server.api_base_url, request=request, get_updates_request=request)


async def test_a_message_goes_out_and_comes_back_as_a_message(server: SimServer) -> None:
    async with _bot(server, AiohttpRequest()) as bot:
        sent = await bot.send_message(
            RESIDENT, "停水通知：<b>周六</b> 9:00–12:00", parse_mode="HTML"
        )
    assert sent.chat.id == RESIDENT and sent.text == "停水通知：周六 9:00–12:00"
    last = server.sim.last(RESIDENT)
    assert last is not None and last.text == "停水通知：周六 9:00–12:00"
    assert [e.type for e in last.entities] == ["bold"]


async def test_an_upload_arrives_whole_with_its_name(server: SimServer) -> None:
    calendar = b"BEGIN:VCALENDAR\r\nSUMMARY:\xe6\xb6\x88\xe9\x98\xb2\xe6\xbc\x94\xe7\xbb\x83\r\nEND:VCALENDAR\r\n"
    async with _bot(server, AiohttpRequest()) as bot:
        await bot.send_document(RESIDENT, calendar, filename="drill.ics", caption="日历")
    last = server.sim.last(RESIDENT)
    assert last is not None and last.document is not None
    assert last.document.data == calendar and last.document.file_name == "drill.ics"
    assert last.caption == "日历"


async def test_telegrams_refusal_is_a_ptb_error(server: SimServer) -> None:
    async with _bot(server, AiohttpRequest()) as bot:
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(999_999, "hello")


async def test_a_silent_server_times_out_and_a_closed_port_is_a_network_error() -> None:
    async def hang(request: web.Request) -> web.Response:
        await asyncio.sleep(5)
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/{tail:.*}", hang)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        request = AiohttpRequest(read_timeout=0.2)
        await request.initialize()
        with pytest.raises(TimedOut):
            await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")
        await request.shutdown()
    finally:
        await runner.cleanup()
    request = AiohttpRequest()
    await request.initialize()
    with pytest.raises(NetworkError):
        await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")  # nobody listens now
    await request.shutdown()


async def test_not_initialized_is_refused_plainly() -> None:
    with pytest.raises(RuntimeError, match="not initialized"):
        await AiohttpRequest().do_request("http://127.0.0.1:1/x", "POST")


class _Proxy:
    """A forward HTTP proxy that records what went through it."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _forward(self, request: web.Request) -> web.Response:
        self.seen.append(str(request.url))
        body = await request.read()
        async with (
            ClientSession() as session,
            session.post(str(request.url), data=body, headers=request.headers) as answer,
        ):
            return web.Response(
                status=answer.status, body=await answer.read(), content_type="application/json"
            )

    async def __aenter__(self) -> _Proxy:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()


async def test_the_configured_proxy_carries_every_call(server: SimServer) -> None:
    async with _Proxy() as proxy, _bot(server, AiohttpRequest(proxy_url=proxy.url)) as bot:
        await bot.send_message(RESIDENT, "经代理发送")
    assert any(seen.endswith("/sendMessage") for seen in proxy.seen)
    last = server.sim.last(RESIDENT)
    assert last is not None and last.text == "经代理发送"


async def test_the_environments_proxy_is_used_unless_no_proxy_names_the_host(
    server: SimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with _Proxy() as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "")
        async with _bot(server, AiohttpRequest()) as bot:
            await bot.send_message(RESIDENT, "一")
        through = len(proxy.seen)
        assert through >= 2  # getMe at start, then sendMessage
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        async with _bot(server, AiohttpRequest()) as bot:
            await bot.send_message(RESIDENT, "二")
        assert len(proxy.seen) == through  # straight to the server this time
    assert [m.text for m in server.sim.transcript(RESIDENT)[-2:]] == ["一", "二"]


def test_a_proxy_url_that_is_not_http_is_one_clear_line(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    example = (Path(__file__).parents[2] / "config.example.toml").read_text(encoding="utf-8")
    config.write_text(
        example.replace('proxy_url = ""', 'proxy_url = "socks5://127.0.0.1:1080"'),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"bot\.proxy_url: an http:// or https:// proxy url"):
        load_config(config)
