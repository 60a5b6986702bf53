"""Tree hole storage: one message per confirmation, replies, lookup by code hash."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from linli.core.hazards import followup_hash
from linli.core.outcomes import RefusedError
from linli.storage import drafts as drafts_db
from linli.storage import members as members_db
from linli.storage import treehole as th
from linli.storage.db import Database
from linli.storage.drafts import Draft

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "t.sqlite3")
    yield database
    await database.close()


async def test_message_once_replies_and_lookup(db: Database) -> None:
    org = (await members_db.ensure_member(db, 1000, "Org", None, T0)).id
    draft = Draft(501, "treehole", "confirm", {"text": "hi"})
    await drafts_db.put_draft(db, draft, T0)
    message = await th.create_message(
        db,
        text="the stairs light is broken",
        photo=None,
        followup_hash=followup_hash("AAAA-BBBB-CCCC"),
        ending=draft,
        now=T0,
    )
    assert message.code == "T-0001" and message.replies == 0
    assert await drafts_db.get_draft(db, 501) is None
    with pytest.raises(RefusedError):
        await th.create_message(
            db, text="again", photo=None, followup_hash="x", ending=draft, now=T0
        )
    assert await db.scalar("SELECT count(*) FROM treehole_messages") == 1
    assert await th.message_by_followup(db, followup_hash("AAAA-BBBB-CCCC")) == message
    assert await th.message_by_followup(db, followup_hash("AAAA-BBBB-CCCE")) is None
    updated = await th.add_reply(db, message.id, org, "we will fix it", T0)
    assert updated.replies == 1
    assert [r.text for r in await th.replies(db, message.id)] == ["we will fix it"]
    with pytest.raises(RefusedError):
        await th.add_reply(db, 99, org, "x", T0)
    await th.add_card(db, message.id, -1001000, 77)
    await th.add_card(db, message.id, -1001000, 77)
    assert await th.cards(db, message.id) == [(-1001000, 77)]
