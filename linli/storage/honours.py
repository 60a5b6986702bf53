"""Recognition: selections, candidates and nominations, consent, the shortlist, ballots,
the winners (and their points), stories and their likes, and what was posted where.

Secret selections keep their ballots as the secret polls do (linli/storage/polls.py): a
voter row that says only that a household voted (WITHOUT ROWID, so stored in key order,
not voting order), and one box per selection of counts per candidate, rewritten whole on
each vote, with the WAL sealed (checkpointed and truncated) right after it.

Closing a selection is one transaction: the selection is marked closed only if it was not
(so a second tick or process closes nothing twice), the votes and the winners are written,
and each winner's points go through the ledger with the key `honours:<sel>:<candidate>`.
"""

from __future__ import annotations

import json
from datetime import datetime

from linli.core.ballots import picks_of
from linli.core.clock import from_iso, to_iso
from linli.core.community import Community
from linli.core.honours import (
    MAX_ON_BALLOT,
    Candidate,
    Consent,
    Nomination,
    Phase,
    Selection,
    SelectionDraft,
    Story,
    StoryDraft,
    Subject,
    ballot_key,
    candidate_key,
    check_nomination,
    check_picks,
    check_shortlist,
    choose_winners,
    may_vote,
)
from linli.core.members import Audience, Member
from linli.core.outcomes import Refused, RefusedError
from linli.core.points import EarnRules, Rule
from linli.storage import ballot_boxes
from linli.storage import points as points_db
from linli.storage.audit import audit
from linli.storage.db import Database, Row, Tx

# --- Selections -----------------------------------------------------------------------------


def _selection(row: Row) -> Selection:
    closed = row["closed_at"]
    return Selection(
        id=row["id"],
        title=row["title"],
        subject=Subject(row["subject"]),
        audience=Audience.decode(row["audience"]),
        nominate_until=from_iso(row["nominate_until"]),
        vote_from=from_iso(row["vote_from"]),
        vote_until=from_iso(row["vote_until"]),
        winners=row["winners"],
        points=row["points"],
        secret=bool(row["secret"]),
        created_by=row["created_by"],
        created_at=from_iso(row["created_at"]),
        closed_at=from_iso(closed) if closed else None,
    )


async def get_selection(db: Database | Tx, selection_id: int) -> Selection | None:
    row = await db.fetchone("SELECT * FROM honours_selections WHERE id = ?", (selection_id,))
    return _selection(row) if row else None


async def current_selections(db: Database | Tx) -> list[Selection]:
    rows = await db.fetchall("SELECT * FROM honours_selections WHERE closed_at IS NULL ORDER BY id")
    return [_selection(r) for r in rows]


async def past_selections(db: Database | Tx, limit: int = 10) -> list[Selection]:
    rows = await db.fetchall(
        "SELECT * FROM honours_selections WHERE closed_at IS NOT NULL ORDER BY closed_at DESC,"
        " id DESC LIMIT ?",
        (limit,),
    )
    return [_selection(r) for r in rows]


async def open_selection(
    db: Database, draft: SelectionDraft, actor_id: int, key: str, now: datetime
) -> tuple[Selection, bool]:
    """A new selection (the same organizer message opens it once): (selection, new)."""
    async with db.transaction() as tx:
        row = await tx.fetchone("SELECT * FROM honours_selections WHERE key = ?", (key,))
        if row is not None:
            return _selection(row), False
        selection_id = await tx.execute(
            "INSERT INTO honours_selections (title, subject, audience, nominate_until, vote_from,"
            " vote_until, winners, points, secret, key, created_by, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (draft.title, draft.subject.value, draft.audience.encode(),
             to_iso(draft.nominate_until), to_iso(draft.vote_from), to_iso(draft.vote_until),
             draft.winners, draft.points, int(draft.secret), key, actor_id, to_iso(now)),
        )  # fmt: skip
        await audit(tx, actor_id, "honours_open", f"selection:{selection_id}", draft.title, now)
        selection = await get_selection(tx, selection_id)
    assert selection is not None
    return selection, True


# --- Candidates and nominations ---------------------------------------------------------------

_CANDIDATE = (
    "SELECT c.*, m.name, h.building_id, h.unit,"
    " (SELECT COUNT(*) FROM honours_nominations n WHERE n.candidate_id = c.id) AS nominations"
    " FROM honours_candidates c JOIN members m ON m.id = c.nominee_id"
    " LEFT JOIN households h ON h.id = c.household_id"
)


def _candidate(row: Row) -> Candidate:
    return Candidate(
        id=row["id"],
        selection_id=row["selection_id"],
        nominee_id=row["nominee_id"],
        household_id=row["household_id"],
        name=row["name"],
        place=row["building_id"],
        unit=row["unit"],
        consent=Consent(row["consent"]),
        shortlisted=bool(row["shortlisted"]),
        shortlist_reason=row["shortlist_reason"],
        votes=row["votes"],
        won=bool(row["won"]),
        nominations=row["nominations"],
    )


async def get_candidate(db: Database | Tx, candidate_id: int) -> Candidate | None:
    row = await db.fetchone(_CANDIDATE + " WHERE c.id = ?", (candidate_id,))
    return _candidate(row) if row else None


async def candidates(db: Database | Tx, selection_id: int) -> list[Candidate]:
    rows = await db.fetchall(
        _CANDIDATE + " WHERE c.selection_id = ? ORDER BY c.id", (selection_id,)
    )
    return [_candidate(r) for r in rows]


async def household_contact(db: Database | Tx, building_id: str, unit: str) -> int | None:
    """The member asked on a household's behalf: its first verified member."""
    value = await db.scalar(
        "SELECT m.id FROM members m JOIN households h ON h.id = m.household_id"
        " WHERE h.building_id = ? AND h.unit = ? AND m.verified = 1 AND m.forgotten_at IS NULL"
        " ORDER BY m.id LIMIT 1",
        (building_id, unit),
    )
    return int(value) if value is not None else None


async def nominate(
    db: Database,
    selection_id: int,
    nominator: Member,
    nominee: Member | None,
    reason: str,
    photo: str | None,
    community: Community,
    now: datetime,
) -> tuple[Candidate, bool]:
    """One nomination: (the candidate, whether it is new and its nominee must be asked).
    RefusedError for anything the rules refuse."""
    async with db.transaction() as tx:
        selection = await get_selection(tx, selection_id)
        existing = None
        if selection is not None and nominee is not None:
            row = await tx.fetchone(
                "SELECT id, consent FROM honours_candidates WHERE selection_id = ?"
                " AND candidate_key = ?",
                (selection_id, candidate_key(selection.subject, nominee)),
            )
            existing = row
        already = await tx.scalar(
            "SELECT 1 FROM honours_nominations WHERE selection_id = ? AND nominator_id = ?",
            (selection_id, nominator.id),
        )
        declined = existing is not None and existing["consent"] in (
            Consent.DECLINED,
            Consent.WITHDRAWN,
        )
        refused = check_nomination(selection, nominator, nominee, community, now,
                                   already_nominated=bool(already), declined=declined)  # fmt: skip
        if refused is not None:
            raise RefusedError(refused)
        assert selection is not None and nominee is not None
        if existing is None:
            candidate_id = await tx.execute(
                "INSERT INTO honours_candidates (selection_id, candidate_key, nominee_id,"
                " household_id, created_at) VALUES (?, ?, ?, ?, ?)",
                (selection_id, candidate_key(selection.subject, nominee), nominee.id,
                 nominee.household_id, to_iso(now)),
            )  # fmt: skip
        else:
            candidate_id = existing["id"]
        await tx.execute(
            "INSERT INTO honours_nominations (selection_id, nominator_id, candidate_id, reason,"
            " photo, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (selection_id, nominator.id, candidate_id, reason, photo, to_iso(now)),
        )
        candidate = await get_candidate(tx, candidate_id)
    assert candidate is not None
    return candidate, existing is None


async def nominations_for(db: Database | Tx, candidate_id: int) -> list[Nomination]:
    rows = await db.fetchall(
        "SELECT * FROM honours_nominations WHERE candidate_id = ? ORDER BY created_at",
        (candidate_id,),
    )
    return [Nomination(r["selection_id"], r["nominator_id"], r["candidate_id"], r["reason"],
                       r["photo"], from_iso(r["created_at"])) for r in rows]  # fmt: skip


async def my_nomination(db: Database | Tx, selection_id: int, member_id: int) -> Nomination | None:
    row = await db.fetchone(
        "SELECT * FROM honours_nominations WHERE selection_id = ? AND nominator_id = ?",
        (selection_id, member_id),
    )
    if row is None:
        return None
    return Nomination(row["selection_id"], row["nominator_id"], row["candidate_id"],
                      row["reason"], row["photo"], from_iso(row["created_at"]))  # fmt: skip


async def answer_consent(
    db: Database, candidate_id: int, member: Member, accept: bool, now: datetime
) -> tuple[Selection, Candidate]:
    """The nominee says whether they may be shown; asked once, answered once."""
    async with db.transaction() as tx:
        candidate = await get_candidate(tx, candidate_id)
        if candidate is None or candidate.nominee_id != member.id:
            raise RefusedError(Refused("not_your_nomination"))
        selection = await get_selection(tx, candidate.selection_id)
        assert selection is not None
        if selection.phase(now) in (Phase.COUNTING, Phase.CLOSED):
            raise RefusedError(Refused("selection_closed", {"id": selection.id}))
        if candidate.consent is not Consent.ASKED:
            raise RefusedError(Refused("consent_given", {"consent": candidate.consent.value}))
        consent = Consent.ACCEPTED if accept else Consent.DECLINED
        await tx.execute(
            "UPDATE honours_candidates SET consent = ? WHERE id = ?", (consent.value, candidate_id)
        )
        updated = await get_candidate(tx, candidate_id)
    assert updated is not None
    return selection, updated


async def shortlist(
    db: Database, candidate_id: int, reason: str, actor_id: int, now: datetime
) -> tuple[Selection, Candidate]:
    async with db.transaction() as tx:
        candidate = await get_candidate(tx, candidate_id)
        selection = await get_selection(tx, candidate.selection_id) if candidate else None
        if (refused := check_shortlist(selection, candidate, now)) is not None:
            raise RefusedError(refused)
        assert selection is not None
        on_ballot = await tx.scalar(
            "SELECT COUNT(*) FROM honours_candidates WHERE selection_id = ? AND shortlisted = 1",
            (selection.id,),
        )
        if int(on_ballot) >= MAX_ON_BALLOT:
            raise RefusedError(Refused("shortlist_full", {"max": MAX_ON_BALLOT}))
        await tx.execute(
            "UPDATE honours_candidates SET shortlisted = 1, shortlist_reason = ?,"
            " shortlisted_by = ? WHERE id = ?",
            (reason, actor_id, candidate_id),
        )
        await audit(tx, actor_id, "honours_shortlist", f"candidate:{candidate_id}", reason, now)
        updated = await get_candidate(tx, candidate_id)
    assert updated is not None
    return selection, updated


async def ballot_candidates(db: Database | Tx, selection_id: int) -> list[Candidate]:
    """The shortlist in a fixed order (a ballot's bit mask counts on it); a withdrawn
    candidate keeps its place (so no ballot shifts) and is not shown."""
    rows = await db.fetchall(
        _CANDIDATE + " WHERE c.selection_id = ? AND c.shortlisted = 1 ORDER BY c.id",
        (selection_id,),
    )
    return [_candidate(r) for r in rows]


# --- Ballots ----------------------------------------------------------------------------------


_BOX = ballot_boxes.Box("honours_ballot_boxes", "selection_id")


async def has_voted(db: Database | Tx, selection_id: int, member: Member) -> bool:
    return bool(
        await db.scalar(
            "SELECT 1 FROM honours_voters WHERE selection_id = ? AND voter_key = ?",
            (selection_id, ballot_key(member)),
        )
    )


async def cast_ballot(
    db: Database, selection_id: int, member: Member, mask: int, community: Community, now: datetime
) -> tuple[Selection, list[Candidate]]:
    """One ballot for the member's household; RefusedError for anything the rules refuse."""
    async with db.transaction() as tx:
        selection = await get_selection(tx, selection_id)
        if selection is None:
            raise RefusedError(Refused("unknown_selection"))
        if (refused := may_vote(selection, member, community, now)) is not None:
            raise RefusedError(refused)
        if await has_voted(tx, selection_id, member):
            raise RefusedError(Refused("household_voted"))
        on_ballot = await ballot_candidates(tx, selection_id)
        picks = picks_of(mask, len(on_ballot))
        if picks is None:
            raise RefusedError(Refused("stale_ballot"))
        chosen = [on_ballot[i] for i in picks]
        if (refused := check_picks(selection, chosen)) is not None:
            raise RefusedError(refused)
        ids = [c.id for c in chosen]
        await tx.execute(
            "INSERT INTO honours_voters (selection_id, voter_key, member_id, picks)"
            " VALUES (?, ?, ?, ?)",
            (selection_id, ballot_key(member), None if selection.secret else member.id,
             None if selection.secret else json.dumps(ids)),
        )  # fmt: skip
        await ballot_boxes.drop_in(tx, _BOX, selection_id, ids)
    if selection.secret:
        await db.checkpoint()  # no older box left in the WAL (see the module doc)
    return selection, chosen


async def counts(db: Database | Tx, selection_id: int) -> dict[int, int]:
    return await ballot_boxes.counts_by_id(db, _BOX, selection_id)


async def turnout(db: Database | Tx, selection_id: int) -> int:
    return int(
        await db.scalar(
            "SELECT COUNT(*) FROM honours_voters WHERE selection_id = ?", (selection_id,)
        )
        or 0
    )


# --- Closing ------------------------------------------------------------------------------------


async def selections_to_close(db: Database | Tx, now: datetime) -> list[Selection]:
    rows = await db.fetchall(
        "SELECT * FROM honours_selections WHERE closed_at IS NULL AND vote_until <= ? ORDER BY id",
        (to_iso(now),),
    )
    return [_selection(r) for r in rows]


async def close_selection(
    db: Database, selection_id: int, rules: EarnRules, now: datetime
) -> tuple[int, ...] | None:
    """Count, write the winners, credit their points; None if it was closed already (or is
    not due): a second tick or process closes nothing twice, and the ledger's keys make a
    point credit once even so."""
    async with db.transaction() as tx:
        closed = await tx.rowcount(
            "UPDATE honours_selections SET closed_at = ? WHERE id = ? AND closed_at IS NULL"
            " AND vote_until <= ?",
            (to_iso(now), selection_id, to_iso(now)),
        )
        if closed != 1:
            return None
        selection = await get_selection(tx, selection_id)
        assert selection is not None
        votes = await counts(tx, selection_id)
        on_ballot = [c for c in await ballot_candidates(tx, selection_id) if c.shown]
        won = choose_winners([(c.id, votes.get(c.id, 0)) for c in on_ballot], selection.winners)
        for c in on_ballot:
            await tx.execute(
                "UPDATE honours_candidates SET votes = ?, won = ? WHERE id = ?",
                (votes.get(c.id, 0), int(c.id in won), c.id),
            )
        if selection.points > 0:
            for c in on_ballot:
                if c.id in won:
                    await points_db.earn(
                        tx, member_id=c.nominee_id, rule=Rule.AWARD, reference=f"HN-{selection_id}",
                        key=f"honours:{selection_id}:{c.id}", rules=rules, now=now,
                        amount=selection.points,
                    )  # fmt: skip
        await audit(tx, None, "honours_close", f"selection:{selection_id}",
                    f"winners {list(won)}", now)  # fmt: skip
    return won


async def recently_closed(db: Database | Tx, since: datetime) -> list[Selection]:
    rows = await db.fetchall(
        "SELECT * FROM honours_selections WHERE closed_at >= ? ORDER BY id", (to_iso(since),)
    )
    return [_selection(r) for r in rows]


async def winners(db: Database | Tx, selection_id: int) -> list[Candidate]:
    rows = await db.fetchall(
        _CANDIDATE + " WHERE c.selection_id = ? AND c.won = 1 AND c.consent = 'accepted'"
        " ORDER BY c.votes DESC, c.id",
        (selection_id,),
    )
    return [_candidate(r) for r in rows]


async def honours_of(db: Database | Tx, member: Member) -> list[Selection]:
    """The selections a member won: as a person, or as one of a winning household."""
    rows = await db.fetchall(
        "SELECT DISTINCT s.* FROM honours_selections s JOIN honours_candidates c"
        " ON c.selection_id = s.id WHERE c.won = 1 AND c.consent = 'accepted' AND (c.nominee_id = ?"
        " OR (s.subject = 'household' AND c.household_id IS NOT NULL AND c.household_id = ?))"
        " ORDER BY s.closed_at",
        (member.id, member.household_id),
    )
    return [_selection(r) for r in rows]


# --- What is posted to groups -----------------------------------------------------------------


async def claim_post(db: Database, kind: str, ref: str, chat_id: int, now: datetime) -> int | None:
    """Take the right to post `kind` `ref` to `chat_id`: how many of its parts (its photos,
    then its text) went out before, 0 for a new claim; None if it is taken (sending, sent
    or failed for good). A post some of whose parts went out before a passing failure
    (`resume_post`) is taken again once, to send the rest."""
    async with db.transaction() as tx:
        taken = await tx.rowcount(
            "INSERT OR IGNORE INTO honours_posts (kind, ref, chat_id, created_at)"
            " VALUES (?, ?, ?, ?)",
            (kind, ref, chat_id, to_iso(now)),
        )
        if taken == 1:
            return 0
        status = await tx.scalar(
            "SELECT status FROM honours_posts WHERE kind = ? AND ref = ? AND chat_id = ?",
            (kind, ref, chat_id),
        )
        done = _resumed(status)
        if done is None:
            return None
        await tx.execute(
            "UPDATE honours_posts SET status = 'sending' WHERE kind = ? AND ref = ?"
            " AND chat_id = ?",
            (kind, ref, chat_id),
        )
    return done


def _resumed(status: object) -> int | None:
    """`resume:<parts>`: that many parts of the post went out; else None."""
    prefix, _, parts = str(status).partition(":")
    return int(parts) if prefix == "resume" and parts.isdigit() else None


async def finish_post(
    db: Database, kind: str, ref: str, chat_id: int, message_id: int | None
) -> None:
    """Sent (a message id), or failed for good (None): never tried again."""
    await db.write(
        "UPDATE honours_posts SET status = ?, message_id = ? WHERE kind = ? AND ref = ?"
        " AND chat_id = ?",
        ("sent" if message_id is not None else "failed", message_id, kind, ref, chat_id),
    )


async def release_post(db: Database, kind: str, ref: str, chat_id: int) -> None:
    """A passing failure before Telegram took any of it: the next tick tries again."""
    await db.write(
        "DELETE FROM honours_posts WHERE kind = ? AND ref = ? AND chat_id = ?"
        " AND status = 'sending'",
        (kind, ref, chat_id),
    )


async def resume_post(db: Database, kind: str, ref: str, chat_id: int, parts: int) -> None:
    """A passing failure after `parts` parts went out (the picture, not yet the text): the
    next tick sends the rest, never those again."""
    await db.write(
        "UPDATE honours_posts SET status = ? WHERE kind = ? AND ref = ? AND chat_id = ?"
        " AND status = 'sending'",
        (f"resume:{parts}", kind, ref, chat_id),
    )


# --- Stories ------------------------------------------------------------------------------------


def _story(row: Row) -> Story:
    return Story(
        id=row["id"],
        title=row["title"],
        body=row["body"],
        photos=tuple(json.loads(row["photos"])),
        consent=row["consent"],
        audience=Audience.decode(row["audience"]),
        post_at=from_iso(row["post_at"]),
        posted=row["posted_at"] is not None,
        created_by=row["created_by"],
        created_at=from_iso(row["created_at"]),
        likes=row["likes"],
    )


_STORY = (
    "SELECT s.*, (SELECT COUNT(*) FROM honours_story_likes l WHERE l.story_id = s.id) AS likes"
    " FROM honours_stories s"
)


async def get_story(db: Database | Tx, story_id: int) -> Story | None:
    row = await db.fetchone(_STORY + " WHERE s.id = ?", (story_id,))
    return _story(row) if row else None


async def add_story(
    db: Database, draft: StoryDraft, photos: list[str], actor_id: int, key: str, now: datetime
) -> tuple[Story, bool]:
    """A story to post at `draft.post_at` (now, or later): (story, new)."""
    async with db.transaction() as tx:
        row = await tx.fetchone(_STORY + " WHERE s.key = ?", (key,))
        if row is not None:
            return _story(row), False
        story_id = await tx.execute(
            "INSERT INTO honours_stories (title, body, photos, consent, audience, post_at, key,"
            " created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (draft.title, draft.body, json.dumps(photos), draft.consent, draft.audience.encode(),
             to_iso(draft.post_at), key, actor_id, to_iso(now)),
        )  # fmt: skip
        await audit(tx, actor_id, "honours_story", f"story:{story_id}",
                    f"{draft.title} (consent: {draft.consent})"[:200], now)  # fmt: skip
        story = await get_story(tx, story_id)
    assert story is not None
    return story, True


async def due_stories(db: Database | Tx, now: datetime) -> list[Story]:
    rows = await db.fetchall(
        _STORY + " WHERE s.posted_at IS NULL AND s.post_at <= ? ORDER BY s.post_at, s.id",
        (to_iso(now),),
    )
    return [_story(r) for r in rows]


async def claim_story(db: Database, story_id: int, now: datetime) -> bool:
    """Take the story for posting: True once, ever (then each chat is claimed too)."""
    async with db.transaction() as tx:
        taken = await tx.rowcount(
            "UPDATE honours_stories SET posted_at = ? WHERE id = ? AND posted_at IS NULL",
            (to_iso(now), story_id),
        )
    return taken == 1


async def like(db: Database, story_id: int, member_id: int) -> tuple[Story, bool]:
    """👍 once per member: (the story with its count, whether this like is new)."""
    async with db.transaction() as tx:
        story = await get_story(tx, story_id)
        if story is None or not story.posted:
            raise RefusedError(Refused("unknown_story"))
        new = await tx.execute(
            "INSERT OR IGNORE INTO honours_story_likes (story_id, member_id) VALUES (?, ?)",
            (story_id, member_id),
        )
        updated = await get_story(tx, story_id)
    assert updated is not None
    return updated, bool(new)


async def stories_posted(db: Database | Tx, start: datetime, end: datetime) -> list[Story]:
    rows = await db.fetchall(
        _STORY + " WHERE s.posted_at >= ? AND s.posted_at < ? ORDER BY s.posted_at, s.id",
        (to_iso(start), to_iso(end)),
    )
    return [_story(r) for r in rows]


async def selections_closed(db: Database | Tx, start: datetime, end: datetime) -> list[Selection]:
    rows = await db.fetchall(
        "SELECT * FROM honours_selections WHERE closed_at >= ? AND closed_at < ? ORDER BY id",
        (to_iso(start), to_iso(end)),
    )
    return [_selection(r) for r in rows]


async def scheduled_stories(db: Database | Tx) -> list[Story]:
    rows = await db.fetchall(_STORY + " WHERE s.posted_at IS NULL ORDER BY s.post_at, s.id")
    return [_story(r) for r in rows]


# --- /forgetme ----------------------------------------------------------------------------------


async def forget_member(tx: Tx, member_id: int) -> None:
    """The member's nominations go; as a nominee they are withdrawn (never shown again);
    candidates left with no nomination and off every ballot go too."""
    await tx.execute("DELETE FROM honours_nominations WHERE nominator_id = ?", (member_id,))
    await tx.execute(
        "UPDATE honours_candidates SET consent = 'withdrawn', won = 0 WHERE nominee_id = ?",
        (member_id,),
    )
    await tx.execute(
        "DELETE FROM honours_candidates WHERE shortlisted = 0 AND consent IN ('asked', 'accepted')"
        " AND NOT EXISTS (SELECT 1 FROM honours_nominations n"
        " WHERE n.candidate_id = honours_candidates.id)"
    )
    await tx.execute("DELETE FROM honours_story_likes WHERE member_id = ?", (member_id,))


async def posted_to(db: Database | Tx, kind: str, ref: str) -> set[int]:
    """The chats `kind` `ref` was posted (or claimed) to, all of it (a post waiting to
    resume is not)."""
    rows = await db.fetchall(
        "SELECT chat_id FROM honours_posts WHERE kind = ? AND ref = ?"
        " AND status NOT LIKE 'resume:%'",
        (kind, ref),
    )
    return {r["chat_id"] for r in rows}
