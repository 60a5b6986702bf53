"""Polls' buttons, cards, ballots and the /newpoll questions; posting and refreshing cards.

The buttons (prefix "pl"; the data of buttons already in chats keeps working):
  k:<kind>  n:<picks>  a:<audience#>  d:<days>  t:<setting>  pv  pub  ed   /newpoll steps
  v:<poll>:<option>                   a vote for one option (proposal, single choice)
  o:<poll>                            send me the ballot in private chat
  m:<poll>:<mask>  ms:<poll>:<mask>   multiple choice: the picks so far (a bit mask), submit
  r:<poll>:<order> rs:<poll>:<order>  ranked choice: the order so far ("_" = none), submit
The ballot's state travels in the buttons themselves, so a restart loses nothing; whatever
arrives is checked again when the vote is cast.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError, TimedOut

from linli.bot import flows, outbox
from linli.bot.buttons import button, pack
from linli.bot.common import Actor, keyboard, label, scope_names, text
from linli.bot.context import LinliContext
from linli.bot.render import TELEGRAM_TEXT_LIMIT
from linli.core.community import Community
from linli.core.members import Audience
from linli.core.polls import (
    DAY_CHOICES,
    KIND_CODES,
    Poll,
    PollDraft,
    PollKind,
    PollSetup,
    Recorded,
    Tally,
    encode_order,
    picks_mask,
    poll_audiences,
    preview_poll,
    ranked_next,
)
from linli.core.proposals import Proposal
from linli.storage import groups as groups_db
from linli.storage import polls as polls_db

log = logging.getLogger(__name__)

FLOW = "newpoll"
OPTION_LABEL_CHARS = 40
ROUND_LABEL_CHARS = 12
Rows = list[list[tuple[str, str]]]


# --- The buttons -------------------------------------------------------------------------


@button("pl", "k")
@dataclass(frozen=True, slots=True)
class ChooseKind:
    """/newpoll: the kind of vote (a code of `KIND_CODES`)."""

    code: str


@button("pl", "n")
@dataclass(frozen=True, slots=True)
class ChoosePicks:
    """/newpoll, multiple choice: how many options a voter may pick."""

    count: int


@button("pl", "a")
@dataclass(frozen=True, slots=True)
class ChooseAudience:
    """/newpoll: who votes (an index into `poll_audiences`)."""

    index: int


@button("pl", "d")
@dataclass(frozen=True, slots=True)
class ChooseDays:
    """/newpoll: closes in so many days."""

    days: int


@button("pl", "t")
@dataclass(frozen=True, slots=True)
class Toggle:
    """/newpoll: switch a setting (a code of `SETTING_CODES`)."""

    setting: str


@button("pl", "pv")
@dataclass(frozen=True, slots=True)
class Preview:
    """/newpoll: the card as residents will see it."""


@button("pl", "pub")
@dataclass(frozen=True, slots=True)
class Publish:
    """/newpoll: publish the previewed poll."""


@button("pl", "ed")
@dataclass(frozen=True, slots=True)
class EditSettings:
    """/newpoll: back from the preview to the settings."""


@button("pl", "v")
@dataclass(frozen=True, slots=True)
class Vote:
    """A vote for one option, on a card (proposal, single choice) or a private ballot."""

    poll_id: int
    option: int


@button("pl", "o")
@dataclass(frozen=True, slots=True)
class OpenBallot:
    """Send me the ballot in private chat."""

    poll_id: int


@button("pl", "m")
@dataclass(frozen=True, slots=True)
class Pick:
    """Multiple choice: the ballot with these picks (a bit mask)."""

    poll_id: int
    mask: int


@button("pl", "ms")
@dataclass(frozen=True, slots=True)
class SubmitPicks:
    """Multiple choice: vote for these picks."""

    poll_id: int
    mask: int


@button("pl", "r")
@dataclass(frozen=True, slots=True)
class Rank:
    """Ranked choice: the ballot with this order so far (`encode_order`)."""

    poll_id: int
    order: str


@button("pl", "rs")
@dataclass(frozen=True, slots=True)
class SubmitRanking:
    """Ranked choice: vote this order."""

    poll_id: int
    order: str


# --- Cards -------------------------------------------------------------------------------


def audience_view(audience: Audience, community: Community, locale: str) -> dict[str, str]:
    """What templates need to name an audience in the reader's language: its kind, name and
    (for a building) compound."""
    return scope_names(audience.kind, audience.target, community, locale)


def option_labels(context: LinliContext, locale: str, poll: Poll) -> list[str]:
    if poll.kind is PollKind.PROPOSAL:
        return [label(context, locale, f"polls.{k}") for k in ("agree", "disagree", "abstain")]
    return list(poll.options)


def short(option: str, limit: int = OPTION_LABEL_CHARS) -> str:
    return option if len(option) <= limit else option[: limit - 1] + "…"


def _rounds(options: list[str], result: Tally) -> list[dict[str, Any]]:
    """The runoff's rounds, spelled out for the templates."""
    if result.runoff is None:
        return []
    return [
        {
            "counts": [
                {"label": short(options[o], ROUND_LABEL_CHARS), "count": c}
                for o, c in rnd.counts.items()
            ],
            "eliminated": options[rnd.eliminated] if rnd.eliminated is not None else None,
            "exhausted": rnd.exhausted,
        }
        for rnd in result.runoff.rounds
    ]


def card_values(context: LinliContext, locale: str, poll: Poll, result: Tally) -> dict[str, Any]:
    """What the card, result and outcome templates show."""
    now = context.services.now()
    options = option_labels(context, locale, poll)
    return {
        "poll": poll,
        "options": options,
        "audience": audience_view(poll.settings.audience, context.services.community, locale),
        "result": result,
        "leader": options[result.leader] if result.leader is not None else None,
        "rounds": _rounds(options, result),
        "visible": poll.results_visible(now),
        "is_open": poll.is_open(now),
    }


def card_markup(context: LinliContext, locale: str, poll: Poll) -> InlineKeyboardMarkup | None:
    """The buttons under a poll card in a group (none once closed)."""
    if not poll.is_open(context.services.now()):
        return None
    if poll.kind in (PollKind.PROPOSAL, PollKind.SINGLE):
        rows = _one_tap_rows(option_labels(context, locale, poll), poll)
        if poll.kind is PollKind.PROPOSAL:
            rows = [[row[0] for row in rows]]
        return keyboard(rows)
    return keyboard([[(label(context, locale, "polls.vote_private"), pack(OpenBallot(poll.id)))]])


async def render_card(
    context: LinliContext, locale: str, poll: Poll
) -> tuple[str, InlineKeyboardMarkup | None]:
    result = await polls_db.poll_tally(context.services.db, poll)
    body = text(context, locale, "polls/card", **card_values(context, locale, poll, result))
    return body, card_markup(context, locale, poll)


async def refresh_cards(context: LinliContext, locale: str, poll: Poll) -> None:
    """Every posted card of the poll shows it as it is now (turnout, counts, open or closed)."""
    body, markup = await render_card(context, locale, poll)
    for chat_id, message_id in await polls_db.posts(context.services.db, poll.id, "card"):
        if message_id is None:
            continue
        try:
            await context.bot.edit_message_text(
                body, chat_id=chat_id, message_id=message_id, reply_markup=markup
            )
        except (BadRequest, Forbidden) as exc:
            if "not modified" not in str(exc):
                log.info("poll %s card in %s not refreshed: %s", poll.id, chat_id, exc)
        except TelegramError:
            log.warning("poll %s card in %s not refreshed", poll.id, chat_id)


def list_markup(rows: list[dict[str, Any]]) -> InlineKeyboardMarkup | None:
    """/polls: a ballot button per open vote, marked if voted."""
    buttons = [
        [(("✅ " if r["voted"] else "🗳 ") + short(r["poll"].title), pack(OpenBallot(r["poll"].id)))]
        for r in rows
    ]
    return keyboard(buttons) if buttons else None


def reminder_markup(context: LinliContext, locale: str, poll: Poll) -> InlineKeyboardMarkup:
    return keyboard([[(label(context, locale, "polls.vote_now"), pack(OpenBallot(poll.id)))]])


# --- Ballots -----------------------------------------------------------------------------


def _one_tap_rows(labels: list[str], poll: Poll) -> Rows:
    return [[(short(lbl), pack(Vote(poll.id, i)))] for i, lbl in enumerate(labels)]


def _multiple_rows(
    context: LinliContext, locale: str, labels: list[str], poll: Poll, state: tuple[int, ...]
) -> Rows:
    mask = picks_mask(state)
    rows = [
        [(f"{'☑' if i in state else '☐'} {short(lbl)}", pack(Pick(poll.id, mask ^ (1 << i))))]
        for i, lbl in enumerate(labels)
    ]
    submit = label(context, locale, "polls.submit_picks", picked=len(state), max=poll.max_picks)
    rows.append([(submit, pack(SubmitPicks(poll.id, mask)))])
    return rows


def _ranked_rows(
    context: LinliContext, locale: str, labels: list[str], poll: Poll, state: tuple[int, ...]
) -> Rows:
    rank = len(state) + 1
    rows = [
        [(f"{rank}. {short(labels[i])}", pack(Rank(poll.id, encode_order(order))))]
        for i, order in ranked_next(state, len(labels))
    ]
    if state:
        undo = pack(Rank(poll.id, encode_order(state[:-1])))
        clear = pack(Rank(poll.id, "_"))
        submit = pack(SubmitRanking(poll.id, encode_order(state)))
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
    return keyboard(_one_tap_rows(labels, poll))


def voted_values(
    context: LinliContext, locale: str, poll: Poll, outcome: Recorded
) -> dict[str, Any]:
    """What the voter is shown of the vote that counted (a toast, and the ballot's new text)."""
    labels = option_labels(context, locale, poll)
    return {"outcome": outcome, "picked": [labels[i] for i in outcome.choice], "poll": poll}


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


# --- /newpoll: each step's question --------------------------------------------------------


def _kind_markup(context: LinliContext, locale: str) -> InlineKeyboardMarkup:
    return keyboard(
        [
            [(label(context, locale, f"polls.kind_{k.value}"), pack(ChooseKind(code)))]
            for code, k in KIND_CODES.items()
        ]
    )


def _picks_markup(setup: PollSetup) -> InlineKeyboardMarkup:
    return keyboard([[(str(n), pack(ChoosePicks(n))) for n in range(1, len(setup.options) + 1)]])


def _audience_markup(context: LinliContext, locale: str) -> InlineKeyboardMarkup:
    community = context.services.community
    rows = []
    for i, aud in enumerate(poll_audiences(community)):
        view = audience_view(aud, community, locale)
        rows.append(
            (label(context, locale, f"polls.aud_{view['kind']}", **view), pack(ChooseAudience(i)))
        )
    return keyboard([rows[i : i + 2] for i in range(0, len(rows), 2)])


def _days_markup(context: LinliContext, locale: str) -> InlineKeyboardMarkup:
    days = [
        (label(context, locale, "polls.in_days", days=d), pack(ChooseDays(d))) for d in DAY_CHOICES
    ]
    return keyboard([days[:2], days[2:]])


def _settings_markup(context: LinliContext, locale: str, setup: PollSetup) -> InlineKeyboardMarkup:
    def toggle(key: str, code: str) -> tuple[str, str]:
        mark = "✅" if getattr(setup, key) else "▫️"
        return f"{mark} {label(context, locale, f'polls.set_{key}')}", pack(Toggle(code))

    def setting(key: str, code: str, **values: Any) -> tuple[str, str]:
        return label(context, locale, key, **values), pack(Toggle(code))

    rows = [
        [toggle("verified_only", "v"), toggle("per_household", "h")],
        [toggle("secret", "s"), toggle("hide_results", "r")],
        [
            setting("polls.set_quorum", "q", pct=setup.quorum_pct),
            setting(f"polls.basis_{setup.quorum_basis.value}", "b"),
        ],
    ]
    if setup.kind is not PollKind.RANKED:
        rows.append([setting("polls.set_pass", "x", pct=setup.pass_pct)])
    rows.append([(label(context, locale, "polls.preview"), pack(Preview()))])
    return keyboard(rows)


def setup_question(
    context: LinliContext, locale: str, setup: PollSetup, step: str
) -> tuple[str, InlineKeyboardMarkup | None]:
    """What /newpoll asks (and the buttons to answer with) at `step`, up to the settings."""
    config = context.services.config.polls
    if step == "kind":
        return text(context, locale, "polls/ask_kind"), _kind_markup(context, locale)
    if step == "question":
        kind = setup.kind.value if setup.kind else ""
        return text(context, locale, "polls/ask_question", kind=kind), None
    if step == "options":
        return text(context, locale, "polls/ask_options", max=config.max_options), None
    if step == "picks":
        body = text(context, locale, "polls/ask_picks", count=len(setup.options))
        return body, _picks_markup(setup)
    if step == "audience":
        return text(context, locale, "polls/ask_audience"), _audience_markup(context, locale)
    if step == "closing":
        body = text(context, locale, "polls/ask_closing", default_days=config.default_days)
        return body, _days_markup(context, locale)
    return _settings(context, locale, setup)


def _settings(
    context: LinliContext, locale: str, setup: PollSetup
) -> tuple[str, InlineKeyboardMarkup | None]:
    assert setup.audience is not None and setup.closes_at is not None
    body = text(
        context,
        locale,
        "polls/settings",
        data=setup.to_data(),
        closes_at=setup.closes_at,
        audience=audience_view(setup.audience, context.services.community, locale),
    )
    return body, _settings_markup(context, locale, setup)


async def preview_message(
    context: LinliContext, actor: Actor, draft: PollDraft
) -> tuple[str, InlineKeyboardMarkup]:
    """The card exactly as residents will see it, where it goes, with Publish / Change settings."""
    services, locale = context.services, actor.locale
    eligible = await polls_db.count_eligible_now(services.db, draft.settings, services.community)
    groups = await group_targets(context, draft.settings.audience)
    number = await polls_db.next_poll_id(services.db)
    sample = preview_poll(draft, number, actor.member.id, services.now(), eligible)
    card, _ = await render_card(context, locale, sample)
    markup = keyboard(
        [
            [(label(context, locale, "polls.publish"), pack(Publish()))],
            [(label(context, locale, "polls.change_settings"), pack(EditSettings()))],
        ]
    )
    body = text(context, locale, "polls/preview", card=card, groups=len(groups), eligible=eligible)
    return body, markup


async def start_from_proposal(context: LinliContext, actor: Actor, proposal: Proposal) -> None:
    """An organizer opens a vote on a proposal: /newpoll starts at the closing time, in private."""
    setup = PollSetup(
        kind=PollKind.PROPOSAL,
        title=proposal.title,
        body=proposal.body,
        audience=proposal.audience,
        proposal_id=proposal.id,
    )
    body, markup = setup_question(context, actor.locale, setup, "closing")
    # Whether it arrives decides what the organizer is told, so it goes out at once, and
    # the flow starts only once it has (outbox.py: a send after a write is recorded).
    with outbox.sending_now():
        await context.bot.send_message(actor.user.id, body, reply_markup=markup)
    await flows.start_flow(context, actor.user.id, FLOW, "closing", **setup.to_data())


# --- Posting to groups (cards, results, outcome statements) ----------------------------------


async def group_targets(context: LinliContext, audience: Audience) -> list[int]:
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
