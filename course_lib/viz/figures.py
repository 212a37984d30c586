"""Figures for widgets: a live ipympl canvas, whatever backend the notebook uses.

Static plots in the lectures use the notebook's inline backend (so they are stored as PNGs and
show on any notebook viewer); widgets draw on a figure from ``live_figure``, whose canvas is an
ipywidget that redraws in place when an artist changes.
"""

from __future__ import annotations

from matplotlib.figure import Figure


def live_figure(figsize: tuple[float, float] = (9.0, 4.0), ncols: int = 1, nrows: int = 1) -> tuple[Figure, object]:
    """Return ``(fig, axes)`` drawn on an ipympl canvas widget (``fig.canvas``).

    The figure is not shown by creating it: put ``fig.canvas`` in a widget box and display
    the box. Widgets should not call this directly but derive from ``viz.widget.Explorer``, which
    creates the figure and redraws it correctly before and after the browser shows it.
    """
    from ipympl.backend_nbagg import Canvas, FigureManager  # imported here: only widgets need ipympl

    fig = Figure(figsize=figsize, layout="constrained")
    canvas = Canvas(fig)
    FigureManager(canvas, 0)  # gives the canvas its toolbar and manager, as plt.figure() would
    canvas.header_visible = False
    # ipympl's toolbar floats over the figure (over the left axis's tick labels) when the pointer
    # is on it, and its pan and zoom would move axes under a widget's saved blit background.
    canvas.toolbar_visible = False
    axes = fig.subplots(nrows, ncols)
    return fig, axes
