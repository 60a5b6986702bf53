"""Configured things (shop items, compounds, buildings, the community) are named in the
reader's language."""

from __future__ import annotations

import re

from linli.bot.views.broadcasts import wait_deliveries
from linli.storage import members as members_db
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


async def test_rankings_broadcasts_bindings_and_event_audiences_name_things_in_english(
    make_harness: MakeHarness,
) -> None:
    h = await make_harness({"community": {"name_en": "Heping", "compounds": COMPOUNDS}})
    org, org_id = await organizer(h)
    await members_db.set_locale(h.db, org_id, "en")
    bob, _ = await resident(h, 2002, "Bob", lang="en", points=100)
    seen: list[str] = []
    # Rankings: the board's header at each place, and the weekly post's names for the group.
    await h.send(bob, "/rank")
    seen.append(h.last_text(bob))
    for place in ("Compound", "Community"):
        await h.press(bob, place)
        seen.append(h.last_text(bob))
    assert "Heyuan, building 1" in seen[0] and "Heyuan" in seen[1] and "Heping" in seen[2]
    # Bindings: what the group is bound to, as the organizer is told.
    group = h.group(-4001, "和苑群", [org, bob])
    await h.process()
    await h.send(org, "/bind compound heyuan", chat=group)
    seen.append(h.last_text(group))
    await h.send(org, "/bind building lihu/A", chat=group)
    seen.append(h.last_text(group))
    await h.send(org, "/bind community", chat=group)
    seen.append(h.last_text(group))
    assert "Heyuan" in seen[3] and "Lihu" in seen[4] and "Heping" in seen[5]
    # Broadcasts: choosing the audience, the preview, the log.
    await h.send(org, "/broadcast")
    await h.press(org, "✉️ Private messages to residents")
    seen += h.buttons(org)
    await h.press(org, "Buildings of Heyuan…")
    seen.append(h.last_text(org))
    await h.press(org, "1")
    await h.press(org, "Everyone")
    seen.append(h.last_text(org))
    await h.send(org, "Water is off on Sunday")
    seen.append(h.last_text(org))
    assert "Heyuan 1" in seen[-1]
    await h.press(org, "✅ Send to 1")
    await wait_deliveries(h.app, 10)
    await h.send(org, "/broadcasts")
    seen.append(h.last_text(org))
    # Events: the audience on the preview and on the card an English reader opens.
    await h.send(org, "/newevent")
    for step in ("Lecture", "Fire safety", "Skip", "12-05 14:00-16:00", "Hall", "10", "Skip", "5"):
        await (h.press if step in ("Lecture", "Skip") else h.send)(org, step)
    await h.press(org, "Heyuan")
    seen.append(h.last_text(org))
    assert "For: Heyuan" in seen[-1]
    await h.press(org, "Publish")
    await h.send(bob, "/events")
    seen.append(h.last_text(bob))
    # People's own names (the organizer's is 组织者) are theirs: only configured names count.
    assert [s for s in seen if CHINESE.search(s.replace(org.first_name, ""))] == []
