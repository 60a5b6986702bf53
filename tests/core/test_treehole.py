"""Tree hole rules: message and reply limits, codes."""

from __future__ import annotations

from linli.core import treehole as t
from linli.core.outcomes import Refused


def test_message_limits() -> None:
    assert t.clean_message("  hello ") == "hello"
    assert t.clean_message("", has_photo=True) == ""
    assert t.clean_message(" ") == Refused("message_empty")
    too_long = t.clean_message("x" * (t.MESSAGE_MAX_CHARS + 1))
    assert isinstance(too_long, Refused) and too_long.detail["limit"] == t.MESSAGE_MAX_CHARS


def test_reply_limits_and_code() -> None:
    assert t.clean_reply("thanks") == "thanks"
    assert t.clean_reply("") == Refused("reply_empty")
    assert isinstance(t.clean_reply("x" * 5000), Refused)
    assert t.format_code(7) == "T-0007"
