"""The Harness drives the real Linli Application through the simulator.

These tests use throwaway handlers (added to the app in a group before Linli's own) so
they depend on no feature's behaviour.
"""

from __future__ import annotations

import html

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, TypeHandler
from telegram.ext import filters as f

from linli.sim.harness import HandlerError, Harness
from tests.conftest import MakeHarness


def add_echo(h: Harness) -> list[int]:
    """Echo texts and commands; a "menu" command offers two buttons; presses are answered."""
    seen: list[int] = []

    async def echo(update: Update, context: object) -> None:
        assert update.effective_message is not None and update.effective_chat is not None
        seen.append(update.update_id)
        text = update.effective_message.text or ""
        if text.startswith("/menu"):
            markup = InlineKeyboardMarkup(
                [
                    [
                        InlineKeyboardButton("加入", callback_data="join"),
                        InlineKeyboardButton("退出", callback_data="leave"),
                    ]
                ]
            )
            await update.effective_message.reply_text("菜单", reply_markup=markup)
        else:
            await update.effective_message.reply_text(f"echo: {html.escape(text)}")

    async def on_press(update: Update, context: object) -> None:
        query = update.callback_query
        assert query is not None
        seen.append(update.update_id)
        await query.answer(f"pressed {query.data}", show_alert=query.data == "leave")
        await query.edit_message_text(f"你选了 {query.data}")

    # First in Linli's group 0: the redelivery guard (group -10) runs before them and the
    # "handled" mark (group 100) after, as for any feature handler.
    h.app.handlers[0][:0] = [MessageHandler(f.TEXT, echo), CallbackQueryHandler(on_press)]
    return seen


async def test_post_init_published_the_command_lists(harness: Harness) -> None:
    assert harness.sim.count("getMe") == 1
    assert harness.sim.count("setMyCommands") >= 4
    assert ('{"type":"all_private_chats"}', "zh") in harness.sim.commands


async def test_send_processes_and_returns_the_replies(harness: Harness) -> None:
    add_echo(harness)
    alice = harness.user(2001, "王芳")
    await harness.start(alice)
    replies = await harness.send(alice, "<b>你好</b> & bye")
    assert [m.content for m in replies] == ["echo: <b>你好</b> & bye"]
    assert replies[0].entities == []  # escaped: shown as typed
    assert harness.texts(alice) == ["echo: /start", "echo: <b>你好</b> & bye"]
    assert harness.last_text(alice) == "echo: <b>你好</b> & bye"


async def test_press_edits_and_alerts(harness: Harness) -> None:
    add_echo(harness)
    alice = harness.user(2001, "王芳", lang="en")
    await harness.start(alice)
    await harness.send(alice, "/menu")
    assert harness.buttons(alice) == ["加入", "退出"]
    await harness.press(alice, "退出")
    assert harness.last_text(alice) == "你选了 leave"
    assert harness.buttons(alice) == []
    assert [(a.text, a.show_alert) for a in harness.alerts(alice)] == [("pressed leave", True)]
    last = harness.last(alice)
    assert last is not None and last.edited


async def test_forged_callback(harness: Harness) -> None:
    add_echo(harness)
    alice = harness.user(2001, "王芳")
    await harness.start(alice)
    await harness.send(alice, "/menu")
    await harness.callback(alice, "admin:delete_everything")
    assert harness.last_text(alice) == "你选了 admin:delete_everything"


async def test_redelivered_update_is_handled_once(harness: Harness) -> None:
    seen = add_echo(harness)
    alice = harness.user(2001, "王芳")
    await harness.start(alice)
    await harness.send(alice, "一次")
    replies = await harness.redeliver_last()
    assert replies == []  # Linli's guard stopped the redelivered update
    assert seen.count(seen[-1]) == 1
    assert harness.texts(alice).count("echo: 一次") == 1


async def test_group_commands_and_privacy_mode(harness: Harness) -> None:
    add_echo(harness)
    alice = harness.user(2001, "王芳")
    group = harness.group(-100200, "一号楼群", members=[alice])
    await harness.process()
    greeting = harness.texts(group)  # whatever the bot says on joining
    await harness.send(alice, "大家好", chat=group)  # not for the bot: privacy mode
    await harness.send(alice, "/menu@someone_else_bot", chat=group)
    assert harness.texts(group) == greeting
    await harness.send(alice, f"/ping@{harness.sim.bot_username}", chat=group)
    assert harness.texts(group) == [*greeting, f"echo: /ping@{harness.sim.bot_username}"]


async def test_bot_joins_group_via_updates(harness: Harness) -> None:
    kinds: list[str] = []

    async def record(update: Update, context: object) -> None:
        kinds.append("my_chat_member" if update.my_chat_member else "message")

    harness.app.add_handler(TypeHandler(Update, record), group=-5)
    harness.group(-100300, "二号楼群")
    await harness.process()
    assert kinds == ["my_chat_member", "message"]


async def test_handler_errors_fail_the_test(harness: Harness) -> None:
    async def boom(update: Update, context: object) -> None:
        raise RuntimeError("kaput")

    harness.app.add_handler(CommandHandler("boom", boom), group=-5)
    alice = harness.user(2001, "王芳")
    await harness.start(alice)
    with pytest.raises(HandlerError, match="kaput"):
        await harness.send(alice, "/boom")


async def test_restart_keeps_database_and_chats(harness: Harness) -> None:
    alice = harness.user(2001, "王芳")
    add_echo(harness)
    await harness.start(alice)
    await harness.send(alice, "before")
    await harness.db.write(
        "INSERT INTO processed_updates (update_id, handled_at) VALUES (999, 'x')"
    )
    old_app = harness.app
    await harness.restart()
    assert harness.app is not old_app
    assert await harness.db.scalar("SELECT count(*) FROM processed_updates WHERE update_id = 999")
    add_echo(harness)
    await harness.send(alice, "after")
    assert harness.texts(alice)[-2:] == ["echo: before", "echo: after"]


async def test_tick_runs_the_scheduler(harness: Harness) -> None:
    await harness.db.write(
        "INSERT INTO processed_updates (update_id, handled_at)"
        " VALUES (777777, '2020-01-01T00:00:00+00:00')"
    )
    await harness.tick()
    assert not await harness.db.scalar("SELECT 1 FROM processed_updates WHERE update_id = 777777")


async def test_make_harness_overrides_config(make_harness: MakeHarness) -> None:
    h = await make_harness({"community": {"verification": "none"}}, flood_limits=True)
    assert h.config.community.verification.value == "none"
    assert h.config.organizers.user_ids == [1000]
    assert h.sim.flood_limits
