"""Leaderboards from the ledger's aggregates, and the record of weekly posts.

Boards read `points_period` (a calendar week or month, in score order from its index),
`points_balances.score` (all time), or for any other range `points_daily` (at most 31
rows a member), never the whole ledger. Household boards read `household_period` (a
week, a month or all time, kept per household) or sum members' daily scores.
"""

from __future__ import annotations

from datetime import datetime

from linli.core.clock import to_iso
from linli.core.points import DayRange, Period, is_whole_period, places
from linli.core.rankings import Line, Scope, Where, make_lines
from linli.storage.db import Database, Tx


def _scope_sql(where: Where, table: str = "m") -> tuple[str, list[object]]:
    """The scope's condition on `table`'s building_id (members or households)."""
    if where.scope is Scope.BUILDING:
        return f" AND {table}.building_id = ?", [where.target]
    if where.scope is Scope.COMPOUND:
        # Building ids are "<compound id>/<name>": the ids from "<compound>/" up to (not
        # including) "<compound>0" ("0" sorts right after "/"), a range the index can read.
        return f" AND {table}.building_id >= ? AND {table}.building_id < ?", [
            where.target + "/",
            where.target + "0",
        ]
    return "", []


def _source_sql(scores: str, where: Where) -> str:
    """The scores joined to members. A building or a compound is read member by member from
    the members' building index (its size does not grow with the ledger); the community
    from the scores, in score order."""
    if where.scope is Scope.COMMUNITY:
        return f"({scores}) s JOIN members m ON m.id = s.member_id"
    # CROSS JOIN keeps members as the outer loop (SQLite does not reorder it).
    return f"members m CROSS JOIN ({scores}) s ON s.member_id = m.id"


def _scores_sql(days: DayRange) -> tuple[str, list[object]]:
    """A subquery (member_id, score) for the period."""
    if days.start is None:
        return "SELECT member_id, score FROM points_balances", []
    if is_whole_period(days):
        return "SELECT member_id, score FROM points_period WHERE period = ?", [days.label]
    return (
        "SELECT member_id, SUM(score) AS score FROM points_daily"
        " WHERE day >= ? AND day < ? GROUP BY member_id",
        [days.start, days.end],
    )


async def member_board(
    db: Database | Tx, days: DayRange, where: Where, limit: int, viewer_id: int | None = None
) -> tuple[Line, ...]:
    scores, params = _scores_sql(days)
    scope, scope_params = _scope_sql(where)
    rows = await db.fetchall(
        f"SELECT s.member_id, s.score, m.name, m.rank_optout, m.forgotten_at IS NOT NULL AS gone"
        f" FROM {_source_sql(scores, where)}"
        f" WHERE s.score > 0{scope} ORDER BY s.score DESC, s.member_id LIMIT ?",
        [*params, *scope_params, limit],
    )
    return make_lines(
        [(r[0], r[1], r[2], bool(r[3]) or bool(r[4]) or not r[2]) for r in rows], viewer_id
    )


async def household_board(
    db: Database | Tx, days: DayRange, where: Where, limit: int, viewer_household: int | None = None
) -> tuple[Line, ...]:
    """最美家庭: households by the sum of their members' scores; named by building and unit
    only when none of its members opted out."""
    totals, params = _household_totals_sql(days, where)
    # The top households first, then their names and opt-outs: the opt-out check runs for
    # the `limit` lines shown, not for every household with points (bench/: half the time).
    rows = await db.fetchall(
        f"SELECT t.household_id, t.total, h.building_id, h.unit,"
        f" EXISTS (SELECT 1 FROM members x WHERE x.household_id = t.household_id"
        f"  AND x.rank_optout = 1) AS hidden"
        f" FROM ({totals}) t"
        f" JOIN households h ON h.id = t.household_id ORDER BY t.total DESC, t.household_id",
        [*params, limit],
    )
    numbers = places([r[1] for r in rows])
    return tuple(
        Line(
            place,
            r[1],
            "",
            bool(r[4]),
            r[0] == viewer_household,
            None if r[4] else r[2],
            None if r[4] else r[3],
        )
        for place, r in zip(numbers, rows, strict=True)
    )


def _household_totals_sql(days: DayRange, where: Where) -> tuple[str, list[object]]:
    """A subquery (household_id, total) of the top `?` households with a positive score.

    A week, a month or all time reads `household_period` (kept per household as members earn
    and move): the community in score order from its index, a building or a compound
    household by household from the households' (building, unit) index. Any other range of
    days sums the members' daily scores.
    """
    if days.start is None or is_whole_period(days):
        period = Period.ALL.value if days.start is None else days.label
        if where.scope is Scope.COMMUNITY:
            return (
                "SELECT household_id, score AS total FROM household_period"
                " WHERE period = ? AND score > 0 ORDER BY score DESC, household_id LIMIT ?",
                [period],
            )
        scope, scope_params = _scope_sql(where, "hs")
        # CROSS JOIN keeps the scope's households as the outer loop.
        return (
            "SELECT hp.household_id, hp.score AS total FROM households hs"
            " CROSS JOIN household_period hp ON hp.period = ? AND hp.household_id = hs.id"
            f" WHERE hp.score > 0{scope} ORDER BY hp.score DESC, hp.household_id LIMIT ?",
            [period, *scope_params],
        )
    scores, params = _scores_sql(days)
    scope, scope_params = _scope_sql(where)
    # ("+" keeps SQLite from walking the household index for the GROUP BY: the scope's
    # index is the short way in.)
    return (
        f"SELECT m.household_id, SUM(s.score) AS total FROM {_source_sql(scores, where)}"
        f" WHERE +m.household_id IS NOT NULL{scope} GROUP BY m.household_id HAVING total > 0"
        f" ORDER BY total DESC, m.household_id LIMIT ?",
        [*params, *scope_params],
    )


async def member_standing(
    db: Database | Tx, member_id: int, days: DayRange, where: Where
) -> tuple[int, int, int] | None:
    """(place, score, members ranked) of one member on a board, or None if they have no score."""
    scores, params = _scores_sql(days)
    scope, scope_params = _scope_sql(where)
    mine = await db.scalar(
        f"SELECT score FROM ({scores}) WHERE member_id = ?", [*params, member_id]
    )
    if not mine or mine <= 0:
        return None
    if where.scope is Scope.COMMUNITY:
        # Both counts from the scores' own index: no member row is read.
        row = await db.fetchone(
            f"SELECT (SELECT COUNT(*) FROM ({scores}) WHERE score > ?),"
            f" (SELECT COUNT(*) FROM ({scores}) WHERE score > 0)",
            [*params, mine, *params],
        )
    else:
        row = await db.fetchone(
            f"SELECT SUM(s.score > ?), COUNT(*) FROM {_source_sql(scores, where)}"
            f" WHERE s.score > 0{scope}",
            [mine, *params, *scope_params],
        )
    assert row is not None
    return int(row[0] or 0) + 1, int(mine), int(row[1])


# --- Weekly posts: one per (period, chat), claimed before sending.


async def claim_post(db: Database, period: str, chat_id: int, now: datetime) -> bool:
    """True if this (period, chat) has not been posted yet, and is now ours to post."""
    async with db.transaction() as tx:
        claimed = await tx.rowcount(
            "INSERT OR IGNORE INTO ranking_posts (period, chat_id, posted_at) VALUES (?, ?, ?)",
            (period, chat_id, to_iso(now)),
        )
    return claimed == 1


async def record_post(db: Database, period: str, chat_id: int, message_id: int | None) -> None:
    await db.write(
        "UPDATE ranking_posts SET message_id = ? WHERE period = ? AND chat_id = ?",
        (message_id, period, chat_id),
    )


async def release_post(db: Database, period: str, chat_id: int) -> None:
    """Sending failed: give the claim back so the next tick tries again."""
    await db.write(
        "DELETE FROM ranking_posts WHERE period = ? AND chat_id = ? AND message_id IS NULL",
        (period, chat_id),
    )


async def posted(db: Database | Tx, period: str) -> set[int]:
    rows = await db.fetchall("SELECT chat_id FROM ranking_posts WHERE period = ?", (period,))
    return {r[0] for r in rows}
