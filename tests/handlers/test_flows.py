"""One private-chat flow at a time: a new one ends an unfinished one, and says so."""

from __future__ import annotations

from linli.bot import flows
from linli.bot.render import Renderer
from linli.core.members import SUPPORTED_LOCALES
from linli.sim.harness import Harness
from linli.storage import drafts as drafts_db
from tests.handlers.test_hazards import resident


async def test_a_new_flow_says_which_unfinished_one_it_ended(harness: Harness) -> None:
    h = harness
    wang = h.user(2701, "王芳")
    await resident(h, wang)
    await h.send(wang, "/report")
    await h.send(wang, "/treehole")
    texts = h.texts(wang)
    assert "你还没完成的「隐患上报」已结束，没有保存" in texts[-2]
    draft = await drafts_db.get_draft(h.db, wang.id)
    assert draft is not None and draft.flow == "treehole"  # and the tree hole asks its question
    said = len(h.texts(wang))
    await h.send(wang, "/treehole")  # the same flow again: nothing ended, nothing to say
    assert len(h.texts(wang)) == said + 1
    assert not any("已结束" in t for t in h.texts(wang)[said:])


async def test_in_english_too(harness: Harness) -> None:
    h = harness
    tom = h.user(2702, "Tom", lang="en")
    await resident(h, tom)
    await h.send(tom, "/treehole")
    await h.send(tom, "/report")
    assert "Your unfinished tree-hole message was closed without saving" in h.texts(tom)[-2]


def test_every_flow_has_a_name_in_every_language(harness: Harness) -> None:
    renderer: Renderer = harness.services.renderer
    assert len(flows._FLOWS) >= 11
    for flow in flows._FLOWS:
        for locale in SUPPORTED_LOCALES:
            assert renderer.label(locale, f"common.flow_{flow}").strip()
