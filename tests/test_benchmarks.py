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


def test_run_all_keeps_the_sections_of_scripts_not_run_again(tmp_path):
    sys.path.insert(0, str(HERE))
    from run_all import Result, earlier_results, report

    first = {"closed_form_vs_sgd": Result(12.0, 0, "table A", "2026-01-02 03:04", False, 0.5),
             "mlp_scratch_vs_torch": Result(3.0, 1, "boom", "2026-01-02 03:05", True, 11.0)}
    kept = earlier_results(report(first))
    assert kept == first


def test_run_all_reads_a_cost_ratio_the_right_way_up():
    sys.path.insert(0, str(HERE))
    from run_all import FIGURES, headline

    mlp = next(f for f in FIGURES if f.script == "mlp_scratch_vs_torch")
    output = "batch  width  scratch ms  torch ms  ratio\n    32     64   0.1   0.2  0.5x\n   256    256   3.0   2.0  1.50x\n"
    assert headline(mlp, output)[1:4] == ["3 ms", "2 ms", "1.50x (ours / reference)"]


def test_run_all_reads_the_loop_overhead_from_the_training_loop_table():
    sys.path.insert(0, str(HERE))
    from run_all import FIGURES, headline
    from training_loop import overhead_table

    loop = next(f for f in FIGURES if f.script == "training_loop")
    row = headline(loop, overhead_table([0.19, 0.21, 0.25], [0.2, 0.2, 0.3]))
    assert row[1:4] == ["0.21 s", "0.2 s", "1.05x (ours / reference)"]


def test_run_all_reads_grading_per_core_from_the_marginal_costs():
    sys.path.insert(0, str(HERE))
    from run_all import FIGURES, headline

    figure = next(f for f in FIGURES if f.script == "grading_vs_nbgrader")
    output = ("grader    class of 20 (s)  class of 40 (s)  one more (s)  one more, core-s\n"
              "course grade --jobs 2      8.10     12.30     0.210     0.420\n"
              "  (first run, with reference)      9.00     13.00\n"
              "nbgrader autograde     45.00     89.00     2.200     2.200\n")
    assert headline(figure, output)[1:4] == ["0.42 core-s", "2.2 core-s", "5.24x (reference / ours)"]
