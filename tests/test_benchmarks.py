"""Every benchmark still runs: each one with --quick, as a smoke test (the numbers are not judged here)."""

import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parents[1] / "benchmarks"
BENCHMARKS = sorted(p for p in HERE.glob("*.py") if p.stem != "run_all")


@pytest.mark.parametrize("script", BENCHMARKS, ids=[p.stem for p in BENCHMARKS])
def test_benchmark_runs_quickly(script):
    done = subprocess.run([sys.executable, str(script), "--quick"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip(), "a benchmark prints its table"


def test_run_all_writes_one_report_with_the_machine_and_each_output(tmp_path):
    out = tmp_path / "RESULTS.md"
    done = subprocess.run([sys.executable, str(HERE / "run_all.py"), "--quick", "--only", "closed_form_vs_sgd",
                           "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    text = out.read_text()
    assert "Machine: " in text and "cores" in text and "## closed_form_vs_sgd" in text and "FAILED" not in text


def test_run_all_reads_the_headline_figures_from_the_scripts_tables():
    sys.path.insert(0, str(HERE))
    from grading_warm import table
    from run_all import FIGURES, headline

    warm = next(f for f in FIGURES if f.script == "grading_warm")
    row = headline(warm, table([("00 solved", 6.0, 1.5), ("01 solved", 6.0, 2.5)], 3.0))
    assert row[1:4] == ["4 s", "12 s", "3.00x (cold / warm)"]
    assert headline(warm, "no table here")[1] == "-"


def test_run_all_reads_the_loop_overhead_from_the_training_loop_table():
    sys.path.insert(0, str(HERE))
    from run_all import FIGURES, headline
    from training_loop import overhead_table

    loop = next(f for f in FIGURES if f.script == "training_loop")
    assert headline(loop, overhead_table(0.21, 0.2))[1:4] == ["0.21 s", "0.2 s", "0.95x (reference / ours)"]
