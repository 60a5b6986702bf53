"""The tree hole: anonymous messages to the organizers and their replies.

A message row holds its text, an optional photo and the hash of the sender's follow-up
code: nothing that leads back to the sender."""

from __future__ import annotations

from datetime import datetime

from linli.core.clock import from_iso, to_iso
from linli.core.outcomes import Refused, RefusedError
from linli.core.treehole import TreeholeMessage, TreeholeReply
from linli.storage import drafts
from linli.storage.db import Database, Row, Tx
from linli.storage.drafts import Draft

_SELECT = """
SELECT t.*, (SELECT count(*) FROM treehole_replies r WHERE r.message_id = t.id) AS replies
FROM treehole_messages t
"""


def _message(row: Row) -> TreeholeMessage:
    return TreeholeMessage(
        row["id"], row["text"], row["photo"], from_iso(row["created_at"]), row["replies"]
    )


async def create_message(
    db: Database,
    *,
    text: str,
    photo: str | None,
    followup_hash: str,
    ending: Draft,
    now: datetime,
) -> TreeholeMessage:
    """Save the message and end the draft it was written in, in one transaction; a second
    confirmation (double tap, redelivery) finds no draft and raises RefusedError."""
    async with db.transaction() as tx:
        if not await drafts.end_draft(tx, ending):
            raise RefusedError(Refused("already_sent"))
        message_id = await tx.execute(
            "INSERT INTO treehole_messages (text, photo, followup_hash, created_at)"
            " VALUES (?, ?, ?, ?)",
            (text, photo, followup_hash, to_iso(now)),
        )
        message = await get_message(tx, message_id)
    assert message is not None
    return message


async def get_message(db: Database | Tx, message_id: int) -> TreeholeMessage | None:
    row = await db.fetchone(_SELECT + " WHERE t.id = ?", (message_id,))
    return _message(row) if row else None


async def message_by_followup(db: Database | Tx, code_hash: str) -> TreeholeMessage | None:
    row = await db.fetchone(_SELECT + " WHERE t.followup_hash = ?", (code_hash,))
    return _message(row) if row else None


async def add_reply(
    db: Database, message_id: int, author_id: int, text: str, now: datetime
) -> TreeholeMessage:
    async with db.transaction() as tx:
        if await get_message(tx, message_id) is None:
            raise RefusedError(Refused("unknown_message"))
        await tx.execute(
            "INSERT INTO treehole_replies (message_id, author_id, text, created_at)"
            " VALUES (?, ?, ?, ?)",
            (message_id, author_id, text, to_iso(now)),
        )
        message = await get_message(tx, message_id)
    assert message is not None
    return message


async def replies(db: Database | Tx, message_id: int) -> list[TreeholeReply]:
    rows = await db.fetchall(
        "SELECT message_id, text, created_at FROM treehole_replies WHERE message_id = ?"
        " ORDER BY id",
        (message_id,),
    )
    return [TreeholeReply(r["message_id"], r["text"], from_iso(r["created_at"])) for r in rows]


async def add_card(db: Database, message_id: int, chat_id: int, card_id: int) -> None:
    await db.write(
        "INSERT OR IGNORE INTO treehole_cards (message_id, chat_id, card_id) VALUES (?, ?, ?)",
        (message_id, chat_id, card_id),
    )


async def cards(db: Database | Tx, message_id: int) -> list[tuple[int, int]]:
    rows = await db.fetchall(
        "SELECT chat_id, card_id FROM treehole_cards WHERE message_id = ? ORDER BY rowid",
        (message_id,),
    )
    return [(r["chat_id"], r["card_id"]) for r in rows]
