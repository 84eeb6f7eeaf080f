"""Small helpers every benchmark shares: progress lines, medians, the environment, tables."""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Sequence
from importlib import metadata

_START = time.perf_counter()


def progress(message: str) -> None:
    """One line on stderr with the elapsed time, so a long run shows it is alive."""
    print(f"[{time.perf_counter() - _START:7.1f}s] {message}", file=sys.stderr, flush=True)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def versions(*distributions: str) -> str:
    found = []
    for name in distributions:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name} (not installed)")
    return ", ".join(found)


def environment(*distributions: str) -> list[str]:
    """What a reader needs to compare figures across machines."""
    return [
        f"CPUs: {os.cpu_count()} ({platform.processor() or platform.machine()}), "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
        f"Python {platform.python_version()} on {platform.system()} {platform.release()}",
        versions(*distributions),
    ]


def count(value: float) -> str:
    """Thousands separated by a narrow space, as in the stack notes."""
    return f"{value:,.0f}".replace(",", "\u202f")


def number(value: float, unit: str) -> str:
    """A figure with its unit; milliseconds with two decimals."""
    if unit == "ms":
        return f"{value:.2f} ms"
    return f"{count(value)} {unit}"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A Markdown table (readable in a terminal, pasteable into a report)."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(headers), rule, *(line(row) for row in rows)])
