"""The base class of every explorer: controls wired to a live figure that redraws in place.

    >>> class Parabola(Explorer):
    ...     def __init__(self):
    ...         import ipywidgets as widgets
    ...         super().__init__(figsize=(5, 3))              # self.fig, self.axes
    ...         self.a = widgets.FloatSlider(value=1.0, min=-2, max=2, description="a")
    ...         self.x = np.linspace(-1, 1, 101)
    ...         (self.line,) = self.axes.plot(self.x, self.x**2)
    ...         self.axes.set_ylim(-2, 2)
    ...         self.animate(self.line)                        # it moves: blit it
    ...         self.a.observe(lambda _: self.update(), names="value")
    ...         self.assemble([self.a])                        # self.widget: controls above the canvas
    ...     def update(self):
    ...         self.line.set_ydata(self.a.value * self.x**2)
    ...         self.redraw(full=False)                        # axes unchanged: repaint the line only
    >>> Parabola()                                             # in a notebook: shows self.widget

What a subclass gets, so it only computes and moves artists:

- **display after connect.** ipympl shows nothing if its canvas renders a frame before a
  browser displays it, so until the front end sends "initialized" ``redraw`` only *requests* a
  frame (``draw_idle``), never renders one in the kernel; afterwards it renders at once.
- **blitting.** Artists passed to ``animate`` are left out of full frames and painted on top of a
  saved background (axes, ticks, images, contours). ``redraw(full=False)`` repaints just them,
  a few milliseconds instead of a whole figure; call ``redraw()`` (full) when anything static
  changed (limits, ticks, legend, a new contour). Without animated artists, every redraw is full.
  An axis (``ax.yaxis``) or a legend can be animated too, when it changes with the controls;
  ``stop_animating`` takes back an artist that a new one replaces.
- **frames that survive dropped frames.** ipympl's front end loads each frame into one image
  element, so a frame that arrives while the previous one still decodes replaces it unseen; a
  diff frame then lands on an older picture (a new surface's paths over the old surface). So
  every frame repaints what the frames of the last ``RESEND_SECONDS`` (and at least the last
  ``RESEND_FRAMES``) changed too (``_send``): a run of lost frames (a widget that plays outpaces
  a busy browser) heals itself, and a full redraw goes out as a whole image, which leaves nothing
  of any older picture.
- **a fixed layout.** ``freeze_layout()`` lays the figure out once; constrained layout would
  otherwise measure every label again on each full frame.
- **browser echoes.** A value set from Python comes back from the browser put on the slider's
  step grid; ``is_echo(change)`` tells such an echo from a student's move, so a widget can ignore it
  instead of sending another frame right behind the last one.
- **display.** The object shows ``self.widget`` when it is the last expression of a cell, with a
  PNG of its first frame in the same output: a page without a kernel (GitHub, nbviewer) shows that.

Contract for a subclass: call ``super().__init__(figsize, ncols, nrows)`` first, build controls
and artists, call ``assemble(controls)`` (or set ``self.widget`` itself), and keep the
computation in pure functions (``course_lib.scratch``) that a test can call without a display.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Sequence

import numpy as np
from matplotlib.artist import Artist
from matplotlib.ticker import MaxNLocator

from course_lib.viz.figures import live_figure

# Every frame repaints the pixels that the frames of the last 3 s changed, and those of at least the last 3
# frames: a browser that stalls for up to 3 s while a widget plays (and drops every frame but the last) heals.
RESEND_SECONDS, RESEND_FRAMES = 3.0, 3


class Explorer:
    """Base of the course's widgets: ``fig``/``axes`` on an ipympl canvas, ``animate``, ``redraw``, ``widget``."""

    def __init__(self, figsize: tuple[float, float] = (9.0, 4.0), ncols: int = 1, nrows: int = 1) -> None:
        self.fig, self.axes = live_figure(figsize=figsize, ncols=ncols, nrows=nrows)
        for ax in np.atleast_1d(self.axes).flat:
            # Panels a third of a notebook wide: matplotlib's default 9 x labels would run together.
            ax.xaxis.set_major_locator(MaxNLocator(nbins=5))
        self.widget = None
        self._live = False          # True once the browser displays the canvas
        self._moving: list[Artist] = []
        self._background = None     # the static part of the last full frame, for blitting
        self._frame_before = None   # the frame sent before the browser's latest one (H, W) uint32
        self._recent_changes: deque = deque()  # (time, (H, W) bool): when and where each recent frame changed
        self._changed_count = None  # (H, W): how many of the recent frames changed each pixel
        self.fig.canvas.on_msg(self._on_canvas_msg)
        self.fig.canvas.mpl_connect("draw_event", self._on_draw)

    def assemble(self, controls: Sequence) -> None:
        """``self.widget`` = the controls (ipywidgets, stacked) above the figure's canvas."""
        import ipywidgets as widgets

        self.widget = widgets.VBox([*controls, self.fig.canvas])

    def animate(self, *artists: Artist) -> None:
        """Mark artists that move on every change: drawn over the saved background, not into it."""
        for artist in artists:
            artist.set_animated(True)
            self._moving.append(artist)

    def stop_animating(self, *artists: Artist) -> None:
        """Undo ``animate``: the artists go back into full frames (or, removed from the figure, nowhere)."""
        for artist in artists:
            if artist not in self._moving:
                raise ValueError(f"stop_animating expects an artist passed to animate, got {artist!r}")
            artist.set_animated(False)
            self._moving.remove(artist)

    def freeze_layout(self) -> None:
        """Lay the figure out once (constrained layout) and keep that layout for every later frame.

        Constrained layout measures every tick label and title on each draw: most of a full
        frame's time. Call it after the artists, labels and limits of the first frame are set.
        """
        self.fig.draw_without_rendering()
        self.fig.set_layout_engine("none")

    def redraw(self, full: bool = True) -> None:
        """Show the current artists: blit the animated ones when ``full`` is False and a background exists."""
        canvas = self.fig.canvas
        if not self._live:
            canvas.draw_idle()  # a request the browser answers once it shows the canvas
        elif not full and self._moving and self._background is not None:
            canvas.restore_region(self._background)
            self._draw_moving()
            self._send(lambda: canvas.blit(self.fig.bbox))
        else:
            canvas._force_full = True  # a whole image: static parts moved, so no older picture may show through
            self._send(canvas.draw)  # fires draw_event: a new background is saved, animated artists drawn on it

    def _send(self, paint) -> None:
        """Run ``paint`` (which renders and sends a frame) so the frame also repaints its predecessors' changes.

        ipympl sends the pixels that differ from the last frame (a diff frame: the rest is
        transparent). Its front end drops a frame that a newer one overtakes while it decodes, so
        here the last frame (H, W) counts as different wherever one of the recent frames (those of
        the last ``RESEND_SECONDS``, at least ``RESEND_FRAMES``) changed a pixel: with or without
        the dropped frames, the browser's picture becomes the kernel's.
        """
        canvas = self.fig.canvas
        last = canvas._last_buff  # ipympl's copy of the last frame sent (uint32 RGBA per pixel)
        if self._frame_before is None or self._frame_before.shape != last.shape:
            self._recent_changes.clear()  # a new size: ipympl sends a whole image anyway
            self._changed_count = np.zeros(last.shape, dtype=np.int32)
        else:
            now, changed = time.monotonic(), self._frame_before != last
            self._recent_changes.append((now, changed))
            self._changed_count += changed  # a running count: no union over every recent frame per frame
            while len(self._recent_changes) > RESEND_FRAMES and now - self._recent_changes[0][0] > RESEND_SECONDS:
                self._changed_count -= self._recent_changes.popleft()[1]
            # 0 is transparent black, which an opaque frame never holds: these pixels go out again.
            canvas._last_buff = np.where(self._changed_count > 0, np.uint32(0), last)
        self._frame_before = last
        paint()

    @staticmethod
    def is_echo(change: dict) -> bool:
        """True when a slider's ``new`` value is its ``old`` one put on the step grid, as the browser sends it back.

        The grid is min + k * step (in the exponent for a log slider). A student's move goes a
        whole step from the grid; snapping a value set from Python moves it at most half a step.
        """
        slider, old, new = change["owner"], change["old"], change["new"]
        step = getattr(slider, "step", None)
        if not step or not isinstance(old, (int, float)) or not isinstance(new, (int, float)):
            return False
        if hasattr(slider, "base"):  # FloatLogSlider: min, max and step are exponents
            if old <= 0 or new <= 0:
                return False
            old, new = math.log(old, slider.base), math.log(new, slider.base)
        snapped = slider.min + round((old - slider.min) / step) * step
        return abs(new - snapped) <= 1e-6 * step

    def _on_canvas_msg(self, _canvas, content: dict, _buffers) -> None:
        if content.get("type") == "initialized":
            self._live = True

    def _on_draw(self, _event) -> None:
        if not self._live:  # a layout pass, not a rendered frame: nothing to keep
            return
        if self._moving:
            self._background = self.fig.canvas.copy_from_bbox(self.fig.bbox)
            self._draw_moving()

    def _draw_moving(self) -> None:
        for artist in self._moving:
            if artist.get_visible():
                artist.axes.draw_artist(artist)

    def snapshot_png(self, dpi: float = 80) -> bytes:
        """The figure as it is now, moving artists included, as PNG bytes (no frame goes to the browser)."""
        import io

        buffer = io.BytesIO()
        self.fig.savefig(buffer, format="png", dpi=dpi)  # saving draws animated artists too
        return buffer.getvalue()

    def _ipython_display_(self) -> None:
        """Show the widget, with a PNG of its first frame in the same output for pages without a kernel.

        JupyterLab renders the widget view; GitHub and nbviewer, which cannot, show the picture.
        """
        import base64

        from IPython.display import display

        if self.widget is None:
            raise ValueError(f"{type(self).__name__} has no widget yet: call assemble(controls) in __init__")
        bundle = self.widget._repr_mimebundle_()
        bundle["image/png"] = base64.b64encode(self.snapshot_png()).decode("ascii")
        display(bundle, raw=True)
