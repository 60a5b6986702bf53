"""The simulator refuses what Telegram refuses, as PTB sees it (BadRequest, Forbidden...)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, MessageEntity
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter

from linli.sim.core import Simulator, SimUser
from linli.sim.request import SimRequest

TOKEN = "123:TEST"


class Ticker:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticker() -> Ticker:
    return Ticker()


@pytest.fixture
def sim(ticker: Ticker) -> Simulator:
    return Simulator(TOKEN, monotonic=ticker)


@pytest.fixture
async def bot(sim: Simulator) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, request=SimRequest(sim)) as bot:
        yield bot


@pytest.fixture
def alice(sim: Simulator) -> SimUser:
    user = sim.create_user(2001, "王芳", language_code="zh-hans")
    sim.start_private(user)
    return user


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(t, callback_data=d)] for t, d in pairs])


async def test_get_me_is_the_simulated_bot(bot: Bot, sim: Simulator) -> None:
    assert bot.id == 123
    assert bot.username == sim.bot_username


# --- HTML


async def test_html_becomes_plain_text_with_entities(bot: Bot, alice: SimUser) -> None:
    message = await bot.send_message(
        alice.id,
        '<b>加粗</b> &lt;tag&gt; &amp; <a href="https://example.org/?a=1&amp;b=2">link</a>'
        ' <tg-spoiler>s</tg-spoiler> <pre><code class="language-python">x = 1</code></pre>',
        parse_mode=ParseMode.HTML,
    )
    assert message.text == "加粗 <tag> & link s x = 1"
    kinds = {(e.type, e.offset, e.length) for e in message.entities}
    assert ("bold", 0, 2) in kinds
    link = next(e for e in message.entities if e.type == MessageEntity.TEXT_LINK)
    assert link.url == "https://example.org/?a=1&b=2"
    pre = next(e for e in message.entities if e.type == MessageEntity.PRE)
    assert pre.language == "python"


@pytest.mark.parametrize(
    ("html", "fragment"),
    [
        ("a <foo>b</foo>", 'unsupported start tag "foo"'),
        ("1 < 2", "unsupported start tag"),
        ("Tom & Jerry", "character '&'"),
        ("&nbsp;", "unsupported html entity"),
        ("<b>never closed", 'can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("x</b>", "unexpected end tag"),
        ('<span class="red">x</span>', 'must have class "tg-spoiler"'),
        ("<b", "unclosed start tag"),
    ],
)
async def test_malformed_html_is_refused(
    bot: Bot, alice: SimUser, sim: Simulator, html: str, fragment: str
) -> None:
    with pytest.raises(BadRequest) as caught:
        await bot.send_message(alice.id, html, parse_mode=ParseMode.HTML)
    assert str(caught.value).startswith("Can't parse entities: ")
    assert fragment.lower() in str(caught.value).lower()
    assert sim.transcript(alice.id) == []


async def test_escaped_user_text_is_accepted(bot: Bot, alice: SimUser) -> None:
    message = await bot.send_message(alice.id, "&lt;b&gt; &#39;x&#x27; &quot;", parse_mode="HTML")
    assert message.text == "<b> 'x' \""


async def test_text_limits_count_after_parsing(bot: Bot, alice: SimUser) -> None:
    ok = await bot.send_message(alice.id, "<b>" + "字" * 4096 + "</b>", parse_mode="HTML")
    assert len(ok.text) == 4096
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(alice.id, "x" * 4097)
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(alice.id, "  <b> </b>\n", parse_mode="HTML")


async def test_caption_limit(bot: Bot, alice: SimUser) -> None:
    from linli.sim.core import png_bytes

    photo = png_bytes(4, 4)
    ok = await bot.send_photo(
        alice.id, photo, caption="<i>" + "c" * 1024 + "</i>", parse_mode="HTML"
    )
    assert ok.caption is not None and len(ok.caption) == 1024
    with pytest.raises(BadRequest, match="caption is too long"):
        await bot.send_photo(alice.id, photo, caption="c" * 1025)


# --- keyboards and callbacks


async def test_callback_data_is_1_to_64_bytes(bot: Bot, alice: SimUser) -> None:
    await bot.send_message(alice.id, "ok", reply_markup=keyboard(("a", "d" * 64)))
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(alice.id, "x", reply_markup=keyboard(("a", "d" * 65)))
    # 22 Chinese characters are 66 bytes.
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(alice.id, "x", reply_markup=keyboard(("a", "字" * 22)))


async def test_inline_button_without_action_is_refused(sim: Simulator, alice: SimUser) -> None:
    status, body = await sim.call(
        TOKEN,
        "sendMessage",
        {"chat_id": alice.id, "text": "x", "reply_markup": {"inline_keyboard": [[{"text": "a"}]]}},
    )
    assert status == 400
    assert "Text buttons are unallowed in the inline keyboard" in body["description"]


async def test_identical_edit_is_not_modified(bot: Bot, alice: SimUser, sim: Simulator) -> None:
    sent = await bot.send_message(alice.id, "<b>问</b>", reply_markup=keyboard(("是", "y")))
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text(
            "<b>问</b>", alice.id, sent.message_id, reply_markup=keyboard(("是", "y"))
        )
    # Same text, different keyboard: modified.
    await bot.edit_message_text(
        "<b>问</b>", alice.id, sent.message_id, reply_markup=keyboard(("否", "n"))
    )
    assert sim.last(alice.id) is not None and sim.last(alice.id).labels == ["否"]  # type: ignore[union-attr]
    # An edit without reply_markup removes the keyboard, as on Telegram.
    await bot.edit_message_text("答", alice.id, sent.message_id)
    last = sim.last(alice.id)
    assert last is not None and last.labels == [] and last.text == "答" and last.edits == 2
    assert [e.kind for e in sim.events(alice.id)].count("edited") == 2


async def test_edit_errors(bot: Bot, alice: SimUser) -> None:
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", alice.id, 999)
    photo = await bot.send_photo(alice.id, b"\x89PNG\r\n\x1a\n" + b"\x00" * 30)
    with pytest.raises(BadRequest, match="There is no text in the message to edit"):
        await bot.edit_message_text("x", alice.id, photo.message_id)
    edited = await bot.edit_message_caption(alice.id, photo.message_id, caption="<b>c</b>")
    assert isinstance(edited, object)


async def test_callback_query_is_answered_once(bot: Bot, alice: SimUser, sim: Simulator) -> None:
    await bot.send_message(alice.id, "选", reply_markup=keyboard(("同意", "vote:1")))
    query_id = sim.press(alice, alice.id, "同意")
    assert query_id is not None
    update = sim.take_updates()[-1]
    assert update["callback_query"]["data"] == "vote:1"
    assert await bot.answer_callback_query(query_id, "已投票", show_alert=True)
    assert [(a.text, a.show_alert) for a in sim.alerts(alice)] == [("已投票", True)]
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(query_id, "again")
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query("12345")


async def test_press_missing_label_says_what_is_offered(
    bot: Bot, alice: SimUser, sim: Simulator
) -> None:
    from linli.sim.core import SimError

    await bot.send_message(alice.id, "选", reply_markup=keyboard(("同意", "y"), ("反对", "n")))
    with pytest.raises(SimError, match=r"弃权.*同意"):
        sim.press(alice, alice.id, "弃权")


# --- who may be written to


async def test_user_who_never_opened_the_chat(bot: Bot, sim: Simulator) -> None:
    bob = sim.create_user(2002, "李雷")
    with pytest.raises(Forbidden, match="bot can't initiate conversation with a user"):
        await bot.send_message(bob.id, "hi")
    sim.start_private(bob)
    await bot.send_message(bob.id, "hi")


async def test_blocked_user(bot: Bot, alice: SimUser, sim: Simulator) -> None:
    sim.block_bot(alice)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(alice.id, "hi")
    update = sim.take_updates()[-1]
    assert update["my_chat_member"]["new_chat_member"]["status"] == "kicked"
    sim.start_private(alice)  # "Restart"
    await bot.send_message(alice.id, "welcome back")


async def test_unknown_chat(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(-100999, "hi")
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(777, "hi")


async def test_groups_the_bot_is_not_in(bot: Bot, alice: SimUser, sim: Simulator) -> None:
    group = sim.create_group(-100500, "一号楼", owner=alice)
    with pytest.raises(Forbidden, match="bot is not a member of the supergroup chat"):
        await bot.send_message(group.id, "hi")
    sim.add_bot_to_group(group, alice)
    await bot.send_message(group.id, "hi")
    sim.remove_bot_from_group(group, alice)
    with pytest.raises(Forbidden, match="bot was kicked from the supergroup chat"):
        await bot.send_message(group.id, "hi")
    kinds = [next(k for k in u if k != "update_id") for u in sim.take_updates()]
    assert kinds == ["message", "my_chat_member", "message", "my_chat_member"]


# --- flood limits


async def test_flood_limit_per_bot(ticker: Ticker) -> None:
    sim = Simulator(TOKEN, flood_limits=True, monotonic=ticker)
    users = [sim.create_user(3000 + i, f"u{i}") for i in range(31)]
    for user in users:
        sim.start_private(user)
    async with Bot(TOKEN, request=SimRequest(sim)) as bot:
        for user in users[:30]:
            await bot.send_message(user.id, "notice")
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(users[30].id, "notice")
        assert caught.value.retry_after in (1, 1.0) or caught.value.retry_after.total_seconds() == 1  # type: ignore[union-attr]
        assert sim.flood_429s == 1
        ticker.now += 1.01
        await bot.send_message(users[30].id, "notice")


async def test_flood_limit_per_group(ticker: Ticker) -> None:
    sim = Simulator(TOKEN, flood_limits=True, monotonic=ticker)
    owner = sim.create_user(2001, "王芳")
    group = sim.create_group(-100600, "群", owner=owner)
    sim.add_bot_to_group(group, owner)
    async with Bot(TOKEN, request=SimRequest(sim)) as bot:
        for _ in range(20):
            await bot.send_message(group.id, "post")
            ticker.now += 0.5
        status, body = await sim.call(TOKEN, "sendMessage", {"chat_id": group.id, "text": "x"})
        assert status == 429
        assert body["description"].startswith("Too Many Requests: retry after ")
        assert body["parameters"]["retry_after"] == 50  # the first post leaves the window then
        ticker.now += 50
        await bot.send_message(group.id, "post")
    assert sim.flood_429s == 1
