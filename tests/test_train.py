import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib import data
from course_lib.models.mlp import MLP, LogisticRegression
from course_lib.train import History, accuracy, evaluate, fit


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


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_fit_on_cuda():
    train, val = breast_cancer_tensors()
    device = torch.device("cuda")
    model = MLP([30, 16, 2], device=device)
    history = fit(model, F.cross_entropy, torch.optim.SGD(model.parameters(), lr=0.1), train, val, epochs=3,
                  batch_size=32, device=device, generator=torch.Generator().manual_seed(0), progress=False)
    assert history.val_acc[-1] > 0.9
