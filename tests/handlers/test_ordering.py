"""Updates from different people at once, one person's in the order they came: through a
real PTB Application, its update queue and the processor `linli run` uses."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters

from linli.bot.ordering import PerSenderUpdateProcessor, ordering_key
from linli.sim.core import Simulator
from linli.sim.harness import Harness
from linli.sim.request import SimRequest

TOKEN = "123456:ORDER"
A, B = 5101, 5102


class Recorder:
    """A handler that takes as long as the message says ("slow" or "fast")."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.gate = asyncio.Event()

    async def handle(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None and message.text is not None
        self.events.append(f"start {message.text}")
        if message.text.endswith("slow"):
            await self.gate.wait()  # held until the test lets it finish
        self.events.append(f"end {message.text}")


@pytest.fixture
async def running() -> AsyncIterator[tuple[Application, Simulator, Recorder]]:  # type: ignore[type-arg]
    sim = Simulator(TOKEN)
    for uid in (A, B):
        sim.create_user(uid, f"u{uid}")
        sim.started.add(uid)
    request = SimRequest(sim)
    recorder = Recorder()
    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .request(request)
        .get_updates_request(request)
        .concurrent_updates(PerSenderUpdateProcessor(running=4))
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, recorder.handle))
    await app.initialize()
    await app.start()
    yield app, sim, recorder
    recorder.gate.set()
    await app.stop()
    await app.shutdown()


async def _queue(app: Application, sim: Simulator, user: int, text: str) -> None:  # type: ignore[type-arg]
    sim.send_text(user, user, text)
    for data in sim.take_updates():
        await app.update_queue.put(Update.de_json(data, app.bot))


async def _until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 - the handlers fill the recorder as they run
            await asyncio.sleep(0.005)


async def test_one_senders_updates_are_handled_in_order(running: tuple) -> None:  # type: ignore[type-arg]
    app, sim, recorder = running
    await _queue(app, sim, A, "A1 slow")
    await _queue(app, sim, A, "A2 fast")
    await _until(lambda: "start A1 slow" in recorder.events)
    await asyncio.sleep(0.05)
    assert recorder.events == ["start A1 slow"]  # A2 waits for A1, though it is quick
    recorder.gate.set()
    await _until(lambda: len(recorder.events) == 4)
    assert recorder.events == ["start A1 slow", "end A1 slow", "start A2 fast", "end A2 fast"]
    assert app.update_processor.senders_in_progress == 0  # type: ignore[attr-defined]


async def test_another_sender_is_not_held_up(running: tuple) -> None:  # type: ignore[type-arg]
    app, sim, recorder = running
    await _queue(app, sim, A, "A1 slow")
    await _queue(app, sim, B, "B1 fast")
    await _until(lambda: "end B1 fast" in recorder.events)
    assert "end A1 slow" not in recorder.events  # B was answered while A's update waited
    recorder.gate.set()
    await _until(lambda: "end A1 slow" in recorder.events)


async def test_a_burst_from_many_senders_keeps_each_senders_order(running: tuple) -> None:  # type: ignore[type-arg]
    app, sim, recorder = running
    recorder.gate.set()
    for n in range(30):
        await _queue(app, sim, (A, B)[n % 2], f"{'AB'[n % 2]}{n:02d} fast")
    await _until(lambda: len(recorder.events) == 60)
    for who in "AB":
        ends = [e for e in recorder.events if e.startswith(f"end {who}")]
        assert ends == sorted(ends) and len(ends) == 15


def test_whose_turn_an_update_waits_for() -> None:
    sim = Simulator(TOKEN)
    sim.create_user(A, "a")
    sim.started.add(A)
    sim.send_text(A, A, "hi")
    (data,) = sim.take_updates()
    assert ordering_key(Update.de_json(data, None)) == ("user", A)
    assert ordering_key("not an update") is None


async def test_linli_is_wired_with_it(harness: Harness) -> None:
    processor = harness.app.update_processor
    assert isinstance(processor, PerSenderUpdateProcessor)
    assert processor.max_concurrent_updates > 1  # PTB runs updates as tasks, so at once
