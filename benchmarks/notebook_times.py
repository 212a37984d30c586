"""Wall time of every lecture and exercise set, executed top to bottom in a fresh kernel.

    python benchmarks/notebook_times.py            # every notebook in notebooks/ and solutions/
    python benchmarks/notebook_times.py --quick    # only chapter 00

Budgets on 2 CPU cores: a lecture <= 45 s, an exercise set <= 15 s. The reference row is an empty
notebook, so kernel start-up is visible apart from the notebook's own work.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
BUDGET = {"notebooks": 45.0, "solutions": 15.0}


def run(nb: nbformat.NotebookNode, folder: Path) -> float:
    start = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="only chapter 00")
    args = parser.parse_args()
    pattern = "00_*.ipynb" if args.quick else "*.ipynb"
    empty = run(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("pass")]), ROOT)
    print(f"{'notebook':<42}{'seconds':>9}{'budget':>8}  verdict")
    print(f"{'(empty notebook: kernel start-up)':<42}{empty:>9.1f}")
    total, slowest = 0.0, {}
    for folder in ("notebooks", "solutions"):
        for path in sorted((ROOT / folder).glob(pattern)):
            seconds = run(nbformat.read(path, as_version=4), path.parent)
            total += seconds
            slowest[folder] = max(slowest.get(folder, (0.0, "")), (seconds, path.name))
            verdict = "ok" if seconds <= BUDGET[folder] else "OVER"
            print(f"{folder + '/' + path.name:<42}{seconds:>9.1f}{BUDGET[folder]:>8.0f}  {verdict}")
    print(f"{'total':<42}{total:>9.1f}")
    for folder, label in (("notebooks", "slowest lecture"), ("solutions", "slowest exercise set")):
        if folder in slowest:
            seconds, name = slowest[folder]
            print(f"{label:<42}{seconds:>9.1f}{BUDGET[folder]:>8.0f}  {name}")


if __name__ == "__main__":
    main()
