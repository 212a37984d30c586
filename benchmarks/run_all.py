"""Run every benchmark and write one report, benchmarks/RESULTS.md.

    python benchmarks/run_all.py                       # full runs: tens of minutes on 2 cores
    python benchmarks/run_all.py --quick --out -       # every script with --quick, report on stdout
    python benchmarks/run_all.py --only grading_warm   # some scripts only

The report starts with the machine, then a table of the headline figures (our number, the
reference measured in the same run, their ratio and the goal) read from the scripts' own tables,
then each script's full output as it printed it. A figure a script did not print (it failed, or
ran with --quick) shows as "-".
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Figure:
    """A headline figure: where its numbers are in a script's output, and the goal they are held to."""

    script: str
    name: str
    pattern: str  # a regex whose groups are (ours, reference)
    unit: str
    goal: str
    ratio: str = "reference / ours"  # how the ratio is read


FIGURES = [
    Figure("grading_warm", "grading a notebook of the course, warm vs cold processes (all notebooks)",
           r"\*\*all \d+ notebooks\*\* \| ([\d.]+) \| ([\d.]+) \|", "s", ">= 3x less",
           ratio="cold / warm"),
    Figure("grading_vs_nbgrader", "grading a class of one chapter, per submission: course grade vs nbgrader",
           r"course grade --jobs \d+\s+[\d.]+\s+([\d.]+)\n.*\n.*nbgrader autograde\s+[\d.]+\s+([\d.]+)", "s",
           ">= 10x per core"),
    Figure("grading_sandbox", "starting a worker and running one cell: warm bwrap vs a plain cold process",
           r"sandbox none\s*:\s+([\d.]+) ms\n.*\n.*sandbox bwrap warm\s*:\s+([\d.]+) ms", "ms",
           "faster than a plain process", ratio="plain / bwrap"),
    Figure("training_loop", "training LeNet-5 on digits for 2 epochs: course fit vs a plain torch loop (loop overhead)",
           r"\*\*course fit vs plain loop\*\* \| ([\d.]+) \| ([\d.]+) \|", "s", ">= 0.95x (overhead <= 5 %)"),
]


def machine() -> str:
    """The machine in one line: CPU, cores, OS, Python, PyTorch, and the GPU if any."""
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    parts = [cpu, f"{os.cpu_count()} cores", platform.platform(), f"Python {platform.python_version()}"]
    try:
        import torch

        parts.append(f"PyTorch {torch.__version__}")
        if torch.cuda.is_available():
            parts.append(f"GPU {torch.cuda.get_device_name(0)}")
    except ImportError:
        pass
    return ", ".join(parts)


def run(script: Path, quick: bool) -> tuple[float, int, str]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, str(script), *(["--quick"] if quick else [])], capture_output=True,
                          text=True)
    return time.perf_counter() - start, done.returncode, done.stdout + (done.stderr[-2000:] if done.returncode else "")


def headline(figure: Figure, output: str) -> list[str]:
    found = re.search(figure.pattern, output)
    if not found:
        return [figure.name, "-", "-", "-", figure.goal]
    ours, reference = (float(g) for g in found.groups()[:2])
    if figure.ratio in ("cold / warm", "plain / bwrap"):
        ours, reference = reference, ours  # the first column of those tables is the reference
    ratio = reference / ours if ours else float("inf")
    return [figure.name, f"{ours:g} {figure.unit}", f"{reference:g} {figure.unit}", f"{ratio:.2f}x ({figure.ratio})",
            figure.goal]


def report(outputs: dict[str, tuple[float, int, str]], quick: bool) -> str:
    when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    lines = ["# Benchmark results", "",
             f"Written by `python benchmarks/run_all.py{' --quick' if quick else ''}` on {when}.", "",
             f"Machine: {machine()}.", "",
             "| figure | ours | reference (same run) | ratio | goal |", "|---|---:|---:|---:|---|"]
    for figure in FIGURES:
        if figure.script in outputs:
            lines.append("| " + " | ".join(headline(figure, outputs[figure.script][2])) + " |")
    for name, (seconds, code, output) in outputs.items():
        status = "" if code == 0 else f", FAILED (exit {code})"
        lines += ["", f"## {name}", "", f"`benchmarks/{name}.py`{' --quick' if quick else ''}: {seconds:.0f} s{status}",
                  "", "```text", output.rstrip(), "```"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="every script with --quick (a smoke run)")
    parser.add_argument("--only", nargs="+", help="these scripts only (names without .py)")
    parser.add_argument("--out", default=str(HERE / "RESULTS.md"), help="where to write the report; - for stdout")
    args = parser.parse_args()
    scripts = sorted(p for p in HERE.glob("*.py") if p.stem != "run_all")
    if args.only:
        unknown = set(args.only) - {p.stem for p in scripts}
        if unknown:
            raise SystemExit(f"run_all: no benchmark named {', '.join(sorted(unknown))}; "
                             f"expected some of {', '.join(p.stem for p in scripts)}")
        scripts = [p for p in scripts if p.stem in args.only]
    outputs = {}
    for script in scripts:
        print(f"running {script.name} ...", file=sys.stderr, flush=True)
        outputs[script.stem] = run(script, args.quick)
    text = report(outputs, args.quick)
    if args.out == "-":
        print(text, end="")
    else:
        Path(args.out).write_text(text)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
