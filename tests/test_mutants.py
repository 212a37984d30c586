"""``course mutants``: each mistake written as it should be, and graded the way ``course grade`` would."""

import time

import nbformat
import pytest

from course_lib.cli import main
from course_lib.grading import cells
from course_lib.grading.assemble import assemble
from course_lib.grading.mutants import OPERATORS, mutants_of_cell
from course_lib.grading.mutation import chapter_mutants, equivalents_of, grade_mutants, plan_cells, survivor_lines
from tests import demo_chapter


def answer_cell(body: str, signature: str = "def f(a, b):") -> str:
    """A function whose body is the solution block."""
    indented = "\n".join("    " + line for line in body.split("\n"))
    return f"{signature}\n    ### BEGIN SOLUTION\n{indented}\n    ### END SOLUTION"


def afters(operator: str, body: str, signature: str = "def f(a, b):") -> list[str]:
    return [m.after for m in mutants_of_cell("f", answer_cell(body, signature), [operator])]


@pytest.mark.parametrize("operator, body, expected", [
    ("sign_flip", "return a + b", ["return a - b"]),
    ("sign_flip", "return -a * b", ["return a * b"]),
    ("dropped_term", "return a + b", ["return a", "return b"]),
    ("dropped_term", "return a - b", ["return a"]),
    ("dropped_factor", "return a * b", ["return a", "return b"]),
    ("dropped_factor", "return a / b", ["return a"]),
    ("transpose", "return a.T @ b", ["return a.T @ b.T", "return a @ b"]),
    ("wrong_axis", "return a.sum(axis=1, keepdims=True)",
     ["return a.sum(axis=0, keepdims=True)", "return a.sum(axis=1)"]),
    ("wrong_axis", "return a.max(axis=-1)", ["return a.max(axis=0)"]),
    ("off_by_one", "return a[b:-1]", ["return a[b + 1:-1]", "return a[b:-2]"]),
    ("off_by_one", "return a[:3]", ["return a[1:3]", "return a[:2]"]),
    ("in_place", "c = a.copy()\nc -= b\nreturn c", ["c = a"]),
    ("in_place", "a = a - b\nreturn a", ["a -= b"]),
    ("dtype_cast", "return a, float(b)", ["return a.astype(np.float32), float(b)"]),
    ("no_shuffle", "order = b.permutation(len(a))\nreturn a[order]", ["order = np.arange(len(a))"]),
    ("no_shuffle", "b.shuffle(a)\nreturn a", ["None"]),
    ("return_input", "c = a * b\nreturn c + 1", ["return a"]),
    ("constant", "return a[0] * 2", ["return a[1] * 2", "return a[0] * 1"]),
    ("comparison", "return a < b <= 3", ["return a <= b <= 3", "return a < b < 3"]),
])
def test_each_operator_writes_its_mistake(operator, body, expected):
    assert afters(operator, body) == expected


def test_ignored_argument_replaces_every_use_by_the_default():
    mutants = mutants_of_cell("f", answer_cell("return a * lr + lr", "def f(a, lr=0.1, *, scale):"),
                              ["ignored_argument"])
    assert [m.after for m in mutants] == ["return a * 0.1 + 0.1"]
    assert (mutants[0].cell, mutants[0].line, mutants[0].before) == ("f", 3, "return a * lr + lr")


@pytest.mark.parametrize("operator", list(OPERATORS))
def test_an_operator_that_finds_nothing_writes_nothing(operator):
    assert afters(operator, "print(a)", signature="def f(a):") == []


def test_only_the_solution_block_is_mutated_and_brackets_keep_precedence():
    source = "def f(a, b):\n    c = a + b\n    ### BEGIN SOLUTION\n    return 3 * (a - b)\n    ### END SOLUTION"
    after = [m.after for m in mutants_of_cell("f", source, ["sign_flip", "dropped_term"])]
    assert after == ["return 3 * (a + b)", "return 3 * (a)"]  # line 2, outside the block, is left alone
    minus = mutants_of_cell("f", answer_cell("return a * b"), ["transpose"])
    assert minus == []  # no @: nothing to transpose


def test_the_same_solution_gives_the_same_mutants():
    source = demo_chapter.solution()
    first = chapter_mutants(source)
    assert first == chapter_mutants(demo_chapter.solution())
    assert chapter_mutants(source, sample=3, seed=1) == chapter_mutants(source, sample=3, seed=1)
    assert len(chapter_mutants(source, sample=3, seed=1)) == 3
    with pytest.raises(ValueError, match="mutation operators"):
        chapter_mutants(source, operators=["sign_flop"])


def test_a_plan_runs_only_the_cells_an_answer_needs():
    chapter = assemble(demo_chapter.solution(), demo_chapter.solution()).cells
    roles = [(c.role, c.grade_id) for c in chapter]
    double = roles.index(("answer", "double"))
    plan = [roles[i] for i in plan_cells(chapter, double)]
    assert plan == [("given", None), ("answer", "double"), ("test", "test_double")]


# ---------------------------------------------------------------------------
# Grading mutants: the demo chapter with a weak and a strong test
# ---------------------------------------------------------------------------

WEAK_DOUBLE = 'check_equal("double(0)", double(0), 0)'  # 0 doubled and 0 times anything agree
ONE_TIMES = "return 1 * x"  # the mutant `constant` writes from `return 2 * x`


def chapter(tmp_path, test_double: str, marks=None):
    nb = cells.notebook([
        cells.markdown("# Demo"),
        cells.code(demo_chapter.SETUP),
        cells.answer("double", demo_chapter.DOUBLE),
        cells.test("test_double", test_double, points=1),
    ])
    if marks is not None:
        nb.metadata["course"] = {"equivalent_mutants": marks}
    path = tmp_path / f"{demo_chapter.CHAPTER}.ipynb"
    nbformat.write(nb, path)
    return path


def verdict_of(report, after: str):
    return next(v for v in report.verdicts if v.mutant.after == after)


def test_a_weak_test_lets_the_mutant_survive_and_a_strong_one_kills_it(tmp_path):
    weak = grade_mutants(chapter(tmp_path, WEAK_DOUBLE), operators=["constant", "return_input"])
    assert verdict_of(weak, ONE_TIMES).status == "survived"
    assert verdict_of(weak, "return x").status == "survived"  # double(0) == 0 == 0 as well
    assert "double:4  constant  return 2 * x -> return 1 * x" in "\n".join(survivor_lines(weak))
    strong = grade_mutants(chapter(tmp_path, demo_chapter.TEST_DOUBLE), operators=["constant", "return_input"])
    assert verdict_of(strong, ONE_TIMES).status == "killed"
    assert "test_double" in verdict_of(strong, ONE_TIMES).why
    assert strong.kill_rate == 1.0 and not strong.survivors


def test_a_mutant_marked_equivalent_is_not_a_survivor(tmp_path):
    marks = [{"cell": "double", "operator": "constant", "line": "return 1  *  x", "reason": "the test's input is 0"},
             {"cell": "double", "operator": "sign_flip", "line": "return 2 - x", "reason": "no such mutant"}]
    report = grade_mutants(chapter(tmp_path, WEAK_DOUBLE, marks), operators=["constant"])
    assert [(v.status, v.why) for v in report.verdicts] == [("equivalent", "the test's input is 0")]
    assert report.kill_rate == 1.0
    assert [m.operator for m in report.unused] == ["sign_flip"]  # a stale mark is reported, not ignored
    wrong_cell = [{**marks[0], "cell": "normalize"}]
    report = grade_mutants(chapter(tmp_path, WEAK_DOUBLE, wrong_cell), operators=["constant"])
    assert [v.status for v in report.verdicts] == ["survived"]


@pytest.mark.parametrize("mark", [{"cell": "double", "operator": "constant", "line": "return 1 * x"},
                                  {"cell": "double", "operator": "typo", "line": "x", "reason": "r"}, "double"])
def test_a_bad_equivalent_mark_is_refused(mark):
    nb = demo_chapter.solution()
    nb.metadata["course"] = {"equivalent_mutants": [mark]}
    with pytest.raises(ValueError, match="equivalent_mutants"):
        equivalents_of(nb)


def test_min_kill_sets_the_exit_code(tmp_path, capsys):
    weak, strong = tmp_path / "weak", tmp_path / "strong"
    weak.mkdir(), strong.mkdir()
    args = ["--operators", "constant", "--min-kill", "0.95"]
    assert main(["mutants", str(chapter(weak, WEAK_DOUBLE)), *args]) == 1
    out = capsys.readouterr()
    assert "07_demo" in out.out and "below the 95% kill bar" in out.err
    assert main(["mutants", str(chapter(strong, demo_chapter.TEST_DOUBLE)), *args]) == 0
    assert main(["mutants", str(chapter(weak, WEAK_DOUBLE)), "--operators", "constant"]) == 0  # no bar asked
    assert main(["mutants", "99", "--solutions", str(weak)]) == 2


COUNT = '''def count_to(n):
    i = 0
    ### BEGIN SOLUTION
    while i < n:
        i += 1
    ### END SOLUTION
    return i'''


def test_a_mutant_that_loops_forever_is_killed_within_its_limit(tmp_path):
    nb = cells.notebook([
        cells.code("from course_lib.checks import check_equal"),
        cells.answer("count_to", COUNT),
        cells.test("test_count", 'check_equal("count_to(3)", count_to(3), 3)', points=1),
    ])
    path = tmp_path / "08_loop.ipynb"
    nbformat.write(nb, path)
    grade_mutants(path, operators=["comparison"])  # the zygotes are warm before the clock starts
    began = time.monotonic()
    report = grade_mutants(path, operators=["constant"], timeout=3)
    assert [v.mutant.after for v in report.verdicts] == ["i += 0"]
    assert report.verdicts[0].status == "killed" and "timeout" in report.verdicts[0].why
    assert time.monotonic() - began < 3 + 15  # the limit, a plan run of the solution and process starts


def test_the_judge_alone_grades_mutants_as_the_worker_and_its_channel_do(tmp_path):
    path = tmp_path / f"{demo_chapter.CHAPTER}.ipynb"
    nbformat.write(demo_chapter.solution(), path)
    fast = grade_mutants(path)
    exact = grade_mutants(path, exact=True)
    assert len(fast.verdicts) == 6  # the same text from two operators is one mutant
    assert [(v.mutant, v.status) for v in fast.verdicts] == [(v.mutant, v.status) for v in exact.verdicts]
