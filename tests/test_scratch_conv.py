"""Scratch conv2d, pooling and flatten against torch.nn.functional: values and gradients, float64."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.scratch.conv import (
    Conv2d, conv2d_backward_im2col, conv2d_backward_loops, conv2d_im2col, conv2d_loops,
)
from course_lib.scratch.flatten import Flatten
from course_lib.scratch.gradcheck import check_layer
from course_lib.scratch.im2col import col2im, im2col
from course_lib.scratch.layers import Linear, ReLU, Sequential, SoftmaxCrossEntropy
from course_lib.scratch.optim import SGD
from course_lib.scratch.pooling import (
    AvgPool2d, MaxPool2d, avg_pool2d, avg_pool2d_backward, max_pool2d, max_pool2d_backward,
)

TOL = dict(rtol=1e-10, atol=1e-10)

# (N, C_in, H, W), (C_out, kH, kW), stride, padding: square and rectangular, overlapping and not
CONV_CASES = [
    ((2, 1, 5, 5), (1, 3, 3), 1, 0),
    ((2, 3, 7, 7), (4, 3, 3), 1, 1),
    ((3, 2, 8, 8), (5, 2, 2), 2, 0),
    ((2, 3, 9, 9), (2, 3, 3), 2, 1),
    ((1, 2, 6, 8), (3, 3, 5), 1, (1, 2)),
    ((2, 2, 10, 9), (3, 5, 3), (3, 2), (2, 1)),
    ((2, 1, 4, 4), (2, 4, 4), 1, 0),           # the kernel covers the whole image: one output
    ((1, 2, 3, 3), (2, 5, 5), 1, 2),           # kernel larger than the image, fits once padded
]


def torch_conv(x, w, b, stride, padding):
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    out = F.conv2d(xt, wt, bt, stride=stride, padding=padding)
    return out, (xt, wt, bt)


@pytest.mark.parametrize("x_shape, w_shape, stride, padding", CONV_CASES)
@pytest.mark.parametrize("method", ["loops", "im2col"])
def test_conv2d_matches_torch_in_value_and_gradients(x_shape, w_shape, stride, padding, method):
    rng = np.random.default_rng(0)
    C_out, kH, kW = w_shape
    x = rng.standard_normal(x_shape)
    w = rng.standard_normal((C_out, x_shape[1], kH, kW))
    b = rng.standard_normal(C_out)
    forward, backward = (conv2d_loops, conv2d_backward_loops) if method == "loops" else (conv2d_im2col, conv2d_backward_im2col)
    out = forward(x, w, b, stride, padding)
    ref, (xt, wt, bt) = torch_conv(x, w, b, stride, padding)
    np.testing.assert_allclose(out, ref.detach().numpy(), **TOL)
    dout = rng.standard_normal(out.shape)
    ref.backward(torch.tensor(dout))
    dx, dw, db = backward(dout, x, w, stride, padding)
    np.testing.assert_allclose(dx, xt.grad.numpy(), **TOL)
    np.testing.assert_allclose(dw, wt.grad.numpy(), **TOL)
    np.testing.assert_allclose(db, bt.grad.numpy(), **TOL)


def test_loop_and_im2col_versions_agree_on_a_larger_case():
    rng = np.random.default_rng(1)
    x, w, b = rng.standard_normal((4, 3, 12, 10)), rng.standard_normal((6, 3, 3, 3)), rng.standard_normal(6)
    out = conv2d_im2col(x, w, b, 1, 1)
    np.testing.assert_allclose(conv2d_loops(x, w, b, 1, 1), out, rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    for fast, slow in zip(conv2d_backward_im2col(dout, x, w, 1, 1), conv2d_backward_loops(dout, x, w, 1, 1)):
        np.testing.assert_allclose(fast, slow, rtol=1e-12, atol=1e-12)


def test_col2im_is_the_transpose_of_im2col():
    """sum(im2col(x) * g) == sum(x * col2im(g)): the identity that makes col2im im2col's backward."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 9, 7))
    cols = im2col(x, (3, 3), (2, 1), (4, 5))  # (27, 40)
    g = rng.standard_normal(cols.shape)
    assert np.sum(cols * g) == pytest.approx(np.sum(x * col2im(g, x.shape, (3, 3), (2, 1), (4, 5))), rel=1e-12)


# (N, C, H, W), kernel, stride, padding
POOL_CASES = [
    ((2, 3, 8, 8), 2, None, 0),
    ((2, 2, 9, 9), 3, 2, 1),
    ((1, 2, 7, 7), 3, 1, 0),                  # overlapping windows: gradients add up
    ((2, 1, 6, 10), (2, 3), (2, 1), (1, 1)),
    ((1, 3, 5, 5), 5, 1, 2),
]


@pytest.mark.parametrize("x_shape, kernel, stride, padding", POOL_CASES)
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling_matches_torch_in_value_and_gradient(x_shape, kernel, stride, padding, kind):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(x_shape)
    forward, backward, ref_fn = {
        "max": (max_pool2d, max_pool2d_backward, F.max_pool2d),
        "avg": (avg_pool2d, avg_pool2d_backward, F.avg_pool2d),
    }[kind]
    out = forward(x, kernel, stride, padding)
    xt = torch.tensor(x, requires_grad=True)
    ref = ref_fn(xt, kernel, stride, padding)
    np.testing.assert_allclose(out, ref.detach().numpy(), **TOL)
    dout = rng.standard_normal(out.shape)
    ref.backward(torch.tensor(dout))
    np.testing.assert_allclose(backward(dout, x, kernel, stride, padding), xt.grad.numpy(), **TOL)


def test_max_pool_sends_the_gradient_to_the_first_maximum_on_ties_like_torch():
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 1, 1] = x[0, 0, 1, 0] = 1.0  # a tie in the first window
    dout = np.arange(1.0, 5.0).reshape(1, 1, 2, 2)
    xt = torch.tensor(x, requires_grad=True)
    F.max_pool2d(xt, 2).backward(torch.tensor(dout))
    np.testing.assert_array_equal(max_pool2d_backward(dout, x, 2), xt.grad.numpy())


LAYERS = {
    "conv": lambda r: Conv2d(2, 3, 3, r, stride=1, padding=1),
    "conv-strided": lambda r: Conv2d(2, 2, (3, 2), r, stride=(2, 1), padding=(1, 0)),
    "conv-loops": lambda r: Conv2d(2, 2, 3, r, method="loops"),
    "maxpool": lambda r: MaxPool2d(2),
    "avgpool": lambda r: AvgPool2d(3, stride=1, padding=1),
    "flatten": lambda r: Flatten(),
}


@pytest.mark.parametrize("name", LAYERS)
def test_gradient_check_passes_on_every_image_layer(name):
    rng = np.random.default_rng(4)
    report = check_layer(LAYERS[name](rng), rng.standard_normal((2, 2, 5, 6) if name != "maxpool" else (2, 2, 4, 6)), rng)
    assert report.passed, str(report)


def test_conv_layer_matches_torch_conv2d_module_with_the_same_weights():
    rng = np.random.default_rng(5)
    layer = Conv2d(3, 4, 3, rng, stride=2, padding=1)
    ref = torch.nn.Conv2d(3, 4, 3, stride=2, padding=1, dtype=torch.float64)
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(layer.params["W"].data))  # same (C_out, C_in, kH, kW) layout
        ref.bias.copy_(torch.tensor(layer.params["b"].data))
    x = rng.standard_normal((2, 3, 9, 9))
    np.testing.assert_allclose(layer.forward(x), ref(torch.tensor(x)).detach().numpy(), **TOL)
    assert np.abs(layer.params["W"].data).max() <= 1 / np.sqrt(3 * 9)


def test_gradients_accumulate_across_backward_calls_like_torch():
    rng = np.random.default_rng(6)
    layer, x = Conv2d(1, 2, 3, rng), rng.standard_normal((2, 1, 5, 5))
    dout = rng.standard_normal((2, 2, 3, 3))
    layer.forward(x)
    layer.backward(dout)
    once = layer.params["W"].grad.copy()
    layer.backward(dout)
    np.testing.assert_allclose(layer.params["W"].grad, 2 * once, rtol=1e-12)


def test_a_small_scratch_cnn_learns_digits():
    from course_lib.data import load_digits

    X, y = load_digits()
    X = (X / 16.0).reshape(-1, 1, 8, 8)[:256]
    y = y[:256]
    rng = np.random.default_rng(0)
    net = Sequential(Conv2d(1, 8, 3, rng, padding=1), ReLU(), MaxPool2d(2), Flatten(), Linear(8 * 4 * 4, 10, rng))
    loss, opt = SoftmaxCrossEntropy(), SGD(net.parameters(), lr=0.5)
    losses = []
    for step in range(30):
        batch = rng.choice(len(X), 64, replace=False)
        net.zero_grad()
        losses.append(loss.forward(net.forward(X[batch]), y[batch]))
        net.backward(loss.backward())
        opt.step()
    assert np.mean(losses[-5:]) < 0.6 * np.mean(losses[:5]), losses
    accuracy = np.mean(net.forward(X).argmax(axis=1) == y)
    assert accuracy > 0.7, accuracy


def test_bad_inputs_raise_value_errors_naming_the_shapes():
    rng = np.random.default_rng(7)
    w = rng.standard_normal((4, 3, 3, 3))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\), got \(3, 8, 8\)"):
        conv2d_im2col(np.zeros((3, 8, 8)), w)
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\), got \(2, 1, 8, 8\)"):
        conv2d_im2col(np.zeros((2, 1, 8, 8)), w)
    with pytest.raises(ValueError, match=r"kernel \(3, 3\) is larger than the padded input \(2, 4\)"):
        conv2d_loops(np.zeros((1, 3, 2, 2)), w, padding=(0, 1))
    with pytest.raises(ValueError, match=r"\(8 \+ 0 - 3\) / 2 \+ 1 = 3.5 is not an integer"):
        conv2d_im2col(np.zeros((1, 3, 8, 8)), w, stride=2)
    with pytest.raises(ValueError, match=r"\(C_out, C_in, kH, kW\), got \(3, 3, 3\)"):
        conv2d_im2col(np.zeros((1, 3, 8, 8)), w[0])
    with pytest.raises(ValueError, match=r"bias of shape \(4,\), got \(3,\)"):
        conv2d_im2col(np.zeros((1, 3, 8, 8)), w, np.zeros(3))
    with pytest.raises(ValueError, match=r"\(N, 2, H, W\), got \(1, 3, 5, 5\)"):
        Conv2d(2, 4, 3, rng).forward(np.zeros((1, 3, 5, 5)))
    with pytest.raises(ValueError, match="is not an integer"):
        MaxPool2d(2).forward(np.zeros((1, 1, 7, 7)))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\), got \(4, 49\)"):
        AvgPool2d(2).forward(np.zeros((4, 49)))
    with pytest.raises(ValueError, match="at most half the kernel"):
        max_pool2d(np.zeros((1, 1, 6, 6)), 2, padding=2)
    with pytest.raises(ValueError, match=r"output's shape \(2, 4, 6, 6\), got \(2, 4, 5, 5\)"):
        conv2d_backward_im2col(np.zeros((2, 4, 5, 5)), np.zeros((2, 3, 8, 8)), w)
    layer = Conv2d(1, 1, 3, rng)
    with pytest.raises(RuntimeError, match="backward was called before forward"):
        layer.backward(np.zeros((1, 1, 3, 3)))
