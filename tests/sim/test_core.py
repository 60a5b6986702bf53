"""The simulator's other Bot API methods and its user side, through a PTB Bot in-process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)
from telegram.error import BadRequest, ChatMigrated, Conflict

from linli.sim.core import SimError, Simulator, SimUser
from linli.sim.request import SimRequest

TOKEN = "123:TEST"


@pytest.fixture
def sim() -> Simulator:
    return Simulator(TOKEN)


@pytest.fixture
async def bot(sim: Simulator) -> AsyncIterator[Bot]:
    request = SimRequest(sim)
    async with Bot(TOKEN, request=request, get_updates_request=request) as bot:
        yield bot


@pytest.fixture
def alice(sim: Simulator) -> SimUser:
    user = sim.create_user(2001, "王芳", username="wangfang", language_code="zh-hans")
    sim.start_private(user)
    sim.take_updates()
    return user


async def test_commands_per_scope_and_language(bot: Bot, sim: Simulator, alice: SimUser) -> None:
    scope = BotCommandScopeAllPrivateChats()
    await bot.set_my_commands([BotCommand("start", "加入")], scope=scope, language_code="zh")
    await bot.set_my_commands([BotCommand("start", "Join")], scope=scope, language_code="en")
    zh = await bot.get_my_commands(scope=scope, language_code="zh")
    assert [(c.command, c.description) for c in zh] == [("start", "加入")]
    assert await bot.get_my_commands() == ()
    assert sim.commands_for({"type": "all_private_chats"}, "en") == ["start"]
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Start-Now", "x")])
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.set_my_commands([BotCommand("a", "b")], scope=BotCommandScopeChat(4242))
    await bot.set_my_commands([BotCommand("a", "b")], scope=BotCommandScopeChat(alice.id))


async def test_chats_and_members(bot: Bot, sim: Simulator, alice: SimUser) -> None:
    bob = sim.create_user(2002, "李雷")
    group = sim.create_group(-100700, "和苑1号楼", owner=alice)
    group.members[bob.id] = "member"
    sim.add_bot_to_group(group, alice)
    chat = await bot.get_chat(group.id)
    assert (chat.title, chat.type) == ("和苑1号楼", "supergroup")
    assert (await bot.get_chat(alice.id)).first_name == "王芳"
    assert (await bot.get_chat_member(group.id, bob.id)).status == "member"
    assert (await bot.get_chat_member(group.id, alice.id)).status == "creator"
    assert (await bot.get_chat_member(group.id, bob.id)).user.first_name == "李雷"
    admins = await bot.get_chat_administrators(group.id)
    assert [a.user.id for a in admins] == [alice.id]
    with pytest.raises(BadRequest, match="User not found"):
        await bot.get_chat_member(group.id, 9999)
    with pytest.raises(BadRequest, match="Not enough rights"):
        await bot.pin_chat_message(group.id, 1)


async def test_members_updates_only_for_admin_bots(sim: Simulator, alice: SimUser) -> None:
    sim.allowed_updates = frozenset({"message", "chat_member", "my_chat_member"})
    bob = sim.create_user(2002, "李雷")
    group = sim.create_group(-100701, "群", owner=alice)
    sim.add_bot_to_group(group, alice)
    sim.take_updates()
    sim.add_member(group, bob)
    kinds = [next(k for k in u if k != "update_id") for u in sim.take_updates()]
    assert kinds == ["message"]  # new_chat_members only
    sim.promote_bot(group, alice)
    sim.remove_member(group, bob)
    kinds = [next(k for k in u if k != "update_id") for u in sim.take_updates()]
    assert kinds == ["my_chat_member", "chat_member", "message"]


async def test_redelivery_keeps_the_update_id(sim: Simulator, alice: SimUser) -> None:
    sim.send_text(alice, alice.id, "你好")
    first = sim.take_updates()
    again = sim.redeliver()
    assert again["update_id"] == first[0]["update_id"]
    assert sim.take_updates() == [again]


async def test_deep_link_and_reply_keyboard_buttons(
    bot: Bot, sim: Simulator, alice: SimUser
) -> None:
    bob = sim.create_user(2002, "李雷")
    group = sim.create_group(-100702, "群", owner=alice)
    group.members[bob.id] = "member"
    sim.add_bot_to_group(group, alice)
    link = f"https://t.me/{sim.bot_username}?start=join"
    await bot.send_message(
        group.id,
        "私聊我",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("打开", url=link)]]),
    )
    sim.take_updates()
    assert sim.press(bob, group.id, "打开") is None
    update = sim.take_updates()[-1]
    assert update["message"]["text"] == "/start join" and bob.id in sim.started
    await bot.send_message(
        bob.id, "位置？", reply_markup=ReplyKeyboardMarkup([[KeyboardButton("跳过")]])
    )
    sim.press(bob, bob.id, "跳过")
    assert sim.take_updates()[-1]["message"]["text"] == "跳过"


async def test_forwarded_button_is_pressed_in_the_other_chat(
    bot: Bot, sim: Simulator, alice: SimUser
) -> None:
    group = sim.create_group(-100703, "群", owner=alice)
    sim.add_bot_to_group(group, alice)
    await bot.send_message(
        alice.id,
        "审批",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("批准", callback_data="ok:1")]]),
    )
    sim.take_updates()
    sim.forward_press(alice, alice.id, "批准", group.id)
    query = sim.take_updates()[-1]["callback_query"]
    assert query["message"]["chat"]["id"] == group.id and query["data"] == "ok:1"


async def test_a_second_poller_ends_the_first(bot: Bot, sim: Simulator) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(bot.get_updates(timeout=0.2))
    with pytest.raises(Conflict, match="terminated by other getUpdates"):
        await asyncio.wait_for(first, 2)
    assert await second == ()


async def test_migrated_group_answers_with_the_new_id(
    bot: Bot, sim: Simulator, alice: SimUser
) -> None:
    group = sim.create_group(-700, "老群", owner=alice, supergroup=False)
    sim.add_bot_to_group(group, alice)
    new = sim.migrate_group(group, -1009700)
    with pytest.raises(ChatMigrated) as caught:
        await bot.send_message(group.id, "hi")
    assert caught.value.new_chat_id == new.id
    await bot.send_message(new.id, "hi")


async def test_user_side_refuses_what_users_cannot_do(sim: Simulator, alice: SimUser) -> None:
    stranger = sim.create_user(2005, "路人")
    with pytest.raises(SimError, match="has not opened the private chat"):
        sim.send_text(stranger, stranger.id, "hi")
    with pytest.raises(SimError, match="own private chat"):
        sim.send_text(stranger, alice.id, "hi")
    group = sim.create_group(-100704, "群", owner=alice)
    with pytest.raises(SimError, match="not a member"):
        sim.send_text(stranger, group.id, "hi")
