"""Where the browser suite leaves its screenshots, and its latency table."""

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
        if row.ms:
            lines.append(f"| {row.widget} | {row.control} | {len(row.ms)} | {statistics.median(row.ms):.0f} | "
                         f"{max(row.ms):.0f} |")
    return "\n".join(lines)


def write_report(folder: Path, rows) -> None:
    (folder / "latency.md").write_text(latency_table(rows) + "\n")
