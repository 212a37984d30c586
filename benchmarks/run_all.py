"""Run every benchmark and write one report, benchmarks/RESULTS.md.

    python benchmarks/run_all.py                       # full runs: tens of minutes on 2 cores
    python benchmarks/run_all.py --quick --out -       # every script with --quick, report on stdout
    python benchmarks/run_all.py --only grading_warm   # some scripts only
    python benchmarks/run_all.py --only training_loop --keep   # re-run one, keep the others' sections

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
    """A headline figure: where its numbers are in a script's output, and the goal they are held to.

    ``pattern`` is a regex whose first two groups are the two numbers, in the order ``order`` names
    ("ours, reference" or "reference, ours"); a pattern with one group is a figure without a reference.
    ``ratio`` says how the ratio is read: "reference / ours" (a speed-up: higher is better) or
    "ours / reference" (a cost relative to the reference: lower is better).
    """

    script: str
    name: str
    pattern: str
    unit: str
    goal: str
    ratio: str = "reference / ours"
    order: str = "ours, reference"


FIGURES = [
    Figure("suite_time", "the README's test command, whole suite (every core)", r"whole suite\s+([\d.]+) s", "s",
           "CI limit 90 min"),
    Figure("notebook_times", "slowest lecture, executed in a fresh kernel (reference: kernel start-up)",
           r"kernel start-up\)\s+([\d.]+)[\s\S]*?slowest lecture\s+([\d.]+)", "s", "<= 45 s",
           ratio="ours / reference", order="reference, ours"),
    Figure("mlp_scratch_vs_torch", "scratch MLP step vs torch, batch 256 width 256",
           r"\n\s+256\s+256\s+([\d.]+)\s+([\d.]+)", "ms", "<= 1.5x", ratio="ours / reference"),
    Figure("conv_scratch_vs_torch", "scratch im2col conv fwd+bwd vs torch, LeNet conv2, batch 64",
           r"conv2 6->16 5x5 @12\s+([\d.]+)\s+([\d.]+)", "ms", "<= 3x", ratio="ours / reference"),
    Figure("batchnorm_scratch_vs_torch", "scratch batch norm fwd+bwd vs torch, 500 x 500 float32",
           r"\n\s+500\s+500\s+float32\s+([\d.]+)\s+([\d.]+)", "ms", "ratio reported",
           ratio="ours / reference"),
    Figure("explorer_latency", "05 explorer, one lr change vs rebuilding the figure per change",
           r"05 loss surface\s+lr \(key\)\s+([\d.]+)[\s\S]*?interact pattern\): median ([\d.]+)", "ms",
           "<= 50 ms"),
    Figure("explorer_latency", "06 explorer, a new depth vs its forward and backward pass alone",
           r"06 initialization\s+depth \(key\)\s+([\d.]+)[\s\S]*?pass alone .*?: median ([\d.]+)", "ms",
           "<= 50 ms", ratio="ours / reference"),
    Figure("playground_speed", "training playground playing, updates/s vs the model alone",
           r"playing: updates/s \(goal >= 50\)\s+([\d.]+)[\s\S]*?model alone: updates/s\s+([\d.]+)", "/s",
           ">= 50 /s at >= 10 frames/s", ratio="ours / reference"),
    Figure("training_loop", "course training loop vs a plain torch loop, LeNet-5 on digits, 2 epochs",
           r"course fit\s+([\d.]+)\s+.*\n\s*plain torch loop\s+([\d.]+)", "s", "<= 5 % overhead",
           ratio="ours / reference"),
    Figure("grading_warm", "grading a notebook of the course, warm vs cold processes (all notebooks)",
           r"\*\*all \d+ notebooks\*\* \| ([\d.]+) \| ([\d.]+) \|", "s", ">= 3x less",
           ratio="cold / warm", order="reference, ours"),
    Figure("grading_vs_nbgrader", "grading one more submission of a class, per core: course grade vs nbgrader",
           r"course grade --jobs \d+\s+[\d.]+\s+[\d.]+\s+[-\d.]+\s+([-\d.]+)\n.*\n.*nbgrader autograde\s+[\d.]+"
           r"\s+[\d.]+\s+[-\d.]+\s+([-\d.]+)", "core-s", ">= 10x per core"),
    Figure("grading_sandbox", "starting a worker and running one cell: warm bwrap vs a plain cold process",
           r"sandbox none\s*:\s+([\d.]+) ms\n.*\n.*sandbox bwrap warm\s*:\s+([\d.]+) ms", "ms",
           "faster than a plain process", ratio="plain / bwrap", order="reference, ours"),
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


@dataclass(frozen=True)
class Result:
    """One script's run: wall seconds, exit code, what it printed, when it started, whether with --quick, and the
    machine's load average over the minute before it started (other work running beside it slows it)."""

    seconds: float
    code: int
    output: str
    when: str
    quick: bool
    load: float = 0.0


def run(script: Path, quick: bool) -> Result:
    load, when = os.getloadavg()[0], _now()
    start = time.perf_counter()
    done = subprocess.run([sys.executable, str(script), *(["--quick"] if quick else [])], capture_output=True,
                          text=True)
    output = done.stdout + (done.stderr[-2000:] if done.returncode else "")
    return Result(time.perf_counter() - start, done.returncode, output, when, quick, load)


SECTION = re.compile(r"^## (\S+)\n\n`benchmarks/\S+\.py`( --quick)?: (\d+) s, (\d{4}-\d\d-\d\d \d\d:\d\d)"
                     r", load average ([\d.]+)(?:, FAILED \(exit (-?\d+)\))?\n\n```text\n([\s\S]*?)\n```$", re.MULTILINE)


def earlier_results(report_text: str) -> dict[str, Result]:
    """The sections of an earlier report, so that re-running one script keeps the others' results."""
    return {m[1]: Result(float(m[3]), int(m[6] or 0), m[7], m[4], bool(m[2]), float(m[5]))
            for m in SECTION.finditer(report_text)}


def _now() -> str:
    return datetime.datetime.now().strftime("%Y-%m-%d %H:%M")


def headline(figure: Figure, output: str) -> list[str]:
    """The figure's table row: name, ours, reference, ratio, goal ("-" where the output lacks it)."""
    found = re.search(figure.pattern, output)
    if not found:
        return [figure.name, "-", "-", "-", figure.goal]
    numbers = [float(g) for g in found.groups()[:2]]
    if len(numbers) == 1:
        return [figure.name, f"{numbers[0]:g} {figure.unit}", "-", "-", figure.goal]
    ours, reference = numbers if figure.order == "ours, reference" else numbers[::-1]
    if figure.ratio == "ours / reference":
        ratio = ours / reference if reference else float("inf")
    else:
        ratio = reference / ours if ours else float("inf")
    return [figure.name, f"{ours:g} {figure.unit}", f"{reference:g} {figure.unit}", f"{ratio:.2f}x ({figure.ratio})",
            figure.goal]


def report(results: dict[str, Result]) -> str:
    lines = ["# Benchmark results", "",
             f"Written by `python benchmarks/run_all.py` on {_now()}; each section below says when its script ran, "
             "how long it took, and the machine's load average as it started (on 2 cores, a load above 2 means "
             "other work ran beside it and its times are inflated; ratios against a reference timed in the same "
             "run suffer less).", "",
             f"Machine: {machine()}.", "",
             "| figure | ours | reference (same run) | ratio | goal |", "|---|---:|---:|---:|---|"]
    for figure in FIGURES:
        if figure.script in results:
            lines.append("| " + " | ".join(headline(figure, results[figure.script].output)) + " |")
    for name in sorted(results):
        r = results[name]
        status = "" if r.code == 0 else f", FAILED (exit {r.code})"
        lines += ["", f"## {name}", "",
                  f"`benchmarks/{name}.py`{' --quick' if r.quick else ''}: {r.seconds:.0f} s, {r.when}, "
                  f"load average {r.load:.1f}{status}",
                  "", "```text", r.output.rstrip(), "```"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="every script with --quick (a smoke run)")
    parser.add_argument("--only", nargs="+", help="these scripts only (names without .py)")
    parser.add_argument("--out", default=str(HERE / "RESULTS.md"), help="where to write the report; - for stdout")
    parser.add_argument("--keep", action="store_true",
                        help="keep the results of the scripts not run this time from the report at --out")
    args = parser.parse_args()
    scripts = sorted(p for p in HERE.glob("*.py") if p.stem != "run_all")
    if args.only:
        unknown = set(args.only) - {p.stem for p in scripts}
        if unknown:
            raise SystemExit(f"run_all: no benchmark named {', '.join(sorted(unknown))}; "
                             f"expected some of {', '.join(p.stem for p in scripts)}")
        scripts = [p for p in scripts if p.stem in args.only]
    out = Path(args.out)
    results = earlier_results(out.read_text()) if args.keep and args.out != "-" and out.exists() else {}
    for script in scripts:
        print(f"running {script.name} ...", file=sys.stderr, flush=True)
        results[script.stem] = run(script, args.quick)
    text = report(results)
    if args.out == "-":
        print(text, end="")
    else:
        out.write_text(text)
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
