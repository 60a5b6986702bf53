"""Recognition's buttons, keyboards, names, posts to groups and the honours-roll picture
(shared by its handlers and jobs).

Every post to a group is claimed in `honours_posts` before it is sent (CONTRIBUTING: claim,
then send), so a restart, a second tick or a second process never posts one twice; inside
a handler the sends are recorded in the outbox with the claim.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, ChatMigrated, Forbidden, TelegramError, TimedOut

from linli.bot.buttons import button, pack
from linli.bot.charts import drawable, families, find_cjk_font
from linli.bot.common import building_label, deep_link, keyboard, label
from linli.bot.context import LinliContext, Services
from linli.core.honours import Candidate, Selection, Story, Subject
from linli.core.members import Audience
from linli.storage import groups as groups_db
from linli.storage import honours as honours_db

log = logging.getLogger(__name__)

NAME_LABEL_CHARS = 24
ROLL_SIZE_PX = (1080, 1350)
ROLL_DPI = 100


@button("ho", "cs")
@dataclass(frozen=True, slots=True)
class Consent:
    """The nominee says whether they may be shown."""

    candidate_id: int
    accept: bool


@button("ho", "bo")
@dataclass(frozen=True, slots=True)
class OpenBallot:
    """Open my household's ballot for a selection (in the private chat)."""

    selection_id: int


@button("ho", "bt")
@dataclass(frozen=True, slots=True)
class Toggle:
    """Tick or untick a candidate; the ticks so far travel in `mask`."""

    selection_id: int
    mask: int
    index: int


@button("ho", "bs")
@dataclass(frozen=True, slots=True)
class Cast:
    """Cast the ballot with these ticks."""

    selection_id: int
    mask: int


@button("ho", "lk")
@dataclass(frozen=True, slots=True)
class Like:
    """👍 on a story."""

    story_id: int


def places(services: Services, locale: str, candidates: Sequence[Candidate]) -> dict[int, str]:
    """Each candidate's place as people say it ("和苑小区 1号楼 301")."""
    out = {}
    for c in candidates:
        where = building_label(services, locale, c.place) if c.place else ""
        out[c.id] = f"{where} {c.unit}".strip() if c.unit else where
    return out


def names(
    services: Services, locale: str, selection: Selection, candidates: Sequence[Candidate]
) -> dict[int, str]:
    """How a candidate is named: the person, or the person's family."""
    if selection.subject is Subject.MEMBER:
        return {c.id: c.name for c in candidates}
    return {
        c.id: services.renderer.label(locale, "honours.family", name=c.name) for c in candidates
    }


def _short(text: str, limit: int = NAME_LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def consent_markup(context: LinliContext, locale: str, candidate_id: int) -> InlineKeyboardMarkup:
    return keyboard([[(label(context, locale, "honours.accept"), pack(Consent(candidate_id, True))),
                      (label(context, locale, "honours.decline"), pack(Consent(candidate_id, False)))]])  # fmt: skip


def vote_markup(context: LinliContext, locale: str, selection_id: int) -> InlineKeyboardMarkup:
    return keyboard([[(label(context, locale, "honours.vote"), pack(OpenBallot(selection_id)))]])


def private_link(context: LinliContext, locale: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    label(context, locale, "honours.open_private"), url=deep_link(context)
                )
            ]
        ]
    )


def ballot_markup(
    context: LinliContext,
    locale: str,
    selection: Selection,
    on_ballot: Sequence[Candidate],
    mask: int,
) -> InlineKeyboardMarkup:
    named = names(context.services, locale, selection, on_ballot)
    rows = []
    for i, c in enumerate(on_ballot):
        if not c.shown:
            continue  # withdrawn: keeps its place on the ballot, is not shown
        key = "honours.picked" if mask >> i & 1 else "honours.unpicked"
        rows.append(
            [
                (
                    label(context, locale, key, name=_short(named[c.id])),
                    pack(Toggle(selection.id, mask, i)),
                )
            ]
        )
    rows.append([(label(context, locale, "honours.cast"), pack(Cast(selection.id, mask)))])
    return keyboard(rows)


def ballot_values(
    services: Services, locale: str, selection: Selection, on_ballot: Sequence[Candidate], mask: int
) -> dict[str, Any]:
    shown = [c for c in on_ballot if c.shown]
    picked = [c for i, c in enumerate(on_ballot) if mask >> i & 1 and c.shown]
    return {"selection": selection, "candidates": shown, "picked": picked,
            "names": names(services, locale, selection, shown),
            "places": places(services, locale, shown)}  # fmt: skip


def like_markup(context: LinliContext, locale: str, story: Story) -> InlineKeyboardMarkup:
    return keyboard(
        [[(label(context, locale, "honours.like", count=story.likes), pack(Like(story.id)))]]
    )


def render(services: Services, template: str, **values: Any) -> str:
    return services.renderer.render(services.config.community.default_locale, template, **values)


async def group_ids(services: Services, audience: Audience) -> list[int]:
    groups = await groups_db.groups_for_audience(services.db, audience, services.community)
    return [g.chat_id for g in groups]


async def deliver(
    context: LinliContext,
    kind: str,
    ref: str,
    chat_id: int,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
    photos: Sequence[str | bytes] = (),
) -> None:
    """Claim, send (the photos, then the text with its buttons), record; never twice. After
    a passing failure a later tick sends only the parts that did not go out."""
    db, now = context.services.db, context.services.now()
    done = await honours_db.claim_post(db, kind, ref, chat_id, now)
    if done is None:
        return
    try:
        for photo in photos[done:]:
            await context.bot.send_photo(chat_id, photo)
            done += 1
        sent = await context.bot.send_message(chat_id, text, reply_markup=markup)
    except TimedOut:
        log.warning("honours %s %s to %s: timed out; not sent again", kind, ref, chat_id)
        await honours_db.finish_post(db, kind, ref, chat_id, None)
        return
    except (Forbidden, BadRequest, ChatMigrated) as exc:
        log.warning("honours %s %s: chat %s refused it: %s", kind, ref, chat_id, exc)
        await honours_db.finish_post(db, kind, ref, chat_id, None)
        return
    except TelegramError as exc:
        log.warning("honours %s %s to %s failed (%s); tried again later", kind, ref, chat_id, exc)
        if done:
            await honours_db.resume_post(db, kind, ref, chat_id, done)
        else:
            await honours_db.release_post(db, kind, ref, chat_id)
        return
    await honours_db.finish_post(db, kind, ref, chat_id, sent.message_id)


async def publish_story(context: LinliContext, story: Story) -> int:
    """Post a story once to each of its groups (the caller claimed the story); how many."""
    services = context.services
    locale = services.config.community.default_locale
    chats = await group_ids(services, story.audience)
    for chat_id in chats:
        await deliver(context, "story", str(story.id), chat_id,
                      render(services, "honours/story", story=story),
                      like_markup(context, locale, story), story.photos)  # fmt: skip
    return len(chats)


# --- The honours roll (光荣榜) -------------------------------------------------------------------


async def roll_png(
    services: Services, selection: Selection, winners: Sequence[Candidate]
) -> bytes | None:
    """The honours roll as a picture (drawn off the loop); None if it cannot be drawn."""
    font = await asyncio.to_thread(find_cjk_font, services.config.broadcasts.digest_font)
    locale = services.config.community.default_locale
    if font is None and locale.startswith("zh"):
        locale = "en"  # no Chinese glyphs: English labels rather than boxes
    named = names(services, locale, selection, winners)
    where = places(services, locale, winners)
    lines = [(named[c.id], where[c.id]) for c in winners]
    year = f"{(selection.closed_at or selection.vote_until).astimezone(services.config.tz):%Y}"

    def text(key: str, **values: Any) -> str:
        return services.renderer.label(locale, f"honours.{key}", **values)

    try:
        return await asyncio.to_thread(render_roll, text, selection.title, year, lines, font)
    except Exception:  # a broken font must not cost the result's text
        log.exception("honours roll %s: the picture could not be drawn", selection.id)
        return None


def render_roll(
    text: Callable[..., str],
    title: str,
    year: str,
    lines: Sequence[tuple[str, str]],
    font: str | None,
) -> bytes:
    """A red-and-gold roll: the heading, the honour and the year, one line per winner.
    Text the fonts cannot draw is left out (the text message beside it names everyone)."""
    import matplotlib  # loaded on the first picture, not at start (as the charts do)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fams, charset = families(font)

    def shown(value: str) -> str:
        return value if drawable(value, charset) else "…"

    title = shown(title)
    lines = [(shown(name), shown(place) if place else "") for name, place in lines]
    rc: Any = {"font.family": "sans-serif", "font.sans-serif": fams}
    with matplotlib.rc_context(rc):
        width, height = ROLL_SIZE_PX
        fig = Figure(
            figsize=(width / ROLL_DPI, height / ROLL_DPI), dpi=ROLL_DPI, facecolor="#B71C1C"
        )
        FigureCanvasAgg(fig)
        gold = "#FFD54F"
        fig.text(0.5, 0.9, text("roll_heading"), ha="center", va="center", fontsize=64,
                 fontweight="bold", color=gold)  # fmt: skip
        fig.text(0.5, 0.81, title, ha="center", va="center", fontsize=34, color="white")
        fig.text(0.5, 0.76, year, ha="center", va="center", fontsize=26, color=gold)
        top, step = 0.66, min(0.09, 0.6 / max(len(lines), 1))
        for i, (name, place) in enumerate(lines):
            y = top - i * step
            fig.text(0.5, y, f"★ {name}", ha="center", va="center", fontsize=36,
                     fontweight="bold", color="white")  # fmt: skip
            if place:
                fig.text(
                    0.5, y - step * 0.38, place, ha="center", va="center", fontsize=20, color=gold
                )
        if not lines:
            fig.text(
                0.5, 0.5, text("roll_nobody"), ha="center", va="center", fontsize=30, color="white"
            )
        fig.text(0.5, 0.05, text("roll_footer"), ha="center", va="center", fontsize=20, color=gold)
        out = io.BytesIO()
        fig.savefig(out, format="png", dpi=ROLL_DPI, facecolor=fig.get_facecolor())
    return out.getvalue()


def list_markup(
    context: LinliContext, locale: str, voting: Sequence[Selection]
) -> InlineKeyboardMarkup | None:
    """A ballot button per selection being voted on."""
    if not voting:
        return None
    return keyboard([[(label(context, locale, "honours.vote_in", title=_short(s.title)),
                       pack(OpenBallot(s.id)))] for s in voting])  # fmt: skip
