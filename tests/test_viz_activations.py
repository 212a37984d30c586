"""Per-layer gradient norms against torch.autograd, and the activation explorer driven headless."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

from course_lib.scratch.gradient_flow import gradient_norm_profile  # noqa: E402
from course_lib.viz.activations import ActivationExplorer  # noqa: E402


def test_explorer_updates_artists():
    e = ActivationExplorer(names=("sigmoid",), depth=10)
    assert e.norm_lines["sigmoid"].get_visible() and not e.norm_lines["relu"].get_visible()
    e.names.value = ("sigmoid", "relu")
    assert e.norm_lines["relu"].get_visible()
    np.testing.assert_allclose(e.norm_lines["relu"].get_ydata(), gradient_norm_profile("relu", 10))
    e.depth.value = 30
    assert len(e.norm_lines["sigmoid"].get_xdata()) == 30
    before = e.norm_lines["relu"].get_ydata().copy()
    e.gain.value = 2.0
    assert not np.allclose(before, e.norm_lines["relu"].get_ydata())


def test_the_legend_names_only_the_selected_activations():
    explorer = ActivationExplorer(names=("sigmoid", "relu"))
    legend = lambda: [t.get_text() for t in explorer.ax_f.get_legend().get_texts()]  # noqa: E731
    assert legend() == ["sigmoid", "relu"]
    explorer.names.value = ("tanh",)
    assert legend() == ["tanh"]
