import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import data, speedups
from course_lib.models.lenet import LeNet5
from course_lib.models.mlp import MLP, LogisticRegression
from course_lib.speedups import autocast_dtype, pins_memory, tf32_matmuls, uses_channels_last
from course_lib.train import History, accuracy, evaluate, fit

CPU = torch.device("cpu")


@pytest.fixture(autouse=True)
def one_thread():
    """Models this small lose more to thread hand-offs than they gain: 20x on two busy cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def breast_cancer_tensors():
    X, y = data.load_breast_cancer()
    split = data.train_val_test_split(X, y, np.random.default_rng(0), val=0.3, test=0.0)
    X_train, X_val = data.standardize(split.X_train, split.X_val)
    as_t = lambda X, y: (torch.tensor(X, dtype=torch.float32), torch.tensor(y))  # noqa: E731
    return as_t(X_train, split.y_train), as_t(X_val, split.y_val)


def run(seed, epochs=5):
    torch.manual_seed(0)  # same initial weights in both runs
    train, val = breast_cancer_tensors()
    model = MLP([30, 16, 2])
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    history = fit(model, F.cross_entropy, opt, train, val, epochs=epochs, batch_size=32,
                  device=torch.device("cpu"), generator=torch.Generator().manual_seed(seed), progress=False)
    return model, history


def test_fit_returns_one_entry_per_epoch_and_learns():
    _, history = run(0, epochs=8)
    assert isinstance(history, History)
    assert all(len(h) == 8 for h in (history.train_loss, history.train_acc, history.val_loss, history.val_acc))
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.val_acc[-1] > 0.93


def test_fit_is_deterministic_given_the_generator():
    _, a = run(1)
    _, b = run(1)
    _, c = run(2)
    assert a.train_loss == b.train_loss
    assert a.train_loss != c.train_loss


def test_binary_logistic_regression_with_bce():
    train, val = breast_cancer_tensors()
    torch.manual_seed(0)
    model = LogisticRegression(30)
    loss_fn = lambda z, y: F.binary_cross_entropy_with_logits(z, y.float())  # noqa: E731
    history = fit(model, loss_fn, torch.optim.SGD(model.parameters(), lr=0.1), train, val, epochs=10,
                  batch_size=32, device=torch.device("cpu"), generator=torch.Generator().manual_seed(0), progress=False)
    assert history.val_acc[-1] > 0.93
    loss, acc = evaluate(model, loss_fn, val, torch.device("cpu"))
    assert acc == history.val_acc[-1] and loss == pytest.approx(history.val_loss[-1])


def test_accuracy_reads_binary_and_multiclass_logits():
    assert accuracy(torch.tensor([2.0, -1.0, 0.5]), torch.tensor([1, 0, 0])) == pytest.approx(2 / 3)
    assert accuracy(torch.tensor([[0.1, 0.9], [2.0, 0.0]]), torch.tensor([1, 0])) == 1.0


def test_fit_rejects_bad_data():
    model = MLP([2, 2])
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    good = (torch.zeros(4, 2), torch.zeros(4, dtype=torch.long))
    kwargs = dict(epochs=1, batch_size=2, device=torch.device("cpu"), generator=torch.Generator(), progress=False)
    with pytest.raises(ValueError, match=r"X \(N, \.\.\.\) and y \(N,\), got X \(4, 2\) and y \(4, 1\)"):
        fit(model, F.cross_entropy, opt, (torch.zeros(4, 2), torch.zeros(4, 1)), good, **kwargs)
    with pytest.raises(ValueError, match="torch tensors, got ndarray"):
        fit(model, F.cross_entropy, opt, (np.zeros((4, 2)), np.zeros(4)), good, **kwargs)
    with pytest.raises(ValueError, match="epochs and batch_size must be positive"):
        fit(model, F.cross_entropy, opt, good, good, **(kwargs | {"epochs": 0}))
    with pytest.raises(ValueError, match="generator must be a torch.Generator"):
        fit(model, F.cross_entropy, opt, good, good, **(kwargs | {"generator": 0}))


def digit_images():
    """scikit-learn's digits as standardized images: train and validation X (N, 1, 8, 8), y (N,)."""
    X, y = data.load_digits()
    split = data.train_val_test_split(X, y, np.random.default_rng(0), val=0.3, test=0.0)
    X_train, X_val = data.standardize(split.X_train, split.X_val)
    as_images = lambda X, y: (torch.tensor(X, dtype=torch.float32).reshape(-1, 1, 8, 8), torch.tensor(y))  # noqa: E731
    return as_images(X_train, split.y_train), as_images(X_val, split.y_val)


def fit_lenet(device=CPU, epochs=3, **options):
    train, val = digit_images()
    model = LeNet5(image_size=8, seed=0, device=device)
    history = fit(model, F.cross_entropy, torch.optim.Adam(model.parameters(), lr=4e-3), train, val, epochs=epochs,
                  batch_size=64, device=device, generator=torch.Generator().manual_seed(0), progress=False, **options)
    return model, history


def test_fit_trains_a_cnn_on_images():
    model, history = fit_lenet(epochs=4)
    assert history.train_loss[-1] < history.train_loss[0] / 3
    assert history.val_acc[-1] > 0.9
    _, val = digit_images()
    assert evaluate(model, F.cross_entropy, val, CPU) == (history.val_loss[-1], history.val_acc[-1])


def test_fit_rejects_bad_images():
    model = LeNet5(image_size=8, seed=0)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    images, labels = torch.zeros(4, 1, 8, 8), torch.zeros(4, dtype=torch.long)
    kwargs = dict(epochs=1, batch_size=2, device=CPU, generator=torch.Generator(), progress=False)
    with pytest.raises(ValueError, match=r"X \(N, \.\.\.\) and y \(N,\), got X \(4, 1, 8, 8\) and y \(3,\)"):
        fit(model, F.cross_entropy, opt, (images, labels[:3]), (images, labels), **kwargs)
    with pytest.raises(ValueError, match=r"val must be X \(N, \.\.\.\) and y \(N,\), got X \(\) and y \(4,\)"):
        fit(model, F.cross_entropy, opt, (images, labels), (torch.tensor(0.0), labels), **kwargs)
    with pytest.raises(ValueError, match=r"channels_last=True needs images X \(N, C, H, W\), got X \(4, 64\)"):
        fit(model, F.cross_entropy, opt, (images.reshape(4, 64), labels), (images, labels), channels_last=True, **kwargs)
    with pytest.raises(ValueError, match="amp must be True, False or None, got 'bf16'"):
        fit(model, F.cross_entropy, opt, (images, labels), (images, labels), amp="bf16", **kwargs)


def test_on_a_cpu_the_defaults_keep_plain_float32_and_the_usual_layout():
    images, cnn = torch.zeros(2, 1, 8, 8), LeNet5(image_size=8, seed=0)
    assert autocast_dtype(CPU) is None and autocast_dtype(CPU, amp=False) is None
    assert autocast_dtype(CPU, amp=True) == torch.bfloat16
    assert not uses_channels_last(cnn, images, CPU)
    assert uses_channels_last(cnn, images, CPU, channels_last=True)
    assert not pins_memory(images, CPU)


def fake_gpu(monkeypatch, capability):
    """Make torch believe a CUDA GPU of this compute capability is present (to test the decisions only)."""
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: f"a GPU of capability {capability}")


def test_on_a_recent_gpu_the_defaults_are_bfloat16_channels_last_and_pinned_copies(monkeypatch):
    fake_gpu(monkeypatch, (9, 0))
    cuda, images, cnn = torch.device("cuda"), torch.zeros(2, 1, 8, 8), LeNet5(image_size=8, seed=0)
    assert autocast_dtype(cuda) == torch.bfloat16 and autocast_dtype(cuda, amp=False) is None
    assert uses_channels_last(cnn, images, cuda)
    assert not uses_channels_last(MLP([64, 10]), images, cuda)            # no convolution to speed up
    assert not uses_channels_last(cnn, images.reshape(2, 64), cuda)        # not images
    assert not uses_channels_last(cnn, images, cuda, channels_last=False)
    assert pins_memory(images, cuda)
    assert not pins_memory(images.to("meta"), cuda)                       # not on the host


def test_an_older_gpu_emulates_bfloat16_so_it_trains_in_float32(monkeypatch):
    fake_gpu(monkeypatch, (7, 5))  # a T4
    assert autocast_dtype(torch.device("cuda")) is None
    with pytest.raises(ValueError, match=r"amp=True needs bfloat16, which a GPU of capability \(7, 5\) does not compute"):
        autocast_dtype(torch.device("cuda"), amp=True)


def test_tf32_is_switched_on_inside_the_block_only():
    matmul = torch.backends.cuda.matmul
    name = "fp32_precision" if hasattr(matmul, "fp32_precision") else "allow_tf32"
    before = getattr(matmul, name)
    with tf32_matmuls(torch.device("cuda")):
        assert getattr(matmul, name) in ("tf32", True)
    assert getattr(matmul, name) == before
    with pytest.raises(RuntimeError), tf32_matmuls(torch.device("cuda")):
        raise RuntimeError("a failing step")
    assert getattr(matmul, name) == before
    with tf32_matmuls(CPU):
        assert getattr(matmul, name) == before


def test_fit_on_a_cpu_with_bfloat16_autocast_and_channels_last():
    _, plain = fit_lenet()
    model, mixed = fit_lenet(amp=True)
    assert mixed.train_loss != plain.train_loss                      # autocast did run in bfloat16
    assert mixed.train_loss[-1] == pytest.approx(plain.train_loss[-1], rel=0.2)
    assert model.features[0].weight.dtype == torch.float32           # the weights stay float32
    model, last = fit_lenet(channels_last=True)
    assert model.features[3].weight.is_contiguous(memory_format=torch.channels_last)  # conv2, 6 -> 16
    assert last.train_loss == pytest.approx(plain.train_loss, rel=1e-2)  # other kernels: other rounding


def test_streaming_from_the_host_gives_the_same_run(monkeypatch):
    calls = []
    monkeypatch.setattr(speedups, "to_device", lambda t, *a, **k: calls.append(t.shape) or t)
    monkeypatch.setattr("course_lib.train.to_device", speedups.to_device)
    _, moved_once = fit_lenet(epochs=1)
    once = len(calls)
    _, streamed = fit_lenet(epochs=1, stream=True)
    assert vars(streamed) == vars(moved_once)
    assert len(calls) - once == once - 2  # every batch is copied, not the two data sets up front


def test_streamed_batches_come_from_pinned_memory_when_the_device_is_a_gpu(monkeypatch):
    pinned = []
    monkeypatch.setattr(torch.Tensor, "pin_memory", lambda t: pinned.append(tuple(t.shape)) or t)
    monkeypatch.setattr("course_lib.train.pins_memory", lambda X, device: True)  # as for host data and a GPU
    fit_lenet(epochs=1)
    assert (64, 1, 8, 8) not in pinned and (64,) not in pinned  # moved once: no batch is copied
    pinned.clear()
    _, history = fit_lenet(epochs=1, stream=True)
    full_batches = len(digit_images()[0][0]) // 64
    assert pinned.count((64, 1, 8, 8)) == pinned.count((64,)) == full_batches  # X and y of every batch
    assert history.val_acc[-1] > 0.5


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_fit_on_cuda():
    train, val = breast_cancer_tensors()
    device = torch.device("cuda")
    model = MLP([30, 16, 2], device=device)
    history = fit(model, F.cross_entropy, torch.optim.SGD(model.parameters(), lr=0.1), train, val, epochs=3,
                  batch_size=32, device=device, generator=torch.Generator().manual_seed(0), progress=False)
    assert history.val_acc[-1] > 0.9


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_bfloat16_on_cuda_reaches_the_loss_of_float32_on_the_cpu():
    cuda = torch.device("cuda")
    assert autocast_dtype(cuda) == torch.bfloat16, "a GPU of the Ampere generation or newer computes bfloat16"
    _, cpu = fit_lenet(epochs=4)
    model, gpu = fit_lenet(device=cuda, epochs=4)
    assert model.features[3].weight.is_contiguous(memory_format=torch.channels_last)  # conv2, 6 -> 16
    assert gpu.train_loss[-1] == pytest.approx(cpu.train_loss[-1], rel=0.25, abs=0.02)
    assert gpu.val_acc[-1] > 0.9 and abs(gpu.val_acc[-1] - cpu.val_acc[-1]) < 0.03
    _, streamed = fit_lenet(device=cuda, epochs=4, stream=True)  # the data stay on the host, pinned copies
    assert streamed.train_loss == pytest.approx(gpu.train_loss, rel=0.05)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_channels_last_gives_the_same_outputs_on_cuda():
    cuda = torch.device("cuda")
    images = torch.randn(64, 1, 8, 8, generator=torch.Generator().manual_seed(0)).to(cuda)
    model = LeNet5(image_size=8, seed=0, device=cuda).eval()
    with torch.no_grad():
        contiguous = model(images)
        model.to(memory_format=torch.channels_last)
        last = model(images.contiguous(memory_format=torch.channels_last))
    assert model.features[3].weight.is_contiguous(memory_format=torch.channels_last)
    # cuDNN may run float32 convolutions in TF32 (10-bit mantissa) by default, in either layout
    torch.testing.assert_close(last, contiguous, rtol=2e-3, atol=2e-3)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_fit_leaves_the_tf32_setting_as_it_found_it():
    matmul = torch.backends.cuda.matmul
    name = "fp32_precision" if hasattr(matmul, "fp32_precision") else "allow_tf32"
    before = getattr(matmul, name)
    fit_lenet(device=torch.device("cuda"), epochs=1, amp=False)
    assert getattr(matmul, name) == before
