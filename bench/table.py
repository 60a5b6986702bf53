"""The results table: one row per figure, with its goal and whether the goal is met."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Row:
    """One figure. `value` is None when it could not be measured (`note` says why)."""

    measure: str  # "1 throughput", "2 broadcast", ...
    item: str
    value: float | None
    unit: str = ""
    goal: str = ""
    met: bool | None = None  # None: no goal, or not measured
    note: str = ""

    def shown(self) -> str:
        if self.value is None:
            return self.note or "n/a"
        return f"{fmt(self.value)} {self.unit}".strip()


@dataclass(slots=True)
class Plan:
    """What to run: the quick plan shrinks sizes and repeats, never what is measured."""

    quick: bool
    runs: int
    updates: int  # per bot per run, measurement 1
    recipients: int  # measurement 2, private chats (with the groups' broadcast)
    groups: int  # measurement 2
    members: int  # measurement 3
    entries_small: int
    entries_large: int
    residents: int  # measurements 1 and 4: residents sending the mix
    private_recipients: int = 150  # measurement 2, a private broadcast alone
    workdir: str = ""
    notes: list[str] = field(default_factory=list)

    @classmethod
    def full(cls) -> Plan:
        return cls(False, 5, 1200, 1000, 50, 100_000, 10_000, 1_000_000, 400)

    @classmethod
    def quick_plan(cls) -> Plan:
        return cls(True, 3, 600, 200, 10, 100_000, 10_000, 100_000, 100)

    @classmethod
    def tiny(cls) -> Plan:
        """For the smoke test: every row, seconds not minutes."""
        return cls(True, 1, 24, 12, 2, 2_000, 500, 5_000, 8, private_recipients=12)


def fmt(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def median(values: Iterable[float]) -> float:
    return float(statistics.median(list(values)))


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (p99 of 50 samples is the largest: honest for small counts)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no samples")
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def render(rows: Sequence[Row], *, markdown: bool = False) -> str:
    headers = ("measure", "item", "value", "goal", "ok", "note")
    cells = [
        (
            r.measure,
            r.item,
            r.shown(),
            r.goal,
            {True: "yes", False: "NO", None: ""}[r.met],
            r.note if r.value is not None else "",
        )
        for r in rows
    ]
    if markdown:
        lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        lines += ["| " + " | ".join(c.replace("|", "/") for c in row) + " |" for row in cells]
        return "\n".join(lines)
    widths = [max(_width(h), *(_width(row[i]) for row in cells)) for i, h in enumerate(headers)]
    out = [_line(headers, widths), _line(tuple("-" * w for w in widths), widths)]
    out += [_line(row, widths) for row in cells]
    return "\n".join(line.rstrip() for line in out)


def _width(text: str) -> int:
    # CJK characters take two columns in a terminal.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _line(cells: Sequence[str], widths: Sequence[int]) -> str:
    return "  ".join(c + " " * (w - _width(c)) for c, w in zip(cells, widths, strict=True))
