"""Telegram's `parse_mode=HTML`, as strictly as the Bot API parses it (or a little stricter).

`parse_html(text)` returns the plain text and its entities (offsets in UTF-16 code units,
as the Bot API counts them) or raises `EntityParseError` with the Bot API's wording
("Can't parse entities: ..."). Stricter than Telegram in one place on purpose: a bare `&`
that does not start a valid entity is refused, because text that relies on Telegram's
leniency is almost always unescaped user input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# tag -> entity type; "a", "code", "pre", "span", "blockquote" and "tg-emoji" are special-cased.
_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
}
SUPPORTED_TAGS = frozenset({*_SIMPLE_TAGS, "a", "code", "pre", "span", "blockquote", "tg-emoji"})
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]{1,10});")
_TAG_NAME_RE = re.compile(r"[a-zA-Z0-9-]*")
_ATTR_NAME_RE = re.compile(r"[a-zA-Z0-9_-]+")
_WHITESPACE = " \t\r\n"


class EntityParseError(ValueError):
    """The Bot API's 400 "can't parse entities" (message without the "Bad Request: " prefix)."""


@dataclass(frozen=True, slots=True)
class Entity:
    type: str
    offset: int
    length: int
    url: str | None = None
    language: str | None = None
    custom_emoji_id: str | None = None
    user_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "offset": self.offset, "length": self.length}
        if self.url is not None:
            out["url"] = self.url
        if self.language is not None:
            out["language"] = self.language
        if self.custom_emoji_id is not None:
            out["custom_emoji_id"] = self.custom_emoji_id
        if self.user_id is not None:
            out["user"] = {"id": self.user_id, "is_bot": False, "first_name": "?"}
        return out


@dataclass
class _Open:
    tag: str
    start: int  # offset in UTF-16 units in the output
    byte_offset: int
    attrs: dict[str, str] = field(default_factory=dict)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _fail(message: str) -> EntityParseError:
    return EntityParseError(f"Can't parse entities: {message}")


def _decode_entity(text: str, i: int, byte_offset: int) -> tuple[str, int]:
    """The character an `&...;` at `i` stands for, and where the text continues."""
    match = _ENTITY_RE.match(text, i)
    if match is None:
        raise _fail(
            f"character '&' at byte offset {byte_offset} does not start an HTML entity;"
            " write it as &amp;"
        )
    name = match.group(1)
    if name.startswith("#"):
        code = int(name[2:], 16) if name[1:2] in ("x", "X") else int(name[1:])
        if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise _fail(f"invalid numeric HTML entity at byte offset {byte_offset}")
        return chr(code), match.end()
    if name not in _NAMED_ENTITIES:
        raise _fail(f'unsupported HTML entity "&{name};" at byte offset {byte_offset}')
    return _NAMED_ENTITIES[name], match.end()


def _decode_attribute(value: str, byte_offset: int) -> str:
    out: list[str] = []
    i = 0
    while i < len(value):
        if value[i] == "&":
            char, i = _decode_entity(value, i, byte_offset)
            out.append(char)
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def parse_html(text: str) -> tuple[str, list[Entity]]:
    """Plain text and entities of an HTML-formatted message, as Telegram would store it."""
    out: list[str] = []
    out_len = 0  # UTF-16 units so far
    entities: list[Entity] = []
    stack: list[_Open] = []
    i = 0
    n = len(text)
    # Byte offsets are only needed for error messages; computed lazily.

    def byte_at(pos: int) -> int:
        return len(text[:pos].encode("utf-8"))

    while i < n:
        ch = text[i]
        if ch == "&":
            decoded, i = _decode_entity(text, i, byte_at(i))
            out.append(decoded)
            out_len += utf16_len(decoded)
            continue
        if ch != "<":
            out.append(ch)
            out_len += 2 if ord(ch) > 0xFFFF else 1
            i += 1
            continue
        begin = i
        if i + 1 < n and text[i + 1] == "/":
            close = text.find(">", i)
            if close == -1:
                raise _fail(f"unclosed end tag at byte offset {byte_at(begin)}")
            name = text[i + 2 : close].strip().lower()
            if not stack:
                raise _fail(f'unexpected end tag "{name}" at byte offset {byte_at(begin)}')
            top = stack[-1]
            if name != top.tag:
                raise _fail(
                    f'unmatched end tag at byte offset {byte_at(begin)}, expected "</{top.tag}>",'
                    f' found "</{name}>"'
                )
            stack.pop()
            entity = _make_entity(top, out_len, stack)
            if entity is not None:
                entities.append(entity)
            i = close + 1
            continue
        match = _TAG_NAME_RE.match(text, i + 1)
        name = match.group(0).lower() if match else ""
        if name not in SUPPORTED_TAGS:
            shown = name or text[i + 1 : i + 2]
            raise _fail(f'unsupported start tag "{shown}" at byte offset {byte_at(begin)}')
        i = match.end() if match else i + 1
        attrs: dict[str, str] = {}
        while True:
            while i < n and text[i] in _WHITESPACE:
                i += 1
            if i >= n:
                raise _fail(f"unclosed start tag at byte offset {byte_at(begin)}")
            if text[i] == ">":
                i += 1
                break
            if text.startswith("/>", i):
                raise _fail(f'self-closing tag "{name}" at byte offset {byte_at(begin)}')
            attr = _ATTR_NAME_RE.match(text, i)
            if attr is None:
                raise _fail(f"empty attribute name in the tag at byte offset {byte_at(begin)}")
            key = attr.group(0).lower()
            i = attr.end()
            value = ""
            if i < n and text[i] == "=":
                i += 1
                if i < n and text[i] in "\"'":
                    quote = text[i]
                    end = text.find(quote, i + 1)
                    if end == -1:
                        raise _fail(f"unclosed start tag at byte offset {byte_at(begin)}")
                    value = text[i + 1 : end]
                    i = end + 1
                else:
                    start = i
                    while i < n and text[i] not in _WHITESPACE and text[i] != ">":
                        i += 1
                    value = text[start:i]
                value = _decode_attribute(value, byte_at(begin))
            attrs[key] = value
        _check_start(name, attrs, stack, byte_at(begin))
        stack.append(_Open(name, out_len, byte_at(begin), attrs))
    if stack:
        raise _fail(f'can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    plain, entities = _strip("".join(out), entities)
    entities.sort(key=lambda e: (e.offset, -e.length))
    return plain, entities


def _check_start(name: str, attrs: dict[str, str], stack: list[_Open], byte_offset: int) -> None:
    if name == "span" and attrs.get("class") != "tg-spoiler":
        raise _fail(f'tag "span" must have class "tg-spoiler" at byte offset {byte_offset}')
    if name == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
        raise _fail(f'tag "tg-emoji" must have attribute "emoji-id" at byte offset {byte_offset}')
    if name == "blockquote" and any(o.tag == "blockquote" for o in stack):
        raise _fail(f"blockquote can't be nested, at byte offset {byte_offset}")
    for opened in stack:
        if opened.tag == "code" or (opened.tag == "pre" and name != "code"):
            raise _fail(
                f'tag "{name}" can\'t be inside "{opened.tag}" at byte offset {byte_offset}'
            )


def _make_entity(opened: _Open, end: int, stack: list[_Open]) -> Entity | None:
    length = end - opened.start
    if length <= 0:
        return None
    tag = opened.tag
    if tag in _SIMPLE_TAGS:
        return Entity(_SIMPLE_TAGS[tag], opened.start, length)
    if tag == "span":
        return Entity("spoiler", opened.start, length)
    if tag == "a":
        href = opened.attrs.get("href", "").strip()
        if not href:
            return None
        user = re.fullmatch(r"tg://user\?id=(\d+)", href)
        if user:
            return Entity("text_mention", opened.start, length, user_id=int(user.group(1)))
        return Entity("text_link", opened.start, length, url=href)
    if tag == "code":
        if stack and stack[-1].tag == "pre":
            language = opened.attrs.get("class", "").removeprefix("language-")
            if language:
                stack[-1].attrs["language"] = language
            return None
        return Entity("code", opened.start, length)
    if tag == "pre":
        return Entity("pre", opened.start, length, language=opened.attrs.get("language"))
    if tag == "blockquote":
        kind = "expandable_blockquote" if "expandable" in opened.attrs else "blockquote"
        return Entity(kind, opened.start, length)
    if tag == "tg-emoji":
        return Entity(
            "custom_emoji", opened.start, length, custom_emoji_id=opened.attrs["emoji-id"]
        )
    return None


def _strip(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Telegram trims leading and trailing whitespace; entities are clipped to what is left."""
    stripped_left = text.lstrip(_WHITESPACE)
    left = utf16_len(text) - utf16_len(stripped_left)
    plain = stripped_left.rstrip(_WHITESPACE)
    total = utf16_len(plain)
    out: list[Entity] = []
    for entity in entities:
        start = max(entity.offset - left, 0)
        stop = min(entity.offset + entity.length - left, total)
        if stop > start:
            out.append(
                Entity(
                    entity.type,
                    start,
                    stop - start,
                    entity.url,
                    entity.language,
                    entity.custom_emoji_id,
                    entity.user_id,
                )
            )
    return plain, out


def plain_entities(text: str) -> tuple[str, list[Entity]]:
    """Text sent without parse_mode: only trimmed."""
    return _strip(text, [])


__all__ = ["Entity", "EntityParseError", "parse_html", "plain_entities", "utf16_len"]
