"""Members' buttons, keyboards and how a member's home is named (joining, /me, verification)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardMarkup

from linli.bot.buttons import button, pack
from linli.bot.common import keyboard, label
from linli.bot.context import LinliContext
from linli.core.members import SUPPORTED_LOCALES, JoinDraft, JoinStep, Member
from linli.core.points import EarnRules

# --- joining (the "join" flow) ---------------------------------------------------------------


@button("m", "lang")
@dataclass(frozen=True, slots=True)
class Language:
    """A language, chosen first when joining (or from /me)."""

    locale: str


@button("m", "cp")
@dataclass(frozen=True, slots=True)
class Compound:
    """A compound, by its index in the community."""

    index: int


@button("m", "bd")
@dataclass(frozen=True, slots=True)
class Building:
    """A building, by its compound's index and its own index there."""

    compound: int
    index: int


@button("m", "bk")
@dataclass(frozen=True, slots=True)
class Back:
    """Back to the compounds (`to` is always "compound")."""

    to: str


@button("m", "sf")
@dataclass(frozen=True, slots=True)
class Staff:
    """An organizer joins as community staff, with no household."""


@button("m", "x")
@dataclass(frozen=True, slots=True)
class Cancel:
    """Stop joining."""


@button("m", "ok")
@dataclass(frozen=True, slots=True)
class Accept:
    """Accept the privacy notice: join."""


@button("m", "no")
@dataclass(frozen=True, slots=True)
class Decline:
    """Decline the privacy notice."""


# --- verification, /me, /forgetme ----------------------------------------------------------------


@button("m", "v")
@dataclass(frozen=True, slots=True)
class Verify:
    """Confirm a member's household."""

    member_id: int


@button("m", "me")
@dataclass(frozen=True, slots=True)
class Change:
    """From /me: change "lang" (language) or "home"."""

    what: str


@button("m", "fg")
@dataclass(frozen=True, slots=True)
class Forget:
    """Yes, delete my personal data."""


@button("m", "fgx")
@dataclass(frozen=True, slots=True)
class KeepData:
    """No, keep it."""


def language_markup(context: LinliContext) -> InlineKeyboardMarkup:
    """Each language named in itself."""
    return keyboard(
        [[(label(context, loc, "members.language_name"), pack(Language(loc))) for loc in SUPPORTED_LOCALES]]
    )  # fmt: skip


def compound_markup(context: LinliContext, locale: str, *, staff: bool) -> InlineKeyboardMarkup:
    """The compounds; with `staff`, also joining as staff with no home."""
    compounds = context.services.community.compounds
    rows = [[(c.title(locale), pack(Compound(i)))] for i, c in enumerate(compounds)]
    if staff:
        rows.append([(label(context, locale, "members.staff"), pack(Staff()))])
    rows.append([(label(context, locale, "members.cancel"), pack(Cancel()))])
    return keyboard(rows)


def building_markup(context: LinliContext, locale: str, compound: int) -> InlineKeyboardMarkup:
    """The compound's buildings, four a row, then back and cancel."""
    buildings = context.services.community.compounds[compound].buildings
    names = [
        (label(context, locale, "members.building", name=b.name), pack(Building(compound, i)))
        for i, b in enumerate(buildings)
    ]
    rows = [names[i : i + 4] for i in range(0, len(names), 4)]
    rows.append([(label(context, locale, "members.back"), pack(Back("compound"))),
                 (label(context, locale, "members.cancel"), pack(Cancel()))])  # fmt: skip
    return keyboard(rows)


def privacy_markup(context: LinliContext, locale: str) -> InlineKeyboardMarkup:
    return keyboard([[(label(context, locale, "members.accept"), pack(Accept())),
                      (label(context, locale, "members.decline"), pack(Decline()))]])  # fmt: skip


def verify_markup(context: LinliContext, locale: str, member_id: int) -> InlineKeyboardMarkup:
    """The Verify button under a join notice."""
    return keyboard([[(label(context, locale, "members.verify"), pack(Verify(member_id)))]])


def pending_markup(
    context: LinliContext, locale: str, waiting: list[Member]
) -> InlineKeyboardMarkup | None:
    """One Verify button per member waiting (None when nobody waits)."""
    rows = [
        [(label(context, locale, "members.verify_who", name=m.name[:24], unit=m.unit or ""),
          pack(Verify(m.id)))]
        for m in waiting
    ]  # fmt: skip
    return keyboard(rows) if rows else None


def me_markup(context: LinliContext, locale: str) -> InlineKeyboardMarkup:
    return keyboard([[(label(context, locale, "members.change_language"), pack(Change("lang"))),
                      (label(context, locale, "members.change_home"), pack(Change("home")))]])  # fmt: skip


def forget_markup(context: LinliContext, locale: str) -> InlineKeyboardMarkup:
    return keyboard([[(label(context, locale, "members.forget_yes"), pack(Forget())),
                      (label(context, locale, "members.forget_no"), pack(KeepData()))]])  # fmt: skip


def place(context: LinliContext, member: Member) -> dict[str, str]:
    """A member's home as the templates name it (empty parts when they have none)."""
    community = context.services.community
    building = community.building(member.building_id) if member.building_id else None
    compound = community.compound(building.compound_id) if building else None
    return {
        "compound": compound.name if compound else "",
        "compound_en": compound.title("en") if compound else "",
        "building": building.name if building else "",
        "unit": member.unit or "",
    }


def earn_rules(context: LinliContext) -> EarnRules:
    """The points rules (a referral earns when the newcomer is verified)."""
    return context.services.config.points.earn_rules(context.services.config.tz)


def question(
    context: LinliContext, locale: str, join: JoinDraft, *, staff: bool = False, intro: bool = False
) -> tuple[str, InlineKeyboardMarkup | None, dict[str, Any]]:
    """What joining asks at `join`'s step: (template, keyboard, values). `staff`: also offer
    joining as staff among the compounds; `intro`: the language question opens with a welcome."""
    community = context.services.community
    compound = community.compounds[join.compound] if join.compound is not None else None
    title = compound.title(locale) if compound else ""
    if join.step is JoinStep.LANGUAGE:
        return ("members/ask_language", language_markup(context),
                {"community": community.title(locale), "intro": intro})  # fmt: skip
    if join.step is JoinStep.COMPOUND:
        return "members/ask_compound", compound_markup(context, locale, staff=staff), {}
    if join.step is JoinStep.BUILDING and join.compound is not None:
        return ("members/ask_building", building_markup(context, locale, join.compound),
                {"compound": title})  # fmt: skip
    if join.step is JoinStep.UNIT:
        building = community.building(join.building) if join.building else None
        values = {"compound": title, "building": building.name if building else ""}
        return "members/ask_unit", None, values
    return "members/privacy_notice", privacy_markup(context, locale), {"rider": join.without_home}
