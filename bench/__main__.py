"""`python -m bench [--quick] [--only throughput,storage] [--markdown]`: run, print the table."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import platform
import sys
import time
from pathlib import Path

from bench.table import Plan, Row, render

MEASUREMENTS = ("throughput", "broadcast", "storage", "memory", "startup")
RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} cores ({model}), Python {platform.python_version()},"
        f" {platform.system()} {platform.release()}"
    )


async def run_all(plan: Plan, chosen: list[str]) -> list[Row]:
    rows: list[Row] = []
    for name in chosen:
        module = importlib.import_module(f"bench.{name}")
        started = time.perf_counter()
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        rows.extend(await module.run(plan))
        print(f"[bench] {name} done in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes: under two minutes")
    parser.add_argument("--only", default="", help="comma-separated: " + ",".join(MEASUREMENTS))
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--workdir", default=str(RESULTS), help="generated databases go here")
    args = parser.parse_args(argv)
    plan = Plan.quick_plan() if args.quick else Plan.full()
    plan.workdir = args.workdir
    Path(plan.workdir).mkdir(parents=True, exist_ok=True)
    chosen = [m.strip() for m in args.only.split(",") if m.strip()] or list(MEASUREMENTS)
    unknown = set(chosen) - set(MEASUREMENTS)
    if unknown:
        parser.error(f"unknown measurement(s): {', '.join(sorted(unknown))}")
    started = time.perf_counter()
    rows = asyncio.run(run_all(plan, chosen))
    print(f"Linli benchmarks ({'quick' if plan.quick else 'full'}) on {machine()}")
    print(render(rows, markdown=args.markdown))
    for note in plan.notes:
        print(f"- {note}")
    print(f"total {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
