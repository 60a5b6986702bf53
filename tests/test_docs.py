"""The guides (docs/): they build strictly, both languages have the same pages, every command
they show exists, and the configuration reference is what the config models say."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from linli.bot import config_docs
from linli.bot.app import all_commands

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
LANGS = ("zh", "en")
# Slash words in the guides that are not Linli's commands.
NOT_COMMANDS = {
    "newbot", "setjoingroups", "setprivacy",  # @BotFather's, in Operations
    "telegram",  # the webhook's path in the reverse proxy examples
    "s",  # "853 /s": a rate in the benchmark tables
}  # fmt: skip
# "/word" not inside a path or a URL: no word character, slash, dot or colon just before
# it, and no slash, dot or word character just after.
COMMAND = re.compile(r"(?<![\w/.:<>@-])/([a-z][a-z_]*)(?![\w/.-])")


def _mkdocs(site: Path, config: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_the_guides_build_strictly(tmp_path: Path) -> None:
    result = _mkdocs(tmp_path / "site", REPO / "mkdocs.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    for lang_dir in ("", "en/"):
        for page in ("", "residents/", "riders/", "organizers/", "operations/", "config/"):
            assert (tmp_path / "site" / lang_dir / page / "index.html").is_file()
    zh = (tmp_path / "site" / "organizers" / "index.html").read_text("utf-8")
    en = (tmp_path / "site" / "en" / "organizers" / "index.html").read_text("utf-8")
    assert "楼道公告栏海报" in zh and "The notice-board poster" in en


def test_a_broken_anchor_fails_the_build(tmp_path: Path) -> None:
    """--strict is really strict about anchors (the test above would catch one)."""
    shutil.copytree(DOCS, tmp_path / "docs")
    shutil.copy(REPO / "mkdocs.yml", tmp_path / "mkdocs.yml")
    page = tmp_path / "docs" / "en" / "riders.md"
    page.write_text(page.read_text("utf-8") + "\nSee [the poster](organizers.md#no-such-part).\n")
    result = _mkdocs(tmp_path / "site", tmp_path / "mkdocs.yml")
    assert result.returncode != 0 and "no-such-part" in result.stdout + result.stderr


def test_both_languages_have_the_same_pages() -> None:
    pages = {lang: sorted(p.name for p in (DOCS / lang).glob("*.md")) for lang in LANGS}
    assert pages["zh"] == pages["en"] and "config.md" in pages["en"]


def test_every_command_the_guides_show_exists() -> None:
    known = {spec.name for spec in all_commands()}
    shown: dict[str, set[str]] = {}
    for page in sorted(DOCS.rglob("*.md")):
        for name in COMMAND.findall(page.read_text("utf-8")):
            shown.setdefault(name, set()).add(str(page.relative_to(DOCS)))
    assert {"start", "report", "poster", "fund", "spaces"} <= shown.keys()  # the pattern works
    unknown = {name: pages for name, pages in shown.items() if name not in known | NOT_COMMANDS}
    assert unknown == {}, f"commands in the guides that the bot does not have: {unknown}"


def test_the_command_pattern_skips_paths_and_links() -> None:
    text = "/points and `/rank month` in /var/lib/x, https://t.me/bot?start=rider, 29 messages/s"
    assert COMMAND.findall(text) == ["points", "rank"]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_configuration_reference_is_up_to_date(lang: str) -> None:
    written = config_docs.PAGES[lang].read_text("utf-8")
    assert written == config_docs.page(lang), (
        f"docs/{lang}/config.md is out of date: run `python3 -m linli.bot.config_docs`"
    )


def test_every_config_key_is_in_the_reference_with_a_description() -> None:
    keys = config_docs.walk()
    comments = config_docs.example_comments(config_docs.EXAMPLE.read_text("utf-8"))
    undescribed = [k.path for k in keys if not config_docs.describe(k, comments)]
    assert undescribed == [], "comment these keys in config.example.toml"
    reference = config_docs.PAGES["en"].read_text("utf-8")
    assert all(f"`{k.path}`" in reference for k in keys)
    assert {"bot.webhook.secret_token", "spaces[].hours.mon", "fund.splits"} <= {
        k.path for k in keys
    }
