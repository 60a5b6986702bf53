"""Every button the bot offers, pressed: each press gets exactly one answer.

Telegram shows a spinner on a button until the bot answers the press, and refuses a second
answer ("query is too old ... or query ID is invalid"). The harness fails a test on a press
left unanswered or answered twice (`Harness._check_answered`), in every test; this one walks
the bot's keyboards and presses each button it finds, as the chat's owner in private chats and
as an organizer and a resident in groups, so no handler escapes the check.
"""

from __future__ import annotations

from linli.core.polls import PollKind
from linli.sim.core import SimUser
from linli.sim.harness import Harness
from tests.handlers.test_events import community_group, create_event
from tests.handlers.test_hazards import named_report
from tests.handlers.test_polls import make_poll
from tests.handlers.test_proposals import propose
from tests.support.points import resident

MAX_PRESSES = 1500
# Buttons that show, ask or navigate (a ranking view, a calendar file, an export, "which
# building?", a cancelled flow's "cancelled"): the bot cannot tell a double tap from a second
# look, so each tap shows it again. Every other button acts, and a second tap says nothing new.
SHOWING = (
    "rk:v", "g:k", "g:b", "m:lang", "m:me", "sh:no", "sh:rd", "ev:ics", "ev:show", "ev:qr",
    "ev:et", "ev:ep", "ev:cx", "ev:att", "ex:", "pl:o", "hz:t:", "hz:cancel", "th:cancel",
)  # fmt: skip


async def _seed(h: Harness) -> tuple[SimUser, SimUser]:
    """A resident and a newcomer, and something of every feature carrying buttons."""
    wang, _ = await resident(h, 2001, "王芳", username="wangfang", points=500)
    bob, _ = await resident(h, 2002, "Bob", lang="en", username="bob", points=50)
    newcomer = h.user(2003, "新人")
    group = await community_group(h, wang, bob, newcomer)
    await h.send(h.organizer, "/bind", chat=group)
    await h.start(newcomer)
    await create_event(h)
    await h.tick()
    await make_poll(h, PollKind.SINGLE)
    await make_poll(h, PollKind.PROPOSAL, secret=True)
    await named_report(h, wang)
    await propose(h, wang)
    await h.send(wang, "/propose")
    await h.send(wang, "Another proposal")
    await h.send(wang, "Its text")
    await h.send(bob, "/hours log @wangfang 1 shopping")
    for command in ("/shop", "/rank", "/hours", "/points", "/events", "/myevents", "/polls", "/me"):
        await h.send(wang, command)
    for command in ("/propose", "/treehole", "/report", "/broadcast", "/newpoll", "/newevent"):
        await h.send(h.organizer, command)
    for command in ("/export", "/pickup", "/myreports"):
        await h.send(h.organizer, command)
    return wang, bob


async def test_every_button_press_is_answered_exactly_once(harness: Harness) -> None:
    h = harness
    await _crawl(h, *await _seed(h), taps=1)


async def test_every_button_tapped_twice_says_things_once(harness: Harness) -> None:
    """Both taps leave the phone before the bot answers either: the second finds the first's
    work done, and neither repeats a message nor edits a card to the text it already has."""
    h = harness
    duplicates = await _crawl(h, *await _seed(h), taps=2)
    acting = [d for d in duplicates if not d.startswith(SHOWING)]
    assert acting == [], "\n".join(acting)


async def _crawl(h: Harness, wang: SimUser, bob: SimUser, *, taps: int) -> list[str]:
    """Press every button found (each `taps` times at once); the messages a double tap sent
    twice to one chat."""
    duplicates: list[str] = []
    pressed: set[tuple[int, int, str, int]] = set()
    presses = 0
    progress = True
    while progress and presses < MAX_PRESSES:
        progress = False
        for chat_id in h.sim.chat_ids():
            pressers = [h.sim.users[chat_id]] if chat_id > 0 else [h.organizer, wang, bob]
            for message in h.messages(chat_id):
                for row in message.buttons:
                    for button in row:
                        data = button.callback_data
                        for user in pressers:
                            key = (chat_id, message.message_id, data or "", user.id)
                            if data is None or key in pressed or presses >= MAX_PRESSES:
                                continue
                            if chat_id < 0 and user.id not in h.sim.groups[chat_id].members:
                                continue
                            pressed.add(key)
                            presses += 1
                            progress = True
                            current = h.sim.transcript(chat_id)
                            if not any(
                                m.message_id == message.message_id and not m.deleted
                                for m in current
                            ):
                                continue
                            # The harness raises here if this press was not answered once.
                            calls = len(h.sim.calls)
                            for _ in range(taps):
                                h.sim.send_callback(user, chat_id, message.message_id, data)
                            sent = [(m.chat_id, m.content) for m in await h.process()]
                            duplicates += [
                                f"{data}: unchanged edit {c.params.get('text', '')[:40]!r}"
                                for c in h.sim.calls[calls:]
                                if "not modified" in c.description
                            ]
                            duplicates += [
                                f"{data}: {text}"
                                for i, (chat, text) in enumerate(sent)
                                if taps > 1 and (chat, text) in sent[:i]
                            ]
        await h.tick()
    kinds = {key[2].split(":")[0] for key in pressed}
    # Every feature's buttons were reached (prefixes as in CONTRIBUTING.md).
    assert {"m", "g", "sh", "tb", "hz", "ev", "pl", "pr", "th", "bc", "ex", "rk"} <= kinds
    assert presses > 100
    return duplicates
