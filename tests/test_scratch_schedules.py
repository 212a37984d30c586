"""Learning-rate schedules against torch.optim.lr_scheduler, epoch by epoch."""

import numpy as np
import pytest
import torch

from course_lib.scratch import schedules
from course_lib.scratch.optim import SGD
from course_lib.scratch.parameter import Parameter


def _torch_lrs(make_scheduler, lr0: float, epochs: int) -> np.ndarray:
    w = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([w], lr=lr0)
    scheduler = make_scheduler(opt)
    lrs = []
    for _ in range(epochs):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    return np.array(lrs)


LR_SCHED = torch.optim.lr_scheduler
CASES = [
    (lambda e: schedules.inverse_time(0.1, 1.0, e), lambda o: LR_SCHED.LambdaLR(o, lambda e: 1 / (1 + 1.0 * e))),
    (lambda e: schedules.step_decay(0.1, 0.5, 10, e), lambda o: LR_SCHED.StepLR(o, step_size=10, gamma=0.5)),
    (lambda e: schedules.exponential(0.1, 0.9, e), lambda o: LR_SCHED.ExponentialLR(o, gamma=0.9)),
    (lambda e: schedules.inverse_sqrt(0.1, e), lambda o: LR_SCHED.LambdaLR(o, lambda e: (1 + e) ** -0.5)),
]


@pytest.mark.parametrize("ours,theirs", CASES, ids=["inverse_time", "step_decay", "exponential", "inverse_sqrt"])
def test_schedule_matches_torch_scheduler(ours, theirs):
    epochs = np.arange(40)
    expected = _torch_lrs(theirs, 0.1, 40)
    np.testing.assert_allclose(ours(epochs), expected, rtol=1e-12)
    assert ours(0) == pytest.approx(0.1) and isinstance(ours(3), float)
    assert np.all(np.diff(ours(epochs)) <= 0) and ours(39) < 0.1


def test_decayed_sgd_is_stable_where_constant_lr_is_not():
    """On f(w) = |w| (a kink), constant-lr GD keeps bouncing; a decaying lr settles."""
    def run(lr_of_epoch) -> float:
        w = Parameter(np.array([1.03]))
        opt = SGD([w], lr=lr_of_epoch(0))
        for epoch in range(400):
            opt.param_groups[0]["lr"] = lr_of_epoch(epoch)
            w.grad = np.sign(w.data)
            opt.step()
        return abs(float(w.data[0]))

    assert run(lambda e: 0.1) > 0.01
    assert run(lambda e: schedules.inverse_sqrt(0.1, e)) < 0.01


def test_bad_arguments():
    with pytest.raises(ValueError, match="epoch"):
        schedules.exponential(0.1, 0.9, -1)
    with pytest.raises(ValueError, match="epoch"):
        schedules.inverse_sqrt(0.1, 1.5)
    with pytest.raises(ValueError, match="gamma"):
        schedules.exponential(0.1, 1.5, 3)
    with pytest.raises(ValueError, match="drop"):
        schedules.step_decay(0.1, 1.0, 10, 3)
    with pytest.raises(ValueError, match="lr0"):
        schedules.inverse_time(0.0, 1.0, 3)
