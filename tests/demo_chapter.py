"""A small exercise chapter and a class of submissions to it: good, buggy, broken and tampered."""

import functools
import json
import shutil
import subprocess
from pathlib import Path

import nbformat

from course_lib.grading import cells
from course_lib.grading.build import make_exercise, notebook_text
from course_lib.grading.sandbox import Sandbox

CHAPTER = "07_demo"
NO_BWRAP = "bubblewrap cannot run here: install it (apt-get install bubblewrap; .ci/run does) and run as root " \
           "or where unprivileged user namespaces are allowed"


@functools.cache
def bwrap_works() -> bool:
    """Whether bubblewrap is installed and can make its namespaces on this machine."""
    if shutil.which("bwrap") is None:
        return False
    probe = subprocess.run(["bwrap", "--ro-bind", "/", "/", "--unshare-pid", "--unshare-net", "--proc", "/proc",
                            "--dev", "/dev", "true"], capture_output=True)
    return probe.returncode == 0


def sandbox() -> Sandbox:
    """The OS sandbox where it works; plain processes elsewhere (tests of scoring, not of isolation)."""
    return Sandbox("bwrap") if bwrap_works() else Sandbox("none")

SETUP = "import numpy as np\nfrom course_lib.checks import check_close, check_equal\nrng = np.random.default_rng(0)"
DOUBLE = '''def double(x):
    ### BEGIN SOLUTION
    ### HINT: multiply by two
    return 2 * x
    ### END SOLUTION'''
NORM = '''def normalize(v):
    """v (N,) -> v / sum(v), a new array."""
    ### BEGIN SOLUTION
    ### HINT: divide by the sum
    return v / v.sum()
    ### END SOLUTION'''
TEST_DOUBLE = '''check_equal("double(2)", double(2), 4)
### BEGIN HIDDEN TESTS
check_equal("double(-7)", double(-7), -14)
### END HIDDEN TESTS'''
TEST_NORM = '''v = np.random.default_rng(1).uniform(1, 2, 5)
check_close("normalize", normalize(v), v / v.sum())
### BEGIN HIDDEN TESTS
w = np.random.default_rng(2).uniform(1, 2, 7)
check_close("normalize hidden", normalize(w), w / w.sum())
### END HIDDEN TESTS'''


WRITTEN_ID = "written_why_copy"
WRITTEN_QUESTION = "**Question (3 points).** Why must `normalize` return a new array instead of dividing `v` in place?"
WRITTEN_MODEL = ("The caller still holds `v`: dividing in place changes their data behind their back, "
                 "and calling twice gives a different answer. A new array keeps the function pure.")
WRITTEN_RUBRIC = ["2 pts: says the caller's array would change (a side effect)", "1 pt: names purity or repeatability"]


def make_solution() -> nbformat.NotebookNode:
    return cells.notebook([
        cells.markdown("# Demo"),
        cells.code(SETUP),
        cells.answer("double", DOUBLE),
        cells.test("test_double", TEST_DOUBLE, points=1),
        cells.answer("normalize", NORM),
        cells.test("test_normalize", TEST_NORM, points=2),
        cells.markdown(WRITTEN_QUESTION),
        cells.written(WRITTEN_ID, WRITTEN_MODEL, points=3, rubric=WRITTEN_RUBRIC),
    ])


SOLUTION = make_solution()  # made once: students' cells keep its cell ids


def solution() -> nbformat.NotebookNode:
    return nbformat.from_dict(json.loads(json.dumps(SOLUTION)))


def exercise() -> nbformat.NotebookNode:
    return make_exercise(solution(), CHAPTER)


def answered(double: str | None = None, norm: str | None = None, extra=None) -> nbformat.NotebookNode:
    """The exercise with the given answer sources filled in (None keeps the stub)."""
    nb = exercise()
    if double is not None:
        nb.cells[2].source = double
    if norm is not None:
        nb.cells[4].source = norm
    if extra:
        extra(nb)
    return nb


GOOD_DOUBLE = "def double(x):\n    return x + x"
GOOD_NORM = "def normalize(v):\n    return v / np.sum(v)"
FIXTURES = {
    "good": lambda: answered(GOOD_DOUBLE, GOOD_NORM),
    "blank": exercise,
    "wrong_sign": lambda: answered("def double(x):\n    return -2 * x", GOOD_NORM),
    "in_place": lambda: answered(GOOD_DOUBLE, "def normalize(v):\n    v /= v.sum()\n    return v"),
    "syntax_error": lambda: answered("def double(x)\n    return 2 * x", GOOD_NORM),
    "exception_at_import": lambda: answered("import no_such_module\ndef double(x):\n    return 2 * x", GOOD_NORM),
    "renamed_function": lambda: answered("def twice(x):\n    return 2 * x", GOOD_NORM),
    "infinite_loop": lambda: answered("while True:\n    pass", GOOD_NORM),
    "huge_allocation": lambda: answered("big = bytearray(10**11)", GOOD_NORM),
    "sys_exit": lambda: answered("import sys\nsys.exit(0)", GOOD_NORM),
    "os_exit": lambda: answered("import os\nos._exit(1)", GOOD_NORM),
    "prints_100mb": lambda: answered(GOOD_DOUBLE + "\nprint('x' * 100_000_000)", GOOD_NORM),
    "tamper_numpy": lambda: answered(
        "np.allclose = lambda *a, **k: True\nnp.testing.assert_allclose = lambda *a, **k: None\n" + GOOD_DOUBLE,
        "def normalize(v):\n    return v"),
    "tamper_checks": lambda: answered(
        "import course_lib.checks as c\nc.check_close = lambda *a, **k: print('✓ normalize')\n"
        "c.check_equal = lambda *a, **k: print('✓ double(2)')\ncheck_close, check_equal = c.check_close, c.check_equal\n"
        "def double(x):\n    return 0", "def normalize(v):\n    return v"),
    "tamper_recorder": lambda: answered(
        "import course_lib.checks as c\nc.set_recorder = lambda r: None\nc.set_recorder.__globals__['_recorder'] = None\n"
        + "def double(x):\n    return 0", GOOD_NORM),
    "rigged_eq": lambda: answered(
        "class Anything:\n    def __eq__(self, other):\n        return True\n"
        "def double(x):\n    return Anything()", "def normalize(v):\n    return Anything()"),
    "fake_passed_output": lambda: answered("print('✓ double(2)\\n✓ double(-7)\\nAll tests passed!')\ndef double(x):\n    return 1", GOOD_NORM),
    "reads_solutions": lambda: answered(
        "import pathlib\ntext = [p.read_text() for p in pathlib.Path(SOLUTIONS).glob('*.ipynb')]\n"
        "def double(x):\n    return 2 * x", GOOD_NORM),
    "writes_outside": lambda: answered("open('/tmp/course_grader_escape.txt', 'w').write('x')\n" + GOOD_DOUBLE, GOOD_NORM),
    "edited_tests": lambda: answered(GOOD_DOUBLE, "def normalize(v):\n    return v", extra=_edit_tests),
    "deleted_tests": lambda: answered(GOOD_DOUBLE, GOOD_NORM, extra=lambda nb: nb.cells.pop(5)),
    "missing_answer": lambda: answered(GOOD_DOUBLE, GOOD_NORM, extra=lambda nb: nb.cells.pop(4)),
    "lost_metadata": lambda: answered(GOOD_DOUBLE, GOOD_NORM, extra=lambda nb: nb.cells[4].metadata.clear()),
    "duplicated_answer": lambda: answered(GOOD_DOUBLE, GOOD_NORM, extra=_duplicate_answer),
    "reordered": lambda: answered(GOOD_DOUBLE, GOOD_NORM, extra=lambda nb: nb.cells.reverse()),
}
# points (double, normalize) each submission must earn: 1 and 2 are full marks
EXPECTED = {
    "good": (1, 2), "blank": (0, 0), "wrong_sign": (0, 2), "in_place": (1, 2), "syntax_error": (0, 2),
    "exception_at_import": (0, 2), "renamed_function": (0, 2), "infinite_loop": (0, 2), "huge_allocation": (0, 2),
    "sys_exit": (0, 2), "os_exit": (0, 2), "prints_100mb": (1, 2), "tamper_numpy": (1, 0), "tamper_checks": (0, 0),
    "tamper_recorder": (0, 2), "rigged_eq": (0, 0), "fake_passed_output": (0, 2), "reads_solutions": (1, 2),
    "writes_outside": (1, 2), "edited_tests": (1, 0), "deleted_tests": (1, 2), "missing_answer": (1, 0),
    "lost_metadata": (1, 2), "duplicated_answer": (1, 2), "reordered": (1, 2),
}


# the sandbox shows no solutions and keeps writes inside it, so these answers work (and earn their
# points), but reading their code flags them for review
FLAGGED = {"os_exit", "sys_exit", "tamper_recorder", "reads_solutions", "writes_outside"}


def _edit_tests(nb):
    nb.cells[5].source = "print('all good')"  # replaced test: the original must be restored


def _duplicate_answer(nb):
    copy = nbformat.from_dict(json.loads(json.dumps(nb.cells[4])))
    copy.source = "def normalize(v):\n    return v"
    copy.id = "copy-of-normalize"
    nb.cells.insert(6, copy)  # a later, wrong copy: the first (right) one is graded


def write_class(root: Path, names=None) -> Path:
    """Write the solution under root/solutions and one folder per submission under root/submissions."""
    (root / "solutions").mkdir(parents=True, exist_ok=True)
    (root / "solutions" / f"{CHAPTER}.ipynb").write_text(notebook_text(solution()))
    classroom = root / "submissions"
    for student in names or FIXTURES:
        make = FIXTURES[student.split("-")[0]]
        (classroom / student).mkdir(parents=True, exist_ok=True)
        text = notebook_text(make()).replace("SOLUTIONS", repr(str(root / "solutions")).replace("'", '\\"'))
        (classroom / student / f"{CHAPTER}.ipynb").write_text(text)
    return classroom
