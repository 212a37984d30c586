"""Print where the browser suite (tests/browser) left its screenshots, and its latency table.

Printed by the process that reports the run, so it also shows under pytest-xdist, whose workers
run the tests but print nothing.
"""

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "browser"))
from browser_report import artifacts_dir  # noqa: E402

_STARTED = time.time()


def pytest_terminal_summary(terminalreporter):
    table = artifacts_dir() / "latency.md"
    if table.exists() and table.stat().st_mtime >= _STARTED:
        terminalreporter.section("browser: key-to-new-frame latency")
        terminalreporter.write(table.read_text())
        terminalreporter.write_line(f"screenshots and this table: {table.parent}")
