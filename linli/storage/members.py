"""Members, households and roles."""

from __future__ import annotations

from datetime import datetime

from linli.core.clock import from_iso, to_iso
from linli.core.community import Role
from linli.core.members import Member, new_referral_code
from linli.core.points import EarnRules
from linli.storage import accounts as accounts_db
from linli.storage import directory as directory_db
from linli.storage import honours as honours_db
from linli.storage import points as points_db
from linli.storage.accounts import TELEGRAM
from linli.storage.audit import audit
from linli.storage.db import Database, Row, Tx

_SELECT = """
SELECT m.*, h.unit AS unit,
       (SELECT group_concat(role) FROM member_roles r WHERE r.member_id = m.id) AS roles
FROM members m LEFT JOIN households h ON h.id = m.household_id
"""


def member_from_row(row: Row) -> Member:
    roles = frozenset(Role(r) for r in (row["roles"] or "").split(",") if r)
    if row["household_id"] is not None:
        roles |= {Role.RESIDENT}
    return Member(
        id=row["id"],
        name=row["name"],
        username=row["username"],
        locale=row["locale"],
        building_id=row["building_id"],
        household_id=row["household_id"],
        unit=row["unit"],
        roles=roles,
        verified=bool(row["verified"]),
        joined=bool(row["joined"]),
        referral_code=row["referral_code"],
        referred_by=row["referred_by"],
        rank_optout=bool(row["rank_optout"]),
        created_at=from_iso(row["created_at"]),
        language_code=row["language_code"],
        blocked=row["blocked_at"] is not None,
        forgotten=row["forgotten_at"] is not None,
    )


async def get_member(db: Database | Tx, member_id: int) -> Member | None:
    row = await db.fetchone(_SELECT + " WHERE m.id = ?", (member_id,))
    return member_from_row(row) if row else None


async def get_member_by_account(
    db: Database | Tx, platform: str, external_id: str
) -> Member | None:
    """The member whose account on `platform` this is."""
    row = await db.fetchone(
        _SELECT + " WHERE m.id = (SELECT member_id FROM accounts"
        " WHERE platform = ? AND external_id = ?)",
        (platform, external_id),
    )
    return member_from_row(row) if row else None


async def get_member_by_telegram(db: Database | Tx, telegram_id: int) -> Member | None:
    return await get_member_by_account(db, TELEGRAM, str(telegram_id))


async def get_member_by_username(db: Database | Tx, username: str) -> Member | None:
    row = await db.fetchone(
        _SELECT + " WHERE lower(m.username) = lower(?)", (username.removeprefix("@"),)
    )
    return member_from_row(row) if row else None


async def get_member_by_referral(db: Database | Tx, code: str) -> Member | None:
    row = await db.fetchone(_SELECT + " WHERE m.referral_code = ?", (code,))
    return member_from_row(row) if row else None


async def find_member(db: Database | Tx, ref: str) -> Member | None:
    """A member named the way organizers type them: @username, a Telegram id, or #<member id>."""
    ref = ref.strip()
    if ref.startswith("@"):
        return await get_member_by_username(db, ref)
    if ref.startswith("#") and ref[1:].isdigit():
        return await get_member(db, int(ref[1:]))
    if ref.lstrip("-").isdigit():
        return await get_member_by_telegram(db, int(ref))
    return await get_member_by_username(db, ref) if ref else None


async def ensure_member(
    db: Database,
    telegram_id: int,
    name: str,
    username: str | None,
    now: datetime,
    language_code: str | None = None,
) -> Member:
    """The member for this Telegram user (their account), created on first contact; keeps
    name, username and Telegram language fresh."""
    async with db.transaction() as tx:
        row = await tx.fetchone(
            "SELECT id, name, username, language_code FROM members WHERE id ="
            " (SELECT member_id FROM accounts WHERE platform = ? AND external_id = ?)",
            (TELEGRAM, str(telegram_id)),
        )
        if row is None:
            member_id = await tx.execute(
                "INSERT INTO members (name, username, language_code, referral_code,"
                " created_at) VALUES (?, ?, ?, ?, ?)",
                (name, username, language_code, new_referral_code(), to_iso(now)),
            )
            await accounts_db.add_account(tx, TELEGRAM, str(telegram_id), member_id, now)
        else:
            member_id = row["id"]
            language_code = language_code or row["language_code"]
            if (row["name"], row["username"], row["language_code"]) != (
                name,
                username,
                language_code,
            ):
                await tx.execute(
                    "UPDATE members SET name = ?, username = ?, language_code = ? WHERE id = ?",
                    (name, username, language_code, member_id),
                )
        member = await get_member(tx, member_id)
    assert member is not None
    return member


async def set_locale(db: Database, member_id: int, locale: str | None) -> None:
    await db.write("UPDATE members SET locale = ? WHERE id = ?", (locale, member_id))


async def set_private_chat(db: Database, member_id: int, open_: bool) -> None:
    await db.write("UPDATE members SET private_chat = ? WHERE id = ?", (int(open_), member_id))


async def set_blocked(db: Database, telegram_id: int, blocked: bool, now: datetime) -> bool:
    """The member blocked the bot in their private chat (or unblocked it); True if it changed."""
    account = "id = (SELECT member_id FROM accounts WHERE platform = ? AND external_id = ?)"
    if blocked:
        sql = f"UPDATE members SET blocked_at = ? WHERE {account} AND blocked_at IS NULL"
        params: tuple[object, ...] = (to_iso(now), TELEGRAM, str(telegram_id))
    else:
        sql = f"UPDATE members SET blocked_at = NULL WHERE {account} AND blocked_at IS NOT NULL"
        params = (TELEGRAM, str(telegram_id))
    return await db.write(sql, params) == 1


async def set_home(
    db: Database, member_id: int, building_id: str, unit: str, now: datetime
) -> Member:
    """Move the member into a household (created on first mention); a move clears verification.
    Their ranking scores move with them (household boards sum current members)."""
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT OR IGNORE INTO households (building_id, unit, created_at) VALUES (?, ?, ?)",
            (building_id, unit, to_iso(now)),
        )
        household_id = await tx.scalar(
            "SELECT id FROM households WHERE building_id = ? AND unit = ?", (building_id, unit)
        )
        old_household = await tx.scalar(
            "SELECT household_id FROM members WHERE id = ?", (member_id,)
        )
        await points_db.move_household_scores(tx, member_id, old_household, household_id)
        await tx.execute(
            "UPDATE members SET building_id = ?, household_id = ?,"
            " verified = CASE WHEN household_id IS ? THEN verified ELSE 0 END"
            " WHERE id = ?",
            (building_id, household_id, household_id, member_id),
        )
        member = await get_member(tx, member_id)
    assert member is not None
    return member


async def mark_joined(
    db: Database, member_id: int, referred_by: int | None, now: datetime | None = None
) -> bool:
    """Record acceptance of the privacy notice (at `now`); True the first time only."""
    async with db.transaction() as tx:
        changed = await tx.rowcount(
            "UPDATE members SET joined = 1, joined_at = COALESCE(?, created_at),"
            " referred_by = COALESCE(referred_by, ?) WHERE id = ? AND joined = 0",
            (to_iso(now) if now else None, referred_by, member_id),
        )
    return changed == 1


async def set_verified(db: Database, member_id: int, by: int | None, now: datetime) -> bool:
    """Mark the member verified, with no referral credit; True if this call verified them."""
    verified, _ = await verify(db, member_id, by, now, None)
    return verified


async def verify(
    db: Database, member_id: int, by: int | None, now: datetime, rules: EarnRules | None
) -> tuple[bool, int]:
    """Mark the member verified and, in the same transaction, credit whoever invited them.

    Returns (verified now, referral points credited); (False, 0) if they already were.
    """
    async with db.transaction() as tx:
        changed = await tx.rowcount(
            "UPDATE members SET verified = 1, verified_by = ?, verified_at = ?"
            " WHERE id = ? AND verified = 0 AND household_id IS NOT NULL",
            (by, to_iso(now), member_id),
        )
        referrer = await tx.scalar("SELECT referred_by FROM members WHERE id = ?", (member_id,))
        credited = 0
        if changed and referrer is not None and rules is not None:
            credited = await points_db.earn(
                tx,
                member_id=referrer,
                rule="referral",
                reference=f"member:{member_id}",
                key=f"referral:{member_id}",
                rules=rules,
                now=now,
            )
    return changed == 1, credited


async def grant_role(db: Database, member_id: int, role: Role, by: int, now: datetime) -> bool:
    async with db.transaction() as tx:
        changed = await tx.rowcount(
            "INSERT OR IGNORE INTO member_roles (member_id, role, granted_by, granted_at)"
            " VALUES (?, ?, ?, ?)",
            (member_id, role.value, by, to_iso(now)),
        )
        if changed:
            await audit(tx, by, "grant", f"member:{member_id}", role.value, now)
    return changed == 1


async def revoke_role(db: Database, member_id: int, role: Role, by: int, now: datetime) -> bool:
    async with db.transaction() as tx:
        changed = await tx.rowcount(
            "DELETE FROM member_roles WHERE member_id = ? AND role = ?", (member_id, role.value)
        )
        if changed:
            await audit(tx, by, "revoke", f"member:{member_id}", role.value, now)
    return changed == 1


async def sync_config_organizers(db: Database, telegram_ids: list[int], now: datetime) -> None:
    """Make the organizers listed in the config (by Telegram id) organizers in the database
    too (so every query by role sees them), and take the role back from those no longer listed."""
    marks = ",".join("?" * len(telegram_ids)) or "NULL"
    listed = f"SELECT member_id FROM accounts WHERE platform = ? AND external_id IN ({marks})"
    ids = tuple(str(t) for t in telegram_ids)
    async with db.transaction() as tx:
        await tx.execute(
            f"DELETE FROM member_roles WHERE from_config = 1 AND member_id NOT IN ({listed})",
            (TELEGRAM, *ids),
        )
        await tx.execute(
            "INSERT OR IGNORE INTO member_roles (member_id, role, granted_by, granted_at,"
            f" from_config) SELECT member_id, 'organizer', NULL, ?, 1 FROM ({listed})",
            (to_iso(now), TELEGRAM, *ids),
        )


async def set_rank_optout(db: Database, member_id: int, optout: bool) -> None:
    await db.write("UPDATE members SET rank_optout = ? WHERE id = ?", (int(optout), member_id))


async def forget(db: Database, member_id: int, now: datetime) -> None:
    """Delete the member's personal data; the row stays, anonymous, so ledgers still add up.
    Their ranking scores leave their household's."""
    async with db.transaction() as tx:
        old_household = await tx.scalar(
            "SELECT household_id FROM members WHERE id = ?", (member_id,)
        )
        await points_db.move_household_scores(tx, member_id, old_household, None)
        await directory_db.forget_member(tx, member_id)
        await tx.execute("DELETE FROM member_roles WHERE member_id = ?", (member_id,))
        await honours_db.forget_member(tx, member_id)
        await accounts_db.delete_accounts(tx, member_id)
        await tx.execute(
            "UPDATE members SET name = '', username = NULL, locale = NULL,"
            " building_id = NULL, household_id = NULL, verified = 0, verified_by = NULL,"
            " verified_at = NULL, language_code = NULL, joined = 0, joined_at = NULL, referred_by = NULL, rank_optout = 1,"
            " private_chat = 0, blocked_at = NULL, forgotten_at = ? WHERE id = ?",
            (to_iso(now), member_id),
        )


async def members_of_building(db: Database | Tx, building_id: str) -> list[Member]:
    rows = await db.fetchall(
        _SELECT + " WHERE m.building_id = ? AND m.forgotten_at IS NULL ORDER BY m.id",
        (building_id,),
    )
    return [member_from_row(r) for r in rows]


async def members_with_role(db: Database | Tx, role: Role) -> list[Member]:
    rows = await db.fetchall(
        _SELECT + " WHERE m.forgotten_at IS NULL AND EXISTS (SELECT 1 FROM member_roles r"
        " WHERE r.member_id = m.id AND r.role = ?) ORDER BY m.id",
        (role.value,),
    )
    return [member_from_row(r) for r in rows]


async def building_leaders(db: Database | Tx, building_id: str) -> list[Member]:
    return [
        m for m in await members_with_role(db, Role.BUILDING_LEADER) if m.building_id == building_id
    ]


async def all_members(db: Database | Tx) -> list[Member]:
    """Every member not forgotten."""
    rows = await db.fetchall(_SELECT + " WHERE m.forgotten_at IS NULL ORDER BY m.id")
    return [member_from_row(r) for r in rows]


async def household_members(db: Database | Tx, household_id: int) -> list[Member]:
    rows = await db.fetchall(_SELECT + " WHERE m.household_id = ? ORDER BY m.id", (household_id,))
    return [member_from_row(r) for r in rows]


async def pending_verification(db: Database | Tx, building_id: str | None = None) -> list[Member]:
    """Joined residents waiting for their household to be confirmed (one building, or all)."""
    sql = _SELECT + (
        " WHERE m.joined = 1 AND m.verified = 0 AND m.household_id IS NOT NULL"
        " AND m.forgotten_at IS NULL"
    )
    params: tuple[str, ...] = ()
    if building_id is not None:
        sql += " AND m.building_id = ?"
        params = (building_id,)
    rows = await db.fetchall(sql + " ORDER BY m.id LIMIT 50", params)
    return [member_from_row(r) for r in rows]
