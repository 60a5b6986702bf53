"""Group chats the bot is in and what each is bound to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from linli.core.clock import to_iso
from linli.core.community import Binding, Community, NodeKind
from linli.core.members import Audience
from linli.storage.audit import audit
from linli.storage.db import Database, Tx


@dataclass(frozen=True, slots=True)
class Group:
    chat_id: int
    title: str
    active: bool
    binding: Binding | None


async def upsert_group(db: Database, chat_id: int, title: str, now: datetime) -> None:
    """The bot is in this group (added, or seen talking): remember it as active."""
    await db.write(
        "INSERT INTO groups (chat_id, title, active, added_at, updated_at) VALUES (?, ?, 1, ?, ?)"
        " ON CONFLICT (chat_id) DO UPDATE SET title = excluded.title, active = 1,"
        " updated_at = excluded.updated_at",
        (chat_id, title, to_iso(now), to_iso(now)),
    )


async def deactivate_group(db: Database, chat_id: int, now: datetime) -> None:
    await db.write(
        "UPDATE groups SET active = 0, updated_at = ? WHERE chat_id = ?", (to_iso(now), chat_id)
    )


async def migrate_group(db: Database, old_chat_id: int, new_chat_id: int) -> None:
    """A group upgraded to a supergroup gets a new id; its binding follows."""
    await db.write("UPDATE groups SET chat_id = ? WHERE chat_id = ?", (new_chat_id, old_chat_id))


async def bind_group(
    db: Database, chat_id: int, title: str, binding: Binding, by: int, now: datetime
) -> None:
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO groups (chat_id, title, active, bind_kind, bind_target, bound_by,"
            " added_at, updated_at) VALUES (?, ?, 1, ?, ?, ?, ?, ?)"
            " ON CONFLICT (chat_id) DO UPDATE SET title = excluded.title, active = 1,"
            " bind_kind = excluded.bind_kind, bind_target = excluded.bind_target,"
            " bound_by = excluded.bound_by, updated_at = excluded.updated_at",
            (chat_id, title, binding.kind.value, binding.target, by, to_iso(now), to_iso(now)),
        )
        await audit(
            tx, by, "bind", f"chat:{chat_id}", binding.kind.value + ":" + binding.target, now
        )


async def unbind_group(db: Database, chat_id: int, by: int, now: datetime) -> bool:
    async with db.transaction() as tx:
        changed = await tx.rowcount(
            "UPDATE groups SET bind_kind = NULL, bind_target = NULL, updated_at = ?"
            " WHERE chat_id = ? AND bind_kind IS NOT NULL",
            (to_iso(now), chat_id),
        )
        if changed:
            await audit(tx, by, "unbind", f"chat:{chat_id}", "", now)
    return changed == 1


def _group(row: object) -> Group:
    r = row  # sqlite3.Row
    binding = (
        Binding(r["chat_id"], NodeKind(r["bind_kind"]), r["bind_target"] or "")  # type: ignore[index]
        if r["bind_kind"]  # type: ignore[index]
        else None
    )
    return Group(r["chat_id"], r["title"], bool(r["active"]), binding)  # type: ignore[index]


async def get_group(db: Database | Tx, chat_id: int) -> Group | None:
    row = await db.fetchone("SELECT * FROM groups WHERE chat_id = ?", (chat_id,))
    return _group(row) if row else None


async def bound_groups(db: Database | Tx) -> list[Group]:
    rows = await db.fetchall(
        "SELECT * FROM groups WHERE active = 1 AND bind_kind IS NOT NULL ORDER BY chat_id"
    )
    return [_group(r) for r in rows]


async def groups_for_audience(
    db: Database | Tx, audience: Audience, community: Community
) -> list[Group]:
    """The active bound groups a post for this audience goes to."""
    return [
        g
        for g in await bound_groups(db)
        if g.binding is not None and audience.covers_binding(g.binding, community)
    ]
