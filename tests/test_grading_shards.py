"""A class graded as 3 shards in separate processes, then merged, writes what one run writes, byte for byte."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course_lib.cli import main
from course_lib.grading.cache import KEY_FILE, write_signed
from course_lib.grading.shard import MANIFEST, Shard, read_manifest
from demo_chapter import CHAPTER, bwrap_works, write_class

ROOT = Path(__file__).resolve().parents[1]
STUDENTS = ["good", "blank", "wrong_sign", "in_place", "syntax_error", "renamed_function", "os_exit", "tamper_numpy"]
REPORTS = ["grades.csv", "overview.csv", "canvas.csv", "moodle.csv", "summary.txt", f"chapters/{CHAPTER}.csv",
           *[f"feedback/{s}.html" for s in STUDENTS]]


def course(*args: str, cwd: Path) -> subprocess.Popen:
    flags = [] if bwrap_works() else ["--no-sandbox"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "course_lib.cli", "grade", *args, "--jobs", "1", "--timeout", "10",
                             *flags, "--solutions", str(cwd / "solutions")], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("sharded")
    classroom = write_class(root, STUDENTS)
    (classroom / "bad_json").mkdir()
    (classroom / "bad_json" / f"{CHAPTER}.ipynb").write_text('{"cells": [')
    processes = [course(str(classroom), "--out", str(root / f"shard{k}"), "--shard", f"{k}/3", cwd=root)
                 for k in (1, 2, 3)]
    processes.append(course(str(classroom), "--out", str(root / "single"), cwd=root))
    for process in processes:
        output = process.communicate(timeout=600)[0]
        assert process.returncode == 0, output
    return root


def test_students_are_spread_over_the_shards_by_name_alone():
    shards = [Shard(k, 3) for k in (1, 2, 3)]
    for student in STUDENTS + ["bad_json"]:
        assert sum(s.holds(student) for s in shards) == 1
    assert {k for k in (1, 2, 3) if any(Shard(k, 3).holds(s) for s in STUDENTS)} == {1, 2, 3}


def test_merged_shards_write_what_one_run_writes(runs):
    shards = [runs / f"shard{k}" for k in (3, 1, 2)]  # in any order
    assert all(len(read_manifest(s)["results"]) < len(STUDENTS) for s in shards), "a shard graded everyone"
    assert main(["grade", "merge", *map(str, shards), "--out", str(runs / "merged")]) == 0
    for report in REPORTS:
        assert (runs / "merged" / report).read_bytes() == (runs / "single" / report).read_bytes(), report


@pytest.mark.parametrize("spec", ["0/3", "4/3", "3", "a/b", "-1/3", "1/0"])
def test_a_shard_out_of_range_is_refused_before_anything_runs(tmp_path, capsys, spec):
    assert main(["grade", str(tmp_path), "--out", str(tmp_path / "out"), f"--shard={spec}"]) == 2
    assert "shard: expected K/N" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def forged(runs: Path, k: int, name: str, change) -> Path:
    """A copy of shard k whose manifest ``change`` edits, signed with that folder's own key."""
    copy = runs / name
    if copy.exists():
        shutil.rmtree(copy)
    shutil.copytree(runs / f"shard{k}", copy)
    data = read_manifest(copy)
    change(data)
    write_signed(copy / MANIFEST, (copy / KEY_FILE).read_bytes(), data)
    return copy


def other_limits(data):
    data["settings"]["limits"]["cell_seconds"] = 99.0


def other_course(data):
    data["settings"]["sources"][CHAPTER] = "0" * 16


@pytest.mark.parametrize("which, words", [
    (lambda r: [r / "shard1", r / "shard2"], "expected 3 shards, missing 3/3"),
    (lambda r: [r / "shard1", r / "shard2", r / "shard2"], "shard 2/3 appears twice"),
    (lambda r: [r / "shard1", r / "shard2", forged(r, 3, "limits", other_limits)], "different limits"),
    (lambda r: [r / "shard1", r / "shard2", forged(r, 3, "course", other_course)], "different courses"),
    (lambda r: [r / "shard1", r / "shard2", r / "single"], "a signed shard.json"),
])
def test_shards_that_do_not_belong_together_are_refused_and_nothing_is_overwritten(runs, capsys, which, words):
    out = runs / "kept"
    out.mkdir(exist_ok=True)
    (out / "grades.csv").write_text("an earlier merge\n")
    assert main(["grade", "merge", *map(str, which(runs)), "--out", str(out)]) == 2
    assert words in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["grades.csv"]
    assert (out / "grades.csv").read_text() == "an earlier merge\n"


def test_a_student_in_two_shards_is_refused(runs, capsys):
    one = read_manifest(runs / "shard1")["results"][0]["student"]
    home = next(k for k in (1, 2, 3) if Shard(k, 3).holds(one))
    other = next(k for k in (1, 2, 3) if k != home)

    def add_theirs(data):
        data["results"].append(next(r for r in read_manifest(runs / "shard1")["results"] if r["student"] == one))

    twice = forged(runs, other, "twice", add_theirs)
    folders = [runs / f"shard{k}" for k in (1, 2, 3) if k != other] + [twice]
    assert main(["grade", "merge", *map(str, folders), "--out", str(runs / "never")]) == 2
    assert repr(one) in capsys.readouterr().err and not (runs / "never").exists()
