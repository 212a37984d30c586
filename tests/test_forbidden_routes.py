"""Every route around what an exercise set forbids is seen: in the code, at run time, and in the grade.

Static reading (``forbid.uses``) is tested one route per test; run-time watching (the worker's
``watch_forbidden``) in an IPython shell like the worker's; then a whole chapter is graded.
"""

import numpy as np
import pytest

from course_lib.grading.build import notebook_text
from course_lib.grading.forbid import Forbidden, uses
from course_lib.grading.grade import grade_class
from course_lib.grading.runner import Limits
from course_lib.grading.worker import watch_forbidden
from demo_chapter import CHAPTER, GOOD_DOUBLE, answered, sandbox, solution

SET = {"forbid": ["torch.nn.functional", "torch.autograd", "torch.softmax", "torch.Tensor.softmax",
                  "torch.Tensor.log_softmax", "sklearn.linear_model"]}
GIVEN = {"np": "numpy", "torch": "torch", "F": "torch.nn.functional"}  # what the set's given cells import


def seen(code: str, rules: dict = SET, aliases: dict | None = None) -> list[str]:
    return [route.what for route in uses(code, Forbidden.of(rules), dict(GIVEN if aliases is None else aliases))]


# --- reading the code: one test per route -------------------------------------------------------------

def test_import_as():
    assert seen("import torch.nn.functional as G") == ["imports torch.nn.functional"]


def test_from_import():
    assert seen("from torch.nn.functional import softmax as s") == ["imports torch.nn.functional.softmax"]


def test_from_import_star():
    assert seen("from torch.nn.functional import *") == ["imports * from torch.nn.functional (with torch.nn.functional)"]
    assert seen("from torch import *") == ["imports * from torch (with torch.autograd)",
                                           "imports * from torch (with torch.softmax)"]


def test_importlib_import_module():
    assert seen("import importlib\nm = importlib.import_module('sklearn.linear_model')") == [
        "imports sklearn.linear_model with importlib.import_module()"]


def test_dunder_import():
    assert seen("m = __import__('course_lib.scratch.losses')") == [
        "imports course_lib.scratch.losses with __import__()"]


def test_getattr_with_a_constant_name():
    assert seen("f = getattr(torch, 'softmax')") == ["reaches torch.softmax with getattr()"]


def test_name_reached_from_an_allowed_import():
    assert seen("p = torch.nn.functional.softmax(z, 1)") == [
        "uses torch.nn.functional.softmax"]


def test_alias_bound_by_a_given_cell():
    assert seen("p = F.softmax(z, 1)") == ["uses torch.nn.functional.softmax"]
    assert seen("p = F.logsigmoid(z)") == ["uses torch.nn.functional.logsigmoid"]
    assert seen("p = F.logsigmoid(z)", aliases={}) == [], "without the given cell's import, F is the student's own"


def test_tensor_methods():
    assert seen("p = z.softmax(1)\nq = (z * 2).log_softmax(dim=1)") == [
        "calls the tensor method .softmax (torch.Tensor.softmax)",
        "calls the tensor method .log_softmax (torch.Tensor.log_softmax)"]


def test_default_forbids_the_course_answers_and_allow_makes_exceptions():
    code = "from course_lib.scratch.layers import Linear, Tanh"
    assert seen(code, {}) == ["imports course_lib.scratch.layers.Linear", "imports course_lib.scratch.layers.Tanh"]
    assert seen(code, {"allow": ["course_lib.scratch.layers.Linear"]}) == ["imports course_lib.scratch.layers.Tanh"]


def test_what_is_not_forbidden_is_not_reported():
    assert seen("import torch\nimport numpy as np\np = torch.exp(z) / torch.exp(z).sum(1, keepdim=True)\n"
                "q = np.maximum(x, 0)\ndef softmax(z):\n    return z") == []


def test_bad_metadata_is_refused():
    with pytest.raises(ValueError, match="metadata course.forbid: expected a list of dotted names"):
        Forbidden.of({"forbid": "torch.nn.functional"})


# --- at run time: the worker's watch, in an IPython shell numbered as the worker's ------------------------

@pytest.fixture(scope="module")
def shell():
    """A shell whose first cell is 'given'; ``run(code)`` returns the forbidden names a student cell used."""
    from IPython.core.interactiveshell import InteractiveShell

    used, given = [], set()
    watch_forbidden(SET, used, given)
    ipython = InteractiveShell.instance()
    given.add(ipython.execution_count)
    ipython.run_cell("import numpy as np\nimport torch\nimport torch.nn.functional as F\n"
                     "def given_helper(z):\n    return F.softmax(z, 1)\nz = torch.randn(3, 4, requires_grad=True)",
                     store_history=True)
    assert used == [], "calls made by a given cell are not the student's"

    def run(code: str) -> list[str]:
        used.clear()
        result = ipython.run_cell(code, store_history=True, silent=True)
        assert result.success, result.error_in_exec
        return sorted(set(used))

    return run


@pytest.mark.parametrize("code, used", [
    ("p = F.softmax(z, 1)", ["torch.nn.functional.softmax"]),
    ("p = z.softmax(1)", ["torch.Tensor.softmax"]),
    ("p = torch.softmax(z, 1)", ["torch.softmax"]),
    ("p = getattr(torch, 'soft' + 'max')(z, 1)", ["torch.softmax"]),  # a name built at run time
    ("import importlib\np = importlib.import_module('torch.nn.' + 'functional').log_softmax(z, 1)",
     ["torch.nn.functional.log_softmax"]),
    ("def mine(z):\n    return z.log_softmax(1)\np = mine(z)", ["torch.Tensor.log_softmax"]),  # inside their function
    ("z.sum().backward()", ["torch.Tensor.backward"]),  # torch.autograd forbids the tensor's backward too
    ("g = torch.autograd.grad((z * z).sum(), z)", ["torch.autograd.grad"]),
    ("from course_lib.scratch.activations import relu\nr = relu(np.ones(2))", ["course_lib.scratch.activations.relu"]),
    ("from sklearn.linear_model import LinearRegression\nm = LinearRegression()\nassert isinstance(m, LinearRegression)",
     ["sklearn.linear_model.LinearRegression"]),  # a class: its construction, and it stays a class
])
def test_each_route_is_seen_at_run_time(shell, code, used):
    assert shell(code) == used


def test_an_allowed_class_inheriting_a_forbidden_init_is_not_counted(shell, monkeypatch):
    import sys
    import types

    layers = types.ModuleType("mylib.layers")
    exec("class Layer:\n    def __init__(self):\n        self.cache = None\n"
         "class Tanh(Layer):\n    pass\nclass ReLU(Layer):\n    pass", layers.__dict__)
    for cls in ("Layer", "Tanh", "ReLU"):
        layers.__dict__[cls].__module__ = "mylib.layers"
    package = types.ModuleType("mylib")
    package.layers = layers
    monkeypatch.setitem(sys.modules, "mylib", package)
    monkeypatch.setitem(sys.modules, "mylib.layers", layers)
    used: list[str] = []
    watch_forbidden({"forbid": ["mylib.layers"], "allow": ["mylib.layers.Tanh"]}, used, set())
    shell("from mylib.layers import Tanh, ReLU\nt = Tanh()")  # the shell's own list stays empty
    assert used == [], "Tanh is allowed, though it inherits the forbidden Layer.__init__"
    shell("r = ReLU()")
    assert used == ["mylib.layers.ReLU"]


def test_a_library_imported_later_is_watched_when_it_is_imported(shell, tmp_path, monkeypatch):
    import sys

    (tmp_path / "slowlib").mkdir()
    (tmp_path / "slowlib" / "__init__.py").write_text("")
    (tmp_path / "slowlib" / "fit.py").write_text("def solve(x):\n    return x\nclass Model:\n    def __init__(self):\n"
                                                 "        self.w = 0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    used: list[str] = []
    watch_forbidden({"forbid": ["slowlib.fit"]}, used, set())
    assert "slowlib" not in sys.modules, "watching must not import a library nobody imported"
    try:
        shell("from slowlib.fit import solve, Model\ns = solve(1)\nm = Model()")
        assert used == ["slowlib.fit.solve", "slowlib.fit.Model"]
        assert type(sys.modules["slowlib.fit"].__loader__).__name__ == "SourceFileLoader"
    finally:
        for name in ("slowlib", "slowlib.fit"):
            sys.modules.pop(name, None)


@pytest.mark.parametrize("code", [
    "p = given_helper(z)",  # a helper the set gives
    "p = torch.nn.Softmax(1)(z)",  # a library calling another (torch.nn is not forbidden here)
    "t = torch.tensor([1.0, 2.0]) * 3",  # torch uses torch.autograd inside
    "p = torch.exp(z) / torch.exp(z).sum(1, keepdim=True)",
])
def test_calls_the_student_did_not_make_are_not_counted(shell, code):
    assert shell(code) == []


# --- a graded chapter ------------------------------------------------------------------------------------

RUNTIME_ONLY = "def normalize(v):\n    return v / getattr(np, 'su' + 'm')(v)"  # no code shows numpy.sum
STATIC_ONLY = "import course_lib.scratch.activations as act\ndef normalize(v):\n    return v / np.add.reduce(v)"


def test_a_graded_submission_names_what_it_used_and_which_tests_it_cost(tmp_path):
    source = solution()
    source.metadata["course"] = {"forbid": ["numpy.sum"]}
    (tmp_path / "solutions").mkdir()
    (tmp_path / "solutions" / f"{CHAPTER}.ipynb").write_text(notebook_text(source))
    students = {"runtime_only": RUNTIME_ONLY, "static_only": STATIC_ONLY,
                "by_hand": "def normalize(v):\n    return v / np.add.reduce(v)"}
    for student, norm in students.items():
        (tmp_path / student).mkdir()
        (tmp_path / student / f"{CHAPTER}.ipynb").write_text(notebook_text(answered(GOOD_DOUBLE, norm)))
    results = {r.student: r for r in grade_class([tmp_path / s for s in students], tmp_path / "solutions",
                                                 tmp_path / "out", jobs=2, limits=Limits(cell_seconds=60),
                                                 sandbox=sandbox())}
    assert [t.points for t in results["by_hand"].tests] == [1, 2, 0]  # the written answer waits for a person
    runtime = results["runtime_only"].tests[1]
    assert (runtime.points, runtime.message) == (0, "uses numpy.sum, which this exercise forbids")
    static = results["static_only"].tests[1]
    assert static.points == 0
    assert static.message == ("answer 'normalize': imports course_lib.scratch.activations (line 1), "
                              "which this exercise set forbids")
    feedback = (tmp_path / "out" / "feedback" / "static_only.html").read_text()
    assert "course_lib.scratch.activations" in feedback and "test_normalize" in feedback
    assert np.isclose(results["static_only"].total, 1)
