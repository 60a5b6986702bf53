"""The benchmark suite's machinery on tiny sizes: every figure of the table is there, with a
number. Timings are not checked here (they belong to `python -m bench`)."""

from __future__ import annotations

import math
from pathlib import Path

from bench import mix
from bench.__main__ import MEASUREMENTS, run_all
from bench.table import Plan, render
from linli.core.points import Period
from linli.core.rankings import Scope


async def test_every_row_of_the_table_has_a_number(tmp_path: Path) -> None:
    plan = Plan.tiny()
    plan.workdir = str(tmp_path)
    rows = await run_all(plan, list(MEASUREMENTS))

    missing = [f"{r.measure} {r.item}: {r.note}" for r in rows if r.value is None]
    assert missing == []
    assert all(math.isfinite(r.value) for r in rows if r.value is not None)
    items = {r.item for r in rows}
    assert {r.measure for r in rows} == {
        "1 throughput",
        "2 broadcast",
        "3 storage",
        "4 memory",
        "5 start-up",
    }
    for mode in ("in process", "loopback HTTP"):
        for what in ("Linli updates/s", "bare echo bot updates/s", "ratio Linli/bare"):
            assert f"{mode}: {what}" in items
    for kind in mix.KINDS:
        assert any(i.startswith(f"latency {kind}:") for i in items), kind
    for period in Period:
        for scope in Scope:
            assert any(i.startswith(f"/rank {period.value} {scope.value}:") for i in items)
            assert any(
                i.startswith(f"/rank {period.value} {scope.value} households:") for i in items
            )
    for name in (
        "/points:",
        "/fund:",
        "fund monthly report:",
        "space booking + cancel:",
        "space week picture:",
        "/nearby:",
        "/services:",
        "event sign-up",
        "database size on disk",
        "messages/s",
        "429s",
        "lost + duplicated",
        "peak RSS",
        "to first getUpdates",
    ):
        assert any(name in i for i in items), name
    table = render(rows)
    assert all(r.item in table for r in rows)
