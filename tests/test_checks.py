import numpy as np
import pytest
import torch

from course_lib import checks
from course_lib.checks import CheckError


def test_check_close_passes_and_prints(capsys):
    checks.check_close("grad", np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-12]))
    assert capsys.readouterr().out == "✓ grad\n"


def test_shape_mismatch_is_described_not_broadcast():
    with pytest.raises(CheckError, match=r"grad: expected shape \(3, 1\), got \(3,\)"):
        checks.check_close("grad", np.zeros(3), np.zeros((3, 1)))


def test_worst_element_is_named():
    expected = np.zeros((5, 3))
    actual = expected.copy()
    actual[4, 2] = 0.3
    with pytest.raises(CheckError, match=r"max abs error 0.3 at index \[4, 2\] \(got 0.3, expected 0"):
        checks.check_close("W", actual, expected)


def test_nan_where_finite_expected():
    with pytest.raises(CheckError, match=r"got nan at index \[1\], expected a finite number"):
        checks.check_close("loss", np.array([0.0, np.nan]), np.array([0.0, 1.0]))


def test_torch_tensors_and_numbers_accepted_other_types_named():
    checks.check_close("t", torch.tensor([1.0, 2.0]), np.array([1.0, 2.0]), rtol=1e-6)
    checks.check_close("x", 2.0, 2.0)
    with pytest.raises(CheckError, match="expected a NumPy array or a number, got list"):
        checks.check_close("x", [1.0], np.array([1.0]))


def test_rigged_eq_object_is_not_accepted():
    class AlwaysEqual:
        def __eq__(self, other):
            return True

    with pytest.raises(CheckError, match="got AlwaysEqual"):
        checks.check_close("w", AlwaysEqual(), np.zeros(2))


def test_check_equal_and_check_shape():
    checks.check_equal("labels", np.array([1, 2]), [1, 2])
    with pytest.raises(CheckError, match=r"expected \[1, 2\], got \[2, 1\]"):
        checks.check_equal("labels", [2, 1], [1, 2])
    with pytest.raises(CheckError, match=r"expected shape \(4,\), got \(4, 1\)"):
        checks.check_shape("y", np.zeros((4, 1)), (4,))


def test_check_true_needs_a_real_bool():
    checks.check_true("decreases", np.bool_(True), "the loss should decrease")
    with pytest.raises(CheckError, match="decreases: the loss should decrease"):
        checks.check_true("decreases", False, "the loss should decrease")
    with pytest.raises(CheckError):
        checks.check_true("decreases", np.array([True, True]), "must be one bool")


def test_check_pure_catches_in_place_changes():
    def normalize_in_place(x):
        x /= x.sum()
        return x

    with pytest.raises(CheckError, match="changed its input #1 in place"):
        checks.check_pure("normalize", normalize_in_place, np.array([1.0, 3.0]))
    out = checks.check_pure("normalize", lambda x: x / x.sum(), np.array([1.0, 3.0]))
    np.testing.assert_allclose(out, [0.25, 0.75])


def test_check_raises():
    def strict(x):
        if x.ndim != 2:
            raise ValueError("need (N, D)")

    checks.check_raises("bad shape", ValueError, strict, np.zeros(3))
    with pytest.raises(CheckError, match="expected ValueError to be raised"):
        checks.check_raises("bad shape", ValueError, strict, np.zeros((3, 1)))
    with pytest.raises(CheckError, match="expected ValueError, got TypeError"):
        checks.check_raises("bad shape", ValueError, lambda: (_ for _ in ()).throw(TypeError("no")))


def test_recorder_sees_every_checked_value():
    seen = []
    checks.set_recorder(lambda kind, name, value, options: seen.append((kind, name, value)))
    try:
        checks.check_close("a", np.array([1.0]), np.array([1.0]))
        with pytest.raises(CheckError):
            checks.check_equal("b", 3, 4)
    finally:
        checks.set_recorder(None)
    assert [(k, n) for k, n, _ in seen] == [("close", "a"), ("equal", "b")]
    assert seen[1][2] == 3
