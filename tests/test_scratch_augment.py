import numpy as np
import pytest

from course_lib.scratch.augment import augment_images, shift_images


def test_shift_moves_a_pixel_and_fills_with_zero():
    X = np.zeros((3, 12))  # 3 images of H=3, W=4
    X[:, 1 * 4 + 1] = 1.0  # one bright pixel at row 1, column 1
    out = shift_images(X, (3, 4), np.array([[1, 2], [-1, 0], [0, 0]]))
    images = out.reshape(3, 3, 4)
    assert images[0, 2, 3] == 1 and images[0].sum() == 1  # down 1, right 2
    assert images[1, 0, 1] == 1 and images[1].sum() == 1  # up 1
    np.testing.assert_array_equal(out[2], X[2])  # no shift: unchanged


def test_shift_drops_pixels_that_leave_the_frame_without_wrapping():
    X = np.arange(1.0, 17.0)[None, :]  # one 4 x 4 image, every pixel non-zero
    out = shift_images(X, (4, 4), np.array([[0, 1]])).reshape(4, 4)
    np.testing.assert_array_equal(out[:, 0], 0)  # the uncovered column is background
    np.testing.assert_array_equal(out[:, 1:], X.reshape(4, 4)[:, :3])  # the last column is gone, not wrapped


def test_augment_is_seeded_has_the_right_spread_and_leaves_x_alone():
    rng = np.random.default_rng(0)
    X = rng.random((500, 64))
    X0 = X.copy()
    a = augment_images(X, (8, 8), np.random.default_rng(1), max_shift=0, noise_std=0.1)
    b = augment_images(X, (8, 8), np.random.default_rng(1), max_shift=0, noise_std=0.1)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(X, X0)
    assert np.std(a - X) == pytest.approx(0.1, rel=0.02)  # max_shift 0: only the noise moved pixels


def test_augment_shifts_cover_every_offset_up_to_max_shift():
    X = np.zeros((2000, 25))
    X[:, 12] = 1.0  # a single pixel in the centre of a 5 x 5 image
    out = augment_images(X, (5, 5), np.random.default_rng(2), max_shift=2).reshape(-1, 25)
    positions = out.argmax(axis=1)
    rows, cols = positions // 5 - 2, positions % 5 - 2  # the offsets (dy, dx)
    assert set(zip(rows, cols)) == {(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)}
    assert np.all(out.sum(axis=1) == 1)  # a shift of at most 2 keeps the centre pixel inside


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: shift_images(np.zeros((2, 63)), (8, 8), np.zeros((2, 2), int)), r"\(N, 64\)"),
        (lambda: shift_images(np.zeros((2, 64)), (8, 8), np.zeros((3, 2), int)), r"\(2, 2\)"),
        (lambda: shift_images(np.zeros((2, 64)), (8, 8), np.zeros((2, 2))), "integers"),
        (lambda: augment_images(np.zeros((2, 64)), (8, 8), np.random.default_rng(0), max_shift=-1), "max_shift"),
        (lambda: augment_images(np.zeros((2, 64)), (8, 8), np.random.default_rng(0), noise_std=-0.1), "noise_std"),
        (lambda: augment_images(np.zeros((2, 64)), (8, 8), 0), "Generator"),
        (lambda: augment_images(np.zeros((2, 64)), (8,), np.random.default_rng(0)), r"\(H, W\)"),
    ],
)
def test_bad_input_names_what_was_expected(call, message):
    with pytest.raises(ValueError, match=message):
        call()
