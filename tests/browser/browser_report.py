"""Where the browser suite leaves its screenshots, and its latency and rate tables."""

from __future__ import annotations

import os
import statistics
import tempfile
from pathlib import Path


def artifacts_dir() -> Path:
    """$BROWSER_ARTIFACTS, or ``course-browser-artifacts`` in the system's temporary directory."""
    return Path(os.environ.get("BROWSER_ARTIFACTS") or Path(tempfile.gettempdir()) / "course-browser-artifacts")


def latency_table(rows) -> str:
    """A Markdown table: one row per widget and control, median and max key-to-new-frame time in ms."""
    lines = ["| widget | control | n | median ms | max ms |", "|---|---|---:|---:|---:|"]
    for row in rows:
        if getattr(row, "ms", None):
            lines.append(f"| {row.widget} | {row.control} | {len(row.ms)} | {statistics.median(row.ms):.0f} | "
                         f"{max(row.ms):.0f} |")
    return "\n".join(lines)


def rate_table(rows) -> str:
    """A Markdown table of the rates (rows with a ``value``: updates/s, frames/s), or "" when there are none."""
    rates = [row for row in rows if hasattr(row, "value")]
    if not rates:
        return ""
    lines = ["| widget | while | rate |", "|---|---|---:|"]
    lines += [f"| {row.widget} | {row.measure} | {row.value:.1f} |" for row in rates]
    return "\n".join(lines)


def write_report(folder: Path, rows) -> None:
    """latency.md: the key-to-new-frame table, then the rates table."""
    tables = [latency_table(rows), rate_table(rows)]
    (folder / "latency.md").write_text("\n\n".join(t for t in tables if t) + "\n")
