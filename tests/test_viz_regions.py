"""Static pictures: linear regions and decision boundaries drawn on an Axes."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_lib.scratch import regions  # noqa: E402
from course_lib.viz.decision_boundary import plot_decision_boundary  # noqa: E402
from course_lib.viz.regions import draw_regions  # noqa: E402


def test_draw_regions_paints_every_region():
    labels = regions.region_map(regions.folding_net(2), 0, 1, 200)
    fig, ax = plt.subplots()
    draw_regions(ax, labels, (0, 1, 0, 1))
    image = ax.get_images()[0].get_array()
    assert image.shape == (200, 200, 3)
    plt.close(fig)



def test_decision_boundary_colours_the_plane_by_class():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2))
    y = (X[:, 0] > 0).astype(int)
    fig, ax = plt.subplots()
    plot_decision_boundary(ax, lambda P: (P[:, 0] > 0).astype(int), X, y, "sign of x1", grid=50)
    assert len(ax.collections) >= 3  # filled regions and one scatter per class
    assert ax.get_title() == "sign of x1" and len(ax.get_legend().get_texts()) == 2
    fig2, ax2 = plt.subplots()
    filled = plot_decision_boundary(ax2, lambda P: 1 / (1 + np.exp(-P[:, 0])), X, y, "p", probability=True)
    assert filled.levels.min() == 0 and filled.levels.max() == 1
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        plot_decision_boundary(ax, lambda P: P[:, 0], np.zeros((5, 3)), np.zeros(5), "bad")
    plt.close(fig)
    plt.close(fig2)
