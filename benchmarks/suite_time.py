"""Wall time of the README's test command: the whole suite on every core.

    python benchmarks/suite_time.py            # pytest -n auto --dist loadscope (minutes)
    python benchmarks/suite_time.py --quick    # collection only (what every run pays before a test)

The suite runs in CI on 2 cores within a 90-minute limit; this is the figure to watch as the course
grows. The collection row is measured in the same run, so start-up cost is visible apart.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(args: list[str]) -> tuple[float, str]:
    """Seconds and the summary of ``python -m pytest ARGS`` run in the course's root: its last line,
    after the lines naming each failed test (so a red run says which)."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", *args], cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    lines = (done.stdout.strip() or done.stderr.strip() or "(no output)").splitlines()
    failed = [line for line in lines if line.startswith(("FAILED ", "ERROR "))]
    return seconds, "\n".join([lines[-1], *failed])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="collection only")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores")
    seconds, last = timed(["--collect-only", "-q", "-p", "no:xdist"])
    print(f"{'collection only':<16}{seconds:>9.1f} s  {last}")
    if not args.quick:
        seconds, last = timed(["-n", "auto", "--dist", "loadscope", "-q", "-rfE"])
        print(f"{'whole suite':<16}{seconds:>9.1f} s  {last}")


if __name__ == "__main__":
    main()
