"""The chapter 06-07 pieces plug into the scratch layer engine together, through Parameter."""

import numpy as np
import pytest

from course_lib.early_stopping import EarlyStopping
from course_lib.scratch.batchnorm import BatchNorm1d
from course_lib.scratch.clipping import clip_grad_norm_
from course_lib.scratch.dropout import Dropout
from course_lib.scratch.initializers import kaiming_normal
from course_lib.scratch.layers import Linear, ReLU, Sequential, SoftmaxCrossEntropy
from course_lib.scratch.optim import SGD
from course_lib.scratch.penalties import add_penalty


def blobs(n, rng, d=10, classes=3):
    centers = rng.normal(0.0, 0.8, (classes, d))  # overlapping: validation loss turns up
    t = rng.integers(0, classes, n)
    return centers[t] + rng.standard_normal((n, d)), t


def test_batchnorm_dropout_l2_clipping_and_early_stopping_train_together():
    rng = np.random.default_rng(0)
    X, t = blobs(900, rng)
    (Xtr, ttr), (Xva, tva) = (X[:600], t[:600]), (X[600:], t[600:])
    first, last = Linear(10, 64, rng), Linear(64, 3, rng)
    first.params["W"].data = kaiming_normal((10, 64), rng)
    net = Sequential(first, BatchNorm1d(64), ReLU(), Dropout(0.2, rng), last)
    loss, opt = SoftmaxCrossEntropy(), SGD(net.parameters(), lr=0.05)
    stopper = EarlyStopping(patience=4)

    def validation_loss():
        net.eval()
        value = loss.forward(net.forward(Xva), tva)
        net.train()
        return value

    start = validation_loss()
    norms = []
    for _ in range(40):
        order = rng.permutation(600)
        for i in range(0, 600, 32):
            idx = order[i:i + 32]
            net.zero_grad()
            loss.forward(net.forward(Xtr[idx]), ttr[idx])
            net.backward(loss.backward())
            add_penalty([first.params["W"], last.params["W"]], 1e-3)
            norms.append(clip_grad_norm_(net, 5.0))
            opt.step()
        if stopper.step(validation_loss(), net):
            break

    assert stopper.should_stop and stopper.best_epoch < stopper.epoch - 1  # it did stop early
    stopper.restore(net)
    assert validation_loss() == pytest.approx(stopper.best, rel=1e-12)  # the best epoch, running stats included
    assert stopper.best < 0.5 * start
    net.eval()
    accuracy = np.mean(net.forward(Xva).argmax(axis=1) == tva)
    assert accuracy > 0.85
    assert max(norms) > 0 and all(np.isfinite(norms))
