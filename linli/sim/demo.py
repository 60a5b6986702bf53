"""`linli demo`: the real bot against the built-in Telegram simulator, in a terminal.

The simulator serves the Bot API on 127.0.0.1; the bot runs exactly as `linli run` does
(polling over HTTP) on a temporary database with the demo community of
config.example.toml. You act as one of a small cast of residents in one of a few chats.

Interactive commands (anything else is sent as a message, bot commands included):
    /as <who>            become someone else (a number from /who, a name, or a role)
    /in <where>          go to another chat: private, building (和苑1号楼群), organizers
    /who, /where         list the cast and the chats
    1, 2, ...            press button number N on the newest message with buttons here
    /press <label>       press a button by its label
    /photo [caption]     send a sample photo;   /location [lat lon]  send a location
    /quit                leave (Ctrl-D works too)

`linli demo --script FILE` plays a script instead and prints the transcript; it exits
non-zero at the first step that fails. The script format is documented at the top of
examples/tour.txt:
    as <who> [in <where>]   who acts, and where (default: their private chat)
    in <where>              change chat only
    press <label>           press a button by its label (exact, or a unique part of it)
    photo [caption]         send a sample photo
    location <lat> <lon>    send a location
    expect <text>           the bot's newest message in this chat must contain <text>
    # ...                   a comment; blank lines are ignored
    anything else           a message (or a /command) from the current person
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import io
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from linli.bot import limits, ordering
from linli.bot.config import Config, parse_config
from linli.bot.runner import serve
from linli.core.clock import system_clock
from linli.core.directory import check_places
from linli.sim.core import SentMessage, SimError, Simulator
from linli.sim.entities import Entity
from linli.sim.harness import deep_merge, example_config_data
from linli.sim.server import SimServer
from linli.storage import directory as directory_db
from linli.storage.db import Database

DEMO_TOKEN = "424242:DEMO"
BUILDING_GROUP = -1002001
ORGANIZERS_GROUP = -1001000
QUIET_SECONDS = 0.25
SETTLE_LIMIT_SECONDS = 15.0


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    role: str
    username: str
    language: str = "zh-hans"


CAST = (
    Person(2001, "李阿姨", "resident", "li_ayi"),
    Person(2002, "张伟", "resident", "zhang_wei"),
    Person(2003, "Emma", "resident", "emma_w", "en"),
    Person(2010, "刘师傅", "leader", "liu_shifu"),
    Person(3001, "小赵", "rider", "xiao_zhao"),
    Person(1000, "王主任", "organizer", "wang_zhuren"),
)
ROLE_NAMES = {
    "resident": "居民 resident",
    "leader": "楼栋长 building leader",
    "rider": "骑手 rider",
    "organizer": "组织者 organizer",
}

# Played quietly before an interactive session, so the building has a leader to verify
# newcomers. The tour (examples/tour.txt) shows the same steps in full.
PRELUDE = """\
as 刘师傅
/start
press 中文
press 和苑小区
press 1号楼
1-101
press 同意
as 王主任
/start
/grant @liu_shifu building_leader
/verify @liu_shifu
"""


class StepFailed(Exception):
    """A script step could not be carried out."""


def demo_config(server: SimServer, directory: Path) -> Config:
    overrides = {
        "bot": {
            "token": DEMO_TOKEN,
            "api_base_url": server.api_base_url,
            "file_base_url": server.file_base_url,
            "polling_timeout": 1,
        },
        "storage": {"database": str(directory / "demo.sqlite3")},
        "organizers": {"user_ids": [1000], "group_chat_id": ORGANIZERS_GROUP},
    }
    data = deep_merge(example_config_data(), overrides)
    return parse_config(data, str(directory / "config.toml"))


async def seed_places(config: Config) -> None:
    """The life circle's example places (sim/assets/places.csv, the import's format)."""
    rows = list(csv.reader(io.StringIO(
        (resources.files("linli.sim") / "assets" / "places.csv").read_text(encoding="utf-8"))))  # fmt: skip
    categories = [c.key for c in config.directory.place_categories]
    checked = check_places(rows[0], rows[1:], categories)
    db = await Database.open(config.database_path)
    try:
        await directory_db.replace_places(db, checked.rows, system_clock())
    finally:
        await db.close()


def populate(sim: Simulator) -> None:
    """The cast, the organizers' group and a building group, each with the bot in it."""
    for person in CAST:
        sim.create_user(
            person.id, person.name, username=person.username, language_code=person.language
        )
    organizer = sim.users[1000]
    organizers = sim.create_group(ORGANIZERS_GROUP, "组织者群", owner=organizer)
    sim.add_bot_to_group(organizers, organizer)
    building = sim.create_group(BUILDING_GROUP, "和苑1号楼群", owner=organizer)
    for person in CAST:
        if person.role != "organizer":
            building.members[person.id] = "member"
    sim.add_bot_to_group(building, organizer)


# --- showing messages in a terminal


_ANSI = {
    "bold": ("\033[1m", "\033[22m"),
    "italic": ("\033[3m", "\033[23m"),
    "underline": ("\033[4m", "\033[24m"),
    "strikethrough": ("\033[9m", "\033[29m"),
    "code": ("\033[36m", "\033[39m"),
    "pre": ("\033[36m", "\033[39m"),
    "spoiler": ("\033[2m", "\033[22m"),
    "blockquote": ("\033[2m", "\033[22m"),
}


def render_text(text: str, entities: list[Entity], *, color: bool) -> str:
    """Text with its entities as ANSI styles (or plain), links shown after their text."""
    starts: dict[int, list[str]] = {}
    ends: dict[int, list[str]] = {}
    units = _utf16_index(text)
    for entity in entities:
        begin, end = units.get(entity.offset), units.get(entity.offset + entity.length)
        if begin is None or end is None:
            continue
        if entity.type == "text_link" and entity.url:
            ends.setdefault(end, []).insert(0, f" ({entity.url})")
        if color and entity.type in _ANSI:
            on, off = _ANSI[entity.type]
            starts.setdefault(begin, []).append(on)
            ends.setdefault(end, []).insert(0, off)
    out: list[str] = []
    for i, char in enumerate(text):
        out.extend(ends.get(i, []))
        out.extend(starts.get(i, []))
        out.append(char)
    out.extend(ends.get(len(text), []))
    return "".join(out)


def _utf16_index(text: str) -> dict[int, int]:
    """UTF-16 offset -> index in the Python string."""
    mapping: dict[int, int] = {}
    units = 0
    for index, char in enumerate(text):
        mapping[units] = index
        units += 2 if ord(char) > 0xFFFF else 1
    mapping[units] = len(text)
    return mapping


class Terminal:
    """Prints what changed in the simulator since the last look."""

    def __init__(self, sim: Simulator, out: TextIO, *, color: bool) -> None:
        self.sim = sim
        self.out = out
        self.color = color
        self._seen: dict[tuple[int, int], tuple[int, bool]] = {}
        self._answered: set[str] = set()

    def chat_name(self, chat_id: int) -> str:
        if chat_id > 0:
            user = self.sim.users.get(chat_id)
            return f"{user.first_name if user else chat_id}（私聊）"
        group = self.sim.groups.get(chat_id)
        return group.title if group else str(chat_id)

    def dim(self, text: str) -> str:
        return f"\033[2m{text}\033[22m" if self.color else text

    def show_changes(self, *, quiet: bool = False) -> None:
        for chat_id in self.sim.chat_ids():
            for message in self.sim.transcript(chat_id):
                key = (chat_id, message.message_id)
                state = (message.edits, message.deleted)
                before = self._seen.get(key)
                self._seen[key] = state
                if quiet or before == state:
                    continue
                if before is None:
                    self.print_message(message, "")
                elif message.deleted and not before[1]:
                    self.out.write(
                        self.dim(
                            f"  ✗ 邻里 deleted message #{message.message_id}"
                            f" in {self.chat_name(chat_id)}"
                        )
                        + "\n"
                    )
                else:
                    self.print_message(message, "✎ edited ")
        self.show_popups(quiet=quiet)
        self.out.flush()

    def show_popups(self, *, quiet: bool = False) -> None:
        """The bot's answers to button presses: the small pop-up (or alert box) a phone shows."""
        for query_id, user_id, alert in self.sim.answered_queries():
            if query_id in self._answered:
                continue
            self._answered.add(query_id)
            if quiet or not alert.text:
                continue
            kind = "⚠ alert" if alert.show_alert else "💬 pop-up"
            user = self.sim.users.get(user_id)
            who = user.first_name if user else str(user_id)
            self.out.write(self.dim(f"  {kind} to {who}: ") + alert.text + "\n")

    def print_message(self, message: SentMessage, mark: str) -> None:
        header = f"── 邻里 → {self.chat_name(message.chat_id)} · {mark}#{message.message_id} "
        self.out.write(self.dim(header + "─" * max(4, 60 - len(header))) + "\n")
        body = ""
        if message.photo is not None:
            body += "[🖼 photo] "
        if message.document is not None:
            body += f"[📄 {message.document.file_name or 'document'}] "
        if message.location is not None:
            body += f"[📍 {message.location[0]:.5f}, {message.location[1]:.5f}] "
        if message.text is not None:
            body += render_text(message.text, message.entities, color=self.color)
        elif message.caption:
            body += render_text(message.caption, message.caption_entities, color=self.color)
        for line in body.splitlines() or [""]:
            self.out.write(f"  {line}\n")
        number = 1
        for row in message.buttons:
            cells = []
            for button in row:
                cells.append(f"[{number}] {button.text}")
                number += 1
            self.out.write("    " + "   ".join(cells) + "\n")


# --- acting


class Demo:
    def __init__(self, sim: Simulator, terminal: Terminal) -> None:
        self.sim = sim
        self.term = terminal
        self.who: Person = CAST[0]
        self.where: int = CAST[0].id

    def person(self, ref: str) -> Person:
        ref = ref.strip().removeprefix("@")
        for person in CAST:
            if ref in (person.name, person.username, str(person.id)):
                return person
        if ref.isdigit() and 1 <= int(ref) <= len(CAST):
            return CAST[int(ref) - 1]
        for person in CAST:
            if ref.lower() == person.role or ref in ROLE_NAMES[person.role].split():
                return person
        raise StepFailed(f"no one called {ref!r}; try /who")

    def chat(self, ref: str) -> int:
        ref = ref.strip()
        if ref.lower() in ("private", "私聊", "me", ""):
            return self.who.id
        if (
            ref.lower() in ("building", "楼群", "group")
            or ref == self.sim.groups[BUILDING_GROUP].title
        ):
            return BUILDING_GROUP
        if ref.lower() in ("organizers", "组织者群", "orgs"):
            return ORGANIZERS_GROUP
        with contextlib.suppress(ValueError):
            if int(ref) in self.sim.groups:
                return int(ref)
        raise StepFailed(f"no chat {ref!r}; try private, building or organizers")

    def where_name(self) -> str:
        return self.term.chat_name(self.where)

    def act_as(self, who: str, where: str | None) -> None:
        self.who = self.person(who)
        self.where = self.chat(where) if where is not None else self.who.id

    def send(self, text: str) -> None:
        if self.where == self.who.id and self.who.id not in self.sim.started:
            if text.split(" ", 1)[0] == "/start":
                self.sim.start_private(self.who.id, text.partition(" ")[2] or None)
                return
            raise StepFailed(f"{self.who.name} has not opened the private chat yet: send /start")
        self.sim.send_text(self.who.id, self.where, text)

    def press(self, label: str) -> None:
        self.sim.press(self.who.id, self.where, label)

    def press_number(self, number: int) -> None:
        for message in reversed(self.sim.transcript(self.where)):
            if message.deleted or not message.buttons:
                continue
            flat = [b for row in message.buttons for b in row]
            if not 1 <= number <= len(flat):
                raise StepFailed(f"the newest keyboard here has {len(flat)} buttons")
            self.sim.press(
                self.who.id, self.where, flat[number - 1].text, message_id=message.message_id
            )
            return
        raise StepFailed("no message with buttons in this chat")

    def photo(self, caption: str | None) -> None:
        self.sim.send_photo(self.who.id, self.where, caption or None)

    def location(self, args: list[str]) -> None:
        lat, lon = (float(args[0]), float(args[1])) if len(args) == 2 else (39.1336, 117.2054)
        self.sim.send_location(self.who.id, self.where, lat, lon)

    def expect(self, text: str) -> None:
        last = self.sim.last(self.where)
        if last is None or text not in last.content:
            shown = last.content[:120] if last else "nothing"
            raise StepFailed(f"expected {text!r} in the last message here, got {shown!r}")

    def step(self, line: str) -> bool:
        """Carry out one script line; False if it was not an action (comment, blank)."""
        line = line.strip()
        if not line or line.startswith("#"):
            return False
        word, _, rest = line.partition(" ")
        rest = rest.strip()
        if word == "as" and rest:
            who, _, where = rest.partition(" in ")
            self.act_as(who, where if where else None)
        elif word == "in" and rest:
            self.where = self.chat(rest)
        elif word == "press" and rest:
            self.press(rest)
        elif word == "photo":
            self.photo(rest or None)
        elif word == "location":
            try:
                self.location(rest.split())
            except ValueError:
                raise StepFailed("location takes two numbers: lat lon") from None
        elif word == "expect" and rest:
            self.expect(rest)
        else:
            self.send(line)
        return True


async def settle(sim: Simulator, deadline: float = SETTLE_LIMIT_SECONDS) -> None:
    """Wait until the bot has fetched and handled every update and gone quiet (bounded)."""
    give_up = time.monotonic() + deadline
    quiet_since = time.monotonic()
    calls = len(sim.calls)
    while time.monotonic() < give_up:
        await asyncio.sleep(0.03)
        # (a message the bot's rate limiter holds back for a moment is still to come, and
        # an update still being handled may be thinking, e.g. drawing a picture)
        busy = sim.pending_updates() or limits.holding() or ordering.in_progress()
        if len(sim.calls) != calls or busy:
            calls = len(sim.calls)
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= QUIET_SECONDS:
            return


# --- running


async def _run(script: str | None, out: TextIO, color: bool) -> int:
    sim = Simulator(DEMO_TOKEN, bot_username="linli_demo_bot")
    populate(sim)
    stop = asyncio.Event()
    with tempfile.TemporaryDirectory(prefix="linli-demo-") as directory:
        async with SimServer(sim) as server:
            config = demo_config(server, Path(directory))
            await seed_places(config)
            bot = asyncio.create_task(serve(config, stop))
            try:
                await _wait_started(sim, bot)
                terminal = Terminal(sim, out, color=color)
                demo = Demo(sim, terminal)
                if script is None:
                    return await _interactive(demo, sim, out, stop, bot)
                return await _play(demo, sim, script, out)
            finally:
                stop.set()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(bot, 10)


async def _wait_started(sim: Simulator, bot: asyncio.Task[None]) -> None:
    give_up = time.monotonic() + 20
    while sim.polls == 0:
        if bot.done():
            bot.result()  # raises what stopped it
            raise RuntimeError("the bot stopped before polling")
        if time.monotonic() > give_up:
            raise RuntimeError("the bot did not start polling within 20 s")
        await asyncio.sleep(0.02)
    await settle(sim)


async def _play(demo: Demo, sim: Simulator, script: str, out: TextIO) -> int:
    demo.term.show_changes(quiet=True)  # the greetings on joining the groups are not the tour
    steps = 0
    for number, line in enumerate(script.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("#") or not stripped:
            continue
        try:
            if stripped.startswith("expect "):
                demo.step(stripped)
                out.write(f"  ✓ {stripped}\n")
                continue
            if not stripped.startswith(("as ", "in ")):
                out.write(f"\n▶ {demo.who.name} @ {demo.where_name()}: {stripped}\n")
            demo.step(stripped)
            if stripped.startswith(("as ", "in ")):
                out.write(f"\n◆ {demo.who.name} @ {demo.where_name()}\n")
        except (StepFailed, SimError) as exc:
            out.flush()
            print(f"linli demo: line {number}: {stripped!r}: {exc}", file=sys.stderr)
            return 1
        steps += 1
        await settle(sim)
        demo.term.show_changes()
    out.write(f"\n✓ {steps} steps played.\n")
    out.flush()
    return 0


async def _interactive(
    demo: Demo, sim: Simulator, out: TextIO, stop: asyncio.Event, bot: asyncio.Task[None]
) -> int:
    out.write("Setting up the demo community (a building leader, an organizer)…\n")
    for line in PRELUDE.splitlines():
        demo.step(line)
        await settle(sim)
    demo.term.show_changes(quiet=True)
    demo.act_as("李阿姨", None)
    out.write(_banner(demo))
    lines = _stdin_lines()
    while not stop.is_set() and not bot.done():
        out.write(f"\n[{demo.who.name} @ {demo.where_name()}] > ")
        out.flush()
        get = asyncio.ensure_future(lines.get())
        stopped = asyncio.ensure_future(stop.wait())
        done, _ = await asyncio.wait({get, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if get not in done:
            get.cancel()
            break
        typed = get.result()
        if typed is None:
            out.write("\n")
            break
        try:
            if not _interactive_step(demo, typed.strip(), out):
                break
        except (StepFailed, SimError) as exc:
            out.write(f"  ! {exc}\n")
            continue
        await settle(sim)
        demo.term.show_changes()
    return 0


def _interactive_step(demo: Demo, line: str, out: TextIO) -> bool:
    """One typed line; False to quit."""
    if not line:
        return True
    word, _, rest = line.partition(" ")
    rest = rest.strip()
    if word in ("/quit", "/exit"):
        return False
    if word == "/who":
        for number, person in enumerate(CAST, start=1):
            out.write(
                f"  {number}. {person.name} (@{person.username}) — {ROLE_NAMES[person.role]}\n"
            )
        return True
    if word == "/where":
        out.write(f"  private — {demo.who.name}'s private chat with the bot\n")
        out.write(f"  building — {demo.term.chat_name(BUILDING_GROUP)}\n")
        out.write(f"  organizers — {demo.term.chat_name(ORGANIZERS_GROUP)}\n")
        return True
    if word == "/as":
        who, _, where = rest.partition(" in ")
        demo.act_as(who, where or None)
        return True
    if word == "/in":
        demo.where = demo.chat(rest)
        return True
    if word == "/press":
        demo.press(rest)
    elif word == "/photo":
        demo.photo(rest or None)
    elif word == "/location":
        try:
            demo.location(rest.split())
        except ValueError:
            raise StepFailed("/location takes two numbers: lat lon") from None
    elif line.isdigit():
        demo.press_number(int(line))
    else:
        demo.send(line)
    return True


def _banner(demo: Demo) -> str:
    return (
        "\n邻里 Linli demo — the real bot, a simulated Telegram.\n"
        f"You are {demo.who.name} in {demo.where_name()}. Type /start to join the community.\n"
        "  /who, /where        the cast and the chats\n"
        "  /as <who> [in <where>], /in <where>   switch person or chat\n"
        "  1, 2, …  press a button;  /photo [caption];  /location [lat lon];  /quit\n"
    )


def _stdin_lines() -> asyncio.Queue[str | None]:
    """Lines from stdin, read by a daemon thread (so quitting never waits for Enter)."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def read() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(queue.put_nowait, line)
        loop.call_soon_threadsafe(queue.put_nowait, None)

    threading.Thread(target=read, daemon=True, name="linli-demo-stdin").start()
    return queue


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="linli demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--script", help="play this script and print the transcript")
    parser.add_argument("--no-color", action="store_true", help="plain text output")
    args = parser.parse_args(argv)
    script: str | None = None
    if args.script:
        try:
            script = Path(args.script).read_text(encoding="utf-8")
        except OSError as exc:
            print(f"linli demo: cannot read {args.script}: {exc.strerror}", file=sys.stderr)
            return 2
    color = not args.no_color and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    try:
        return asyncio.run(_run(script, sys.stdout, color))
    except KeyboardInterrupt:
        return 130


Out = Callable[[str], Any]
__all__ = ["main"]
