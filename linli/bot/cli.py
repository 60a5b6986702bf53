"""`linli`: run the bot, try it in the simulator, check the config, migrate, export, back up,
print the notice-board poster."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from linli.bot import directory_cli, exports_cli, poster_cli
from linli.bot.config import TOKEN_ENV, ConfigError, load_config, require_token
from linli.bot.runner import serve
from linli.sim import demo
from linli.storage.db import Database

DEFAULT_CONFIG = "config.toml"


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = getattr(args, "func", _default)
    try:
        return handler(args)
    except ConfigError as exc:
        print(f"linli: config error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="linli",
        description="Linli (邻里): community self-governance in Telegram group chats. "
        "With no command: run the bot if a token is configured, else start the demo.",
    )
    parser.add_argument("-c", "--config", default=DEFAULT_CONFIG, help="config file (TOML)")
    sub = parser.add_subparsers(dest="command")

    run = sub.add_parser("run", help="run the bot (polling, or webhook if configured)")
    run.add_argument("-c", "--config", default=DEFAULT_CONFIG, help="config file (TOML)")
    run.set_defaults(func=_run)

    check = sub.add_parser("check-config", help="validate the config file and summarise it")
    check.add_argument("-c", "--config", default=DEFAULT_CONFIG, help="config file (TOML)")
    check.set_defaults(func=_check_config)

    migrate = sub.add_parser("migrate", help="apply database migrations and exit")
    migrate.add_argument("-c", "--config", default=DEFAULT_CONFIG, help="config file (TOML)")
    migrate.set_defaults(func=_migrate)

    demo = sub.add_parser(
        "demo", help="the bot against a local Telegram simulator, in this terminal"
    )
    demo.add_argument("--script", help="play a script file and print the transcript")
    demo.set_defaults(func=_demo)

    exports_cli.add_subcommands(sub)
    poster_cli.add_subcommand(sub)
    directory_cli.add_subcommands(sub)
    return parser


def _default(args: argparse.Namespace) -> int:
    """No command: run for real when a token is configured, otherwise the demo."""
    path = Path(args.config)
    # load_config already applies LINLI_BOT_TOKEN over the file's token.
    if path.exists() and load_config(path).bot.token.strip():
        return _run(args)
    print(
        "linli: no bot token configured, so starting the demo against the built-in "
        "Telegram simulator.\n"
        "       To run for real: copy config.example.toml to config.toml, set bot.token "
        f"(or {TOKEN_ENV}), then `linli run`.\n",
        file=sys.stderr,
    )
    return _demo(argparse.Namespace(script=None))


def _setup_logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # httpx logs every request URL at INFO, and the URL carries the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def _check_config(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    require_token(config)
    community = config.structure()
    buildings = sum(len(c.buildings) for c in community.compounds)
    mode = "webhook " + config.bot.webhook.url if config.bot.webhook.enabled else "polling"
    print(f"config ok: {args.config}")
    print(
        f"  community: {community.name} ({config.community.timezone}, {config.community.default_locale})"
    )
    print(f"  compounds: {len(community.compounds)}, buildings: {buildings}")
    for compound in community.compounds:
        names = ", ".join(b.name for b in compound.buildings)
        print(f"    {compound.id}: {compound.name} — {names}")
    print(f"  verification: {config.community.verification.value}")
    print(
        f"  organizers: {len(config.organizers.user_ids)}, group: {config.organizers.group_chat_id}"
    )
    print(f"  updates: {mode}; database: {config.database_path}")
    return 0


def _migrate(args: argparse.Namespace) -> int:
    config = load_config(args.config)

    async def go() -> None:
        db = await Database.open(config.database_path, migrate=False)
        try:
            applied = await db.migrate()
        finally:
            await db.close()
        for m in applied:
            print(f"applied {m.version:04d} {m.name}: {m.description}")
        print(f"database {config.database_path} is up to date")

    asyncio.run(go())
    return 0


def _run(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    require_token(config)
    _setup_logging()
    asyncio.run(serve(config))
    return 0


def _demo(args: argparse.Namespace) -> int:
    argv = ["--script", args.script] if getattr(args, "script", None) else []
    return demo.main(argv)
