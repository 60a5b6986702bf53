"""Running `python -m linli run` as a separate process against the simulator (end-to-end
tests, benchmarks): start it, and always stop it."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import IO, Any

REPO = Path(__file__).resolve().parents[2]


async def start_linli(config: Path, cwd: Path, output: IO[Any] | int) -> asyncio.subprocess.Process:
    """`python -m linli run -c <config>`, importing this checkout's `linli`; output to `output`."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    env.pop("LINLI_BOT_TOKEN", None)  # the config file's token, never one from the shell
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "linli", "run", "-c", str(config),
        cwd=cwd, env=env, stdout=output, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip


async def stop(process: asyncio.subprocess.Process, grace: float = 10) -> None:
    """SIGTERM (a clean stop, as a service manager sends), then SIGKILL after `grace` s."""
    if process.returncode is not None:
        return
    process.terminate()
    try:
        await asyncio.wait_for(process.wait(), grace)
    except TimeoutError:
        process.kill()
        await process.wait()
