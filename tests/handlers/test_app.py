"""Application-wide conventions: command menus per scope and language, the error handler."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from linli.bot.context import LinliContext
from linli.sim.harness import Harness


async def test_command_menus_are_published_per_scope_and_language(harness: Harness) -> None:
    sim = harness.sim
    await harness.start(harness.organizer)  # an organizer's menu is theirs once they open the chat
    private_zh = sim.commands_for({"type": "all_private_chats"}, "zh")
    private_en = sim.commands_for({"type": "all_private_chats"}, "en")
    private_default = sim.commands_for({"type": "all_private_chats"})
    groups = sim.commands_for({"type": "all_group_chats"}, "en")
    organizer = sim.commands_for({"type": "chat", "chat_id": 1000}, "zh")
    assert {"start", "me", "help", "privacy"} <= set(private_zh)
    assert private_zh == private_en == private_default
    assert "grant" not in private_zh and "bind" not in private_zh
    assert "help" in groups and "me" not in groups
    assert {"grant", "revoke", "me"} <= set(organizer)
    descriptions = {
        c["command"]: c["description"]
        for c in sim.commands[
            next(k for k in sim.commands if k[1] == "zh" and "private" in str(k[0]))
        ]
    }
    assert descriptions["me"] == "我的资料、积分和时长"


async def test_an_error_is_logged_and_the_organizers_are_told(make_harness) -> None:  # type: ignore[no-untyped-def]
    h = await make_harness(raise_errors=False)

    async def broken(update: Update, context: LinliContext) -> None:
        raise RuntimeError("disk on fire <now>")

    h.app.add_handler(CommandHandler("boom", broken), group=-5)
    resident = h.user(2301, "甲")
    await h.start(resident)
    await h.send(resident, "/boom")
    notice = h.last_text(-1001000)
    assert "Linli 出错了" in notice and "RuntimeError" in notice and "disk on fire <now>" in notice
    notices = len(h.texts(-1001000))
    await h.send(resident, "/boom")
    await h.send(resident, "/boom")
    assert len(h.texts(-1001000)) == notices  # at most one notice a minute
    h.clock.advance(seconds=61)
    await h.send(resident, "/boom")
    assert "自上次通知以来另有 2 个错误" in h.last_text(-1001000)


async def test_a_redelivered_update_after_a_restart_changes_nothing(harness: Harness) -> None:
    h = harness
    await h.start(h.organizer)
    member = h.user(2401, "乙")
    await h.start(member)
    await h.send(h.organizer, "/grant 2401 volunteer")
    said = len(h.texts(h.organizer))
    await h.restart()  # the new process knows the handled ids only from the database
    await h.redeliver_last()
    assert len(h.texts(h.organizer)) == said
    assert await h.db.scalar("SELECT count(*) FROM audit_log WHERE action = 'grant'") == 1
    await h.send(h.organizer, "/revoke 2401 volunteer")  # a new update is handled as usual
    assert "已撤销" in h.last_text(h.organizer)


async def test_abandoned_drafts_are_deleted_after_a_week(harness: Harness) -> None:
    h = harness
    resident = h.user(2501, "丙")
    await h.start(resident)  # the joining flow starts, then the resident walks away
    assert await h.db.scalar("SELECT count(*) FROM drafts WHERE user_id = 2501") == 1
    h.clock.advance(days=6)
    await h.tick()
    assert await h.db.scalar("SELECT count(*) FROM drafts WHERE user_id = 2501") == 1
    h.clock.advance(days=2)
    await h.tick()
    assert await h.db.scalar("SELECT count(*) FROM drafts WHERE user_id = 2501") == 0


async def _handled(h: Harness, update_id: int) -> bool:
    row = await h.db.scalar("SELECT 1 FROM processed_updates WHERE update_id = ?", (update_id,))
    return row is not None


async def test_an_update_that_writes_is_marked_in_its_own_transaction(harness: Harness) -> None:
    h = harness
    await h.start(h.organizer)
    member = h.user(2451, "丙")
    await h.start(member)
    await h.send(h.organizer, "/grant 2451 volunteer")
    update = h.sim.last_update
    assert update is not None and await _handled(h, update["update_id"])


async def test_an_update_that_writes_nothing_is_remembered_then_written(harness: Harness) -> None:
    h = harness
    resident = h.user(2461, "丁")
    await h.start(resident)
    await h.send(resident, "/help")
    update = h.sim.last_update
    assert update is not None
    said = len(h.texts(resident))
    assert not await _handled(h, update["update_id"])  # no write of its own...
    await h.redeliver_last()
    assert len(h.texts(resident)) == said  # ...yet a redelivery is still ignored
    await h.tick()
    assert await _handled(h, update["update_id"])  # and the next tick wrote it down
    await h.send(resident, "/help")
    later = h.sim.last_update
    assert later is not None
    await h.restart()  # a stop writes what is still waiting
    assert await _handled(h, later["update_id"])
    await h.redeliver_last()
    assert len(h.texts(resident)) == said + 1
