"""A hostile class, graded in one run beside honest students, and attacks on the run itself.

Each hostile submission (tests/hostile_class.py) states the points and status it must get. The
honest students' rows must be exactly what a run without the hostile ones gives them, nothing may
have leaked out of a sandbox, and no process may outlive its notebook.
"""

import csv
import hashlib
import json
import os
from pathlib import Path

import pytest

from course_lib.grading.build import notebook_text
from course_lib.grading.cache import KEY_FILE, read_signed, write_signed
from course_lib.grading.grade import grade_class
from course_lib.grading.sandbox import Limits, Sandbox
from demo_chapter import CHAPTER, GOOD_DOUBLE, GOOD_NORM, NO_BWRAP, answered, bwrap_works, exercise, write_class
from hostile_class import hostile

pytestmark = pytest.mark.skipif(not bwrap_works(), reason=NO_BWRAP)

HONEST = ["good", "wrong_sign", "blank"]
LIMITS = Limits(cell_seconds=5, notebook_seconds=60, memory_mb=3072)
SANDBOX = Sandbox("bwrap")
ESCAPE_MARKERS = [Path("/tmp/course_hostile_escape.txt")]


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)
    return folder / name


def write_hostile(root: Path, classroom: Path) -> dict[str, tuple[float, str]]:
    """Write every hostile submission; return name -> (total, status) for those not in HOSTILE."""
    solutions, notebook = root / "solutions", f"{CHAPTER}.ipynb"
    for name, (double, norm, _, _) in hostile().items():
        double = double.replace("SOLUTIONS", repr(str(solutions))).replace("CLASS", repr(str(classroom)))
        _write(classroom / name, notebook, notebook_text(answered(double, norm)))
    good = classroom / "good" / notebook
    (classroom / "symlink_solutions").mkdir()
    (classroom / "symlink_solutions" / notebook).symlink_to(solutions / notebook)
    (classroom / "symlink_classmate").mkdir()
    (classroom / "symlink_classmate" / notebook).symlink_to(good)
    (classroom / "hardlink_solutions").mkdir()
    os.link(solutions / notebook, classroom / "hardlink_solutions" / notebook)
    (classroom / "symlinked_folder").symlink_to(classroom / "good")
    _write(classroom / "nests_classmate" / "good", notebook, good.read_text())  # not a second "good"
    perfect = notebook_text(answered(GOOD_DOUBLE, GOOD_NORM))
    _write(classroom / "three_copies", notebook, notebook_text(exercise()))
    _write(classroom / "three_copies", "extra.ipynb", perfect)  # metadata says 07_demo
    _write(classroom / "three_copies", f"{CHAPTER} copy.ipynb", perfect)
    (classroom / "bom").mkdir()
    (classroom / "bom" / notebook).write_bytes(b"\xef\xbb\xbf" + perfect.encode())
    _write(classroom / "deep_json", notebook, "[" * 200_000 + "]" * 200_000)
    odd = json.loads(perfect)
    odd["metadata"]["course"] = [1]
    odd["cells"][2]["metadata"]["nbgrader"] = 5
    _write(classroom / "metadata_types", notebook, json.dumps(odd))
    odd_name = os.path.join(os.fsencode(classroom), b"bad\xffname")
    os.mkdir(odd_name)
    Path(os.fsdecode(odd_name), notebook).write_text(perfect)
    return {"symlink_solutions": (0, "refused"), "symlink_classmate": (0, "refused"),
            "hardlink_solutions": (0, "refused"), "symlinked_folder": (0, "refused"),
            "nests_classmate": (0, "refused"), "three_copies": (0, "ok"), "bom": (3, "ok"),
            "deep_json": (0, "invalid"), "metadata_types": (0, "invalid"), "bad\ufffdname": (3, "ok")}


def sandbox_processes() -> list[str]:
    """Processes still running as a sandbox's uid (UID_BASE and up), other test processes' graders apart.

    The suite runs tests in parallel: another test process may be grading at this moment, and its
    sandboxes use the same uids. Those descend from that test process; a process of ours that escaped
    its notebook (reparented to init) descends from no other test process, so it is still found.
    """
    left = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        uid = int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])
        if 70_000 <= uid < 90_000 and not _under_another_test_process(int(pid)):
            left.append(f"{pid} {status.splitlines()[0]}")
    return left


def _parent(pid: int) -> int:
    """The parent's pid (0 once the process is gone)."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])  # the field after the state
    except OSError:
        return 0


def _under_another_test_process(pid: int) -> bool:
    """True when an ancestor of ``pid`` is another parallel test process: a pytest-xdist worker started
    beside this one (same parent, the suite's controller)."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return False  # no other test process
    controller = os.getppid()
    while pid > 1:
        parent = _parent(pid)
        if parent == controller and pid != os.getpid():
            return True
        pid = parent
    return False


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    honest_root = tmp_path_factory.mktemp("honest")
    honest = grade_class([write_class(honest_root, HONEST)], honest_root / "solutions", honest_root / "out", jobs=2,
                         limits=LIMITS, sandbox=SANDBOX)
    root = tmp_path_factory.mktemp("hostile")
    classroom = write_class(root, HONEST)
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in classroom.rglob("*.ipynb")}
    others = write_hostile(root, classroom)
    results = grade_class([classroom], root / "solutions", root / "out", jobs=2, limits=LIMITS, sandbox=SANDBOX)
    return {"honest": honest, "results": results, "root": root, "classroom": classroom, "before": before,
            "others": others, "leftover": sandbox_processes()}


def _rows(results):
    return {(r.student, r.notebook): r for r in results}


@pytest.mark.parametrize("name", sorted(hostile()))
def test_hostile_submission_gets_exactly_its_points_and_status(runs, name):
    *_, points, status = hostile()[name]
    result = _rows(runs["results"])[(name, f"{CHAPTER}.ipynb")]
    got = tuple(int(t.points) for t in result.tests if not t.grade_id.startswith("written_"))  # a person scores those
    assert (got, str(result.status)) == (points, status), (
        [(t.grade_id, str(t.status), t.message) for t in result.tests], result.message, result.diagnostics)


def test_class_has_at_least_40_hostile_submissions(runs):
    assert len(hostile()) + len(runs["others"]) >= 40


def test_discovery_attacks_get_their_status(runs):
    by_student: dict[str, list] = {}
    for r in runs["results"]:
        by_student.setdefault(r.student, []).append(r)
    for student, (total, status) in runs["others"].items():
        first = sorted(by_student[student], key=lambda r: r.notebook != f"{CHAPTER}.ipynb")[0]
        assert (first.total, str(first.status)) == (total, status), (student, first.message, first.diagnostics)
    extras = [r for r in by_student["three_copies"] if r.notebook != f"{CHAPTER}.ipynb"]
    assert [str(r.status) for r in extras] == ["extra", "extra"] and all(r.total == 0 for r in extras)
    assert "symbolic link" in by_student["symlink_solutions"][0].message
    assert "hard link" in by_student["hardlink_solutions"][0].message
    assert "nested folder good/" in by_student["nests_classmate"][0].message


def test_honest_students_grade_as_in_a_class_of_their_own(runs):
    alone = {r.student: r for r in runs["honest"]}
    beside = {r.student: r for r in runs["results"] if r.student in HONEST}
    assert len([r for r in runs["results"] if r.student == "good"]) == 1, "a nested folder was taken for 'good'"
    for student in HONEST:
        assert (beside[student].tests, beside[student].status) == (alone[student].tests, alone[student].status)
    rows = {r["student"]: r for r in csv.DictReader((runs["root"] / "out" / "grades.csv").open())}
    assert (rows["good"]["total"], rows["wrong_sign"]["total"], rows["blank"]["total"]) == ("3", "2", "0")


def test_every_notebook_has_a_row_and_nothing_leaked(runs):
    rows = list(csv.DictReader((runs["root"] / "out" / "grades.csv").open()))
    assert len(rows) == len(runs["results"]) >= len(hostile()) + len(runs["others"]) + len(HONEST)
    for path, digest in runs["before"].items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == digest, f"{path} was changed"
    assert not (runs["classroom"] / "good" / "planted.txt").exists()
    assert not list(runs["classroom"].parent.glob("*-evil.txt"))
    assert not any(p.exists() for p in ESCAPE_MARKERS)
    page = (runs["root"] / "out" / "feedback" / "leak_hidden_in_error.html").read_text()
    assert "double(-7)" not in page and "-14" not in page and "HIDDEN" not in page, "hidden test source leaked"


def test_no_process_outlives_its_notebook(runs):
    assert runs["leftover"] == []


def test_forged_caches_and_results_are_not_trusted(tmp_path):
    """Attacks on the run: forged reference and result files in the output folder, before and between runs."""
    classroom = write_class(tmp_path, HONEST)
    out = tmp_path / "out"
    first = {r.student: r.total for r in grade_class([classroom], tmp_path / "solutions", out, jobs=2,
                                                     limits=LIMITS, sandbox=SANDBOX)}
    assert first == {"good": 3, "wrong_sign": 2, "blank": 0}
    reference = next((out / "reference").glob("*.json"))
    assert read_signed(reference, (out / KEY_FILE).read_bytes()) is not None
    write_signed(reference, b"k" * 32, {})  # a reference that passes anything, signed with a guessed key
    saved = out / "results" / "blank" / f"{CHAPTER}.ipynb.json"
    wrapper = json.loads(saved.read_text())
    payload = json.loads(wrapper["payload"])
    for test in payload["tests"]:
        test["points"] = test["max_points"]
    wrapper["payload"] = json.dumps(payload, sort_keys=True)  # edited, old signature kept
    saved.write_text(json.dumps(wrapper))
    zeroed = out / "results" / "good" / f"{CHAPTER}.ipynb.json"
    zeroed.write_text('{"payload": "{}", "mac": "0"}')
    again = {r.student: r.total for r in grade_class([classroom], tmp_path / "solutions", out, jobs=2,
                                                     limits=LIMITS, sandbox=SANDBOX)}
    assert again == first


def test_a_fresh_output_folder_gets_a_fresh_private_key(tmp_path):
    from course_lib.grading.cache import output_key

    a, b = output_key(tmp_path / "a"), output_key(tmp_path / "b")
    assert a != b and len(a) == 32 and output_key(tmp_path / "a") == a
    assert (tmp_path / "a" / KEY_FILE).stat().st_mode & 0o077 == 0
