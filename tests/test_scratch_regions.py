"""Linear-region counting: exact counts for the folding construction, linearity inside regions."""

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from course_lib.scratch import regions  # noqa: E402


def test_pascanu_counts_from_the_lecture_notes():
    # Shallow 4 n0 = 8 units -> 37, 6 n0 = 12 -> 79; deep 2 and 3 layers of 2 n0 = 4 -> 44 and 176.
    assert [regions.max_regions_shallow(n) for n in (8, 12)] == [37, 79]
    assert [regions.deep_regions(2, k) for k in (2, 3)] == [44, 176]


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_folding_net_reaches_the_deep_count(depth):
    net = regions.folding_net(depth)
    assert sum(W.shape[1] for W, _ in net) == 4 * depth
    assert regions.count_regions(net, 0.0, 1.0, resolution=600) == regions.deep_regions(2, depth)


def _torch_net(layers):
    mods = []
    for W, b in layers:
        lin = torch.nn.Linear(*W.shape, dtype=torch.float64)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(W.T))
            lin.bias.copy_(torch.from_numpy(b))
        mods += [lin, torch.nn.ReLU()]
    head = torch.nn.Linear(layers[-1][0].shape[1], 1, dtype=torch.float64)
    return torch.nn.Sequential(*mods, head), mods


def test_patterns_match_torch_and_the_net_is_linear_on_each_region():
    rng = np.random.default_rng(4)
    layers = regions.random_relu_net([5, 5], rng)
    net, mods = _torch_net(layers)
    X, _ = regions.grid(-3, 3, 60)
    xt = torch.tensor(X, requires_grad=True)
    # Pre-activations from torch's own Linear layers give the same on/off bits.
    h, bits = xt, []
    for lin in mods[::2]:
        z = lin(h)
        bits.append((z > 0).detach().numpy())
        h = torch.relu(z)
    np.testing.assert_array_equal(regions.activation_patterns(layers, X), np.concatenate(bits, axis=1))
    # Inside one region the input gradient of the net (its slope) is the same everywhere.
    (slope,) = torch.autograd.grad(net(xt).sum(), xt)
    labels = regions.region_map(layers, -3, 3, 60).ravel()
    for label in np.unique(labels):
        s = slope.numpy()[labels == label]
        np.testing.assert_allclose(s, np.broadcast_to(s[0], s.shape), rtol=0, atol=1e-12)
    assert len(np.unique(labels)) > 5


def test_random_shallow_net_stays_below_the_bound():
    for seed in range(5):
        net = regions.random_relu_net([8], np.random.default_rng(seed))
        assert regions.count_regions(net, -3, 3, 300) <= regions.max_regions_shallow(8)


def test_bad_shapes():
    net = regions.folding_net(2)
    with pytest.raises(ValueError, match=r"\(N, 2\), got \(5, 3\)"):
        regions.activation_patterns(net, np.zeros((5, 3)))
    with pytest.raises(ValueError, match="widths"):
        regions.random_relu_net([], np.random.default_rng(0))
    bad = [(np.zeros((3, 4)), np.zeros(4))]
    with pytest.raises(ValueError, match="layer 0"):
        regions.activation_patterns(bad, np.zeros((5, 2)))
