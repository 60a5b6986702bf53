"""The configuration reference page of the guides, generated from the config models.

Every key comes from walking `Config`'s pydantic fields (type, limits, default); what it
means comes from the comment above it (or beside it) in config.example.toml, the file
people copy. `python3 -m linli.bot.config_docs` writes docs/<lang>/config.md;
tests/test_docs.py fails when the pages are not what this writes, or when a key has no
comment in the example, so the reference cannot drift from the code.
"""

from __future__ import annotations

import re
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from linli.bot.config import Config

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config.example.toml"
PAGES = {"en": ROOT / "docs" / "en" / "config.md", "zh": ROOT / "docs" / "zh" / "config.md"}
INTERNAL = {"source"}  # set by the loader, not written in the file


@dataclass(frozen=True, slots=True)
class Key:
    path: str  # "bot.webhook.port", "community.compounds[].id"
    section: str  # the TOML table it is written in: "bot.webhook", "community.compounds"
    kind: str
    default: str


def walk(model: type[BaseModel] = Config, prefix: str = "") -> list[Key]:
    """Every key a config file may set, in the models' order."""
    keys: list[Key] = []
    for name, field in model.model_fields.items():
        if not prefix and name in INTERNAL:
            continue
        path = f"{prefix}{name}"
        inner = _model_in(field.annotation)
        if inner is not None:
            many = get_origin(_unwrap(field.annotation)) is list
            keys.extend(walk(inner, f"{path}[]." if many else f"{path}."))
            continue
        section = prefix.rstrip(".").removesuffix("[]") if prefix else ""
        keys.append(Key(path, section, _kind(field), _default(field)))
    return keys


def _unwrap(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds (itself, or a list of it), if any."""
    annotation = _unwrap(annotation)
    if get_origin(annotation) is list:
        annotation = _unwrap(get_args(annotation)[0])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


_NAMES = {str: "string", int: "integer", float: "number", bool: "boolean"}


def _type_name(annotation: Any) -> str:
    annotation = _unwrap(annotation)
    origin = get_origin(annotation)
    if origin is Literal:
        return " \\| ".join(f'`"{a}"`' for a in get_args(annotation))
    if origin in (Union, types.UnionType):
        parts = [_type_name(a) for a in get_args(annotation) if a is not type(None)]
        return " \\| ".join(parts) + " (optional)"
    if origin is list:
        return f"list of {_type_name(get_args(annotation)[0])}"
    if origin is dict:
        return "table"
    if isinstance(annotation, type) and hasattr(annotation, "__members__"):  # an enum
        return " \\| ".join(f'`"{m.value}"`' for m in annotation.__members__.values())
    return _NAMES.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _limits(metadata: list[Any]) -> list[str]:
    out: list[str] = []
    for item in metadata:
        for attr, text in (("ge", "≥ {}"), ("gt", "> {}"), ("le", "≤ {}"), ("lt", "< {}"),
                           ("min_length", "min length {}"), ("max_length", "max length {}")):  # fmt: skip
            value = getattr(item, attr, None)
            if value is not None:
                out.append(text.format(value))
    return out


def _kind(field: FieldInfo) -> str:
    limits = _limits(list(field.metadata))
    annotation = field.annotation
    inner = _unwrap(annotation)
    if get_origin(inner) is list:  # limits on the items: list[Annotated[int, Field(ge=1)]]
        item = get_args(inner)[0]
        if get_origin(item) is Annotated:
            limits += [f"each {x}" for x in _limits(list(get_args(item)[1:]))]
    name = _type_name(annotation)
    return name + (f" ({', '.join(limits)})" if limits else "")


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        value = field.default_factory()  # type: ignore[call-arg]
    elif field.default is PydanticUndefined:
        return "required"
    else:
        value = field.default
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if hasattr(value, "value"):  # an enum member
        value = value.value
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if value is None:
        return "—"
    if isinstance(value, str):
        return f'`"{value}"`'
    if isinstance(value, dict | list) and (not value or len(str(value)) > 60):
        return "(see the example)" if value else "empty"
    return f"`{value}`"


_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.]+)\s*\]\]?")
_ASSIGN = re.compile(r"^\s*(#\s*)?([A-Za-z_][A-Za-z0-9_]*)\s*=")


def example_comments(text: str) -> dict[str, str]:
    """What the example file says about each key (and each table), by its path."""
    found: dict[str, str] = {}
    table, previous = "", ""
    buffer: list[str] = []
    for line in text.splitlines():
        header = _HEADER.match(line)
        if header:
            if buffer:  # a comment just above a table describes the table
                found.setdefault(header.group(2), " ".join(buffer))
            table, buffer, previous = header.group(2), [], ""
            continue
        assign = _ASSIGN.match(line)
        if assign and not (assign.group(1) and "{" in line):  # "# key = ..." too
            beside = line.partition("#")[2] if not assign.group(1) else ""
            beside = re.sub(r"^\s*example\b:?\s*", "", beside).strip()
            if beside.startswith("(") and beside.endswith(")"):
                beside = beside[1:-1]
            key = f"{table}.{assign.group(2)}" if table else assign.group(2)
            # A key right below another with no comment of its own shares that one's
            # ("the shortest and the longest booking": min_minutes, max_minutes).
            said = " ".join([*buffer, beside]).strip() or previous
            if said:
                found.setdefault(key, said)
            buffer, previous = [], " ".join(buffer)
            continue
        stripped = line.strip()
        if stripped.startswith("#"):
            body = stripped.lstrip("#").strip()
            if not body.startswith(("{", "]")) and body:
                buffer.append(body)
        elif not stripped:
            previous = ""
    return found


def describe(key: Key, comments: dict[str, str]) -> str:
    """The key's own comment, else its table's (keys described together, above the table);
    a table of tables (fund.accounts) by the comment at its top."""
    path, section = key.path.replace("[]", ""), key.section.replace("[]", "")
    for candidate in (path, section):
        if candidate in comments:
            return comments[candidate]
    inside = [said for name, said in comments.items() if name.startswith(path + ".")]
    return inside[0] if inside else ""


TITLES = {
    "en": (
        "Configuration reference",
        "Every key of `config.toml`, generated from the config models "
        "(`linli/bot/config.py`) and the comments of `config.example.toml` by "
        "`python3 -m linli.bot.config_docs`; a test fails when this page is out of date. "
        "Unknown keys and wrong types are errors: `linli check-config` names the first one.",
        ("key", "type", "default", "what it is"),
    ),
    "zh": (
        "配置参考",
        "`config.toml` 的全部配置项，由 `python3 -m linli.bot.config_docs` 根据配置模型"
        "（`linli/bot/config.py`）和 `config.example.toml` 的注释生成；页面过期时测试会失败。"
        "说明取自示例文件的注释（英文）。未知的键和错误的类型都会报错："
        "`linli check-config` 会指出第一处。",
        ("键", "类型", "默认值", "说明"),
    ),
}


def page(lang: str, example: str | None = None) -> str:
    """The reference page in `lang` ("en" or "zh")."""
    comments = example_comments(example if example is not None else EXAMPLE.read_text("utf-8"))
    title, intro, columns = TITLES[lang]
    lines = [f"# {title}", "", intro, ""]
    current = None
    for key in walk():
        top = key.path.split(".")[0].removesuffix("[]")
        if top != current:
            current = top
            written = f"[[{top}]]" if key.path.startswith(f"{top}[]") else f"[{top}]"
            lines += ["", f"## {written}", "", f"| {' | '.join(columns)} |", "|---|---|---|---|"]
        said = describe(key, comments).replace("|", "\\|")
        lines.append(f"| `{key.path}` | {key.kind} | {key.default} | {said} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    for lang, path in PAGES.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(page(lang), encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
