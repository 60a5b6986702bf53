"""Hazard reports as residents, riders, building leaders and organizers see them."""

from __future__ import annotations

from linli.core.community import Role
from linli.sim.core import SimUser
from linli.sim.harness import Harness
from linli.storage import hazards as hazards_db
from linli.storage import members as members_db

ORG_GROUP = -1001000


async def resident(
    h: Harness, user: SimUser, building: str = "heyuan/1", *, role: Role | None = None
) -> int:
    """A joined, verified resident created directly in storage (onboarding is tested elsewhere)."""
    now = h.clock()
    member = await members_db.ensure_member(h.db, user.id, user.first_name, None, now)
    await members_db.set_home(h.db, member.id, building, "3-201", now)
    await members_db.set_verified(h.db, member.id, None, now)
    await members_db.mark_joined(h.db, member.id, None)
    if role is not None:
        await members_db.grant_role(h.db, member.id, role, member.id, now)
    await h.start(user)  # opens the private chat ("welcome back")
    return member.id


async def test_smoke_full_report(harness: Harness) -> None:
    h = harness
    wang = h.user(2001, "王芳")
    await resident(h, wang)
    await h.start(h.organizer)
    await h.send(wang, "/report")
    print(h.last_text(wang), h.buttons(wang))
    await h.press(wang, "🚨 火灾隐患")
    print(h.last_text(wang), h.buttons(wang))
    await h.send(wang, "楼道里堆满纸箱")
    print(h.last_text(wang), h.buttons(wang))
    await h.photo(wang)
    print(h.last_text(wang), h.buttons(wang))
    await h.press(wang, "完成")
    print(h.last_text(wang), h.buttons(wang))
    await h.location(wang, 39.1, 117.2)
    print(h.texts(wang)[-2:], h.buttons(wang))
    await h.press(wang, "👤 实名提交（可得积分）")
    print(h.last_text(wang), h.buttons(wang))
    await h.press(wang, "✅ 提交")
    print(h.last_text(wang), h.buttons(wang))
    print("GROUP", h.texts(ORG_GROUP)[-3:], h.buttons(ORG_GROUP))
    await h.press(h.organizer, "✔ 确认受理", chat=ORG_GROUP)
    print("ORG", h.alerts(h.organizer), h.last_text(h.organizer), h.buttons(h.organizer))
    await h.send(h.organizer, "已通知物业")
    print("ORG", h.last_text(h.organizer))
    print("GROUP", h.texts(ORG_GROUP)[-1:], h.buttons(ORG_GROUP))
    print("WANG", h.last_text(wang))
    assert False
