"""The torch CNNs of chapters 08-09: shapes, parameter counts, seeding, twins, and CPU against CUDA."""

import pytest
import torch
from torch import nn

from course_lib.models.blocks import DenseBlock, TwoBranchBlock
from course_lib.models.lenet import LeNet5
from course_lib.models.resnet import DeepCNN


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def conv_params(c_in, c_out, k, bias=True):
    return c_out * c_in * k * k + (c_out if bias else 0)


@pytest.mark.parametrize("size, flat", [(28, 16 * 5 * 5), (8, 16 * 2 * 2)])
def test_lenet_shapes_and_parameter_count(size, flat):
    model = LeNet5(image_size=size)
    assert model(torch.randn(3, 1, size, size)).shape == (3, 10)
    k = 5 if size == 28 else 3
    expected = conv_params(1, 6, k) + conv_params(6, 16, k) + (flat * 120 + 120) + (120 * 84 + 84) + (84 * 10 + 10)
    assert count(model) == expected
    if size == 28:
        assert count(model) == 61_706  # the figure usually quoted for LeNet-5


def test_lenet_options_change_the_layers():
    model = LeNet5(image_size=8, in_channels=3, num_classes=4, activation="tanh", pool="avg")
    kinds = [type(m).__name__ for m in model.features]
    assert kinds == ["Conv2d", "Tanh", "AvgPool2d", "Conv2d", "Tanh", "AvgPool2d"]
    assert model(torch.randn(2, 3, 8, 8)).shape == (2, 4)


MODELS = {
    "lenet": (lambda seed: LeNet5(image_size=8, seed=seed), (4, 1, 8, 8)),
    "plain": (lambda seed: DeepCNN(2, (8, 16), residual=False, seed=seed), (4, 3, 16, 16)),
    "resnet": (lambda seed: DeepCNN(2, (8, 16), residual=True, seed=seed), (4, 3, 16, 16)),
    "dense": (lambda seed: DenseBlock(8, growth_rate=4, num_layers=3, seed=seed), (4, 8, 8, 8)),
    "branch": (lambda seed: TwoBranchBlock(8, 4, 6, 8, seed=seed), (4, 8, 8, 8)),
}


@pytest.mark.parametrize("name", MODELS)
def test_the_seed_alone_decides_the_weights(name):
    make, _ = MODELS[name]
    a = make(3)
    torch.manual_seed(123)  # the global generator must not matter
    b = make(3)
    c = make(torch.Generator().manual_seed(3))  # a generator stands for the seed it draws next
    c2 = make(torch.Generator().manual_seed(3))
    d = make(4)
    for key, value in a.state_dict().items():
        assert torch.equal(value, b.state_dict()[key]), key
        assert torch.equal(c.state_dict()[key], c2.state_dict()[key]), key
    assert any(not torch.equal(v, d.state_dict()[k]) for k, v in a.state_dict().items() if v.is_floating_point() and v.numel() > 1)


def test_plain_and_residual_twins_differ_by_their_projections_only():
    plain = DeepCNN(3, (16, 32, 64), residual=False, seed=0)
    resnet = DeepCNN(3, (16, 32, 64), residual=True, seed=0)
    assert plain.depth == resnet.depth == 20
    projections = [b.shortcut for b in resnet.blocks if b.shortcut is not None]
    assert len(projections) == 2  # where 16 -> 32 and 32 -> 64
    assert count(resnet) - count(plain) == sum(count(p) for p in projections) == (16 * 32 + 2 * 32) + (32 * 64 + 2 * 64)
    shared = plain.state_dict()
    for key, value in resnet.state_dict().items():
        if "shortcut" not in key:
            assert torch.equal(value, shared[key]), key


def test_deep_cnn_shapes_and_skipping_blocks():
    model = DeepCNN(2, (8, 16, 32), residual=True, in_channels=1, num_classes=5, seed=0).eval()
    x = torch.randn(2, 1, 16, 16)
    out = model(x)
    assert out.shape == (2, 5)
    assert [b.changes_shape for b in model.blocks] == [False, False, True, False, True, False]
    lesioned = model(x, skip={1})
    assert lesioned.shape == (2, 5) and not torch.allclose(lesioned, out)
    # skipping block 1 by hand: the same as running the others
    h = model.stem(x)
    for i, block in enumerate(model.blocks):
        h = h if i == 1 else block(h)
    torch.testing.assert_close(model.head(h), lesioned)
    with pytest.raises(ValueError, match=r"keep the shape, \[0, 1, 3, 5\]; got 2"):
        model(x, skip={2})


def test_residual_block_is_the_identity_when_its_body_outputs_zero():
    model = DeepCNN(1, (4,), residual=True, in_channels=4, seed=0).eval()
    block = model.blocks[0]
    with torch.no_grad():
        block.body[-1].weight.zero_()  # the last BN's scale: F(x) = 0
    x = torch.rand(2, 4, 6, 6)  # non-negative, so relu(x) = x
    torch.testing.assert_close(block(x), x)


def test_dense_and_two_branch_blocks_shapes_and_counts():
    dense = DenseBlock(8, growth_rate=4, num_layers=3)
    assert dense(torch.randn(2, 8, 5, 5)).shape == (2, 8 + 3 * 4, 5, 5)
    expected = sum(2 * (8 + 4 * l) + conv_params(8 + 4 * l, 4, 3, bias=False) for l in range(3))
    assert count(dense) == expected
    branch = TwoBranchBlock(8, 4, 6, 10)
    assert branch(torch.randn(2, 8, 5, 5)).shape == (2, 14, 5, 5)
    assert count(branch) == (conv_params(8, 4, 1, False) + 8) + (conv_params(8, 6, 1, False) + 12) + (conv_params(6, 10, 3, False) + 20)


def test_models_are_built_on_the_requested_dtype():
    model = LeNet5(image_size=8, dtype=torch.float64)
    assert all(p.dtype == torch.float64 for p in model.parameters())
    assert model(torch.randn(2, 1, 8, 8, dtype=torch.float64)).dtype == torch.float64


def test_bad_configuration_and_inputs_raise_value_errors():
    with pytest.raises(ValueError, match=r"image_size must be one of \[8, 28\], got 32"):
        LeNet5(image_size=32)
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\), got \(2, 1, 8, 8\)"):
        LeNet5()(torch.zeros(2, 1, 8, 8))
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\), got \(2, 1, 8, 8\)"):
        DeepCNN(1, (4,), residual=True)(torch.zeros(2, 1, 8, 8))
    with pytest.raises(ValueError, match=r"\(N, 8, H, W\), got \(8, 5, 5\)"):
        DenseBlock(8, 4, 2)(torch.zeros(8, 5, 5))
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        LeNet5(seed=-1)
    with pytest.raises(ValueError, match="blocks_per_stage"):
        DeepCNN(0, residual=False)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("name", MODELS)
def test_models_on_cuda_match_the_cpu(name, monkeypatch):
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)  # full float32 convs, to compare
    monkeypatch.setattr(torch.backends.cuda.matmul, "allow_tf32", False)
    make, shape = MODELS[name]
    cpu, gpu = make(0), make(0).to("cuda")
    x = torch.randn(shape, generator=torch.Generator().manual_seed(1))
    xc, xg = x.clone().requires_grad_(), x.cuda().requires_grad_()
    out_c, out_g = cpu(xc), gpu(xg)
    assert out_g.device.type == "cuda"
    torch.testing.assert_close(out_g.cpu(), out_c, rtol=1e-4, atol=1e-5)
    out_c.square().sum().backward()
    out_g.square().sum().backward()
    torch.testing.assert_close(xg.grad.cpu(), xc.grad, rtol=1e-3, atol=1e-5)
    for (key, pc), pg in zip(cpu.named_parameters(), gpu.parameters()):
        torch.testing.assert_close(pg.grad.cpu(), pc.grad, rtol=1e-3, atol=1e-5, msg=key)
