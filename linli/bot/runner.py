"""Running the bot: open the database and services, then poll (or serve a webhook) until told
to stop. `linli run` and `linli demo` both run the bot through `serve`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from linli.bot.app import build_application
from linli.bot.config import Config
from linli.bot.context import Services
from linli.bot.render import Renderer
from linli.core.clock import system_clock
from linli.storage.db import Database

log = logging.getLogger("linli")


async def open_services(config: Config) -> Services:
    db = await Database.open(config.database_path)
    return Services(config, db, system_clock, Renderer(config.tz), config.structure())


async def serve(config: Config, stop: asyncio.Event | None = None) -> None:
    """Run until SIGINT/SIGTERM (or `stop` is set): polling, or a webhook server if configured."""
    services = await open_services(config)
    app = build_application(services)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on every platform
            loop.add_signal_handler(sig, stop.set)
    try:
        await app.initialize()
        if app.post_init is not None:
            await app.post_init(app)
        assert app.updater is not None
        hook = config.bot.webhook
        if hook.enabled:
            await app.updater.start_webhook(
                listen=hook.listen,
                port=hook.port,
                url_path=hook.path,
                webhook_url=f"{hook.url.rstrip('/')}/{hook.path}",
                secret_token=hook.secret_token or None,
            )
        else:
            await app.updater.start_polling(timeout=config.bot.polling_timeout)
        await app.start()
        log.info("linli is running as @%s", app.bot.username)
        await stop.wait()
    finally:
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
        await services.db.close()
