"""The channel between the trusted test process and the sandbox: values, proxies, callbacks, in-place calls."""

import numpy as np
import pytest
import torch

from course_lib.grading import wire
from course_lib.grading.runner import run_cells
from course_lib.grading.sandbox import Limits
from demo_chapter import sandbox

GIVEN = "import numpy as np\nimport torch\nfrom course_lib.checks import check_close, check_equal, check_pure, check_true"
LIMITS = Limits(cell_seconds=20, notebook_seconds=120, memory_mb=3072)


def _refuse(obj):
    raise AssertionError(f"{obj!r} should have crossed as a value")


def test_values_cross_with_their_types():
    values = [None, True, 3, 2.5, float("nan"), "é", b"\x00\xff", 1 + 2j, [1, (2, 3)], {"a": 1, (1, 2): [3]},
              np.arange(6, dtype=np.int32).reshape(2, 3), np.float32(1.5), np.bool_(True),
              np.zeros((0, 4)), np.array([1 + 1j])]
    for value in values:
        back = wire.decode(wire.encode(value, _refuse), _refuse)
        assert type(back) is type(value)
        if isinstance(value, np.ndarray):
            assert back.dtype == value.dtype and back.shape == value.shape and np.array_equal(back, value)
        elif value == value:
            assert back == value
    tensor = torch.arange(4, dtype=torch.float32, requires_grad=True)
    back = wire.decode(wire.encode(tensor, _refuse), _refuse)
    assert back.dtype == torch.float32 and back.requires_grad and torch.equal(back.detach(), tensor.detach())
    rng = np.random.default_rng(5)
    twin = wire.decode(wire.encode(rng, _refuse), _refuse)
    assert twin.random() == rng.random()


@pytest.mark.parametrize("data", [
    {"pickle": "gASV"}, {"array": "AAAA", "dtype": "|O", "shape": [1]}, {"array": "AAAA", "dtype": "<f8", "shape": [1]},
    {"array": "!!", "dtype": "<f8", "shape": []}, {"array": "", "dtype": "<f8", "shape": [-1]}, [1, 2], {},
    {"list": [1], "extra": 2}, {"dict": [[{"list": []}, 1]]}, {"rng": {"dict": [["bit_generator", "os.system"]]}},
    {"handle": "h1"},
])
def test_malformed_values_are_refused(data):
    def resolve(ref):
        raise wire.WireError("no references here")
    with pytest.raises(wire.WireError):
        wire.decode(data, resolve)


def test_deep_nesting_is_refused():
    data = 1
    for _ in range(40):
        data = {"list": [data]}
    with pytest.raises(wire.WireError):
        wire.decode(data, _refuse)


def _run(answer: str, test: str, forbid=()):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as workdir:
        return run_cells([GIVEN, answer, test], ["given", "answer", "test"], Path(workdir), LIMITS, sandbox(),
                         list(forbid))[2]


def test_callbacks_proxies_and_in_place_changes_cross():
    answer = ("class Model:\n    def __init__(self):\n        self.params = {'W': np.ones((2, 3))}\n"
              "    def forward(self, x):\n        return x @ self.params['W']\n"
              "def apply(f, x):\n    return f(x) * 2\n"
              "def scale_(x, rng):\n    x *= rng.uniform(2, 3)\n    return None\n"
              "def build():\n    return [Model(), Model()]")
    test = ("check_close('callback', apply(lambda v: v + 1, np.ones(3)), np.full(3, 4.0))\n"
            "layers = build()\n"
            "check_equal('a list of proxies', len(layers), 2)\n"
            "check_close('method of a proxy', layers[0].forward(np.ones((1, 2))), np.full((1, 3), 2.0))\n"
            "check_close('attribute of a proxy', layers[-1].params['W'], np.ones((2, 3)))\n"
            "x, rng, twin = np.ones(2), np.random.default_rng(0), np.random.default_rng(0)\n"
            "scale_(x, rng)\n"
            "check_close('in place', x, np.full(2, twin.uniform(2, 3)))\n"
            "check_close('the generator advanced', rng.random(), twin.random())")
    result = _run(answer, test)
    assert (result.status, result.evalue) == ("ok", None)
    assert [r["name"] for r in result.records] == ["callback", "a list of proxies", "method of a proxy",
                                                   "attribute of a proxy", "in place", "the generator advanced"]


def test_a_callback_that_draws_from_the_students_generator_advances_it():
    answer = ("def init_twice(draw, rng):\n    return draw(rng), draw(rng)\n"
              "def fill(f, x):\n    f(x)\n    return x.copy()")
    test = ("first, second = init_twice(lambda g: g.normal(size=2), np.random.default_rng(0))\n"
            "twin = np.random.default_rng(0)\n"
            "check_close('first draw', first, twin.normal(size=2))\n"
            "check_close('second draw continues the stream', second, twin.normal(size=2))\n"
            "def fill_(x):\n    x[:] = 7.0\n"
            "check_close('a callback fills the array in place', fill(fill_, np.zeros(3)), np.full(3, 7.0))")
    result = _run(answer, test)
    assert (result.status, result.evalue) == ("ok", None)


def test_in_place_change_is_seen_by_check_pure():
    result = _run("def f(x):\n    x[0] = 5.0\n    return x.sum()", "check_pure('pure', f, np.zeros(3))")
    assert result.status == "error" and result.records[-1] == {"kind": "pure", "name": "pure", "value": False,
                                                                  "options": {}}


def test_errors_keep_built_in_types_and_errstate_crosses():
    test = ("try:\n    f(np.array([1000.0]))\nexcept ValueError:\n    pass\n"
            "with np.errstate(over='raise'):\n    g(np.array([1000.0]))")
    result = _run("def f(x):\n    raise ValueError('bad')\ndef g(x):\n    return np.exp(x)", test)
    assert (result.status, result.ename) == ("error", "FloatingPointError")


def test_forbidden_calls_inside_a_proxied_call_are_reported():
    result = _run("def f(a, b):\n    return np.linalg.solve(a, b)", "f(np.eye(2), np.ones(2))",
                  forbid=["numpy.linalg.solve"])
    assert result.forbidden == ["numpy.linalg.solve"]


def test_a_student_calling_back_forever_times_out():
    result = _run("def apply(f, x):\n    while True:\n        f(x)", "apply(lambda v: v + 1, 1.0)")
    assert result.status == "timeout"


def test_student_objects_cannot_pass_a_check_by_lying():
    answer = ("class Liar:\n    def __eq__(self, other):\n        return True\n    def __array__(self, *a, **k):\n"
              "        return np.zeros(3)\n    def __getattr__(self, name):\n        return lambda *a: self\n"
              "def f():\n    return Liar()")
    result = _run(answer, "check_equal('lie', f(), 4)")
    assert result.status == "error" and result.records[0]["value"] == {"unsupported": "Proxy"}
