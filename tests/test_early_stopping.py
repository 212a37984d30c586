import numpy as np
import pytest
import torch

from course_lib.early_stopping import EarlyStopping
from course_lib.scratch.batchnorm import BatchNorm1d
from course_lib.scratch.layers import Linear, Sequential

# a validation curve that improves, then overfits: the best epoch is 3
CURVE = [1.0, 0.8, 0.7, 0.65, 0.66, 0.7, 0.75, 0.8, 0.9, 1.0]


def run(stopper, model, perturb, curve=CURVE):
    """Pretend to train: change the model each epoch, report the curve; returns the epochs run."""
    for epoch, metric in enumerate(curve):
        perturb(model, epoch)
        if stopper.step(metric, model):
            return epoch + 1
    return len(curve)


def test_stops_after_patience_and_restores_the_best_torch_weights():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    seen = []

    def perturb(model, epoch):
        with torch.no_grad():
            for p in model.parameters():
                p.add_(1.0)
        model(torch.randn(8, 3))  # moves batch norm's running statistics (buffers)
        seen.append({k: v.clone() for k, v in model.state_dict().items()})

    stopper = EarlyStopping(patience=3)
    assert run(stopper, model, perturb) == 7  # epochs 4, 5, 6 did not improve on epoch 3
    assert stopper.best == 0.65 and stopper.best_epoch == 3 and stopper.should_stop
    weight = model[0].weight
    stopper.restore(model)
    assert model[0].weight is weight  # restored in place: an optimizer still holds the tensor
    for name, value in model.state_dict().items():
        torch.testing.assert_close(value, seen[3][name], rtol=0, atol=0, msg=name)


def test_restores_the_best_scratch_weights_and_buffers():
    rng = np.random.default_rng(0)
    net = Sequential(Linear(3, 4, rng), BatchNorm1d(4))
    seen = []

    def perturb(net, epoch):
        for p in net.parameters():
            p.data += rng.standard_normal(p.shape)
        net.forward(rng.standard_normal((8, 3)))
        seen.append(net.state_dict())

    stopper = EarlyStopping(patience=2)
    assert run(stopper, net, perturb) == 6
    W = net.layers[0].params["W"].data
    stopper.restore(net)
    assert net.layers[0].params["W"].data is W
    for name, value in net.state_dict().items():
        np.testing.assert_array_equal(value, seen[3][name], err_msg=name)


def test_mode_max_and_min_delta():
    accuracies = [0.5, 0.6, 0.605, 0.61, 0.2]
    stopper = EarlyStopping(patience=10, mode="max", min_delta=0.02)
    net = Sequential(Linear(2, 2, np.random.default_rng(1)))
    for a in accuracies:
        stopper.step(a, net)
    assert stopper.best == 0.6 and stopper.best_epoch == 1 and stopper.bad_epochs == 3  # +0.01 is not enough
    assert not stopper.should_stop


def test_nan_never_improves_and_restore_needs_a_step():
    net = Sequential(Linear(2, 2, np.random.default_rng(2)))
    stopper = EarlyStopping(patience=2)
    with pytest.raises(RuntimeError, match="nothing to restore"):
        stopper.restore(net)
    assert stopper.step(float("nan"), net) is False
    assert stopper.step(float("nan"), net) is True  # two epochs without a usable metric
    assert stopper.best is None



@pytest.mark.parametrize("call, message", [
    (lambda: EarlyStopping(patience=0), "patience must be an integer >= 1"),
    (lambda: EarlyStopping(mode="best"), "mode must be one of"),
    (lambda: EarlyStopping(min_delta=-1), "min_delta must be >= 0"),
    (lambda: EarlyStopping().step("low", None), "metric must be a number"),
    (lambda: EarlyStopping().step(0.5, object()), "model must be a torch nn.Module or a scratch Layer, got object"),
])
def test_bad_input_is_a_clear_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
