"""Typed buttons (linli/bot/buttons.py): what a button packs is what it parses back, within
Telegram's 64 bytes; anything else parses to None."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from linli.bot.buttons import ButtonTooLong, Router, button, pack, parse
from linli.bot.views import broadcasts, exports, points, rankings, timebank


@button("tx", "go")
@dataclass(frozen=True, slots=True)
class Go:
    item: int
    word: str
    yes: bool


@button("tx", "no")
@dataclass(frozen=True, slots=True)
class Nothing:
    pass


words = st.text(
    alphabet=st.characters(blacklist_characters=":", blacklist_categories=("Cs",)),
    min_size=1,
    max_size=12,
)


@given(st.integers(-(10**12), 10**12), words, st.booleans())
def test_what_is_packed_parses_back(item: int, word: str, yes: bool) -> None:
    pressed = Go(item, word, yes)
    data = pack(pressed)
    assert len(data.encode()) <= 64
    assert parse(Go, data) == pressed
    assert parse(Nothing, data) is None


@pytest.mark.parametrize(
    "data",
    [None, "", "tx", "tx:go", "tx:go:1:a", "tx:go:1:a:1:extra", "tx:go:x:a:1", "tx:go:1::1",
     "tx:go:1:a:2", "ty:go:1:a:1", "tx:no:1", "tx:go:99999999999999999999:a:1"],
)  # fmt: skip
def test_malformed_data_parses_to_none(data: str | None) -> None:
    assert parse(Go, data) is None


def test_a_button_that_would_not_fit_is_refused_when_made() -> None:
    with pytest.raises(ButtonTooLong):
        pack(Go(1, "长" * 20, True))
    with pytest.raises(ValueError):
        pack(Go(1, "a:b", True))


def test_a_router_takes_only_its_own_kinds_once() -> None:
    router = Router("tx")

    @router.on(Go)
    async def go(*_: object) -> None: ...

    with pytest.raises(ValueError):
        router.on(Go)(go)
    with pytest.raises(ValueError):
        Router("zz").on(Nothing)
    assert router.kinds() == [Go]


def test_a_field_of_another_type_is_refused_at_declaration() -> None:
    with pytest.raises(TypeError):

        @button("tx", "bad")
        @dataclass(frozen=True)
        class Bad:
            when: float


@button("tx", "to")
@dataclass(frozen=True, slots=True)
class To:
    kind: str
    target: str = ""


def test_a_str_field_declared_empty_by_default_packs_and_parses_empty() -> None:
    """The events' "everyone" audience button has always been "ev:na:community:"."""
    assert pack(To("community")) == "tx:to:community:"
    assert parse(To, "tx:to:community:") == To("community")
    assert parse(To, "tx:to:building:b1") == To("building", "b1")
    assert parse(To, "tx:to::b1") is None
    with pytest.raises(ValueError):
        pack(To("", "b1"))


# Buttons already in chats, as the hand-packed callback data of broadcasts, exports, points,
# rankings and the time bank made them before their typed buttons: each still means the same.
OLD_BUTTONS = [
    ("bc:m:g", broadcasts.ChooseMode("g")),
    ("bc:c:1", broadcasts.ListBuildings(1)),
    ("bc:s:b12", broadcasts.ChooseScope("b12")),
    ("bc:s:rvolunteer", broadcasts.ChooseScope("rvolunteer")),
    ("bc:r:all", broadcasts.ChooseRole("all")),
    ("bc:ok:0a1b2c3d4e5f", broadcasts.Send("0a1b2c3d4e5f")),
    ("bc:no:0a1b2c3d4e5f", broadcasts.Discard("0a1b2c3d4e5f")),
    ("bc:x", broadcasts.Stop()),
    ("bc:pg:16", broadcasts.Page(16)),
    ("ex:w:members", exports.ChooseWhat("members")),
    ("ex:f:members@2024-05-01:xlsx:1", exports.ChooseFormat("members@2024-05-01", "xlsx", True)),
    ("ex:f:reports:open311:0", exports.ChooseFormat("reports", "open311", False)),
    ("pt:pg:20", points.Page(20)),
    ("rk:v:month:b0.2:1", rankings.Show("month", "b0.2", True)),
    ("rk:v:week:m:0", rankings.Show("week", "m", False)),
    ("tb:ok:7", timebank.Confirm(7)),
    ("tb:no:7", timebank.Decline(7)),
    ("tb:wd:7", timebank.Withdraw(7)),
]


@pytest.mark.parametrize(("data", "pressed"), OLD_BUTTONS)
def test_buttons_made_before_their_typed_declarations_keep_working(data: str, pressed: Any) -> None:
    assert parse(type(pressed), data) == pressed
    assert pack(pressed) == data
