"""Hazard storage: saving ends the flow once, support, triage with points once, due work, exports."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from linli.core.exports import Open311Names
from linli.core.hazards import Action, NewReport, Report, Status, followup_hash
from linli.core.outcomes import RefusedError
from linli.storage import drafts as drafts_db
from linli.storage import hazards as hz
from linli.storage import members as members_db
from linli.storage.db import Database, Tx
from linli.storage.drafts import Draft

T0 = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
SENT = Draft(501, "report", "confirm", {})  # a draft already ended


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "t.sqlite3")
    yield database
    await database.close()


async def member(db: Database, tg: int, name: str = "Li") -> int:
    return (await members_db.ensure_member(db, tg, name, None, T0)).id


async def file_report(
    db: Database,
    tg: int,
    new: NewReport,
    reporter: int | None,
    *,
    now: datetime = T0,
    code_hash: str | None = None,
) -> Report:
    draft = Draft(tg, "report", "confirm", {})
    await drafts_db.put_draft(db, draft, now)
    return await hz.create_report(
        db, new, reporter_id=reporter, ending=draft, now=now, followup_hash=code_hash
    )


FIRE = NewReport(
    "fire",
    "smoke in the corridor",
    False,
    True,
    lat=39.1,
    lon=117.2,
    building_id="heyuan/1",
    photos=("p1", "p2", "p3", "p4"),
)


async def test_create_ends_the_flow_and_a_second_confirmation_changes_nothing(db: Database) -> None:
    me = await member(db, 501)
    report = await file_report(db, 501, FIRE, me)
    assert report.code == "H-0001" and report.status is Status.NEW
    assert report.photos == ("p1", "p2", "p3")  # at most three are kept
    assert await drafts_db.get_draft(db, 501) is None
    with pytest.raises(RefusedError) as exc:
        await hz.create_report(db, FIRE, reporter_id=me, ending=SENT, now=T0)
    assert exc.value.refused.reason == "already_sent"
    assert await db.scalar("SELECT count(*) FROM hazards") == 1


async def test_named_report_times_feed_the_hourly_limit(db: Database) -> None:
    me = await member(db, 501)
    for minutes in (0, 20):
        await file_report(db, 501, FIRE, me, now=T0 + timedelta(minutes=minutes))
    await file_report(db, 501, replace(FIRE, anonymous=True), None, code_hash="h")
    times = await hz.named_report_times(db, me, T0 + timedelta(minutes=10))
    assert times == [T0 + timedelta(minutes=20)]  # the anonymous one is not on disk as mine


async def test_anonymous_report_has_no_reporter(db: Database) -> None:
    await member(db, 501)
    anon = NewReport("gas", "smell", True, True, address="3号楼下")
    with pytest.raises(ValueError):
        await hz.create_report(db, anon, reporter_id=1, ending=SENT, now=T0, followup_hash="h")
    report = await file_report(db, 501, anon, None, code_hash=followup_hash("AAAA-BBBB-CCCC"))
    assert report.anonymous and report.reporter_id is None
    assert await hz.report_by_followup(db, followup_hash("AAAA-BBBB-CCCC")) == report
    assert await hz.report_by_followup(db, followup_hash("AAAA-BBBB-CCCD")) is None
    assert (
        await db.scalar("SELECT actor_id FROM hazard_events WHERE hazard_id = ?", (report.id,))
        is None
    )


async def test_duplicates_and_me_too(db: Database) -> None:
    me, other = await member(db, 501), await member(db, 502)
    report = await file_report(db, 501, FIRE, me)
    near = NewReport("fire", "", False, True, lat=39.1002, lon=117.2)
    assert [r.id for r in await hz.find_duplicates(db, near, 50)] == [report.id]
    assert (
        await hz.find_duplicates(db, NewReport("gas", "", False, True, lat=39.1, lon=117.2), 50)
        == []
    )
    supported = await hz.add_support(db, report.id, other, T0)
    assert supported.supporters == 1
    for who, reason in ((other, "already_supported"), (me, "own_report")):
        with pytest.raises(RefusedError) as exc:
            await hz.add_support(db, report.id, who, T0)
        assert exc.value.refused.reason == reason
    assert (await hz.get_report(db, report.id)).supporters == 1  # type: ignore[union-attr]


async def test_triage_awards_once_and_rejection_awards_nothing(db: Database) -> None:
    me, org = await member(db, 501), await member(db, 1000, "Org")
    credited: list[tuple[int, str]] = []

    async def award(tx: Tx, report: Report) -> int:
        # the award joins the triage transaction: it sees the new status
        assert await tx.scalar("SELECT status FROM hazards WHERE id = ?", (report.id,)) != "new"
        credited.append((report.reporter_id or 0, report.code))
        return 10

    report = await file_report(db, 501, FIRE, me)
    done = await hz.triage(
        db, report.id, Action.ACK, actor_id=org, note="on it", now=T0, award=award
    )
    assert done.report.status is Status.ACKNOWLEDGED and done.points == 10
    assert done.report.acknowledged_at == T0 and done.report.status_note == "on it"
    with pytest.raises(RefusedError) as exc:
        await hz.triage(db, report.id, Action.ACK, actor_id=org, note="", now=T0, award=award)
    assert exc.value.refused.reason == "not_allowed_now"
    work = await hz.triage(db, report.id, Action.WORK, actor_id=org, note="", now=T0, award=award)
    assert work.points == 0
    resolved = await hz.triage(
        db,
        report.id,
        Action.RESOLVE,
        actor_id=org,
        note="fixed",
        now=T0 + timedelta(hours=1),
        award=award,
    )
    assert resolved.report.resolved_at == T0 + timedelta(hours=1)
    assert credited == [(me, "H-0001")]
    history = await hz.events(db, report.id)
    assert [e.status for e in history] == ["new", "acknowledged", "in_progress", "resolved"]
    assert history[1].actor_name == "Org" and history[1].note == "on it"

    second = await file_report(db, 501, FIRE, me)
    with pytest.raises(RefusedError):
        await hz.triage(
            db, second.id, Action.REJECT, actor_id=org, note="", now=T0, duplicate_of=second.id
        )
    rejected = await hz.triage(
        db,
        second.id,
        Action.REJECT,
        actor_id=org,
        note="dup",
        now=T0,
        award=award,
        duplicate_of=report.id,
    )
    assert rejected.report.status is Status.REJECTED and rejected.report.duplicate_of == report.id
    assert rejected.points == 0 and len(credited) == 1


async def test_escalations_are_claimed_once(db: Database) -> None:
    me = await member(db, 501)
    report = await file_report(db, 501, FIRE, me)
    [candidate] = await hz.escalation_candidates(db, 3)
    assert await hz.claim_escalation(db, candidate, T0)
    assert not await hz.claim_escalation(db, candidate, T0)  # a second run with the stale row
    [again] = await hz.escalation_candidates(db, 3)
    assert again.escalations == 1
    await hz.triage(db, report.id, Action.ACK, actor_id=me, note="", now=T0)
    assert await hz.escalation_candidates(db, 3) == []
    assert not await hz.claim_escalation(db, again, T0)


async def test_followup_no_reopens_and_asks_again_after_the_next_resolution(db: Database) -> None:
    me, org = await member(db, 501), await member(db, 1000)
    report = await file_report(db, 501, FIRE, me)
    await hz.triage(db, report.id, Action.RESOLVE, actor_id=org, note="", now=T0)
    assert await hz.followup_candidates(db, T0 - timedelta(seconds=1)) == []
    [due] = await hz.followup_candidates(db, T0)
    with pytest.raises(RefusedError):  # not asked yet
        await hz.answer_followup(db, due.id, me, False, T0)
    assert await hz.claim_followup(db, due.id, T0)
    assert not await hz.claim_followup(db, due.id, T0)
    with pytest.raises(RefusedError) as exc:
        await hz.answer_followup(db, due.id, org, False, T0)
    assert exc.value.refused.reason == "not_your_report"
    reopened = await hz.answer_followup(db, due.id, me, False, T0)
    assert reopened.status is Status.ACKNOWLEDGED and reopened.resolved_at is None
    with pytest.raises(RefusedError):
        await hz.answer_followup(db, due.id, me, False, T0)
    await hz.triage(db, report.id, Action.RESOLVE, actor_id=org, note="", now=T0)
    assert await hz.claim_followup(db, report.id, T0)
    fixed = await hz.answer_followup(db, report.id, me, True, T0)
    assert fixed.status is Status.RESOLVED
    with pytest.raises(RefusedError):
        await hz.answer_followup(db, report.id, me, True, T0)


async def test_lists_filter_and_order(db: Database) -> None:
    me, org = await member(db, 501), await member(db, 1000)
    a = await file_report(db, 501, FIRE, me, now=T0)
    b = await file_report(
        db,
        501,
        NewReport("water", "leak", False, False, building_id="lihu/A"),
        me,
        now=T0 + timedelta(minutes=1),
    )
    await hz.triage(db, a.id, Action.ACK, actor_id=org, note="", now=T0)
    items, total = await hz.list_reports(db, statuses=[Status.NEW, Status.ACKNOWLEDGED])
    assert [r.id for r in items] == [a.id, b.id] and total == 2
    items, total = await hz.list_reports(db, statuses=[Status.NEW])
    assert [r.id for r in items] == [b.id]
    items, _ = await hz.list_reports(db, statuses=[], building_id="heyuan/1")
    assert [r.id for r in items] == [a.id]
    items, _ = await hz.list_reports(db, statuses=[], category="water")
    assert [r.id for r in items] == [b.id]
    mine, total = await hz.reports_of_member(db, me)
    assert [r.id for r in mine] == [b.id, a.id] and total == 2


async def test_exports_leave_out_anonymous_reporters(db: Database) -> None:
    me = await member(db, 501, "Wang Fang")
    named = await file_report(db, 501, FIRE, me)
    await file_report(
        db, 501, NewReport("gas", "smell", True, True, address="3号楼下"), None, code_hash="h1"
    )
    headers, rows = await hz.export_reports(db, None)
    assert headers[0] == "code" and len(rows) == 2
    by_code = {row[0]: dict(zip(headers, row, strict=True)) for row in rows}
    assert (
        by_code["H-0001"]["reporter_name"] == "Wang Fang" and by_code["H-0001"]["reporter_id"] == me
    )
    assert by_code["H-0002"]["reporter_name"] == "" and by_code["H-0002"]["reporter_id"] == ""
    assert by_code["H-0001"]["photos"] == 3
    _, later = await hz.export_reports(db, T0 + timedelta(seconds=1))
    assert later == []
    await hz.triage(db, named.id, Action.RESOLVE, actor_id=me, note="done", now=T0)
    requests = await hz.open311_reports(db, None, Open311Names({"fire": "Fire risk"}))
    assert [r["status"] for r in requests] == ["closed", "open"]
    first = requests[0]
    assert first["service_request_id"] == "H-0001" and first["service_name"] == "Fire risk"
    assert first["lat"] == 39.1 and first["long"] == 117.2 and first["status_notes"] == "done"
    assert first["requested_datetime"] == "2026-11-26T02:00:00+00:00"
    assert requests[1]["address"] == "3号楼下"
    text = json.dumps(requests, ensure_ascii=False)
    assert "Wang Fang" not in text and "reporter" not in text
