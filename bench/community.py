"""The benchmarks' community: 20 compounds of 10 buildings (200 buildings, as a large 街道),
its config, and the Telegram ids the generated members have."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from linli.bot.config import Config, parse_config
from linli.sim.harness import deep_merge, example_config_data

COMPOUNDS = 20
BUILDINGS_PER_COMPOUND = 10
TOKEN = "123:BENCH"
ORGANIZER = 1000
ORGANIZERS_GROUP = -1001000
TELEGRAM_BASE = 50_000_000  # member i (1-based) has telegram id TELEGRAM_BASE + i


def compounds() -> list[dict[str, Any]]:
    return [
        {
            "id": f"c{c:02d}",
            "name": f"第{c + 1}小区",
            "buildings": [str(b + 1) for b in range(BUILDINGS_PER_COMPOUND)],
        }
        for c in range(COMPOUNDS)
    ]


def building_ids() -> list[str]:
    return [f"{c['id']}/{b}" for c in compounds() for b in c["buildings"]]


def overrides(database: Path, api_base_url: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "bot": {"token": TOKEN, "polling_timeout": 10},
        "storage": {"database": str(database)},
        "community": {"name": "基准社区", "compounds": compounds()},
        "organizers": {"user_ids": [ORGANIZER], "group_chat_id": ORGANIZERS_GROUP},
    }
    if api_base_url is not None:
        base = api_base_url.removesuffix("/bot")
        data["bot"]["api_base_url"] = f"{base}/bot"
        data["bot"]["file_base_url"] = f"{base}/file/bot"
    return data


def config(database: Path, api_base_url: str | None = None) -> Config:
    data = deep_merge(example_config_data(), overrides(database, api_base_url))
    return parse_config(data, str(database.parent / "config.toml"))


def write_config(path: Path, database: Path, api_base_url: str | None = None) -> Path:
    """A config.toml for `linli run` (the example config with the bench community)."""
    data = deep_merge(example_config_data(), overrides(database, api_base_url))
    path.write_text(_toml(data), encoding="utf-8")
    tomllib.loads(path.read_text(encoding="utf-8"))  # it must read back
    return path


def _toml(data: dict[str, Any], prefix: str = "") -> str:
    """Enough TOML for the config (tables, arrays of tables, scalars, lists of scalars)."""
    lines: list[str] = []
    tables: list[tuple[str, dict[str, Any]]] = []
    arrays: list[tuple[str, list[dict[str, Any]]]] = []
    for key, value in data.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            tables.append((name, value))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            arrays.append((name, value))
        else:
            lines.append(f"{key} = {_value(value)}")
    out = "\n".join(lines) + ("\n" if lines else "")
    for name, table in tables:
        out += f"\n[{name}]\n" + _toml(table, name)
    for name, items in arrays:
        for item in items:
            out += f"\n[[{name}]]\n" + _toml(item, name)
    return out


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")
