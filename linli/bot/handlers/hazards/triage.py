"""Triage: an organizer or the building's leader presses a card's button, then writes a short
note in private (a rejection must say why); the cards and the reporter hear of it."""

from __future__ import annotations

from telegram import Update

from linli.bot import flows
from linli.bot.common import Actor, answer, label, locale_of, notify, refuse, reply
from linli.bot.context import LinliContext
from linli.bot.handlers.hazards.shared import FEATURE, ROUTER, TRIAGE_FLOW, drop_keyboard, say_no
from linli.bot.views import hazards as views
from linli.core import hazards as rules
from linli.core.hazards import Action, Report, TriageNote
from linli.core.members import can_triage_building
from linli.core.outcomes import Refused, RefusedError
from linli.storage import hazards as hazards_db
from linli.storage import members as members_db
from linli.storage import points as points_db
from linli.storage.db import Tx
from linli.storage.drafts import Draft


@ROUTER.on(views.Triage)
async def on_triage(
    update: Update, context: LinliContext, actor: Actor, pressed: views.Triage
) -> None:
    """A card's button: if this member may, ask for the note in their private chat."""
    action = next((a for a in Action if a.value == pressed.action), None)
    if action is None:
        await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return
    report = await hazards_db.get_report(context.services.db, pressed.report_id)
    refused = rules.may_triage(actor.member, report, action)
    if refused is not None:
        await refuse(update, context, actor.locale, refused, FEATURE)
        if report is not None and refused.reason == "not_allowed_now":
            await views.refresh_cards(context, report)  # the card was behind: show where it is
        return
    assert report is not None
    await _ask_note(update, context, actor, report, action)


async def _ask_note(
    update: Update, context: LinliContext, actor: Actor, report: Report, action: Action
) -> None:
    name = label(context, actor.locale, f"hazards.act_{action.value}")
    values = {"code": report.code, "action": action.value, "action_name": name}
    flow = (TRIAGE_FLOW, "note", TriageNote(report.id, action).to_data())
    markup = views.note_markup(context, actor.locale, action)
    if await flows.ask_privately(
        update, context, actor, flow, FEATURE, "hazards/ask_note", markup, **values
    ):
        await answer(update, context, actor.locale, "hazards/note_asked", code=report.code)


async def on_triage_note(update: Update, context: LinliContext, actor: Actor, draft: Draft) -> None:
    """The note a triager types after pressing a card's button."""
    message = update.effective_message
    if message is None or message.text is None:
        await reply(update, context, actor.locale, "hazards/use_buttons", step="note", kind="other")
        return
    await _apply(update, context, actor, draft, message.text)


@ROUTER.on(views.NoNote)
async def on_no_note(
    update: Update, context: LinliContext, actor: Actor, pressed: views.NoNote
) -> None:
    """No note: the action as it is."""
    draft = await flows.current(context, actor.user.id)
    if draft is None or draft.flow != TRIAGE_FLOW:
        await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return
    await answer(update, context, actor.locale)
    await drop_keyboard(update)
    await _apply(update, context, actor, draft, "")


async def _apply(
    update: Update, context: LinliContext, actor: Actor, draft: Draft, raw_note: str
) -> None:
    """The report moves on (checked again now: roles or the report may have changed)."""
    wanted = TriageNote.from_data(draft.data)
    note = rules.triage_note(wanted.action, raw_note)
    if isinstance(note, Refused):
        await say_no(update, context, actor.locale, note)  # the flow stays: write it again
        return
    done = await _triage(context, actor, wanted, note)
    await flows.end_flow(context, actor.user.id, TRIAGE_FLOW)
    if isinstance(done, Refused):
        await say_no(update, context, actor.locale, done)
        return
    await _triaged(update, context, actor, done)


async def _triage(
    context: LinliContext, actor: Actor, wanted: TriageNote, note: str
) -> hazards_db.Triaged | Refused:
    services = context.services
    report = await hazards_db.get_report(services.db, wanted.report_id)
    if report is None or not can_triage_building(actor.member, report.building_id):
        return Refused("not_triager", {"code": report.code if report else "?"})
    try:
        return await hazards_db.triage(
            services.db, report.id, wanted.action, actor_id=actor.member.id, note=note,
            now=services.now(), award=_award(context),
            duplicate_of=rules.duplicate_of(wanted.action, note),
        )  # fmt: skip
    except RefusedError as exc:
        return exc.refused


def _award(context: LinliContext) -> hazards_db.Award:
    """Points for the reporter, inside the triage transaction, once per report (by key)."""
    config, now = context.services.config, context.services.now()

    async def award(tx: Tx, report: Report) -> int:
        assert report.reporter_id is not None
        credited = 0
        for rule, key in rules.verification_awards(report):
            credited += await points_db.earn(
                tx, member_id=report.reporter_id, rule=rule, reference=report.code, key=key,
                rules=config.points.earn_rules(config.tz), now=now,
            )  # fmt: skip
        return credited

    return award


async def _triaged(
    update: Update, context: LinliContext, actor: Actor, done: hazards_db.Triaged
) -> None:
    """Tell the triager, every card, and the reporter (if named)."""
    view = views.report_view(context, done.report, actor.locale)
    await reply(update, context, actor.locale, "hazards/triaged", r=view, points=done.points)
    await views.refresh_cards(context, done.report)
    if done.report.reporter_id is None:
        return
    member = await members_db.get_member(context.services.db, done.report.reporter_id)
    if member is not None:
        locale = locale_of(member, context.services)
        view = views.report_view(context, done.report, locale)
        await notify(context, member, "hazards/status_changed", r=view, points=done.points)
