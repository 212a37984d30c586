"""Window bookkeeping: the output-size formula and the receptive field of stacked windows."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.scratch.spatial import output_size, receptive_field


def test_output_size_is_the_formula_and_rejects_fractional_sizes():
    assert output_size((28, 28), (5, 5), (1, 1), (2, 2)) == (28, 28)
    assert output_size((9, 6), (3, 3), (2, 1), (0, 1)) == (4, 6)
    with pytest.raises(ValueError, match="not an integer"):
        output_size((8, 8), (3, 3), (2, 2), (0, 0))
    with pytest.raises(ValueError, match="larger than the padded input"):
        output_size((3, 3), (5, 5), (1, 1), (0, 0))


def test_receptive_field_of_lenet_on_28x28():
    # conv 5, pool 2, conv 5, pool 2: LeNet-5's feature extractor
    assert receptive_field([(5, 1), (2, 2), (5, 1), (2, 2)]) == [(5, 1), (6, 2), (14, 2), (16, 4)]


def input_rows_seen(layers, row_offset=0):
    """Rows of a 64x64 input that one output value (centre row + row_offset) depends on.

    Every layer is a conv with an all-ones kernel, so every pixel in the field gets a positive
    gradient: the field is where d(output)/d(input) is nonzero.
    """
    x = torch.ones(1, 1, 64, 64, dtype=torch.float64, requires_grad=True)
    h = x
    for k, s in layers:
        h = F.conv2d(h, torch.ones(1, 1, k, k, dtype=torch.float64), stride=s)
    h[0, 0, h.shape[2] // 2 + row_offset, h.shape[3] // 2].backward()
    return np.flatnonzero(x.grad[0, 0].abs().sum(dim=1).numpy())


@pytest.mark.parametrize("layers", [
    [(3, 1), (3, 1), (3, 1)],
    [(3, 1), (2, 2), (3, 1), (2, 2)],
    [(5, 2), (3, 1), (3, 2)],
    [(7, 3), (2, 2)],
])
def test_receptive_field_is_the_footprint_of_one_output_in_the_input(layers):
    size, jump = receptive_field(layers)[-1]
    rows = input_rows_seen(layers)
    assert rows.max() - rows.min() + 1 == size
    assert input_rows_seen(layers, row_offset=1).min() - rows.min() == jump  # neighbours: one jump apart


@pytest.mark.parametrize("bad", [[(3,)], [(0, 1)], [(3, 0)], [(2.5, 1)], [3]])
def test_bad_layers_raise_value_errors(bad):
    with pytest.raises(ValueError, match="kernel, stride"):
        receptive_field(bad)
