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


def _identifiers(tree: ast.AST) -> set[str]:
    """Every name a module binds or uses: variables, attributes, fields, arguments,
    functions, classes, keywords and imported names."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, ast.arg | ast.keyword) and node.arg:
            found.add(node.arg)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            found.add(node.name)
        elif isinstance(node, ast.alias):
            found.add(node.asname or node.name)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_core_knows_members_by_their_own_id_only() -> None:
    """No Telegram in core (a Matrix adapter could reuse it): no import, no `telegram_id`,
    no name about Telegram. A member's Telegram account lives in storage/accounts.py."""
    offences = []
    for path in sorted((ROOT / "core").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for name in sorted(_identifiers(tree)):
            if "telegram" in name.lower():
                offences.append(f"{path.relative_to(ROOT)}: {name}")
    assert offences == []


def test_the_import_contracts_hold() -> None:
    """The layers, core's and storage's freedom, features' independence and the simulator's
    place, as declared in pyproject.toml ([tool.importlinter]); the report says what broke."""
    from importlinter.cli import lint_imports

    assert (
        lint_imports(
            config_filename=str(ROOT.parent / "pyproject.toml"), no_cache=True, no_logo=True
        )
        == 0
    )


def test_no_import_cycles() -> None:
    """No module reaches itself through its imports, counting imports inside functions (so a
    late import cannot hide a cycle)."""
    import grimp

    graph = grimp.build_graph("linli")
    cycles = set()
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            chain = graph.find_shortest_chain(importer=imported, imported=module)
            if chain is not None:
                cycles.add(" -> ".join((module, *chain)))
    assert len(graph.modules) > 100
    assert sorted(cycles) == []
