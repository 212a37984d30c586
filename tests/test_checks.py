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


@pytest.mark.parametrize("expected, options", [
    (np.array([0.5, -0.2]), {"atol": 0.5}),  # atol >= max |expected|
    (np.array([3.0, 40.0]), {"rtol": 1.0}),  # rtol >= 1 accepts zeros for any reference
    (np.array([1e-11, -3e-12]), {}),  # the default atol is wider than a tiny reference
    (2.0, {"atol": 2.0}),
])
def test_a_tolerance_that_accepts_zeros_is_refused(expected, options):
    with pytest.raises(checks.AuthoringError, match="this check cannot fail"):
        checks.check_close("w", np.zeros_like(expected), expected, **options)
    with pytest.raises(checks.AuthoringError):  # refused even when the answer is right: it is the check's bug
        checks.check_close("w", expected, expected, **options)


@pytest.mark.parametrize("expected, options", [
    (np.zeros(3), {"atol": 1e-8}),  # zeros are the right answer
    (np.array([0.5, -0.2]), {"atol": 0.49}),
    (np.array([0.0, 1e-3]), {"atol": 1e-4, "rtol": 0.5}),
    (np.array([np.inf, 0.0]), {"atol": 1.0}),
])
def test_a_tolerance_that_can_fail_is_accepted(expected, options):
    checks.check_close("w", expected, expected, **options)


def test_negative_tolerance_is_refused():
    with pytest.raises(checks.AuthoringError, match="tolerances must be >= 0"):
        checks.check_close("w", np.ones(2), np.ones(2), atol=-1.0)


def test_a_failed_check_renders_as_its_message_in_ipython():
    error = CheckError("grad: expected shape (3, 1), got (3,)\nsecond line")
    assert error._render_traceback_() == ["✗ grad: expected shape (3, 1), got (3,)", "second line"]


def test_a_failed_check_shows_only_its_message_in_a_kernel():
    """The stored error output of a real kernel run: the message, no frame of course_lib."""
    import nbclient
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import numpy as np\nfrom course_lib.checks import check_close\ncheck_close('grad', np.zeros(3), np.ones(3))")])
    nbclient.NotebookClient(nb, kernel_name="python3", timeout=120, allow_errors=True).execute()
    (error,) = nb.cells[0].outputs
    assert error.ename == "CheckError"
    assert error.traceback == ["✗ grad: max abs error 1 at index [0] (got 0, expected 1; tolerance 1e-07)"]
