"""`course build`: exercises/ from solutions/, stubs with hints, hidden tests dropped, nothing partial."""

import json
from pathlib import Path

import nbformat
import pytest

from course_lib.cli import main
from course_lib.grading import cells
from course_lib.grading.build import make_exercise, notebook_text, stale

ROOT = Path(__file__).resolve().parents[1]

ANSWER = '''def double(x):
    """Return 2 * x."""
    ### BEGIN SOLUTION
    ### HINT: multiply by two
    return 2 * x
    ### END SOLUTION'''

TEST = '''check_equal("double(2)", double(2), 4)
### BEGIN HIDDEN TESTS
check_equal("double(-3)", double(-3), -6)
### END HIDDEN TESTS'''


def solution_notebook() -> nbformat.NotebookNode:
    nb = cells.notebook([
        cells.markdown("# Warm-up"),
        cells.code("from course_lib.checks import check_equal"),
        cells.answer("double", ANSWER),
        cells.test("test_double", TEST, points=2),
    ])
    nb.cells[2].outputs = [nbformat.v4.new_output("stream", text="leftover\n")]
    nb.cells[2].execution_count = 7
    return nb


def write(folder: Path, name: str, nb_or_text) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(nb_or_text if isinstance(nb_or_text, str) else notebook_text(nb_or_text))
    return path


def test_solution_becomes_stub_with_hint_and_hidden_tests_go():
    nb = solution_notebook()
    out = make_exercise(nb, "00_warmup")
    answer, test = out.cells[2], out.cells[3]
    assert answer.source == (
        'def double(x):\n    """Return 2 * x."""\n    # YOUR CODE HERE\n    raise NotImplementedError(\'multiply by two\')'
    )
    assert test.source == 'check_equal("double(2)", double(2), 4)'
    assert answer.outputs == [] and answer.execution_count is None
    assert answer.metadata == nb.cells[2].metadata and answer.id == nb.cells[2].id
    assert out.metadata["course"] == {"chapter": "00_warmup"}
    assert nb.cells[2].source == ANSWER, "the solution itself must not change"


def test_written_answer_becomes_your_answer_here_without_its_rubric():
    from demo_chapter import WRITTEN_ID, exercise, solution

    source = solution()
    written = next(c for c in exercise().cells if c.metadata.get("nbgrader", {}).get("grade_id") == WRITTEN_ID)
    original = next(c for c in source.cells if c.metadata.get("nbgrader", {}).get("grade_id") == WRITTEN_ID)
    assert written.cell_type == "markdown" and written.source == "YOUR ANSWER HERE"
    assert written.metadata["nbgrader"] == original.metadata["nbgrader"]
    assert "course" not in written.metadata, "the rubric must not reach the students"
    assert original.metadata["course"]["rubric"], "the solution keeps its rubric"


@pytest.mark.parametrize("change, message", [
    (lambda c: c.metadata["course"].update(rubric=["2 pts: one thing"]), "its rubric gives 2 points, its metadata 3"),
    (lambda c: c.metadata["course"].update(rubric=["names X"]), "does not start with its points"),
    (lambda c: c.metadata.pop("course"), "expected metadata course.rubric"),
    (lambda c: c.metadata["nbgrader"].update(grade_id="why"), "must start with 'written_'"),
    (lambda c: c.metadata["nbgrader"].update(points="3"), "expected positive numeric nbgrader 'points'"),
    (lambda c: c.update(cell_type="raw"), "must be a markdown cell"),
])
def test_malformed_written_answer_is_refused(change, message):
    from course_lib.grading.build import BuildError
    from demo_chapter import WRITTEN_ID, solution

    nb = solution()
    change(next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == WRITTEN_ID))
    with pytest.raises(BuildError, match=message):
        make_exercise(nb, "07_demo")


def test_stub_without_hint_still_explains():
    nb = solution_notebook()
    nb.cells[2].source = ANSWER.replace("    ### HINT: multiply by two\n", "")
    out = make_exercise(nb, "x")
    assert "raise NotImplementedError('replace this line with your solution')" in out.cells[2].source


def test_stub_fails_where_the_work_is():
    out = make_exercise(solution_notebook(), "x")
    namespace = {}
    exec(out.cells[2].source, namespace)
    with pytest.raises(NotImplementedError, match="multiply by two"):
        namespace["double"](2)


def test_cli_build_then_check(tmp_path, capsys):
    write(tmp_path / "solutions", "00_warmup.ipynb", solution_notebook())
    args = ["--solutions", str(tmp_path / "solutions"), "--exercises", str(tmp_path / "exercises")]
    assert main(["build", "--check", *args]) == 1
    assert "00_warmup.ipynb: missing" in capsys.readouterr().err
    assert main(["build", *args]) == 0
    assert main(["build", "--check", *args]) == 0
    (tmp_path / "exercises" / "00_warmup.ipynb").write_text("{}")
    (tmp_path / "exercises" / "99_orphan.ipynb").write_text("{}")
    assert main(["build", "--check", *args]) == 1
    err = capsys.readouterr().err
    assert "00_warmup.ipynb: out of date" in err and "99_orphan.ipynb: has no source" in err


def _broken(kind: str) -> str | nbformat.NotebookNode:
    nb = solution_notebook()
    if kind == "invalid json":
        return '{"cells": [ oops'
    if kind == "not a notebook":
        return json.dumps({"hello": 1})
    if kind == "unbalanced":
        nb.cells[2].source = ANSWER.replace("    ### END SOLUTION", "")
    elif kind == "nested":
        nb.cells[2].source = ANSWER.replace("    ### HINT", "    ### BEGIN SOLUTION\n    ### HINT")
    elif kind == "end without begin":
        nb.cells[3].source = TEST.replace("### BEGIN HIDDEN TESTS\n", "")
    elif kind == "solution cell with no marker":
        nb.cells[2].source = "def double(x):\n    return 2 * x"
    elif kind == "marker outside a solution cell":
        nb.cells[1].source += "\n### BEGIN SOLUTION\n### END SOLUTION"
    elif kind == "duplicate grade_id":
        nb.cells[3].metadata["nbgrader"]["grade_id"] = "double"
    elif kind == "test without points":
        del nb.cells[3].metadata["nbgrader"]["points"]
    return nb


@pytest.mark.parametrize(
    "kind, message",
    [
        ("invalid json", "not a readable JSON notebook"),
        ("not a notebook", "not a Jupyter notebook"),
        ("unbalanced", "cell 2 .*never closed"),
        ("nested", "cell 2 .*nested markers"),
        ("end without begin", "cell 3 .*without a matching"),
        ("solution cell with no marker", "cell 2 .*must contain '### BEGIN SOLUTION'"),
        ("marker outside a solution cell", "cell 1 .*does not mark it solution"),
        ("duplicate grade_id", "cell 3 .*already used by cell 2"),
        ("test without points", "cell 3 .*points"),
    ],
)
def test_malformed_solution_names_file_and_cell_and_writes_nothing(tmp_path, capsys, kind, message):
    good = write(tmp_path / "solutions", "00_good.ipynb", solution_notebook())
    bad = write(tmp_path / "solutions", "01_bad.ipynb", _broken(kind))
    exercises = tmp_path / "exercises"
    code = main(["build", "--solutions", str(good.parent), "--exercises", str(exercises)])
    err = capsys.readouterr().err
    assert code == 2
    assert str(bad) in err
    assert pytest.importorskip("re").search(message, err), err
    assert not exercises.exists() or list(exercises.iterdir()) == [], "nothing may be written"


def test_exercises_folder_is_exactly_what_build_writes():
    problems = stale(ROOT / "solutions", ROOT / "exercises")
    assert problems == [], "run `course build`:\n" + "\n".join(problems)


def test_student_notebooks_hold_no_solutions():
    for path in sorted((ROOT / "exercises").glob("*.ipynb")):
        text = path.read_text()
        assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text, path
        nb = nbformat.reads(text, as_version=4)
        assert all(c.get("outputs", []) == [] for c in nb.cells if c.cell_type == "code"), path
