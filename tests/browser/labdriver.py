"""Drive the course as a student meets it: a JupyterLab server and headless Chromium.

``LabServer`` starts JupyterLab the way the README says (``jupyter lab ARGS`` from the course's
root), on 127.0.0.1 with a token, in a temporary copy of the course. ``Notebook`` wraps one
browser page holding one notebook: open it, run all, wait for every prompt to hold a number,
read errors, operate widgets and time how long the figure takes to answer.

Everything JupyterLab-specific is read through ``window.jupyterapp`` (exposed by
``--LabApp.expose_app_in_browser``), so the checks see the notebook model, not only pixels.
"""

from __future__ import annotations

import io
import json
import os
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# What the course's copy needs: the notebooks a student opens. course_lib comes from PYTHONPATH.
COURSE_FOLDERS = ("notebooks", "exercises")
# JupyterLab settings for tests: no news pop-up over the page, and every cell rendered (no
# windowing), so widgets below the fold are drawn and can be screenshot.
SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                         "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
}


def readme_start_args(readme: Path = ROOT / "README.md") -> list[str]:
    """The arguments of ``jupyter lab`` in the README's start command (``pip install ... && jupyter lab ARGS``)."""
    match = re.search(r"^pip install -e \. && jupyter lab(.*)$", readme.read_text(), flags=re.M)
    if match is None:
        raise ValueError(f"{readme}: no line 'pip install -e . && jupyter lab ...' in the start section")
    return shlex.split(match.group(1))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LabServer:
    """JupyterLab serving a temporary copy of the course, started as the README starts it."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = Path(workdir)
        self.course = self.workdir / "course"
        for folder in COURSE_FOLDERS:
            shutil.copytree(ROOT / folder, self.course / folder,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        settings = self.workdir / "settings"
        for name, values in SETTINGS.items():
            (settings / name).parent.mkdir(parents=True, exist_ok=True)
            (settings / name).write_text(json.dumps(values))
        self.port, self.token = free_port(), secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ,
                   PYTHONPATH=os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
                   JUPYTERLAB_SETTINGS_DIR=str(settings),
                   JUPYTERLAB_WORKSPACES_DIR=str(self.workdir / "workspaces"),
                   JUPYTER_CONFIG_DIR=str(self.workdir / "config"),  # not the user's ~/.jupyter
                   JUPYTER_RUNTIME_DIR=str(self.workdir / "runtime"),
                   # Nine kernels share the cores: one thread each, or torch's thread pools fight.
                   OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        self.args = readme_start_args()
        command = [sys.executable, "-m", "jupyterlab", *self.args, "--no-browser", f"--port={self.port}",
                   "--ServerApp.ip=127.0.0.1", "--ServerApp.port_retries=0",
                   f"--IdentityProvider.token={self.token}", "--ServerApp.password=",
                   "--LabApp.expose_app_in_browser=True"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")
        self.log_path = self.workdir / "jupyterlab.log"
        self._log = open(self.log_path, "w")
        self.process = subprocess.Popen(command, cwd=self.course, env=env, stdout=self._log,
                                        stderr=subprocess.STDOUT)
        self._wait_ready()

    def api(self, path: str) -> object:
        request = urllib.request.Request(f"{self.url}/api/{path}", headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def _wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {self.process.returncode}:\n{self.log_path.read_text()}")
            try:
                self.api("status")
                return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"JupyterLab did not answer within {timeout:.0f} s:\n{self.log_path.read_text()}")

    @property
    def root_dir(self) -> Path:
        """The folder the server serves, as its log reports it."""
        match = re.search(r"Serving notebooks from local directory: (.+)", self.log_path.read_text())
        if match is None:
            raise RuntimeError(f"the server log does not say where it serves from:\n{self.log_path.read_text()}")
        return Path(match.group(1).strip())

    def lab_url(self, workspace: str, path: str | None = None) -> str:
        tree = f"/tree/{path}" if path else ""
        return f"{self.url}/lab/workspaces/{workspace}{tree}?reset&token={self.token}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


# --- in-page JavaScript ---------------------------------------------------------------------

# Time stamps of new frames: after every drawImage onto a figure canvas that is being watched,
# compare its pixels with the last frame; a different picture is a new frame.
FRAME_HOOK = """() => {
  if (window.__courseFrames) return;
  window.__courseFrames = true;
  window.__lastInput = 0;
  for (const type of ['keydown', 'pointerdown', 'change'])
    document.addEventListener(type, () => { window.__lastInput = performance.now(); }, true);
  const draw = CanvasRenderingContext2D.prototype.drawImage;
  CanvasRenderingContext2D.prototype.drawImage = function (...args) {
    const result = draw.apply(this, args);
    const canvas = this.canvas;
    if (canvas.__watch) {
      const now = performance.now();
      const pixels = new Uint32Array(this.getImageData(0, 0, canvas.width, canvas.height).data.buffer);
      const last = canvas.__pixels;
      let changed = !last || last.length !== pixels.length;
      for (let i = 0; !changed && i < pixels.length; i++) changed = pixels[i] !== last[i];
      if (changed) { canvas.__pixels = pixels; canvas.__frames.push(now); }
    }
    return result;
  };
}"""

PANEL = """const panel = [...window.jupyterapp.shell.widgets('main')].find(w => w.context && w.context.path === PATH);"""

NOTEBOOK_STATE = """(PATH) => {
  PANEL
  if (!panel || !panel.sessionContext) return null;
  const cells = panel.content.widgets.filter(c => c.model.type === 'code');
  const errors = [];
  cells.forEach((cell, i) => {
    const outputs = cell.model.outputs;
    for (let k = 0; k < outputs.length; k++) {
      const o = outputs.get(k).toJSON();
      if (o.output_type === 'error') errors.push(`code cell ${i}: ${o.ename}: ${o.evalue}`);
    }
  });
  return {
    id: panel.id,
    ready: panel.context.isReady,
    dirty: panel.context.model.dirty,
    status: panel.sessionContext.kernelDisplayStatus,
    kernel: panel.sessionContext.session?.kernel?.name ?? null,
    counts: cells.map(c => c.model.executionCount),
    queued: cells.filter(c => (c.promptNode?.textContent ?? '').includes('*')).length,
    errors,
  };
}""".replace("PANEL", PANEL)


@dataclass
class Timing:
    """Key-to-new-frame latencies (ms) of one control of one widget."""

    widget: str
    control: str
    ms: list[float] = field(default_factory=list)


@dataclass
class Rate:
    """A rate one widget sustained while it ran by itself (updates/s or frames/s while playing)."""

    widget: str
    measure: str
    value: float


class Notebook:
    """One notebook open in a JupyterLab page (one tab of the app); locators are scoped to its panel."""

    def __init__(self, page, path: str) -> None:
        """Open ``path`` in a new tab; ``wait_kernel_idle`` waits until it is loaded and its kernel answers."""
        self.page, self.path = page, path
        page.evaluate("(path) => { window.jupyterapp.commands.execute('docmanager:open', {path, factory: 'Notebook'}); }",
                      path)

    @property
    def id(self) -> str:
        return self.state()["id"]

    @property
    def panel(self):
        return self.page.locator(f"[id='{self.id}']")

    def state(self) -> dict:
        return self.page.evaluate(NOTEBOOK_STATE, self.path)

    def activate(self) -> None:
        self.page.evaluate("(id) => window.jupyterapp.shell.activateById(id)", self.id)

    def command(self, name: str) -> None:
        """Start a notebook command (``notebook:run-all-cells``, ...) on this notebook; do not wait for it to end.

        (The command's promise settles when it is done: for run-all, when the last cell ran.
        Returning it would run the lectures one after another.)
        """
        self.activate()
        self.page.evaluate("(name) => { window.jupyterapp.commands.execute(name); }", name)

    def wait_kernel_idle(self, timeout: float = 120.0) -> dict:
        self.page.wait_for_function(
            f"(PATH) => {{ {PANEL} return panel?.context.isReady && panel.sessionContext.session?.kernel"
            " && panel.sessionContext.kernelDisplayStatus === 'idle'; }", arg=self.path, timeout=timeout * 1000)
        return self.state()

    def wait_finished(self, timeout: float) -> None:
        """Wait until ``finished``: every cell ran, or an error stopped the run."""
        deadline = time.monotonic() + timeout
        while not self.finished():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.path}: still running after {timeout:.0f} s")
            time.sleep(0.5)

    def finished(self) -> bool:
        """True when the kernel is idle and no cell waits to run (all ran, or an error stopped the run)."""
        s = self.state()
        return s["status"] == "idle" and s["queued"] == 0 and (s["errors"] or all(c is not None for c in s["counts"]))

    def close(self) -> None:
        """Close the tab and shut its kernel down."""
        self.page.evaluate(f"async (PATH) => {{ {PANEL} await panel.sessionContext.shutdown(); panel.dispose(); }}",
                           self.path)

    def kernel_eval(self, expression: str) -> object:
        """Evaluate ``expression`` in the notebook's kernel without touching the notebook; JSON result."""
        code = f"import json as _j; print(_j.dumps({expression}))"
        text = self.page.evaluate(f"""async ([PATH, code]) => {{
          {PANEL}
          let out = '';
          const future = panel.sessionContext.session.kernel.requestExecute({{code, silent: false, store_history: false}});
          future.onIOPub = msg => {{
            if (msg.header.msg_type === 'stream') out += msg.content.text;
            if (msg.header.msg_type === 'error') out += 'ERROR ' + msg.content.ename + ': ' + msg.content.evalue;
          }};
          await future.done;
          return out;
        }}""", [self.path, code])
        if text.startswith("ERROR"):
            raise RuntimeError(f"{expression}: {text}")
        return json.loads(text)

    # --- widgets --------------------------------------------------------------------------

    def widget_outputs(self) -> list[dict]:
        """For every output that holds a widget view: whether it rendered, and the text it shows."""
        return self.page.evaluate(f"""(PATH) => {{
          {PANEL}
          const found = [];
          panel.content.widgets.forEach((cell, i) => {{
            if (cell.model.type !== 'code') return;
            const outputs = cell.model.outputs;
            for (let k = 0; k < outputs.length; k++) {{
              if (!('application/vnd.jupyter.widget-view+json' in (outputs.get(k).data || {{}}))) continue;
              const node = cell.outputArea.widgets[k]?.node;
              found.push({{cell: i, rendered: !!node?.querySelector('.jupyter-widgets'),
                           text: node ? node.innerText.slice(0, 200) : ''}});
            }}
          }});
          return found;
        }}""", self.path)

    def canvases(self):
        return self.panel.locator(".jupyter-matplotlib")

    def figure_canvas(self, index: int = 0):
        """The <canvas> that shows figure ``index`` (ipympl draws its frames there)."""
        return self.canvases().nth(index).locator("canvas").first

    def watch(self, index: int = 0) -> None:
        """Start recording the time of every new frame of figure ``index``."""
        self.page.evaluate(FRAME_HOOK)
        self.figure_canvas(index).evaluate(
            "c => { c.__watch = true; c.__frames = c.__frames || []; const ctx = c.getContext('2d');"
            " c.__pixels = new Uint32Array(ctx.getImageData(0, 0, c.width, c.height).data.buffer); }")

    def frames_since(self, t0: float, index: int = 0) -> list[float]:
        return self.figure_canvas(index).evaluate("(c, t0) => c.__frames.filter(t => t > t0)", t0)

    def now(self) -> float:
        return self.page.evaluate("() => performance.now()")

    def settle(self, index: int = 0, quiet: float = 0.3, timeout: float = 20.0) -> None:
        """Wait until the kernel is idle and figure ``index`` showed no new frame for ``quiet`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            t = self.now()
            time.sleep(quiet)
            if not self.frames_since(t, index) and self.state()["status"] == "idle":
                return
        raise TimeoutError(f"{self.path}: figure {index} kept changing for {timeout} s")

    def act(self, action, index: int = 0, timeout: float = 15.0) -> float:
        """Do ``action()`` (a key press, a click), wait for figure ``index``'s next new frame; ms from input to frame."""
        before = self.now()
        action()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            frames = self.frames_since(before, index)
            if frames:
                t_input = self.page.evaluate("() => window.__lastInput")
                return frames[0] - (t_input if t_input > before else before)
            time.sleep(0.01)
        raise TimeoutError(f"{self.path}: figure {index} did not change within {timeout} s of the input")

    def screenshot(self, folder: Path, name: str, index: int = 0) -> np.ndarray:
        """Save figure ``index`` as ``folder/name.png``; return its pixels (H, W, 3) uint8."""
        from PIL import Image

        folder.mkdir(parents=True, exist_ok=True)
        png = self.figure_canvas(index).screenshot(path=str(folder / f"{name}.png"))
        return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))

    def slider_handle(self, description: str):
        """The noUiSlider handle of the slider labelled ``description`` (exactly)."""
        label = self.page.locator(".widget-label", has_text=re.compile(f"^{re.escape(description)}$"))
        return self.panel.locator(".widget-slider", has=label).locator(".noUi-handle").first

    def press(self, handle, key: str) -> None:
        """Focus a control and press ``key``, as a student does with the keyboard."""
        handle.focus()
        handle.press(key)


def changed_fraction(a: np.ndarray, b: np.ndarray, region: tuple[slice, slice] | None = None) -> float:
    """Share of pixels (in ``region`` = (rows, cols)) that differ between two screenshots (H, W, 3)."""
    if a.shape != b.shape:
        return 1.0
    diff = np.any(a != b, axis=-1)
    return float(diff[region].mean() if region else diff.mean())


def color_pixels(image: np.ndarray, rgb: tuple[int, int, int], tol: int = 40,
                 region: tuple[slice, slice] | None = None) -> int:
    """How many pixels of ``image`` (H, W, 3) lie within ``tol`` of the colour ``rgb`` (in ``region``)."""
    part = image[region] if region else image
    return int((np.abs(part.astype(int) - np.array(rgb)).max(axis=-1) <= tol).sum())
