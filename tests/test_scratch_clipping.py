import math

import numpy as np
import pytest
import torch

from course_lib.scratch.clipping import clip_grad_norm_, clip_grad_value_, grad_norm
from course_lib.scratch.layers import Linear, Sequential
from course_lib.scratch.parameter import Parameter


def pairs(scale, rng, shapes=((4, 3), (3,), (2, 5))):
    """Parameters with gradients and their torch twins (float64, the same gradients)."""
    ours, theirs = [], []
    for shape in shapes:
        p = Parameter(rng.standard_normal(shape))
        p.accumulate_grad(scale * rng.standard_normal(shape))
        t = torch.tensor(p.data, requires_grad=True)
        t.grad = torch.tensor(p.grad.copy())
        ours.append(p)
        theirs.append(t)
    return ours, theirs


@pytest.mark.parametrize("scale", [0.01, 1.0, 100.0])
@pytest.mark.parametrize("max_norm", [0.5, 5.0])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
def test_clip_grad_norm_matches_torch(scale, max_norm, norm_type):
    ours, theirs = pairs(scale, np.random.default_rng(0))
    total = clip_grad_norm_(ours, max_norm, norm_type)
    ref = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert total == pytest.approx(ref.item(), rel=1e-12)
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-12, atol=0)


def test_clipped_norm_is_max_norm_and_direction_is_kept():
    ours, _ = pairs(100.0, np.random.default_rng(1))
    before = np.concatenate([p.grad.ravel() for p in ours])
    clip_grad_norm_(ours, 1.0)
    after = np.concatenate([p.grad.ravel() for p in ours])
    assert grad_norm(ours) == pytest.approx(1.0, rel=1e-5)
    np.testing.assert_allclose(after / np.linalg.norm(after), before / np.linalg.norm(before))


@pytest.mark.parametrize("clip_value", [0.1, 1.0, 10.0])
def test_clip_grad_value_matches_torch(clip_value):
    ours, theirs = pairs(3.0, np.random.default_rng(2))
    clip_grad_value_(ours, clip_value)
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    for p, t in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad, t.grad.numpy())


def test_works_on_a_model_and_skips_missing_gradients():
    net = Sequential(Linear(3, 2, np.random.default_rng(3)))
    assert clip_grad_norm_(net.parameters(), 1.0) == 0.0  # no gradients yet: nothing to do, as torch
    net.layers[0].params["W"].accumulate_grad(np.full((3, 2), 10.0))
    total = clip_grad_norm_(net, 1.0)
    assert total == pytest.approx(10.0 * math.sqrt(6))
    assert net.layers[0].params["b"].grad is None


def test_nonfinite_norm_is_an_error_when_asked():
    p = Parameter(np.zeros(2))
    p.accumulate_grad(np.array([np.inf, 1.0]))
    with pytest.raises(ValueError, match="total norm of the gradients is inf"):
        clip_grad_norm_([p], 1.0, error_if_nonfinite=True)


@pytest.mark.parametrize("call, message", [
    (lambda ps: clip_grad_norm_(ps, -1.0), "max_norm must be >= 0"),
    (lambda ps: clip_grad_norm_(ps, 1.0, norm_type=0), "norm_type must be > 0"),
    (lambda ps: clip_grad_value_(ps, -1.0), "clip_value must be >= 0"),
    (lambda ps: clip_grad_norm_(ps + [None], 1.0), "params\\[3\\] must be a Parameter, got None"),
])
def test_bad_input_is_a_clear_error(call, message):
    ours, _ = pairs(1.0, np.random.default_rng(4))
    with pytest.raises(ValueError, match=message):
        call(ours)
