"""The layering stays true: core imports no platform, storage imports no telegram."""

from __future__ import annotations

import ast
from pathlib import Path

import linli

ROOT = Path(linli.__file__).parent
FORBIDDEN = {
    "core": {
        "telegram",
        "aiosqlite",
        "apscheduler",
        "jinja2",
        "linli.storage",
        "linli.bot",
        "aiohttp",
    },
    "storage": {"telegram", "jinja2", "linli.bot", "aiohttp"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_layers_import_only_downwards() -> None:
    offences = []
    checked = 0
    for layer, banned in FORBIDDEN.items():
        for path in (ROOT / layer).rglob("*.py"):
            checked += 1
            for name in _imports(path):
                if any(name == b or name.startswith(b + ".") for b in banned):
                    offences.append(f"{path.relative_to(ROOT)} imports {name}")
    assert checked > 4
    assert offences == []
