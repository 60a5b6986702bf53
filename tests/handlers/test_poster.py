"""The notice-board poster: its QR code, read back from the printed page, opens the bot
(at the building), from the command line and from the chat; and the building's deep link
takes a newcomer straight to the unit number."""

from __future__ import annotations

import io
from pathlib import Path

import pypdfium2
import pytest
import zxingcpp
from PIL import Image

from linli.bot import cli, poster_cli
from linli.bot.config import load_config
from linli.bot.render import Renderer
from linli.bot.views import poster as views
from linli.core.community import Building
from linli.core.members import building_link_arg, parse_start_payload
from linli.sim.harness import Harness
from linli.storage import members as members_db
from tests.support.broadcasts import sim_organizer

CONFIG = Path(__file__).parents[2] / "config.example.toml"
A4_POINTS = (595, 842)  # 210 x 297 mm at 72 points an inch, rounded


def qr_links(image: Image.Image) -> list[str]:
    return [code.text for code in zxingcpp.read_barcodes(image) if code.format.name == "QRCode"]


def is_a4_at_150_dpi(image: Image.Image) -> bool:
    return image.width == 1240 and image.height in (1753, 1754)  # 210 x 297 mm, rounded


def pdf_page(data: bytes) -> tuple[tuple[int, int], Image.Image, str]:
    """(page size in points, the page rasterized at 150 dpi, its text)."""
    pdf = pypdfium2.PdfDocument(data)
    assert len(pdf) == 1
    page = pdf[0]
    width, height = page.get_size()
    text = page.get_textpage().get_text_range()
    return (round(width), round(height)), page.render(scale=150 / 72).to_pil(), text


def test_cli_renders_both_formats_and_the_qr_reads_back_to_the_link(tmp_path: Path) -> None:
    png, pdf = tmp_path / "poster.png", tmp_path / "poster.pdf"
    common = ["poster", "-c", str(CONFIG), "--username", "heping_linli_bot", "--lang", "en"]
    assert cli.main([*common, "--building", "heyuan/1", "-o", str(png)]) == 0
    assert cli.main([*common, "-o", str(pdf)]) == 0

    image = Image.open(png)
    assert is_a4_at_150_dpi(image)
    assert qr_links(image) == ["https://t.me/heping_linli_bot?start=b_heyuan_1"]

    size, page, text = pdf_page(pdf.read_bytes())
    assert size == A4_POINTS
    assert qr_links(page) == ["https://t.me/heping_linli_bot"]
    assert "Scan the code with your phone" in text and "Report a hazard in two taps" in text


def test_cli_says_when_no_chinese_font_is_found_and_still_renders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(poster_cli.charts, "find_cjk_font", lambda configured="": None)
    out = tmp_path / "poster.png"
    argv = ["poster", "-c", str(CONFIG), "--username", "b", "--lang", "zh-CN", "-o", str(out)]
    assert cli.main(argv) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no font with Chinese glyphs" in err[0] and "English" in err[0]
    assert qr_links(Image.open(out)) == ["https://t.me/b"]


def test_cli_refuses_an_unknown_building_or_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["poster", "-c", str(CONFIG), "--username", "b"]
    assert cli.main([*base, "--building", "heyuan/9", "-o", str(tmp_path / "p.png")]) == 2
    assert "no such building" in capsys.readouterr().err
    assert cli.main([*base, "-o", str(tmp_path / "p.svg")]) == 2
    assert not list(tmp_path.iterdir())


def test_building_link_arguments_are_telegram_safe_and_read_back() -> None:
    plain = Building("heyuan/1", "heyuan", "1")
    chinese = Building("lihu/一号楼", "lihu", "一号楼")
    assert building_link_arg(plain) == "heyuan_1"
    for building in (plain, chinese):
        intent = parse_start_payload("b_" + building_link_arg(building))
        assert intent.kind == "building" and intent.arg == building_link_arg(building)


async def test_organizer_gets_the_poster_and_its_qr_joins_a_newcomer_at_that_building(
    harness: Harness,
) -> None:
    h = harness
    org = sim_organizer(h)
    await h.send(org, "/poster 和苑小区2号楼")
    message = h.last(org.id)
    assert message is not None and message.document is not None
    assert message.document.file_name == "poster-heyuan-2.pdf"
    assert "和苑小区 2号楼" in message.content and "A4" in message.content
    size, page, _ = pdf_page(message.document.data)
    [link] = qr_links(page)
    assert size == A4_POINTS
    assert link == f"https://t.me/{h.sim.bot_username}?start=b_heyuan_2"

    # A newcomer scans it: Telegram opens the bot with /start b_heyuan_2.
    newcomer = h.user(2101, "赵敏")
    await h.start(newcomer, link.partition("?start=")[2])
    await h.press(newcomer, "中文")
    # No compound, no building to choose: the unit number is asked at once.
    assert "和苑小区 2号楼" in h.last_text(newcomer) and "请输入门牌号" in h.last_text(newcomer)
    await h.send(newcomer, "5-302")
    await h.press(newcomer, "✅ 同意")
    assert "加入成功" in h.last_text(newcomer)
    member = await members_db.get_member_by_telegram(h.db, 2101)
    assert member is not None and member.joined
    assert (member.building_id, member.unit) == ("heyuan/2", "5-302")


async def test_a_building_link_naming_no_building_joins_as_usual(harness: Harness) -> None:
    h = harness
    newcomer = h.user(2102, "钱进")
    await h.start(newcomer, "b_heyuan_99")
    await h.press(newcomer, "中文")
    assert h.last_text(newcomer) == "您住在哪个小区？"


async def test_poster_is_for_organizers_and_names_a_known_building(harness: Harness) -> None:
    h = harness
    org = sim_organizer(h)
    resident = h.user(2103, "孙丽")
    await h.start(resident)
    await h.send(resident, "/poster")
    assert "只有组织者" in h.last_text(resident)
    await h.send(org, "/poster 九号院")
    assert "找不到楼栋“九号院”" in h.last_text(org)
    message = h.last(org.id)
    assert message is not None and message.document is None


def test_a_png_poster_in_memory_is_a_picture() -> None:
    # The drawing is shared: the same words make a PNG that PIL opens as A4 at 150 dpi.
    config = load_config(CONFIG)
    words = views.poster_words(Renderer(config.tz), "en", config.structure(), None, "x_bot")
    image = Image.open(io.BytesIO(views.render_poster(words, "png", None)))
    assert is_a4_at_150_dpi(image) and qr_links(image) == ["https://t.me/x_bot"]
