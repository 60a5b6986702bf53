"""Configured things (shop items, compounds, buildings) are named in the reader's language."""

from __future__ import annotations

import re

from tests.conftest import MakeHarness
from tests.support.points import organizer, resident

CHINESE = re.compile(r"[\u4e00-\u9fff]")
COMPOUNDS = [
    {"id": "heyuan", "name": "和苑小区", "name_en": "Heyuan", "buildings": ["1", "2", "3"]},
    {"id": "lihu", "name": "丽湖小区", "name_en": "Lihu", "buildings": ["A", "B"]},
]


async def test_an_english_reader_sees_no_chinese_configured_name(
    make_harness: MakeHarness,
) -> None:
    h = await make_harness({"community": {"compounds": COMPOUNDS}})
    org, _ = await organizer(h)
    bob, _ = await resident(h, 2002, "Bob", lang="en", points=100)
    seen: list[str] = []
    # Out of stock between the catalogue and the tap (the rule's check), and between the
    # confirmation and the Redeem (the storage's check).
    await h.send(bob, "/shop")
    await h.send(org, "/shopadmin stock soap 0")
    await h.press(bob, "🎁 Laundry liquid 1 L · 30 pts")
    seen.append(h.alerts(bob)[-1].text or "")
    await h.send(bob, "/shop")
    await h.press(bob, "🎁 A box of eggs · 20 pts")
    await h.send(org, "/shopadmin stock eggs 0")
    await h.press(bob, "✅ Redeem")
    seen.append(h.alerts(bob)[-1].text or "")
    assert seen == [
        'Sorry, "Laundry liquid 1 L" is out of stock.',
        'Sorry, "A box of eggs" is out of stock.',
    ]
    # Compounds and buildings, on the keyboards and in the messages that name them.
    emma = h.user(2003, "Emma", lang="en")
    await h.start(emma)
    await h.press(emma, "English")
    seen += h.buttons(emma)
    assert h.buttons(emma)[:2] == ["Heyuan", "Lihu"]
    await h.send(bob, "/me")
    seen.append(h.last_text(bob))
    assert "Heyuan, building 1" in h.last_text(bob)
    assert not [s for s in seen if CHINESE.search(s)]
