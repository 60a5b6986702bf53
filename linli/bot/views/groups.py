"""Groups' buttons: the /bind menu (a kind, then its target), and how a binding is named."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardMarkup

from linli.bot.buttons import button, pack
from linli.bot.common import building_label, keyboard, label, scope_names
from linli.bot.context import LinliContext
from linli.core.community import Binding, Community, NodeKind
from linli.core.members import BIND_BACK, BIND_ROLES, BindMenu


@button("g", "k")
@dataclass(frozen=True, slots=True)
class ChooseKind:
    """A kind of binding (a `NodeKind` value), or "back" to the kinds."""

    kind: str


@button("g", "b")
@dataclass(frozen=True, slots=True)
class ChooseTarget:
    """A target by index: compound (first), building (compound, building), role (first)."""

    kind: str
    first: int
    second: int


def describe(binding: Binding | None, community: Community, locale: str) -> dict[str, str]:
    """What a template needs to name a binding (or that there is none) in the reader's language."""
    if binding is None:
        return {"kind": "none", "name": "", "compound": ""}
    return scope_names(binding.kind, binding.target, community, locale)


def menu(
    context: LinliContext, locale: str, shown: BindMenu
) -> tuple[str, InlineKeyboardMarkup, dict[str, Any]]:
    """The /bind menu at `shown`: (template, keyboard, values)."""
    if shown.kind is None:
        return "groups/bind_choose", kinds_markup(context, locale), {}
    return ("groups/bind_target", targets_markup(context, locale, shown.kind),
            {"kind": shown.kind.value})  # fmt: skip


def kinds_markup(context: LinliContext, locale: str) -> InlineKeyboardMarkup:
    return keyboard(
        [[(label(context, locale, f"groups.kind_{k.value}"), pack(ChooseKind(k.value)))] for k in NodeKind]
    )  # fmt: skip


def targets_markup(context: LinliContext, locale: str, kind: NodeKind) -> InlineKeyboardMarkup:
    """One kind's targets, then back to the kinds."""
    community = context.services.community
    rows: list[list[tuple[str, str]]] = []
    if kind is NodeKind.COMPOUND:
        rows = [[(c.title(locale), pack(ChooseTarget("compound", ci, 0)))]
                for ci, c in enumerate(community.compounds)]  # fmt: skip
    elif kind is NodeKind.BUILDING:
        for ci, c in enumerate(community.compounds):
            row = [(building_label(context.services, locale, b.id), pack(ChooseTarget("building", ci, bi)))
                   for bi, b in enumerate(c.buildings)]  # fmt: skip
            rows += [row[i : i + 3] for i in range(0, len(row), 3)]
    elif kind is NodeKind.ROLE:
        rows = [[(label(context, locale, f"groups.role_{r.value}"), pack(ChooseTarget("role", ri, 0)))]
                for ri, r in enumerate(BIND_ROLES)]  # fmt: skip
    rows.append([(label(context, locale, "groups.back"), pack(ChooseKind(BIND_BACK)))])
    return keyboard(rows)
