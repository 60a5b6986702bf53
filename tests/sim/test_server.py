"""The simulator over HTTP: a PTB Bot with its ordinary HTTP client, and residents via /sim/."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Conflict, Forbidden, RetryAfter

from linli.sim.client import SimClient, SimClientError
from linli.sim.core import Simulator, png_bytes
from linli.sim.server import SimServer

TOKEN = "123:TEST"


@pytest.fixture
async def server() -> AsyncIterator[SimServer]:
    async with SimServer(Simulator(TOKEN)) as server:
        yield server


@pytest.fixture
async def bot(server: SimServer) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=server.api_base_url, base_file_url=server.file_base_url) as bot:
        yield bot


@pytest.fixture
async def client(server: SimServer) -> AsyncIterator[SimClient]:
    async with SimClient(server.base_url) as client:
        yield client


async def test_bot_over_http(bot: Bot, client: SimClient, server: SimServer) -> None:
    assert bot.username == server.sim.bot_username
    alice = await client.user(2001, "王芳")
    await client.start(alice)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("好", callback_data="ok")]])
    await bot.send_message(
        alice, "<b>你好</b>，&lt;邻居&gt;", parse_mode="HTML", reply_markup=markup
    )
    last = await client.last(alice)
    assert last is not None
    assert last["text"] == "你好，<邻居>"
    assert last["buttons"] == [[{"text": "好", "callback_data": "ok", "url": None}]]
    query_id = await client.press(alice, "好")
    assert query_id is not None
    await bot.answer_callback_query(query_id, "收到")
    assert await client.alerts(alice) == [{"text": "收到", "show_alert": False, "url": None}]


async def test_strict_errors_over_http(bot: Bot, client: SimClient) -> None:
    alice = await client.user(2001, "王芳")
    with pytest.raises(Forbidden, match="bot can't initiate conversation"):
        await bot.send_message(alice, "hi")
    await client.start(alice)
    with pytest.raises(BadRequest, match="Can't parse entities"):
        await bot.send_message(alice, "a < b", parse_mode="HTML")
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(-100777, "hi")
    await client.block(alice)
    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_message(alice, "hi")


async def test_flood_429_over_http() -> None:
    async with (
        SimServer(Simulator(TOKEN, flood_limits=True)) as server,
        SimClient(server.base_url) as client,
        Bot(TOKEN, base_url=server.api_base_url) as bot,
    ):
        owner = await client.user(2001, "王芳")
        group = await client.group(-100300, "一号楼", owner=owner, bot_added_by=owner)
        for _ in range(20):
            await bot.send_message(group, "公告")
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(group, "公告")
        assert "retry" in str(caught.value).lower()
        assert (await client.state())["flood_429s"] == 1


async def test_get_updates_long_polling_and_offset(bot: Bot, client: SimClient) -> None:
    alice = await client.user(2001, "王芳")
    assert await bot.get_updates(timeout=0) == ()
    waiting = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    await client.start(alice)
    updates = await asyncio.wait_for(waiting, 5)  # returns as soon as the update arrives
    assert [u.message.text for u in updates if u.message] == ["/start"]
    assert updates[0].message is not None and updates[0].message.entities[0].type == "bot_command"
    # Unconfirmed: delivered again; confirmed with offset: gone.
    again = await bot.get_updates(timeout=0)
    assert [u.update_id for u in again] == [updates[0].update_id]
    await client.send(alice, "一")
    await client.send(alice, "二")
    limited = await bot.get_updates(offset=updates[0].update_id + 1, limit=1, timeout=0)
    assert [u.message.text for u in limited if u.message] == ["一"]
    rest = await bot.get_updates(offset=limited[0].update_id + 1, timeout=0)
    assert [u.message.text for u in rest if u.message] == ["二"]


async def test_files_upload_and_download(bot: Bot, client: SimClient, server: SimServer) -> None:
    alice = await client.user(2001, "王芳")
    await client.start(alice)
    sent = await bot.send_photo(alice, png_bytes(16, 8), caption="二维码")
    assert sent.photo[-1].width == 16
    await client.photo(alice, caption="楼道堆物")
    updates = await bot.get_updates(timeout=0)
    photo = updates[-1].message.photo[-1] if updates[-1].message else None
    assert photo is not None
    file = await bot.get_file(photo.file_id)
    data = await file.download_as_bytearray()
    assert bytes(data).startswith(b"\x89PNG")


async def test_webhook_delivery_with_secret(bot: Bot, client: SimClient) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        assert await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret")
        info = await bot.get_webhook_info()
        assert info.url.endswith("/hook")
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates(timeout=0)
        alice = await client.user(2001, "王芳")
        await client.start(alice, payload="rider")
        for _ in range(100):
            if received:
                break
            await asyncio.sleep(0.02)
        assert received and received[0][0] == "s3cret"
        assert received[0][1]["message"]["text"] == "/start rider"
        assert (await client.state())["pending_updates"] == 0
        await bot.delete_webhook()
        assert await bot.get_updates(timeout=0) == ()
    finally:
        await runner.cleanup()


async def test_user_api_refuses_impossible_actions(client: SimClient) -> None:
    alice = await client.user(2001, "王芳")
    with pytest.raises(SimClientError, match="has not opened the private chat"):
        await client.send(alice, "hello")
    await client.start(alice)
    with pytest.raises(SimClientError, match="no button"):
        await client.press(alice, "不存在")
    with pytest.raises(SimClientError, match="not a member"):
        await client.group(-100400, "群")
        await client.send(alice, "hi", chat=-100400)


async def test_wait_for_is_bounded(client: SimClient) -> None:
    alice = await client.user(2001, "王芳")
    await client.start(alice)
    with pytest.raises(SimClientError, match="no message matching"):
        await client.wait_for(alice, "never", within=0.2)
