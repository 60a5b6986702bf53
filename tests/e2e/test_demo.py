"""`linli demo --script`: the shipped tour plays through; a failing step exits non-zero."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


async def run_demo(*args: str, stdin: bytes = b"") -> tuple[int, str, str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("LINLI_BOT_TOKEN", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "linli",
        "demo",
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=REPO,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(stdin), 120)
    finally:
        if process.returncode is None:
            process.kill()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_the_tour_plays_through() -> None:
    code, out, err = await run_demo("--script", str(REPO / "examples" / "tour.txt"))
    assert code == 0, err
    assert "加入成功" in out
    assert "您的住户信息已确认" in out
    assert "本群已绑定到和苑小区 1号楼" in out
    assert "已提交，编号 H-0001" in out and "报告人获得 10 积分" in out  # hazard, acknowledged
    assert "活动卡片已发到 1 个群" in out and "你已报名 防诈骗讲座" in out  # event, signed up
    assert "投票 #1 已开始" in out and "✅ #1 在车棚设电动车充电区？" in out  # proposal, voted
    assert "🌳 树洞 T-0001" in out and "请记下查询码" in out  # tree hole
    assert "💬 pop-up to 李阿姨: ✅ 投票成功" in out  # what the phone shows after a tap
    assert "余额：¥60.00" in out and "物业外包保洁十一月" in out  # the fund's open books
    assert "✅ 预约成功：阅览室" in out and "预约码：B-" in out  # a space booked
    assert "已发布：S-0001" in out and "水管小修 · 和苑小区 1号楼" in out  # an offer, found
    assert "一刻钟便民生活圈" in out and "和苑骑手驿站" in out  # /nearby and its picture
    assert "steps played" in out


async def test_a_missing_button_fails_the_script(tmp_path: Path) -> None:
    script = tmp_path / "bad.txt"
    script.write_text("as 李阿姨\n/start\npress 没有这个按钮\n", encoding="utf-8")
    code, out, err = await run_demo("--script", str(script))
    assert code == 1
    assert "line 3" in err and "没有这个按钮" in err
    assert "请选择语言" in out  # what happened before the failure is shown


async def test_interactive_session_reads_stdin() -> None:
    code, out, _ = await run_demo(stdin=b"/start\n1\n/quit\n")
    assert code == 0
    assert "请选择语言" in out and "您住在哪个小区" in out
