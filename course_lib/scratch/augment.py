"""Data augmentation for small grey-scale images: random shifts and pixel noise.

    >>> X_aug = augment_images(X, (8, 8), rng, max_shift=1, noise_std=0.05)   # a fresh copy each epoch

Shapes: X (N, H*W) flattened images, one row per image, as scikit-learn's digits (N, 64) with
H = W = 8; every function returns a new array of X's shape and never changes X.

Each image is moved by (dy, dx), both drawn uniformly from {-max_shift, ..., max_shift}; pixels
that leave the frame are dropped and the uncovered border is filled with 0 (the background):

    out[i, j] = x[i - dy, j - dx]      when 0 <= i - dy < H and 0 <= j - dx < W, else 0

Noise adds independent N(0, noise_std^2) to every pixel. Neither changes the label: the network
is shown many versions of each training image and learns to ignore the shift and the noise.
Horizontal flips, common for photographs, would turn a 2 into a mirrored 2 that no one writes.
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray


def shift_images(X: Array, image_shape: tuple[int, int], shifts: Array) -> Array:
    """Move image n by ``shifts[n] = (dy, dx)`` pixels (down, right), filling with 0.

    X (N, H*W); shifts (N, 2) integers; returns (N, H*W).
    """
    H, W = _check_images(X, image_shape)
    shifts = np.asarray(shifts)
    if shifts.shape != (X.shape[0], 2) or not np.issubdtype(shifts.dtype, np.integer):
        raise ValueError(f"shifts must be (N, 2) = ({X.shape[0]}, 2) integers (dy, dx), got shape {shifts.shape} and dtype {shifts.dtype}")
    images = X.reshape(-1, H, W)
    # Pad by the largest shift, then cut each H x W window at its offset: a shift without wrap-around.
    pad = int(np.abs(shifts).max(initial=0))
    padded = np.pad(images, ((0, 0), (pad, pad), (pad, pad)))
    out = np.empty_like(images)
    for n, (dy, dx) in enumerate(shifts):
        out[n] = padded[n, pad - dy:pad - dy + H, pad - dx:pad - dx + W]
    return out.reshape(X.shape)


def augment_images(
    X: Array, image_shape: tuple[int, int], rng: np.random.Generator, max_shift: int = 1, noise_std: float = 0.0
) -> Array:
    """A random shift in {-max_shift..max_shift}^2 per image, then N(0, noise_std^2) pixel noise.

    X (N, H*W); returns a new (N, H*W) array. Draw a fresh one every epoch.
    """
    _check_images(X, image_shape)
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    if isinstance(max_shift, bool) or not isinstance(max_shift, (int, np.integer)) or max_shift < 0:
        raise ValueError(f"max_shift must be an integer >= 0 (pixels), got {max_shift!r}")
    if not noise_std >= 0:
        raise ValueError(f"noise_std must be >= 0, got {noise_std!r}")
    shifts = rng.integers(-max_shift, max_shift + 1, size=(X.shape[0], 2))
    out = shift_images(X, image_shape, shifts)
    if noise_std > 0:
        out = out + rng.normal(0.0, noise_std, size=out.shape).astype(out.dtype)
    return out


def _check_images(X: Array, image_shape: tuple[int, int]) -> tuple[int, int]:
    if len(image_shape) != 2 or any(not isinstance(s, (int, np.integer)) or s <= 0 for s in image_shape):
        raise ValueError(f"image_shape must be (H, W), two positive integers, got {image_shape!r}")
    H, W = image_shape
    if not isinstance(X, np.ndarray) or X.ndim != 2 or X.shape[1] != H * W:
        raise ValueError(f"X must be (N, H*W) = (N, {H * W}) flattened images, got {getattr(X, 'shape', type(X).__name__)}")
    return H, W
