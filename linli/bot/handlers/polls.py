"""Polls: /newpoll (organizers) with a preview, voting on cards and private ballots, /polls, /outcome.

Callback data (prefix "pl"):
  k:<kind>  n:<picks>  a:<audience#>  d:<days>  t:<setting>  pv  pub  ed   /newpoll steps
  v:<poll>:<option>                   a vote for one option (proposal, single choice)
  o:<poll>                            send me the ballot in private chat
  m:<poll>:<mask>  ms:<poll>:<mask>   multiple choice: the picks so far (a bit mask), submit
  r:<poll>:<order> rs:<poll>:<order>  ranked choice: the order so far ("_" = none), submit
The ballot's state travels in the buttons themselves, so a restart loses nothing; whatever
arrives is checked again when the vote is cast.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, NetworkError, TimedOut
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from linli.bot import callbacks, flows, outbox
from linli.bot.commands import CommandSpec
from linli.bot.common import (
    Actor,
    answer,
    edit,
    is_private,
    keyboard,
    label,
    load_actor,
    refuse,
    reply,
    scope_names,
    text,
)
from linli.bot.context import LinliContext
from linli.bot.render import TELEGRAM_TEXT_LIMIT
from linli.core.clock import from_iso, to_iso
from linli.core.community import Community, NodeKind, Role
from linli.core.members import Audience
from linli.core.outcomes import Refused, RefusedError
from linli.core.polls import (
    Poll,
    PollDraft,
    PollKind,
    PollSettings,
    QuorumBasis,
    Recorded,
    Tally,
    check_draft,
    eligible,
    encode_order,
    mask_picks,
    next_setup_step,
    parse_closing,
    parse_options,
    parse_order,
    picks_mask,
    ranked_next,
    split_question,
)
from linli.storage import polls as polls_db
from linli.storage import proposals as proposals_db
from linli.storage.drafts import Draft

F = "pl"
FLOW = "newpoll"
KINDS = {"p": PollKind.PROPOSAL, "s": PollKind.SINGLE, "m": PollKind.MULTIPLE, "r": PollKind.RANKED}
QUORUM_STEPS = (0, 10, 20, 25, 30, 40, 50, 60, 75)
PASS_STEPS = (50, 60, 67, 75, 90)
DAY_CHOICES = (1, 3, 7, 14)
TEAM_ROLES = (
    Role.VOLUNTEER,
    Role.BUILDING_LEADER,
    Role.GRID_WORKER,
    Role.MOBILE_REPORTER,
    Role.PARTY_MEMBER,
    Role.ORGANIZER,
)
OPTION_LABEL_CHARS = 40
ROUND_LABEL_CHARS = 12
LIST_LIMIT = 12


# --- Shared rendering (also used by the jobs) ------------------------------------------------


def audiences(community: Community) -> list[Audience]:
    """Every audience a poll can have, in the order the /newpoll buttons list them."""
    found = [Audience(NodeKind.COMMUNITY)]
    for compound in community.compounds:
        found.append(Audience(NodeKind.COMPOUND, compound.id))
        found.extend(Audience(NodeKind.BUILDING, b.id) for b in compound.buildings)
    found.extend(Audience(NodeKind.ROLE, role.value) for role in TEAM_ROLES)
    return found


def audience_view(audience: Audience, community: Community) -> dict[str, str]:
    """What templates need to name an audience: its kind, name and (for a building) compound."""
    return scope_names(audience.kind, audience.target, community)


def option_labels(context: LinliContext, locale: str, poll: Poll) -> list[str]:
    if poll.kind is PollKind.PROPOSAL:
        return [label(context, locale, f"polls.{k}") for k in ("agree", "disagree", "abstain")]
    return list(poll.options)


def short(option: str, limit: int = OPTION_LABEL_CHARS) -> str:
    return option if len(option) <= limit else option[: limit - 1] + "…"


def card_values(context: LinliContext, locale: str, poll: Poll, result: Tally) -> dict[str, Any]:
    """What the card, result and outcome templates show (runoff rounds spelled out)."""
    now = context.services.now()
    options = option_labels(context, locale, poll)
    rounds = []
    if result.runoff is not None:
        for rnd in result.runoff.rounds:
            rounds.append(
                {
                    "counts": [
                        {"label": short(options[o], ROUND_LABEL_CHARS), "count": c}
                        for o, c in rnd.counts.items()
                    ],
                    "eliminated": options[rnd.eliminated] if rnd.eliminated is not None else None,
                    "exhausted": rnd.exhausted,
                }
            )
    return {
        "poll": poll,
        "options": options,
        "audience": audience_view(poll.settings.audience, context.services.community),
        "result": result,
        "leader": options[result.leader] if result.leader is not None else None,
        "rounds": rounds,
        "visible": poll.results_visible(now),
        "is_open": poll.is_open(now),
    }


def card_markup(context: LinliContext, locale: str, poll: Poll) -> InlineKeyboardMarkup | None:
    """The buttons under a poll card in a group (none once closed)."""
    if not poll.is_open(context.services.now()):
        return None
    if poll.kind in (PollKind.PROPOSAL, PollKind.SINGLE):
        rows = _one_tap_rows(option_labels(context, locale, poll), poll, ())
        if poll.kind is PollKind.PROPOSAL:
            rows = [[row[0] for row in rows]]
        return keyboard(rows)
    return keyboard(
        [[(label(context, locale, "polls.vote_private"), callbacks.pack(F, "o", poll.id))]]
    )


async def render_card(
    context: LinliContext, locale: str, poll: Poll
) -> tuple[str, InlineKeyboardMarkup | None]:
    result = await polls_db.poll_tally(context.services.db, poll)
    body = text(context, locale, "polls/card", **card_values(context, locale, poll, result))
    return body, card_markup(context, locale, poll)


Rows = list[list[tuple[str, str]]]


def _one_tap_rows(labels: list[str], poll: Poll, state: tuple[int, ...]) -> Rows:
    return [[(short(lbl), callbacks.pack(F, "v", poll.id, i))] for i, lbl in enumerate(labels)]


def _multiple_rows(
    context: LinliContext, locale: str, labels: list[str], poll: Poll, state: tuple[int, ...]
) -> Rows:
    mask = picks_mask(state)
    rows = [
        [
            (
                f"{'☑' if i in state else '☐'} {short(lbl)}",
                callbacks.pack(F, "m", poll.id, mask ^ (1 << i)),
            )
        ]
        for i, lbl in enumerate(labels)
    ]
    submit = label(context, locale, "polls.submit_picks", picked=len(state), max=poll.max_picks)
    rows.append([(submit, callbacks.pack(F, "ms", poll.id, mask))])
    return rows


def _ranked_rows(
    context: LinliContext, locale: str, labels: list[str], poll: Poll, state: tuple[int, ...]
) -> Rows:
    rank = len(state) + 1
    rows = [
        [(f"{rank}. {short(labels[i])}", callbacks.pack(F, "r", poll.id, encode_order(order)))]
        for i, order in ranked_next(state, len(labels))
    ]
    if state:
        undo = callbacks.pack(F, "r", poll.id, encode_order(state[:-1]))
        clear = callbacks.pack(F, "r", poll.id, "_")
        submit = callbacks.pack(F, "rs", poll.id, encode_order(state))
        rows.append(
            [
                (label(context, locale, "polls.undo"), undo),
                (label(context, locale, "polls.clear"), clear),
            ]
        )
        rows.append([(label(context, locale, "polls.submit_ranking"), submit)])
    return rows


def ballot_markup(
    context: LinliContext, locale: str, poll: Poll, state: tuple[int, ...]
) -> InlineKeyboardMarkup:
    """A private ballot: one tap per option, or picks / an order built up, then Submit."""
    labels = option_labels(context, locale, poll)
    if poll.kind is PollKind.MULTIPLE:
        return keyboard(_multiple_rows(context, locale, labels, poll, state))
    if poll.kind is PollKind.RANKED:
        return keyboard(_ranked_rows(context, locale, labels, poll, state))
    return keyboard(_one_tap_rows(labels, poll, state))


async def ballot_text(
    context: LinliContext, actor: Actor, poll: Poll, state: tuple[int, ...]
) -> str:
    mine = await polls_db.my_vote(context.services.db, poll, actor.member)
    return text(
        context,
        actor.locale,
        "polls/ballot",
        poll=poll,
        options=option_labels(context, actor.locale, poll),
        state=list(state),
        mine=mine,
        mine_is_me=mine is not None and mine.member_id == actor.member.id,
    )


# --- /newpoll ------------------------------------------------------------------------------


async def on_newpoll(update: Update, context: LinliContext) -> None:
    """/newpoll: an organizer sets up a poll step by step, in private chat."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    if not actor.is_organizer:
        await refuse(update, context, actor.locale, Refused("organizers_only"), "polls")
        return
    if not is_private(update):
        await refuse(update, context, actor.locale, Refused("private_only"), "polls")
        return
    await start_setup(context, actor, actor.user.id)


async def start_setup(context: LinliContext, actor: Actor, chat_id: int) -> None:
    await flows.start_flow(context, actor.user.id, FLOW, "kind", key=secrets.token_hex(8))
    buttons = [
        [(label(context, actor.locale, f"polls.kind_{k.value}"), callbacks.pack(F, "k", code))]
        for code, k in KINDS.items()
    ]
    await context.bot.send_message(
        chat_id, text(context, actor.locale, "polls/ask_kind"), reply_markup=keyboard(buttons)
    )


async def start_from_proposal(context: LinliContext, actor: Actor, proposal_id: int) -> bool:
    """An organizer opens a vote on a proposal: the setup starts at the closing time, in private."""
    proposal = await proposals_db.get_proposal(context.services.db, proposal_id)
    if proposal is None:
        return False
    await flows.start_flow(
        context,
        actor.user.id,
        FLOW,
        "closing",
        key=secrets.token_hex(8),
        kind=PollKind.PROPOSAL.value,
        title=proposal.title,
        body=proposal.body,
        options=[],
        audience=proposal.audience.encode(),
        proposal_id=proposal.id,
        max_picks=1,
    )
    await ask_closing(context, actor, actor.user.id)
    return True


async def ask_closing(context: LinliContext, actor: Actor, chat_id: int) -> None:
    days = [
        (label(context, actor.locale, "polls.in_days", days=d), callbacks.pack(F, "d", d))
        for d in DAY_CHOICES
    ]
    await context.bot.send_message(
        chat_id,
        text(
            context,
            actor.locale,
            "polls/ask_closing",
            default_days=context.services.config.polls.default_days,
        ),
        reply_markup=keyboard([days[:2], days[2:]]),
    )


async def on_setup_input(update: Update, context: LinliContext, actor: Actor, draft: Draft) -> None:
    """Typed answers in /newpoll: the question, the options, a closing time."""
    message = update.effective_message
    typed = message.text if message is not None and message.text else None
    if typed is None:
        await reply(update, context, actor.locale, "polls/use_text")
        return
    step = _TYPED_STEPS.get(draft.step)
    if step is None:
        await reply(update, context, actor.locale, "polls/use_buttons")
        return
    await step(update, context, actor, draft, typed)


async def _typed_question(
    update: Update, context: LinliContext, actor: Actor, draft: Draft, typed: str
) -> None:
    parsed = split_question(typed)
    if isinstance(parsed, Refused):
        await refuse(update, context, actor.locale, parsed, "polls")
        return
    draft.data.update(title=parsed[0], body=parsed[1])
    step = next_setup_step(PollKind(draft.data["kind"]), "question")
    if step == "audience":  # a proposal: agree, disagree, abstain
        draft.data["options"] = []
        await ask_audience(update, context, actor, draft)
        return
    await flows.save(context, draft, step)
    max_options = context.services.config.polls.max_options
    await reply(update, context, actor.locale, "polls/ask_options", max=max_options)


async def _typed_options(
    update: Update, context: LinliContext, actor: Actor, draft: Draft, typed: str
) -> None:
    options = parse_options(typed, context.services.config.polls.max_options)
    if isinstance(options, Refused):
        await refuse(update, context, actor.locale, options, "polls")
        return
    draft.data["options"] = list(options)
    step = next_setup_step(PollKind(draft.data["kind"]), "options")
    if step == "audience":  # one pick each
        draft.data["max_picks"] = 1
        await ask_audience(update, context, actor, draft)
        return
    await flows.save(context, draft, step)
    rows = [[(str(n), callbacks.pack(F, "n", n)) for n in range(1, len(options) + 1)]]
    await reply(
        update, context, actor.locale, "polls/ask_picks", keyboard(rows), count=len(options)
    )


async def _typed_closing(
    update: Update, context: LinliContext, actor: Actor, draft: Draft, typed: str
) -> None:
    services = context.services
    when = parse_closing(typed, services.config.tz, services.now())
    if isinstance(when, Refused):
        await refuse(update, context, actor.locale, when, "polls")
        return
    draft.data["closes_at"] = to_iso(when)
    await show_settings(update, context, actor, draft, new_message=True)


# The /newpoll steps that take typed text (the others take buttons).
_TYPED_STEPS: dict[str, Callable[[Update, LinliContext, Actor, Draft, str], Awaitable[None]]] = {
    "question": _typed_question,
    "options": _typed_options,
    "closing": _typed_closing,
}


async def ask_audience(update: Update, context: LinliContext, actor: Actor, draft: Draft) -> None:
    await flows.save(context, draft, "audience")
    community = context.services.community
    rows = []
    for i, aud in enumerate(audiences(community)):
        view = audience_view(aud, community)
        name = label(context, actor.locale, f"polls.aud_{view['kind']}", **view)
        rows.append((name, callbacks.pack(F, "a", i)))
    grid = [rows[i : i + 2] for i in range(0, len(rows), 2)]
    await reply(update, context, actor.locale, "polls/ask_audience", keyboard(grid))


def settings_markup(
    context: LinliContext, locale: str, data: dict[str, Any]
) -> InlineKeyboardMarkup:
    def toggle(key: str, code: str) -> tuple[str, str]:
        mark = "✅" if data.get(key) else "▫️"
        return f"{mark} {label(context, locale, f'polls.set_{key}')}", callbacks.pack(F, "t", code)

    basis = label(context, locale, f"polls.basis_{data.get('quorum_basis', 'voters')}")
    rows = [
        [toggle("verified_only", "v"), toggle("per_household", "h")],
        [toggle("secret", "s"), toggle("hide_results", "r")],
        [
            (
                label(context, locale, "polls.set_quorum", pct=data.get("quorum_pct", 0)),
                callbacks.pack(F, "t", "q"),
            ),
            (basis, callbacks.pack(F, "t", "b")),
        ],
    ]
    if data["kind"] != PollKind.RANKED.value:
        rows.append(
            [
                (
                    label(context, locale, "polls.set_pass", pct=data.get("pass_pct", 50)),
                    callbacks.pack(F, "t", "x"),
                )
            ]
        )
    rows.append([(label(context, locale, "polls.preview"), callbacks.pack(F, "pv"))])
    return keyboard(rows)


async def show_settings(
    update: Update, context: LinliContext, actor: Actor, draft: Draft, *, new_message: bool
) -> None:
    for key, default in (
        ("verified_only", True),
        ("per_household", False),
        ("secret", False),
        ("hide_results", False),
        ("quorum_pct", 0),
        ("quorum_basis", "voters"),
        ("pass_pct", 50),
    ):
        draft.data.setdefault(key, default)
    await flows.save(context, draft, "settings")
    values = {
        "data": draft.data,
        "closes_at": from_iso(draft.data["closes_at"]),
        "audience": audience_view(
            Audience.decode(draft.data["audience"]), context.services.community
        ),
    }
    markup = settings_markup(context, actor.locale, draft.data)
    if new_message or update.callback_query is None:
        await reply(update, context, actor.locale, "polls/settings", markup, **values)
    else:
        body = text(context, actor.locale, "polls/settings", **values)
        await edit(update.callback_query, body, markup)


def draft_of(data: dict[str, Any]) -> PollDraft:
    settings = PollSettings(
        audience=Audience.decode(data["audience"]),
        verified_only=bool(data["verified_only"]),
        per_household=bool(data["per_household"]),
        secret=bool(data["secret"]),
        hide_results=bool(data["hide_results"]),
        quorum_pct=int(data["quorum_pct"]),
        quorum_basis=QuorumBasis(data["quorum_basis"]),
        pass_pct=int(data["pass_pct"]),
    )
    return PollDraft(
        kind=PollKind(data["kind"]),
        title=data["title"],
        body=data["body"],
        options=tuple(data["options"]),
        max_picks=int(data.get("max_picks", 1)),
        closes_at=from_iso(data["closes_at"]),
        settings=settings,
    )


def _cycle(steps: tuple[int, ...], current: int) -> int:
    later = [s for s in steps if s > current]
    return later[0] if later else steps[0]


async def on_setup_button(update: Update, context: LinliContext) -> None:
    """A button in /newpoll: kind, picks, audience, closing, a setting, preview, publish."""
    query = update.callback_query
    actor = await load_actor(update, context)
    if query is None or actor is None:
        return
    draft = await flows.current(context, actor.user.id)
    parsed = callbacks.unpack(query.data, F, str) or callbacks.unpack(query.data, F)
    if draft is None or draft.flow != FLOW or parsed is None or not actor.is_organizer:
        await answer(update, context, actor.locale, "common/stale_button", alert=True)
        return
    refused = await setup_step(
        update, context, actor, draft, parsed[0], parsed[1] if len(parsed) > 1 else ""
    )
    if refused is not None:
        await refuse(update, context, actor.locale, refused, "polls")
    else:
        await answer(update, context, actor.locale)


async def setup_step(
    update: Update, context: LinliContext, actor: Actor, draft: Draft, action: str, arg: str
) -> Refused | None:
    query = update.callback_query
    assert query is not None
    data = draft.data
    services = context.services
    number = int(arg) if arg.isdigit() and len(arg) < 4 else -1
    choices = audiences(services.community)
    if action == "k" and draft.step == "kind" and arg in KINDS:
        data["kind"] = KINDS[arg].value
        await flows.save(context, draft, "question")
        await edit(query, text(context, actor.locale, "polls/ask_question", kind=data["kind"]))
    elif action == "n" and draft.step == "picks" and 1 <= number <= len(data["options"]):
        data["max_picks"] = number
        await ask_audience(update, context, actor, draft)
    elif action == "a" and draft.step == "audience" and 0 <= number < len(choices):
        data["audience"] = choices[number].encode()
        await flows.save(context, draft, "closing")
        await ask_closing(context, actor, actor.user.id)
    elif action == "d" and draft.step == "closing" and number in DAY_CHOICES:
        data["closes_at"] = to_iso(services.now() + timedelta(days=number))
        await show_settings(update, context, actor, draft, new_message=True)
    elif action == "t" and draft.step == "settings" and arg in {"v", "h", "s", "r", "q", "b", "x"}:
        flags = {"v": "verified_only", "h": "per_household", "s": "secret", "r": "hide_results"}
        if arg in flags:
            data[flags[arg]] = not data[flags[arg]]
        elif arg == "q":
            data["quorum_pct"] = _cycle(QUORUM_STEPS, int(data["quorum_pct"]))
        elif arg == "x":
            data["pass_pct"] = _cycle(PASS_STEPS, int(data["pass_pct"]))
        else:
            data["quorum_basis"] = "households" if data["quorum_basis"] == "voters" else "voters"
        await show_settings(update, context, actor, draft, new_message=False)
    elif action == "pv" and draft.step in ("settings", "preview"):
        return await show_preview(update, context, actor, draft)
    elif action == "ed" and draft.step == "preview":
        await show_settings(update, context, actor, draft, new_message=False)
    elif action == "pub" and draft.step == "preview":
        return await publish(update, context, actor, draft)
    else:
        return Refused("stale_step")
    return None


async def show_preview(
    update: Update, context: LinliContext, actor: Actor, draft: Draft
) -> Refused | None:
    """The card exactly as residents will see it, with Publish / Change settings."""
    poll_draft = draft_of(draft.data)
    services = context.services
    refused = check_draft(poll_draft, services.now(), services.config.polls.max_options)
    if refused is not None:
        return refused
    await flows.save(context, draft, "preview")
    eligible_count = await polls_db.count_eligible_now(
        services.db, poll_draft.settings, services.community
    )
    groups = await group_targets(context, poll_draft.settings.audience)
    number = await polls_db.next_poll_id(services.db)
    sample = preview_poll(poll_draft, number, actor.member.id, services.now(), eligible_count)
    card, _ = await render_card(context, actor.locale, sample)
    markup = keyboard(
        [
            [(label(context, actor.locale, "polls.publish"), callbacks.pack(F, "pub"))],
            [(label(context, actor.locale, "polls.change_settings"), callbacks.pack(F, "ed"))],
        ]
    )
    await reply(
        update,
        context,
        actor.locale,
        "polls/preview",
        markup,
        card=card,
        groups=len(groups),
        eligible=eligible_count,
    )
    return None


def preview_poll(d: PollDraft, number: int, by: int, now: datetime, eligible_count: int) -> Poll:
    """The poll as it will be published, with the number it will get."""
    return Poll(
        id=number,
        kind=d.kind,
        title=d.title,
        body=d.body,
        options=d.options,
        max_picks=d.max_picks,
        settings=d.settings,
        closes_at=d.closes_at,
        created_by=by,
        created_at=now,
        eligible=eligible_count,
    )


async def publish(
    update: Update, context: LinliContext, actor: Actor, draft: Draft
) -> Refused | None:
    """Publish (once, whatever the taps): create the poll and post its card to the groups."""
    services = context.services
    poll_draft = draft_of(draft.data)
    refused = check_draft(poll_draft, services.now(), services.config.polls.max_options)
    if refused is not None:
        return refused
    count = await polls_db.count_eligible_now(services.db, poll_draft.settings, services.community)
    try:
        poll, created = await polls_db.create_poll(
            services.db,
            poll_draft,
            created_by=actor.member.id,
            key=f"{actor.user.id}:{draft.data['key']}",
            eligible=count,
            now=services.now(),
            proposal_id=draft.data.get("proposal_id"),
        )
    except RefusedError as exc:
        await flows.end_flow(context, actor.user.id, FLOW)
        return exc.refused
    await flows.end_flow(context, actor.user.id, FLOW)
    if update.callback_query is not None:
        await edit(
            update.callback_query, text(context, actor.locale, "polls/publishing", poll=poll)
        )
    sent = await deliver(context, poll, "card") if created else 0
    await reply(update, context, actor.locale, "polls/published", poll=poll, groups=sent)
    if created and poll.proposal_id is not None:
        from linli.bot.handlers import proposals

        await proposals.announce_opened(context, poll.proposal_id, poll)
    return None


# --- Posting to groups (cards, results, outcome statements) ----------------------------------


async def group_targets(context: LinliContext, audience: Audience) -> list[int]:
    from linli.storage import groups as groups_db

    found = await groups_db.groups_for_audience(
        context.services.db, audience, context.services.community
    )
    return [g.chat_id for g in found]


async def deliver(context: LinliContext, poll: Poll, kind: str) -> int:
    """Post the poll's card / result / outcome to every target chat that does not have it yet.

    Each chat is claimed before the send, so a restart, a crash mid-send or a second tick
    sends nothing twice (a crash at that instant loses that one post instead); a chat that
    refuses (the bot was removed) keeps its claim and is not retried; a passing failure
    gives the claim back for the next tick. Returns the number of chats that received it now.
    """
    services = context.services
    targets = await group_targets(context, poll.settings.audience)
    organizers = services.config.organizers.group_chat_id
    if kind != "card" and organizers is not None and organizers not in targets:
        targets.append(organizers)
    done = {chat for chat, _ in await polls_db.posts(services.db, poll.id, kind)}
    locale = services.config.community.default_locale
    sent = 0
    failed = False
    for chat_id in targets:
        if chat_id in done:
            continue
        if not await polls_db.claim_post(services.db, poll.id, kind, chat_id, services.now()):
            continue
        body, markup = await post_body(context, locale, poll, kind)
        try:
            message = await context.bot.send_message(chat_id, body, reply_markup=markup)
        except Forbidden:
            continue  # the bot is not in that chat: the claim stays, it is not retried
        except BadRequest as exc:
            if "chat not found" not in str(exc).lower():
                await polls_db.release_post(services.db, poll.id, kind, chat_id)
                failed = True
            continue
        except TimedOut:
            continue  # it may have arrived: keep the claim rather than risk a second post
        except NetworkError:
            await polls_db.release_post(services.db, poll.id, kind, chat_id)
            failed = True
            continue
        await polls_db.set_post_message(services.db, poll.id, kind, chat_id, message.message_id)
        sent += 1
    if not failed:
        await polls_db.mark_posted_everywhere(services.db, poll.id, kind)
    return sent


async def post_body(
    context: LinliContext, locale: str, poll: Poll, kind: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    if kind == "card":
        return await render_card(context, locale, poll)
    result = await polls_db.poll_tally(context.services.db, poll)
    values = card_values(context, locale, poll, result)
    body = text(context, locale, f"polls/{kind}", **values)
    if len(body) > TELEGRAM_TEXT_LIMIT:
        # Ten options over ten runoff rounds can outgrow one message: keep the last round.
        values["rounds"] = values["rounds"][-1:]
        body = text(context, locale, f"polls/{kind}", **values)
    return body[:TELEGRAM_TEXT_LIMIT], None


# --- Voting ----------------------------------------------------------------------------------


async def on_vote_button(update: Update, context: LinliContext) -> None:
    """Any voting button: one tap votes (v), a private ballot (o), picks (m/ms), an order (r/rs)."""
    query = update.callback_query
    actor = await load_actor(update, context)
    if query is None or actor is None:
        return
    parsed = callbacks.unpack(query.data, F, int, str) or callbacks.unpack(query.data, F, int)
    poll = await polls_db.get_poll(context.services.db, parsed[1]) if parsed else None
    route = _VOTE_BUTTONS.get(parsed[0]) if parsed else None
    extra = parsed[2] if parsed and len(parsed) > 2 else None
    if (
        parsed is None
        or poll is None
        or route is None
        or not await route(update, context, actor, poll, parsed[0], extra)
    ):
        await answer(update, context, actor.locale, "common/stale_button", alert=True)


async def _vote_open(
    update: Update, context: LinliContext, actor: Actor, poll: Poll, action: str, extra: str | None
) -> bool:
    await send_ballot(update, context, actor, poll)
    return True


async def _vote_one(
    update: Update, context: LinliContext, actor: Actor, poll: Poll, action: str, extra: str | None
) -> bool:
    if extra is None or not extra.isdigit():
        return False
    await cast(update, context, actor, poll, (int(extra),))
    return True


async def _vote_picks(
    update: Update, context: LinliContext, actor: Actor, poll: Poll, action: str, extra: str | None
) -> bool:
    """ms submits the picks; m shows the ballot with them (if not too many)."""
    if extra is None or not extra.isdigit() or poll.kind is not PollKind.MULTIPLE:
        return False
    picks = mask_picks(int(extra), poll.option_count)
    if picks is None:
        return False
    if action == "ms":
        await cast(update, context, actor, poll, picks)
    elif len(picks) > poll.max_picks:
        detail = {"max": poll.max_picks}
        await answer(
            update,
            context,
            actor.locale,
            "polls/refused",
            alert=True,
            reason="too_many_picks",
            detail=detail,
        )
    else:
        await show_ballot(update, context, actor, poll, picks)
    return True


async def _vote_order(
    update: Update, context: LinliContext, actor: Actor, poll: Poll, action: str, extra: str | None
) -> bool:
    """rs submits the order; r shows the ballot with it."""
    order = parse_order(extra, poll.option_count) if extra is not None else None
    if order is None or poll.kind is not PollKind.RANKED:
        return False
    if action == "rs":
        await cast(update, context, actor, poll, order)
    else:
        await show_ballot(update, context, actor, poll, order)
    return True


VoteButton = Callable[[Update, LinliContext, Actor, Poll, str, str | None], Awaitable[bool]]
# Each says whether it took the button; anything it does not take is answered as stale.
_VOTE_BUTTONS: dict[str, VoteButton] = {
    "o": _vote_open,
    "v": _vote_one,
    "m": _vote_picks,
    "ms": _vote_picks,
    "r": _vote_order,
    "rs": _vote_order,
}


async def show_ballot(
    update: Update, context: LinliContext, actor: Actor, poll: Poll, state: tuple[int, ...]
) -> None:
    """Redraw the private ballot with the picks or order so far."""
    if not poll.is_open(context.services.now()):
        await refuse(
            update, context, actor.locale, Refused("poll_closed", {"poll": poll.id}), "polls"
        )
        return
    await answer(update, context, actor.locale)
    if update.callback_query is not None:
        await edit(
            update.callback_query,
            await ballot_text(context, actor, poll, state),
            ballot_markup(context, actor.locale, poll, state),
        )


async def send_ballot(update: Update, context: LinliContext, actor: Actor, poll: Poll) -> None:
    """Send the member their own ballot in private chat (after checking they may vote)."""
    services = context.services
    refused = None if poll.is_open(services.now()) else Refused("poll_closed", {"poll": poll.id})
    refused = refused or eligible(poll, actor.member, services.community)
    if refused is not None:
        await refuse(update, context, actor.locale, refused, "polls")
        return
    body = await ballot_text(context, actor, poll, ())
    try:
        await context.bot.send_message(
            actor.user.id, body, reply_markup=ballot_markup(context, actor.locale, poll, ())
        )
    except (Forbidden, BadRequest):
        await answer(update, context, actor.locale, "polls/open_private_first", alert=True)
        return
    if not is_private(update):
        await answer(update, context, actor.locale, "polls/ballot_sent")
    else:
        await answer(update, context, actor.locale)


async def cast(
    update: Update, context: LinliContext, actor: Actor, poll: Poll, choice: tuple[int, ...]
) -> None:
    """Record the vote (eligibility checked now, in the same transaction) and say what counted."""
    services = context.services
    if poll.settings.secret:  # what the voter is shown of their choice is never written down
        outbox.keep_off_disk(actor.user.id)
    result = await polls_db.cast_vote(
        services.db, poll.id, actor.member, choice, services.community, services.now()
    )
    if isinstance(result, Refused):
        await refuse(update, context, actor.locale, result, "polls")
        return
    if isinstance(result.outcome, Refused):
        await refuse(update, context, actor.locale, result.outcome, "polls")
        return
    outcome: Recorded = result.outcome
    labels = option_labels(context, actor.locale, poll)
    picked = [labels[i] for i in outcome.choice]
    await answer(
        update,
        context,
        actor.locale,
        "polls/voted_toast",
        outcome=outcome,
        picked=picked,
        poll=poll,
    )
    if is_private(update) and update.callback_query is not None:
        await edit(
            update.callback_query,
            text(context, actor.locale, "polls/voted", outcome=outcome, picked=picked, poll=poll),
            None,
        )


# --- /polls and /outcome ---------------------------------------------------------------------


async def on_polls(update: Update, context: LinliContext) -> None:
    """/polls: the open polls this member may vote in, those not yet voted in marked."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    services = context.services
    rows: list[dict[str, Any]] = []
    for poll in await polls_db.open_polls(services.db):
        if (
            not poll.is_open(services.now())
            or eligible(poll, actor.member, services.community) is not None
        ):
            continue
        mine = await polls_db.my_vote(services.db, poll, actor.member)
        rows.append({"poll": poll, "voted": mine is not None})
    rows = rows[:LIST_LIMIT]  # 12 titles of at most 200 characters fit one message
    buttons = [
        [
            (
                ("✅ " if r["voted"] else "🗳 ") + short(r["poll"].title),
                callbacks.pack(F, "o", r["poll"].id),
            )
        ]
        for r in rows
    ]
    await reply(
        update,
        context,
        actor.locale,
        "polls/list",
        keyboard(buttons) if buttons else None,
        rows=rows,
    )


async def on_outcome(update: Update, context: LinliContext) -> None:
    """/outcome <poll> <statement>: an organizer's outcome statement, posted where the result was."""
    actor = await load_actor(update, context)
    if actor is None:
        return
    if not actor.is_organizer:
        await refuse(update, context, actor.locale, Refused("organizers_only"), "polls")
        return
    message = update.effective_message
    parts = (message.text or "").split(maxsplit=2) if message else []
    poll_ref = parts[1].lstrip("#") if len(parts) > 1 else ""
    statement = parts[2].strip() if len(parts) > 2 else ""
    if not poll_ref.isdigit() or not statement or len(statement) > 2000:
        await refuse(update, context, actor.locale, Refused("outcome_usage"), "polls")
        return
    services = context.services
    poll = await polls_db.set_outcome(
        services.db, int(poll_ref), statement, actor.member.id, services.now()
    )
    if isinstance(poll, Refused):
        await refuse(update, context, actor.locale, poll, "polls")
        return
    sent = await deliver(context, poll, "outcome")
    await reply(update, context, actor.locale, "polls/outcome_posted", poll=poll, groups=sent)


flows.register_flow(FLOW, on_setup_input)

HANDLERS: list[BaseHandler[Any, Any, Any]] = [
    CommandHandler("newpoll", on_newpoll),
    CommandHandler("polls", on_polls),
    CommandHandler("outcome", on_outcome),
    # Setup buttons (one short action) and voting buttons (with a poll id) share the prefix.
    CallbackQueryHandler(on_setup_button, pattern=r"^pl:(k|n|a|d|t|pv|ed|pub)(:|$)"),
    CallbackQueryHandler(on_vote_button, pattern=r"^pl:(v|o|m|ms|r|rs):"),
]
COMMANDS: list[CommandSpec] = [
    CommandSpec("polls", "polls", private=True, group=True),
    CommandSpec("newpoll", "polls", role=Role.ORGANIZER),
    CommandSpec("outcome", "polls", role=Role.ORGANIZER),
]
