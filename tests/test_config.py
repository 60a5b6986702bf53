"""The config file: the example is valid, and a bad one is one clear line and exit status 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from linli.bot.config import ConfigError, load_config, parse_config

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "config.example.toml"
ONE_COMPOUND = {"compounds": [{"id": "a", "name": "A", "buildings": ["1"]}]}
COMPOUND_TOML = '[[community.compounds]]\nid = "a"\nname = "A"\nbuildings = ["1"]\n'


def test_example_config_is_valid_and_describes_the_demo_community() -> None:
    config = load_config(EXAMPLE)
    community = config.structure()
    assert [c.id for c in community.compounds] == ["heyuan", "lihu"]
    assert community.building("heyuan/2") is not None
    assert config.community.timezone == "Asia/Shanghai"
    assert config.community.default_locale == "zh-CN"


def test_every_key_in_the_example_is_commented() -> None:
    """Each key has a comment on its line, or heads a block of keys under a comment."""
    lines = [line.strip() for line in EXAMPLE.read_text(encoding="utf-8").splitlines()]
    for i, line in enumerate(lines):
        if not line or line.startswith(("#", "[")):
            continue
        j = i
        while j > 0 and lines[j - 1] and not lines[j - 1].startswith(("#", "[")):
            j -= 1  # walk up a block of keys
        commented = "#" in line or (j > 0 and lines[j - 1].startswith("#"))
        assert commented, f"line {i + 1} has no comment: {line}"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"bot": {"tokn": "x"}}, "bot.tokn: unknown key"),
        ({"bot": {"polling_timeout": "30"}}, "bot.polling_timeout: wrong type"),
        (
            {"community": {"timezone": "Mars/Olympus"}},
            "community.timezone: unknown time zone 'Mars/Olympus'",
        ),
        (
            {"community": {"compounds": [{"id": "a", "name": "A", "buildings": ["1", "1"]}]}},
            "community.compounds[0].buildings: duplicate building '1'",
        ),
        ({"community": {"verification": "anyone"}}, "community.verification: must be one of"),
        (
            {"organizers": {"user_ids": ["me"]}, "community": ONE_COMPOUND},
            "organizers.user_ids[0]: wrong type",
        ),
        # No compounds is no community to join: never a made-up compound "小区" with building "1".
        ({}, "community.compounds: missing"),
        ({"community": {"name": "和平社区"}}, "community.compounds: missing"),
        ({"community": {"compounds": []}}, "community.compounds: at least one compound"),
    ],
)
def test_bad_config_names_the_key(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_environment_token_overrides_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LINLI_BOT_TOKEN", "42:from-env")
    data = {"bot": {"token": "1:file"}, "community": ONE_COMPOUND}
    assert parse_config(data).bot.token == "42:from-env"


def _linli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "linli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('[bot]\ntoken = ""\n' + COMPOUND_TOML, "bot.token: missing"),
        ('[bot]\ntoken = "1:x"\n', "community.compounds: missing"),
        ('[bot]\ntoken = "1:x"\n[community]\nname = "和平社区"\n', "community.compounds: missing"),
        ('[bot]\ntoken = "1:x"\n[community]\ncompounds = []\n', "community.compounds: at least"),
        (
            '[bot]\ntoken = "1:x"\n[community]\ntimezone = "Nowhere/Land"\n',
            "community.timezone: unknown time zone",
        ),
        ('[bot]\ntoken = "1:x"\nsurprise = 1\n', "bot.surprise: unknown key"),
        ('[bot\ntoken = "1:x"\n', "not valid TOML"),
    ],
)
def test_check_config_prints_one_line_and_exits_2(tmp_path: Path, body: str, expected: str) -> None:
    (tmp_path / "bad.toml").write_text(body, encoding="utf-8")
    result = _linli("check-config", "-c", "bad.toml", cwd=tmp_path)
    assert result.returncode == 2
    assert expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_check_config_summarises_a_good_file(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace('token = ""', 'token = "1:abc"', 1)
    (tmp_path / "config.toml").write_text(text, encoding="utf-8")
    result = _linli("check-config", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "config ok" in result.stdout
    assert "heyuan: 和苑小区 — 1, 2, 3" in result.stdout


def test_migrate_creates_the_database(tmp_path: Path) -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace('token = ""', 'token = "1:abc"', 1)
    (tmp_path / "config.toml").write_text(text, encoding="utf-8")
    first = _linli("migrate", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "applied 0001 foundation" in first.stdout
    again = _linli("migrate", cwd=tmp_path)
    assert "applied" not in again.stdout and "up to date" in again.stdout


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://bot.example.org", True),
        ("http://127.0.0.1:8443", True),
        ("http://localhost", True),
        ("http://bot.example.org", False),
        ("http://127.0.0.1.evil.org", False),
        ("", False),
    ],
)
def test_a_webhook_needs_https_except_on_loopback(url: str, ok: bool) -> None:
    data = {"bot": {"webhook": {"enabled": True, "url": url}}, "community": ONE_COMPOUND}
    if ok:
        assert parse_config(data).bot.webhook.url == url
    else:
        with pytest.raises(ConfigError, match=r"bot\.webhook: url: a webhook needs a public https"):
            parse_config(data)


def _space(**keys: object) -> dict[str, object]:
    return {"community": ONE_COMPOUND, "spaces": [{"key": "room", "name": "活动室", **keys}]}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_space(min_minutes=45), "spaces[0]: min_minutes and max_minutes must be multiples of"),
        (_space(min_minutes=120, max_minutes=60), "spaces[0]: min_minutes is longer than"),
        (_space(approval="operator"), 'spaces[0]: approval = "operator" needs an operator'),
        (_space(approval="anyone"), "spaces[0].approval: Input should be 'none', 'organizer'"),
        (_space(audience="compound:zz"), "spaces: space 'room': unknown audience 'compound:zz'"),
        (_space(audience="building:a/9"), "spaces: space 'room': unknown audience 'building:a/9'"),
        (_space(audience="role:king"), "spaces: space 'room': unknown audience 'role:king'"),
        (_space(hours={"mon": "21:00-09:00"}), "spaces[0].hours: mon: the closing time must come"),
        (_space(hours={"mon": "9-5"}), "spaces[0].hours.mon: String should match pattern"),
        (_space(key="Room 1"), "spaces[0].key: String should match pattern"),
        (_space(price=-1), "spaces[0].price: Input should be greater than or equal to 0"),
        (_space(slot_minutes=0), "spaces[0].slot_minutes: Input should be greater than or equal"),
        (_space(colour="red"), "spaces[0].colour: unknown key"),
        ({"community": ONE_COMPOUND, "spaces": [{"key": "room"}]}, "spaces[0].name: missing"),
        (
            {"community": ONE_COMPOUND, "spaces": [{"key": "r", "name": "A"}] * 2},
            "spaces: duplicate space key 'r'",
        ),
    ],
)
def test_bad_spaces_name_the_space_and_the_key(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_good_space_loads_with_its_rules() -> None:
    config = parse_config(_space(audience="building:a/1", quota_hours=3, hours={"sun": "closed"}))
    rules = config.spaces[0].rules()
    assert rules.quota_minutes == 180 and rules.hours[6] is None and rules.hours[0] is not None


@pytest.mark.parametrize(
    ("space", "expected"),
    [
        ("min_minutes = 45\n", "spaces[0]: min_minutes and max_minutes must be multiples"),
        ('audience = "compound:zz"\n', "spaces: space 'room': unknown audience 'compound:zz'"),
        ('approval = "operator"\n', 'spaces[0]: approval = "operator" needs an operator'),
    ],
)
def test_check_config_names_a_bad_space_in_one_line(
    tmp_path: Path, space: str, expected: str
) -> None:
    body = '[bot]\ntoken = "1:x"\n' + COMPOUND_TOML + '[[spaces]]\nkey = "room"\nname = "R"\n'
    (tmp_path / "bad.toml").write_text(body + space, encoding="utf-8")
    result = _linli("check-config", "-c", "bad.toml", cwd=tmp_path)
    assert result.returncode == 2
    assert expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
