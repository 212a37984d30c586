import numpy as np
import pytest

from course_lib import data


@pytest.mark.parametrize("make", [data.make_xor, data.make_circles, data.make_moons, data.make_spirals, data.make_gaussians])
def test_toy_sets_have_documented_shapes_and_are_seeded(make):
    X, y = make(100, np.random.default_rng(0))
    X2, y2 = make(100, np.random.default_rng(0))
    assert X.shape == (100, 2) and X.dtype == np.float64
    assert y.shape == (100,) and y.dtype == np.int64
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert len(np.unique(y)) >= 2


def test_xor_labels_follow_the_sign_rule():
    X, y = data.make_xor(500, np.random.default_rng(1), noise=0.05)
    np.testing.assert_array_equal(y, (np.sign(X[:, 0]) != np.sign(X[:, 1])).astype(int))


def test_make_linear_recovers_its_weights():
    X, y = data.make_linear(2000, np.random.default_rng(0), w=np.array([1.5, -2.0]), b=0.5, noise=0.01)
    A = np.hstack([X, np.ones((len(X), 1))])
    coef = np.linalg.lstsq(A, y, rcond=None)[0]
    np.testing.assert_allclose(coef, [1.5, -2.0, 0.5], atol=0.01)



def test_make_bumps_has_one_bump_up_and_one_down():
    X, y = data.make_bumps(500, np.random.default_rng(2), noise=0.0)
    assert X.shape == (500, 2) and y.shape == (500,) and np.abs(X).max() <= 1
    near_up, near_down = np.linalg.norm(X - [-0.5, 0.5], axis=1) < 0.1, np.linalg.norm(X - [0.5, -0.5], axis=1) < 0.1
    assert y[near_up].min() > 0.9 and y[near_down].max() < -0.9
    np.testing.assert_array_equal(y, data.make_bumps(500, np.random.default_rng(2), noise=0.0)[1])
    with pytest.raises(ValueError, match="width"):
        data.make_bumps(10, np.random.default_rng(0), width=0.0)

@pytest.mark.parametrize(
    "load, shape, classes",
    [(data.load_digits, (1797, 64), 10), (data.load_iris, (150, 4), 3), (data.load_breast_cancer, (569, 30), 2)],
)
def test_real_classification_sets(load, shape, classes):
    X, y = load()
    assert X.shape == shape and X.dtype == np.float64
    assert y.dtype == np.int64 and set(np.unique(y)) == set(range(classes))


def test_diabetes_is_regression():
    X, y = data.load_diabetes()
    assert X.shape == (442, 10) and y.dtype == np.float64


def test_split_partitions_the_data():
    X = np.arange(200, dtype=float).reshape(100, 2)
    y = np.arange(100)
    s = data.train_val_test_split(X, y, np.random.default_rng(0), val=0.2, test=0.1)
    assert (len(s.y_train), len(s.y_val), len(s.y_test)) == (70, 20, 10)
    assert sorted(np.concatenate([s.y_train, s.y_val, s.y_test]).tolist()) == list(range(100))
    np.testing.assert_array_equal(s.X_train[:, 0], 2 * s.y_train)  # rows stay paired with labels


def test_standardize_uses_training_statistics():
    rng = np.random.default_rng(0)
    train, test = rng.normal(5, 3, (50, 3)), rng.normal(5, 3, (20, 3))
    train_s, test_s = data.standardize(train, test)
    np.testing.assert_allclose(train_s.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(train_s.std(0), 1)
    np.testing.assert_allclose(test_s, (test - train.mean(0)) / train.std(0))


def test_minibatches_cover_each_sample_once():
    X = np.arange(20, dtype=float).reshape(10, 2)
    y = np.arange(10)
    batches = list(data.minibatches(X, y, 4, np.random.default_rng(0)))
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    assert sorted(np.concatenate([b[1] for b in batches]).tolist()) == list(range(10))


def test_minibatches_serve_tensors_in_torchs_order():
    """The PyTorch loop (train.fit) takes the same iterator: a torch.Generator draws torch.randperm."""
    import torch

    X, y = torch.arange(20.0).reshape(10, 2), torch.arange(10)
    batches = list(data.minibatches(X, y, 4, torch.Generator().manual_seed(3)))
    order = torch.randperm(10, generator=torch.Generator().manual_seed(3))
    assert torch.equal(torch.cat([b[1] for b in batches]), order)
    assert all(torch.equal(Xb[:, 0] / 2, yb.double()) for Xb, yb in batches)  # rows stay paired
    unshuffled = list(data.minibatches(np.zeros((5, 2)), np.arange(5), 2))
    assert [b[1].tolist() for b in unshuffled] == [[0, 1], [2, 3], [4]]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: data.make_xor(0, np.random.default_rng(0)), "n must be a positive int"),
        (lambda: data.make_xor(10, 0), "numpy.random.Generator"),
        (lambda: data.train_val_test_split(np.zeros(5), np.zeros(5), np.random.default_rng(0)), r"shape \(N, D\)"),
        (lambda: data.train_val_test_split(np.zeros((5, 2)), np.zeros((5, 1)), np.random.default_rng(0)), r"shape \(N,\)"),
        (lambda: data.train_val_test_split(np.zeros((5, 2)), np.zeros(5), np.random.default_rng(0), 0.6, 0.5), "val"),
        (lambda: list(data.minibatches(np.zeros((5, 2)), np.zeros(5), 0)), "batch_size"),
        (lambda: list(data.minibatches(np.zeros((5, 2)), np.zeros(4), 2)), r"same number of rows"),
        (lambda: list(data.minibatches(np.zeros((5, 2)), np.zeros(5), 2, rng=0)), "torch.Generator"),
        (lambda: data.standardize(np.zeros((5, 2)), np.zeros((5, 3))), r"\(N, 2\)"),
    ],
)
def test_bad_input_is_named(call, message):
    with pytest.raises(ValueError, match=message):
        call()
