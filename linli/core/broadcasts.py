"""Broadcasts: who receives one, what text Telegram will accept, and how delivery is going.

Platform-free: the Telegram adapter sends, storage keeps the delivery rows; the rules
here say which text is valid HTML for Telegram, which members an audience reaches and
when the organizer's progress message is worth editing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from linli.core.community import Binding, Community, NodeKind, Role
from linli.core.members import Audience, Member
from linli.core.outcomes import Refused

TEXT_LIMIT = 4096  # characters of a message, counted after the HTML is parsed
CAPTION_LIMIT = 1024  # characters of a photo's caption


class Mode(StrEnum):
    """Where a broadcast goes: the bound group chats, or each member's private chat."""

    GROUPS = "groups"
    MEMBERS = "members"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed as its request left: it may be on the wire
    SENT = "sent"
    BLOCKED = "blocked"  # 403, or known to have blocked the bot (not sent); removed the bot
    FAILED = "failed"  # 400 chat not found, interrupted, any other error (with the reason)


INTERRUPTED = "interrupted"  # the reason of a row that was in flight when the bot stopped
BLOCKED_BEFORE = "blocked the bot (not sent)"  # the member had blocked it: skipped


@dataclass(frozen=True, slots=True)
class Target:
    """Who a broadcast is for, as the organizer chose it."""

    mode: Mode
    audience: Audience
    role: Role | None = None  # members mode only: just members holding this role

    def __post_init__(self) -> None:
        if self.mode is Mode.GROUPS and self.role is not None:
            raise ValueError("a role filter applies to private messages only")


def member_recipients(
    members: Iterable[Member], target: Target, community: Community
) -> list[Member]:
    """The members a private-message broadcast reaches: joined, reachable, in the audience."""
    chosen: list[Member] = []
    for member in members:
        if member.forgotten or not member.joined:
            continue
        if not target.audience.includes(member, community):
            continue
        if target.role is not None and target.role not in member.roles:
            continue
        chosen.append(member)
    return chosen


def reaches_group(audience: Audience, binding: Binding, community: Community) -> bool:
    """Does a broadcast to this audience go to the group with this binding?

    The groups any post for the audience goes to (its own, the compound's and community's
    groups above it), and, for a broadcast, every group bound inside it too: a message to a
    compound reaches its buildings' groups, one to the community reaches every node's group.
    """
    if audience.covers_binding(binding, community):
        return True
    if binding.kind is NodeKind.ROLE or audience.kind is NodeKind.ROLE:
        return False
    if audience.kind is NodeKind.COMMUNITY:
        return True
    if audience.kind is NodeKind.COMPOUND and binding.kind is NodeKind.BUILDING:
        building = community.building(binding.target)
        return building is not None and building.compound_id == audience.target
    return False


# --- Telegram's HTML -----------------------------------------------------------------------

# Tags Telegram's HTML parse mode understands, with the attributes each may carry.
ALLOWED_TAGS: dict[str, frozenset[str]] = {
    "b": frozenset(),
    "strong": frozenset(),
    "i": frozenset(),
    "em": frozenset(),
    "u": frozenset(),
    "ins": frozenset(),
    "s": frozenset(),
    "strike": frozenset(),
    "del": frozenset(),
    "tg-spoiler": frozenset(),
    "span": frozenset({"class"}),  # only class="tg-spoiler"
    "a": frozenset({"href"}),
    "code": frozenset({"class"}),  # class="language-..." inside <pre>
    "pre": frozenset(),
    "blockquote": frozenset({"expandable"}),
    "tg-emoji": frozenset({"emoji-id"}),
}
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)((?:\s[^<>]*)?)>")
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|lt|gt|amp|quot);")
_ATTR = re.compile(r"""([A-Za-z][A-Za-z0-9-]*)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+))?""")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


@dataclass(frozen=True, slots=True)
class CleanText:
    """Text Telegram will parse: the HTML to send and its length as Telegram counts it."""

    html: str
    length: int


def utf16_length(text: str) -> int:
    """Telegram counts message length in UTF-16 code units (an emoji may count two)."""
    return len(text.encode("utf-16-le")) // 2


def _attrs_ok(tag: str, raw: str) -> bool:
    allowed = ALLOWED_TAGS[tag]
    rest = raw.strip().rstrip("/").strip()
    found: dict[str, str] = {}
    pos = 0
    while pos < len(rest):
        match = _ATTR.match(rest, pos)
        if match is None:
            return False
        name = match.group(1).lower()
        value = (match.group(2) or "").strip("\"'")
        found[name] = value
        pos = match.end()
        while pos < len(rest) and rest[pos].isspace():
            pos += 1
    if not set(found) <= allowed:
        return False
    if tag == "a":
        return bool(found.get("href"))
    if tag == "span":
        return found.get("class") == "tg-spoiler"
    if tag == "tg-emoji":
        return found.get("emoji-id", "").isdigit()
    return True


def clean_html(text: str, *, limit: int = TEXT_LIMIT) -> CleanText | Refused:
    """Check an organizer's text against Telegram's HTML rules, or say exactly what is wrong.

    A stray `&` or `>`, and a `<` that cannot start a tag ("a < b", "<3"), are escaped for
    the organizer; a tag Telegram does not know, a tag left open or closed out of order is
    refused with its name, so nothing fails half-way through a broadcast.
    """
    if not text or not text.strip():
        return Refused("empty")
    out: list[str] = []
    visible: list[str] = []
    stack: list[str] = []
    pos = 0
    while pos < len(text):
        char = text[pos]
        if char == "<":
            match = _TAG.match(text, pos)
            if match is None:
                nxt = text[pos + 1 : pos + 2]
                if nxt.isalpha() or nxt == "/":
                    return Refused("bad_tag", {"tag": text[pos : pos + 20].split(">")[0] + ">"})
                out.append("&lt;")
                visible.append("<")
                pos += 1
                continue
            closing, name, attrs = match.group(1) == "/", match.group(2).lower(), match.group(3)
            if name not in ALLOWED_TAGS:
                return Refused("bad_tag", {"tag": f"<{name}>"})
            if closing:
                if not stack or stack[-1] != name:
                    return Refused("unexpected_close", {"tag": f"</{name}>"})
                stack.pop()
            else:
                if not _attrs_ok(name, attrs):
                    return Refused("bad_attr", {"tag": f"<{name}>"})
                stack.append(name)
            out.append(match.group(0))
            pos = match.end()
        elif char == "&":
            entity = _ENTITY.match(text, pos)
            if entity is None:
                out.append("&amp;")
                visible.append("&")
                pos += 1
            else:
                token = entity.group(0)[1:-1]
                visible.append(_NAMED.get(token, "x"))
                out.append(entity.group(0))
                pos = entity.end()
        elif char == ">":
            out.append("&gt;")
            visible.append(">")
            pos += 1
        else:
            out.append(char)
            visible.append(char)
            pos += 1
    if stack:
        return Refused("unclosed", {"tag": f"<{stack[-1]}>"})
    shown = "".join(visible)
    if not shown.strip():
        return Refused("empty")
    length = utf16_length(shown)
    if length > limit:
        reason = "caption_too_long" if limit == CAPTION_LIMIT else "too_long"
        return Refused(reason, {"limit": limit, "length": length})
    return CleanText("".join(out), length)


# --- progress ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Counts:
    """How far a broadcast has got."""

    pending: int = 0
    sending: int = 0
    sent: int = 0
    blocked: int = 0
    failed: int = 0

    @property
    def total(self) -> int:
        return self.pending + self.sending + self.sent + self.blocked + self.failed

    @property
    def finished(self) -> int:
        return self.sent + self.blocked + self.failed

    @property
    def done(self) -> bool:
        return self.pending == 0 and self.sending == 0

    @property
    def percent(self) -> int:
        return 100 if self.total == 0 else self.finished * 100 // self.total


def progress_due(
    last_edit: datetime | None, now: datetime, interval_seconds: float, *, final: bool
) -> bool:
    """Edit the progress message now? Always for the final state, else at most every interval."""
    if final or last_edit is None:
        return True
    return now - last_edit >= timedelta(seconds=interval_seconds)


def audience_label_parts(audience: Audience, community: Community, locale: str) -> tuple[str, str]:
    """(kind, name) for showing an audience: the compound's or building's configured name in
    the reader's language."""
    if audience.kind is NodeKind.COMPOUND:
        compound = community.compound(audience.target)
        return ("compound", compound.title(locale) if compound else audience.target)
    if audience.kind is NodeKind.BUILDING:
        building = community.building(audience.target)
        if building is None:
            return ("building", audience.target)
        compound = community.compound(building.compound_id)
        return (
            "building",
            f"{compound.title(locale) if compound else building.compound_id} {building.name}",
        )
    if audience.kind is NodeKind.ROLE:
        return ("role", audience.target)
    return ("community", community.title(locale))


# --- choosing an audience with buttons -----------------------------------------------------


def scope_token(audience: Audience, community: Community) -> str:
    """A short token for an audience, for callback data: k, c<i>, b<i> or r<role>."""
    if audience.kind is NodeKind.COMMUNITY:
        return "k"
    if audience.kind is NodeKind.ROLE:
        return "r" + audience.target
    if audience.kind is NodeKind.COMPOUND:
        ids = [c.id for c in community.compounds]
        return f"c{ids.index(audience.target)}"
    ids = [b.id for b in community.all_buildings()]
    return f"b{ids.index(audience.target)}"


def parse_scope(token: str, community: Community) -> Audience | None:
    """The audience a token names, or None for anything that does not (stale or forged)."""
    if token == "k":
        return Audience(NodeKind.COMMUNITY)
    head, rest = token[:1], token[1:]
    if head == "r":
        return Audience(NodeKind.ROLE, rest) if rest in {r.value for r in Role} else None
    if head not in ("c", "b") or not rest.isdigit() or len(rest) > 4:
        return None
    index = int(rest)
    if head == "c":
        compounds = community.compounds
        return Audience(NodeKind.COMPOUND, compounds[index].id) if index < len(compounds) else None
    buildings = community.all_buildings()
    return Audience(NodeKind.BUILDING, buildings[index].id) if index < len(buildings) else None


# How the audience buttons name the two modes (kept in drafts as they are in the buttons).
MODE_CODES: dict[str, Mode] = {"g": Mode.GROUPS, "p": Mode.MEMBERS}


@dataclass(slots=True)
class BroadcastDraft:
    """What an organizer has chosen and typed so far in /broadcast (kept as JSON between
    messages): the mode, the audience (a scope token), a role filter, the text, a photo, and
    the key that makes one broadcast of every tap on its Send button."""

    mode: Mode | None = None
    scope: str = ""
    role: Role | None = None
    text: str = ""
    photo: str | None = None
    key: str = ""

    def to_data(self) -> dict[str, Any]:
        codes = {mode: code for code, mode in MODE_CODES.items()}
        return {
            "mode": codes[self.mode] if self.mode else None,
            "scope": self.scope,
            "role": self.role.value if self.role else None,
            "text": self.text,
            "photo": self.photo,
            "key": self.key,
        }

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> BroadcastDraft:
        role = data.get("role")
        return cls(
            mode=MODE_CODES.get(str(data.get("mode"))),
            scope=str(data.get("scope") or ""),
            role=Role(role) if role in {r.value for r in Role} else None,
            text=str(data.get("text") or ""),
            photo=data.get("photo") or None,
            key=str(data.get("key") or ""),
        )

    def target(self, community: Community) -> Target | None:
        """The audience chosen, or None if it no longer parses (the config changed)."""
        audience = parse_scope(self.scope, community)
        if audience is None:
            return None
        mode = Mode.GROUPS if self.mode is Mode.GROUPS else Mode.MEMBERS
        return Target(mode, audience, self.role if mode is Mode.MEMBERS else None)


# Role teams a group can be bound to, and roles private messages can be narrowed to.
TEAM_ROLES: tuple[Role, ...] = (
    Role.VOLUNTEER,
    Role.BUILDING_LEADER,
    Role.GRID_WORKER,
    Role.MOBILE_REPORTER,
    Role.PARTY_MEMBER,
    Role.ORGANIZER,
)
FILTER_ROLES: tuple[Role, ...] = (Role.RESIDENT, *TEAM_ROLES)


def may_broadcast(actor: Member, *, private: bool) -> Refused | None:
    """Only organizers broadcast, and only from their private chat with the bot."""
    if not actor.is_organizer:
        return Refused("not_organizer")
    if not private:
        return Refused("private_only")
    return None


# --- scheduled backups ---------------------------------------------------------------------


def backup_due(now_local: datetime, at: str, last_day: str | None) -> str | None:
    """The local day a daily backup is due for (at or after `at`, "HH:MM"), else None."""
    hour, minute = (int(p) for p in at.split(":"))
    if (now_local.hour, now_local.minute) < (hour, minute):
        return None
    day = now_local.date().isoformat()
    return None if last_day == day else day


def backups_to_delete(names: Iterable[str], keep: int) -> list[str]:
    """Of the scheduler's backup files ("linli-daily-<day>.sqlite3"), the oldest beyond `keep`."""
    ours = sorted(n for n in names if re.fullmatch(r"linli-daily-\d{4}-\d{2}-\d{2}\.sqlite3", n))
    return ours[: max(0, len(ours) - keep)]
