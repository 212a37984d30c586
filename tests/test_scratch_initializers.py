import math

import numpy as np
import pytest
import torch

from course_lib.scratch import initializers as init

D, M = 400, 250  # fan_in 400, fan_out 250 in our (D, M) layout; torch's nn.Linear weight is (M, D)


def torch_draw(fill, shape, **kwargs):
    torch.manual_seed(0)
    w = torch.empty(shape, dtype=torch.float64)
    fill(w, **kwargs)
    return w.numpy()


@pytest.mark.parametrize("name, param", [
    ("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
    ("leaky_relu", None), ("leaky_relu", 0.2), ("selu", None),
])
def test_calculate_gain_matches_torch(name, param):
    assert init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param), rel=1e-15)


def test_fans_follow_each_layout():
    assert init.fans((D, M)) == (D, M)                    # scratch Linear: W is (D, M)
    assert init.fans((M, D), layout="out_in") == (D, M)   # torch Linear: weight is (M, D)
    assert init.fans((16, 3, 5, 5), layout="out_in") == (3 * 25, 16 * 25)  # torch Conv2d weight


# (our function, keyword arguments, torch's function, formula for the std of the (D, M) array)
SCHEMES = [
    (init.xavier_normal, {}, torch.nn.init.xavier_normal_, math.sqrt(2 / (D + M))),
    (init.xavier_uniform, {}, torch.nn.init.xavier_uniform_, math.sqrt(2 / (D + M))),
    (init.xavier_normal, {"gain": 5 / 3}, torch.nn.init.xavier_normal_, 5 / 3 * math.sqrt(2 / (D + M))),
    (init.kaiming_normal, {}, torch.nn.init.kaiming_normal_, math.sqrt(2 / D)),
    (init.kaiming_uniform, {}, torch.nn.init.kaiming_uniform_, math.sqrt(2 / D)),
    (init.kaiming_normal, {"mode": "fan_out"}, torch.nn.init.kaiming_normal_, math.sqrt(2 / M)),
    (init.kaiming_uniform, {"mode": "fan_out", "nonlinearity": "relu"}, torch.nn.init.kaiming_uniform_, math.sqrt(2 / M)),
    (init.kaiming_normal, {"a": math.sqrt(5)}, torch.nn.init.kaiming_normal_, math.sqrt(2 / 6 / D)),
    (init.kaiming_normal, {"nonlinearity": "tanh"}, torch.nn.init.kaiming_normal_, 5 / 3 / math.sqrt(D)),
]


@pytest.mark.parametrize("ours, kwargs, theirs, std", SCHEMES, ids=lambda v: getattr(v, "__name__", None))
def test_empirical_std_matches_formula_and_torch(ours, kwargs, theirs, std):
    W = ours((D, M), np.random.default_rng(0), **kwargs)
    ref = torch_draw(theirs, (M, D), **kwargs)  # the same layer in torch's (out, in) layout
    assert W.shape == (D, M) and W.dtype == np.float64
    # 100 000 draws: the sample std is within ~0.5 % of the true one (3 standard errors)
    assert W.std() == pytest.approx(std, rel=0.01)
    assert ref.std() == pytest.approx(std, rel=0.01)
    assert abs(W.mean()) < 4 * std / math.sqrt(W.size)


@pytest.mark.parametrize("ours, theirs", [
    (init.xavier_uniform, torch.nn.init.xavier_uniform_), (init.kaiming_uniform, torch.nn.init.kaiming_uniform_),
])
def test_uniform_schemes_have_torchs_bound(ours, theirs):
    W, ref = ours((D, M), np.random.default_rng(1)), torch_draw(theirs, (M, D))
    assert np.abs(W).max() == pytest.approx(np.abs(ref).max(), rel=1e-3)


def test_out_in_layout_reads_torchs_shape():
    """Given torch's (M, D) shape, layout="out_in" gives the same scale as (D, M) in our layout."""
    W = init.kaiming_normal((M, D), np.random.default_rng(2), layout="out_in")
    assert W.shape == (M, D)
    assert W.std() == pytest.approx(math.sqrt(2 / D), rel=0.01)
    conv = init.kaiming_normal((32, 16, 3, 3), np.random.default_rng(3), layout="out_in")
    assert conv.std() == pytest.approx(math.sqrt(2 / (16 * 9)), rel=0.02)


def test_normal_has_the_given_std():
    W = init.normal((D, M), np.random.default_rng(4), std=0.01)
    assert W.std() == pytest.approx(0.01, rel=0.01)
    assert init.normal((3,), np.random.default_rng(4), std=0.0).tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("shape", [(300, 100), (100, 300), (8, 4, 3, 3)])
def test_orthogonal_is_orthonormal_times_gain(shape):
    W = init.orthogonal(shape, np.random.default_rng(5), gain=2.0)
    flat = W.reshape(shape[0], -1)
    small = min(flat.shape)
    gram = flat.T @ flat if flat.shape[0] >= flat.shape[1] else flat @ flat.T
    np.testing.assert_allclose(gram, 4.0 * np.eye(small), atol=1e-10)
    np.testing.assert_allclose(np.linalg.svd(flat, compute_uv=False), 2.0, atol=1e-10)


def test_orthogonal_follows_torchs_algorithm():
    """Same standard normal matrix in, same Q out: the sign fix makes it unique."""
    rng = np.random.default_rng(6)
    W = init.orthogonal((5, 3), rng)
    A = np.random.default_rng(6).standard_normal((5, 3))
    q, r = torch.linalg.qr(torch.tensor(A))
    np.testing.assert_allclose(W, (q * torch.sign(torch.diag(r))).numpy(), atol=1e-12)


def test_same_seed_same_weights_and_dtype():
    a = init.xavier_normal((20, 10), np.random.default_rng(7), dtype=np.float32)
    b = init.xavier_normal((20, 10), np.random.default_rng(7), dtype=np.float32)
    assert a.dtype == np.float32 and np.array_equal(a, b)


@pytest.mark.parametrize("fn", [init.xavier_normal, init.xavier_uniform, init.kaiming_normal, init.kaiming_uniform, init.orthogonal])
def test_one_dimensional_array_has_no_fan_in(fn):
    with pytest.raises(ValueError, match="at least 2 dimensions, got shape \\(10,\\)"):
        fn((10,), np.random.default_rng(0))


@pytest.mark.parametrize("call, message", [
    (lambda rng: init.kaiming_normal((4, 3), rng, mode="fan_middle"), "mode must be one of"),
    (lambda rng: init.xavier_normal((4, 3), rng, layout="io"), "layout must be one of"),
    (lambda rng: init.xavier_normal((4, 3, 3), rng), 'layout "in_out" is a 2-D'),
    (lambda rng: init.xavier_normal((4, 0), rng), "positive integers"),
    (lambda rng: init.normal((4, 3), rng, std=-1.0), "std must be >= 0"),
    (lambda rng: init.xavier_normal((4, 3), rng, gain=-1.0), "gain must be >= 0"),
    (lambda rng: init.calculate_gain("swish"), "unknown nonlinearity 'swish'"),
    (lambda rng: init.kaiming_normal((4, 3), 0), "rng must be a numpy.random.Generator, got int"),
])
def test_bad_input_is_a_clear_error(call, message):
    with pytest.raises(ValueError, match=message):
        call(np.random.default_rng(0))
