"""Broadcast rules: Telegram's HTML, who receives one, when progress is shown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from linli.core.broadcasts import (
    CAPTION_LIMIT,
    TEXT_LIMIT,
    CleanText,
    Counts,
    Mode,
    Target,
    clean_html,
    member_recipients,
    parse_scope,
    progress_due,
    scope_token,
    utf16_length,
)
from linli.core.community import Building, Community, Compound, NodeKind, Role
from linli.core.members import Audience, Member
from linli.core.outcomes import Refused

COMMUNITY = Community(
    "和平社区",
    (
        Compound(
            "heyuan",
            "和苑",
            (Building("heyuan/1", "heyuan", "1"), Building("heyuan/2", "heyuan", "2")),
        ),
        Compound("lihu", "丽湖", (Building("lihu/A", "lihu", "A"),)),
    ),
)


def member(
    mid: int, building: str | None, *roles: Role, joined: bool = True, forgotten: bool = False
) -> Member:
    return Member(
        id=mid,
        forgotten=forgotten,
        name=f"m{mid}",
        username=None,
        locale=None,
        building_id=building,
        household_id=1 if building else None,
        unit="1",
        roles=frozenset(roles) | ({Role.RESIDENT} if building else set()),
        joined=joined,
    )


def test_plain_text_passes_and_counts_like_telegram() -> None:
    result = clean_html("明天上午9点停水 💧")
    assert isinstance(result, CleanText)
    assert result.html == "明天上午9点停水 💧"
    assert result.length == 9 + 2  # the emoji is two UTF-16 units


def test_telegram_tags_pass_and_entities_count_as_one_character() -> None:
    text = '<b>停水</b> <a href="https://x.cn">详情</a> &lt;注意&gt; <tg-spoiler>秘</tg-spoiler>'
    result = clean_html(text)
    assert isinstance(result, CleanText)
    assert result.html == text
    assert result.length == len("停水 详情 <注意> 秘")


def test_stray_characters_are_escaped_for_the_organizer() -> None:
    result = clean_html("温度 > 30 & 湿度 < 80, <3")
    assert isinstance(result, CleanText)
    assert result.html == "温度 &gt; 30 &amp; 湿度 &lt; 80, &lt;3"


def test_unknown_open_and_misordered_tags_are_refused_by_name() -> None:
    assert clean_html("<div>hi</div>") == Refused("bad_tag", {"tag": "<div>"})
    assert clean_html("<b>hi") == Refused("unclosed", {"tag": "<b>"})
    assert clean_html("<b><i>x</b></i>") == Refused("unexpected_close", {"tag": "</b>"})
    assert clean_html("hi</b>") == Refused("unexpected_close", {"tag": "</b>"})
    assert clean_html("<a>x</a>") == Refused("bad_attr", {"tag": "<a>"})
    assert clean_html('<b onclick="x">x</b>') == Refused("bad_attr", {"tag": "<b>"})
    assert clean_html('<span class="red">x</span>') == Refused("bad_attr", {"tag": "<span>"})


def test_empty_and_too_long() -> None:
    assert clean_html("") == Refused("empty")
    assert clean_html("   \n ") == Refused("empty")
    assert clean_html("<b> </b>") == Refused("empty")
    assert isinstance(clean_html("字" * TEXT_LIMIT), CleanText)
    assert clean_html("字" * (TEXT_LIMIT + 1)) == Refused(
        "too_long", {"limit": TEXT_LIMIT, "length": TEXT_LIMIT + 1}
    )
    # markup does not count, what is shown does
    assert isinstance(clean_html("<b>" + "a" * TEXT_LIMIT + "</b>"), CleanText)
    assert clean_html("a" * (CAPTION_LIMIT + 1), limit=CAPTION_LIMIT) == Refused(
        "caption_too_long", {"limit": CAPTION_LIMIT, "length": CAPTION_LIMIT + 1}
    )


@given(st.text(min_size=1, max_size=300).filter(lambda t: t.strip()))
def test_any_plain_text_is_accepted_and_shown_unchanged(raw: str) -> None:
    escaped = raw.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    result = clean_html(escaped)
    assert isinstance(result, CleanText)
    assert result.html == escaped
    assert result.length == utf16_length(raw)


@given(st.text(alphabet="<>/&abi; ", max_size=40))
def test_whatever_is_typed_is_either_refused_or_balanced(raw: str) -> None:
    result = clean_html(raw)
    if isinstance(result, CleanText):
        assert result.html.count("<b>") == result.html.count("</b>")
        assert result.html.count("<i>") == result.html.count("</i>")


def test_member_recipients_by_scope_and_role() -> None:
    members = [
        member(1, "heyuan/1"),
        member(2, "heyuan/2", Role.VOLUNTEER),
        member(3, "lihu/A", Role.VOLUNTEER),
        member(4, "heyuan/1", joined=False),  # never finished joining
        member(5, "heyuan/1", forgotten=True),
        member(6, None, Role.MOBILE_REPORTER),  # a rider, no household
    ]

    def ids(target: Target) -> list[int]:
        return [m.id for m in member_recipients(members, target, COMMUNITY)]

    assert ids(Target(Mode.MEMBERS, Audience(NodeKind.COMMUNITY))) == [1, 2, 3, 6]
    assert ids(Target(Mode.MEMBERS, Audience(NodeKind.COMPOUND, "heyuan"))) == [1, 2]
    assert ids(Target(Mode.MEMBERS, Audience(NodeKind.BUILDING, "lihu/A"))) == [3]
    assert ids(Target(Mode.MEMBERS, Audience(NodeKind.COMMUNITY), Role.VOLUNTEER)) == [2, 3]
    assert ids(Target(Mode.MEMBERS, Audience(NodeKind.COMPOUND, "heyuan"), Role.RESIDENT)) == [1, 2]
    assert ids(Target(Mode.MEMBERS, Audience(NodeKind.ROLE, "mobile_reporter"))) == [6]
    assert ids(Target(Mode.MEMBERS, Audience(NodeKind.BUILDING, "lihu/A"), Role.ORGANIZER)) == []


def test_scope_tokens_round_trip_and_reject_forgeries() -> None:
    for audience in (
        Audience(NodeKind.COMMUNITY),
        Audience(NodeKind.COMPOUND, "lihu"),
        Audience(NodeKind.BUILDING, "heyuan/2"),
        Audience(NodeKind.ROLE, "volunteer"),
    ):
        assert parse_scope(scope_token(audience, COMMUNITY), COMMUNITY) == audience
    for forged in ("", "c9", "b99", "rking", "x1", "c-1", "b1e3", "c00000"):
        assert parse_scope(forged, COMMUNITY) is None


def test_progress_is_edited_at_most_every_interval_and_always_at_the_end() -> None:
    start = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    assert progress_due(None, start, 5, final=False)
    assert not progress_due(start, start + timedelta(seconds=4), 5, final=False)
    assert progress_due(start, start + timedelta(seconds=5), 5, final=False)
    assert progress_due(start, start, 5, final=True)


def test_counts() -> None:
    counts = Counts(pending=2, sending=1, sent=5, blocked=1, failed=1)
    assert (counts.total, counts.finished, counts.done, counts.percent) == (10, 7, False, 70)
    assert Counts().done and Counts().percent == 100
