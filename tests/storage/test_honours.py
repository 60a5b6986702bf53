"""Recognition in SQLite: nominations and their rules, consent, the shortlist, one ballot
per household, secret ballot boxes, closing once with points credited once, stories
claimed once, likes once per member, and /forgetme."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from linli.core.community import NodeKind
from linli.core.honours import Consent, SelectionDraft, StoryDraft, Subject
from linli.core.members import Audience, Member
from linli.core.outcomes import RefusedError
from linli.core.points import EarnRules
from linli.storage import honours as honours_db
from linli.storage import members as members_db
from linli.storage import points as points_db
from linli.storage.db import Database
from tests.support.polls import COMMUNITY, NOW, resident

RULES = EarnRules({}, {}, ZoneInfo("Asia/Shanghai"))
DAY = timedelta(days=1)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "t.sqlite3")
    yield database
    await database.close()


def draft(
    secret: bool = False, winners: int = 1, subject: Subject = Subject.HOUSEHOLD
) -> SelectionDraft:
    return SelectionDraft("最美家庭", subject, Audience(NodeKind.COMPOUND, "heyuan"),
                          NOW + DAY, NOW + 2 * DAY, NOW + 3 * DAY, winners, 50, secret)  # fmt: skip


async def nominated(db: Database, by: Member, nominee: Member, sel: int = 1) -> int:
    candidate, _ = await honours_db.nominate(db, sel, by, nominee, "热心", None, COMMUNITY, NOW)
    return candidate.id


async def test_one_nomination_per_nominator_and_one_candidate_per_household(db: Database) -> None:
    org = await resident(db, 1, "组织者", building=None)
    sel, new = await honours_db.open_selection(db, draft(), org.id, "k1", NOW)
    assert new and (await honours_db.open_selection(db, draft(), org.id, "k1", NOW))[1] is False
    a, b = await resident(db, 10, "甲"), await resident(db, 11, "乙")
    wang = await resident(db, 12, "王", unit="301")
    wang_wife = await resident(db, 13, "王妻", unit="301")
    cand, first = await honours_db.nominate(db, sel.id, a, wang, "热心", None, COMMUNITY, NOW)
    again, second = await honours_db.nominate(
        db, sel.id, b, wang_wife, "和睦", "ph", COMMUNITY, NOW
    )
    assert first and not second and again.id == cand.id and again.nominations == 2
    with pytest.raises(RefusedError) as refused:
        await honours_db.nominate(db, sel.id, a, b, "x", None, COMMUNITY, NOW)
    assert refused.value.refused.reason == "already_nominated"
    with pytest.raises(RefusedError) as refused:
        await honours_db.nominate(db, sel.id, wang_wife, wang, "x", None, COMMUNITY, NOW)
    assert refused.value.refused.reason == "own_household"
    assert await honours_db.household_contact(db, "heyuan/1", "301") == wang.id


async def test_a_declined_nominee_is_never_shown_nor_nominated_again(db: Database) -> None:
    org = await resident(db, 1, "组织者", building=None)
    await honours_db.open_selection(db, draft(), org.id, "k", NOW)
    a, b, c = [await resident(db, i, n) for i, n in ((10, "甲"), (11, "乙"), (12, "丙"))]
    cid = await nominated(db, a, c)
    with pytest.raises(RefusedError):
        await honours_db.answer_consent(db, cid, b, True, NOW)  # not theirs
    _, cand = await honours_db.answer_consent(db, cid, c, False, NOW)
    assert cand.consent is Consent.DECLINED and not cand.shown
    with pytest.raises(RefusedError) as refused:
        await honours_db.answer_consent(db, cid, c, True, NOW)
    assert refused.value.refused.reason == "consent_given"
    with pytest.raises(RefusedError) as refused:
        await nominated(db, b, c)
    assert refused.value.refused.reason == "nominee_declined"
    with pytest.raises(RefusedError) as refused:
        await honours_db.shortlist(db, cid, "好", org.id, NOW + DAY)
    assert refused.value.refused.reason == "candidate_not_shown"


async def ready_to_vote(
    db: Database, secret: bool = False, winners: int = 1
) -> tuple[int, list[int], list[Member]]:
    org = await resident(db, 1, "组织者", building=None)
    sel, _ = await honours_db.open_selection(db, draft(secret, winners), org.id, "k", NOW)
    voters = [await resident(db, 20 + i, f"投{i}") for i in range(4)]
    nominees = [await resident(db, 30 + i, f"候{i}") for i in range(3)]
    ids = []
    for voter, nominee in zip(voters, nominees, strict=False):
        cid = await nominated(db, voter, nominee, sel.id)
        await honours_db.answer_consent(db, cid, nominee, True, NOW)
        await honours_db.shortlist(db, cid, "事迹突出", org.id, NOW + DAY)
        ids.append(cid)
    return sel.id, ids, voters


async def test_one_ballot_per_household_within_the_window(db: Database) -> None:
    sel, ids, voters = await ready_to_vote(db, winners=2)
    voting = NOW + 2 * DAY
    with pytest.raises(RefusedError) as refused:
        await honours_db.cast_ballot(db, sel, voters[0], 0b1, COMMUNITY, NOW + DAY)
    assert refused.value.refused.reason == "not_voting"
    _, chosen = await honours_db.cast_ballot(db, sel, voters[0], 0b11, COMMUNITY, voting)
    assert [c.id for c in chosen] == ids[:2]
    same_home = await resident(db, 40, "投0家人", unit="20")  # voters[0] lives in unit "20"
    for member, mask, reason in ((same_home, 0b1, "household_voted"),
                                 (voters[1], 0b111, "too_many_picks"),
                                 (voters[1], 0b1000, "stale_ballot"), (voters[1], 0, "ballot_empty")):  # fmt: skip
        with pytest.raises(RefusedError) as refused:
            await honours_db.cast_ballot(db, sel, member, mask, COMMUNITY, voting)
        assert refused.value.refused.reason == reason
    assert await honours_db.counts(db, sel) == {ids[0]: 1, ids[1]: 1}


async def test_closing_once_credits_each_winner_once(db: Database) -> None:
    sel, ids, voters = await ready_to_vote(db)
    voting = NOW + 2 * DAY
    for voter, mask in zip(voters, (0b10, 0b10, 0b1), strict=False):
        await honours_db.cast_ballot(db, sel, voter, mask, COMMUNITY, voting)
    assert await honours_db.close_selection(db, sel, RULES, voting) is None  # not due
    end = NOW + 3 * DAY
    assert await honours_db.close_selection(db, sel, RULES, end) == (ids[1],)
    assert await honours_db.close_selection(db, sel, RULES, end) is None
    winner = await honours_db.winners(db, sel)
    assert [w.id for w in winner] == [ids[1]] and winner[0].votes == 2
    assert await points_db.balance(db, winner[0].nominee_id) == 50
    nominee = await members_db.get_member(db, winner[0].nominee_id)
    assert nominee is not None
    assert [s.id for s in await honours_db.honours_of(db, nominee)] == [sel]


async def test_secret_ballots_keep_no_voter_and_leave_the_wal_empty(
    db: Database, tmp_path: Path
) -> None:
    sel, ids, voters = await ready_to_vote(db, secret=True)
    for voter in voters[:3]:
        await honours_db.cast_ballot(db, sel, voter, 0b1, COMMUNITY, NOW + 2 * DAY)
    rows = await db.fetchall("SELECT member_id, picks FROM honours_voters")
    assert len(rows) == 3 and all(r["member_id"] is None and r["picks"] is None for r in rows)
    box = await db.scalar("SELECT counts FROM honours_ballot_boxes")
    assert json.loads(box) == {str(ids[0]): 3}
    wal = tmp_path / "t.sqlite3-wal"
    assert not wal.exists() or wal.stat().st_size == 0


async def test_stories_are_claimed_once_and_liked_once_per_member(db: Database) -> None:
    org = await resident(db, 1, "组织者", building=None)
    later = StoryDraft("王阿姨", "正文", "本人同意", Audience(NodeKind.COMMUNITY), NOW + DAY)
    story, _ = await honours_db.add_story(db, later, ["p1"], org.id, "s1", NOW)
    assert await honours_db.due_stories(db, NOW) == []
    assert [s.id for s in await honours_db.due_stories(db, NOW + DAY)] == [story.id]
    with pytest.raises(RefusedError):
        await honours_db.like(db, story.id, org.id)  # not posted yet
    assert await honours_db.claim_story(db, story.id, NOW + DAY)
    assert not await honours_db.claim_story(db, story.id, NOW + DAY)
    a = await resident(db, 10, "甲")
    assert (await honours_db.like(db, story.id, a.id))[1]
    liked, new = await honours_db.like(db, story.id, a.id)
    assert not new and liked.likes == 1


async def test_forgetme_removes_nominations_and_withdraws_the_nominee(db: Database) -> None:
    sel, ids, voters = await ready_to_vote(db)
    nominee = await honours_db.get_candidate(db, ids[0])
    assert nominee is not None
    await members_db.forget(db, voters[1].id, NOW)  # a nominator
    assert await honours_db.my_nomination(db, sel, voters[1].id) is None
    await members_db.forget(db, nominee.nominee_id, NOW)
    withdrawn = await honours_db.get_candidate(db, ids[0])
    assert withdrawn is not None and withdrawn.consent is Consent.WITHDRAWN
    with pytest.raises(RefusedError) as refused:
        await honours_db.cast_ballot(db, sel, voters[3], 0b1, COMMUNITY, NOW + 2 * DAY)
    assert refused.value.refused.reason == "stale_ballot"


async def test_a_post_is_claimed_once_and_resumed_after_its_picture_went_out(db: Database) -> None:
    assert await honours_db.claim_post(db, "result", "1", -100, NOW) == 0
    assert await honours_db.claim_post(db, "result", "1", -100, NOW) is None
    # The picture went out, the text failed for now: taken again once, from the text on.
    await honours_db.resume_post(db, "result", "1", -100, 1)
    assert await honours_db.posted_to(db, "result", "1") == set()
    assert await honours_db.claim_post(db, "result", "1", -100, NOW) == 1
    assert await honours_db.claim_post(db, "result", "1", -100, NOW) is None
    assert await honours_db.posted_to(db, "result", "1") == {-100}
    await honours_db.release_post(db, "result", "1", -200)  # nothing went out: tried again
    assert await honours_db.claim_post(db, "result", "1", -200, NOW) == 0
    await honours_db.finish_post(db, "result", "1", -200, 7)
    await honours_db.resume_post(db, "result", "1", -200, 1)  # a sent post stays sent
    assert await honours_db.claim_post(db, "result", "1", -200, NOW) is None
