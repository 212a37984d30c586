"""``course doctor``: is this environment ready for the course, and if not, what to type.

    $ course doctor
    versions
      ok       python                3.11.7 (/usr/bin/python3)
      ...
    all well: 13 checks passed

Four questions, each answered by a list of ``Finding``s:

- **versions**: python and the packages the notebooks import, against the minimum versions the
  ``course_lib`` package asks for.
- **device**: what ``course_lib.device.get_device()`` will pick (CUDA, then MPS, then the CPU) and why.
- **JupyterLab**: whether the ``jupyter`` on PATH is this environment's, and whether its JupyterLab
  has the front ends that draw widgets (``@jupyter-widgets/jupyterlab-manager``) and live figures
  (``jupyter-matplotlib``, from ipympl). Without them a widget shows as ``VBox(...)`` or "Loading widget...".
- **kernel**: whether the ``python3`` kernel that every notebook asks for runs this environment's
  Python. A kernel of another environment cannot import ``course_lib`` (or imports a stale copy).

A problem comes with a one-line fix; a note (a GPU that the installed torch cannot use) is advice.
"""

from __future__ import annotations

import json
import platform
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

PACKAGES = ("numpy", "torch", "matplotlib", "ipywidgets", "ipympl", "jupyterlab")
FRONT_ENDS = {  # labextension folder -> what it draws
    "@jupyter-widgets/jupyterlab-manager": "widgets front end",
    "jupyter-matplotlib": "ipympl front end",
}
KERNEL = "python3"  # the kernel every notebook of the course names in its metadata
INSTALL = "pip install -e ."  # from the course folder: the course's dependencies, at their minimum versions


@dataclass(frozen=True)
class Finding:
    """One check: ``status`` is "ok", "problem" (the course will not work as it should) or "note"."""

    section: str
    name: str
    status: str
    detail: str
    fix: str = ""

    def __post_init__(self) -> None:
        if self.status not in ("ok", "problem", "note"):
            raise ValueError(f"status must be 'ok', 'problem' or 'note', got {self.status!r}")
        if self.status != "ok" and not self.fix:
            raise ValueError(f"a {self.status} needs a fix, {self.name!r} has none")


# --- versions ---------------------------------------------------------------------------------

def minimum_versions() -> dict[str, str]:
    """{package: minimum version} as course_lib's installed metadata requires them ({} when not installed)."""
    from packaging.requirements import Requirement

    try:
        requires = metadata.requires("course_lib") or []
    except metadata.PackageNotFoundError:
        return {}
    minimums = {}
    for line in requires:
        requirement = Requirement(line)
        if requirement.marker is None:  # extras ("dev", "instructor") are not the students' concern
            minimums.update({requirement.name: s.version for s in requirement.specifier if s.operator == ">="})
    return minimums


def version_findings(version: Callable[[str], str] = metadata.version) -> list[Finding]:
    """Python (3.10 or newer) and each of ``PACKAGES``: installed, and at least the version course_lib asks for."""
    from packaging.version import Version

    py = platform.python_version()
    findings = [Finding("versions", "python", "ok" if sys.version_info >= (3, 10) else "problem",
                        f"{py} ({sys.executable})", "" if sys.version_info >= (3, 10) else
                        "install Python 3.10 or newer and the course into it")]
    minimums = minimum_versions()
    for name in PACKAGES:
        try:
            installed = version(name)
        except metadata.PackageNotFoundError:
            findings.append(Finding("versions", name, "problem", "not installed", INSTALL))
            continue
        least = minimums.get(name)
        if least and Version(installed) < Version(least):
            findings.append(Finding("versions", name, "problem", f"{installed}, the course needs >= {least}",
                                    f"pip install '{name}>={least}'"))
        else:
            findings.append(Finding("versions", name, "ok", installed))
    return findings


# --- device -----------------------------------------------------------------------------------

def device_finding(has_nvidia_gpu: Callable[[], bool] = lambda: shutil.which("nvidia-smi") is not None) -> Finding:
    """The device ``get_device()`` picks, with the reason the ones before it in line were passed over."""
    import torch

    from course_lib.device import describe_device, get_device

    device = get_device()
    if device.type == "cuda":
        return Finding("device", "device", "ok", f"{describe_device(device)}: CUDA is available")
    if torch.version.cuda is None:
        why_not_cuda = "no CUDA (this torch is built without it)"
    else:
        why_not_cuda = f"no CUDA (torch is built for CUDA {torch.version.cuda}, but finds no GPU or driver)"
    if sys.platform != "darwin":
        why_not_mps = "no MPS (Apple GPUs only)"
    elif device.type == "mps":
        return Finding("device", "device", "ok", f"{describe_device(device)}: {why_not_cuda}; MPS is available")
    else:
        why_not_mps = "no MPS (needs macOS 12.3+ on Apple silicon)"
    detail = f"{describe_device(device)}: {why_not_cuda}, {why_not_mps}"
    if torch.version.cuda is None and has_nvidia_gpu():
        # Everything runs on the CPU; the heavier chapters would just be faster on the GPU.
        return Finding("device", "device", "note", detail + "; yet nvidia-smi is here: this machine has an NVIDIA GPU",
                       "pip install --force-reinstall torch  (a CUDA build: see pytorch.org/get-started)")
    return Finding("device", "device", "ok", detail)


# --- JupyterLab -------------------------------------------------------------------------------

def jupyter_data_dirs(run: Callable[..., subprocess.CompletedProcess] = subprocess.run) -> list[str] | None:
    """The data folders of the ``jupyter`` command on PATH (``jupyter --paths --json``); None when there is none."""
    if shutil.which("jupyter") is None:
        return None
    done = run(["jupyter", "--paths", "--json"], capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        return None
    return json.loads(done.stdout)["data"]


def jupyter_finding(data_dirs: list[str] | None) -> Finding:
    """Whether ``jupyter lab``, typed in a terminal, starts this environment's JupyterLab."""
    ours = str(Path(sys.prefix) / "share" / "jupyter")
    if data_dirs is None:
        return Finding("JupyterLab", "jupyter on PATH", "problem", "no `jupyter` command on PATH (or it fails)",
                       f"{INSTALL}, then open a new terminal (or run `{sys.executable} -m jupyterlab`)")
    if ours not in data_dirs:
        return Finding("JupyterLab", "jupyter on PATH", "problem",
                       f"runs another Python environment (its data folders: {', '.join(data_dirs[:3])})",
                       f"activate this environment before `jupyter lab`, or run `{sys.executable} -m jupyterlab`")
    return Finding("JupyterLab", "jupyter on PATH", "ok", f"this environment's ({sys.prefix})")


def front_end_findings(labextension_dirs: list[Path] | None = None) -> list[Finding]:
    """For each of ``FRONT_ENDS``: installed (``package.json``) in a folder JupyterLab loads extensions from."""
    if labextension_dirs is None:
        from jupyter_core.paths import jupyter_path

        labextension_dirs = [Path(p) for p in jupyter_path("labextensions")]
    findings = []
    for extension, what in FRONT_ENDS.items():
        found = [d / extension / "package.json" for d in labextension_dirs if (d / extension / "package.json").is_file()]
        if found:
            version = json.loads(found[0].read_text()).get("version", "?")
            findings.append(Finding("JupyterLab", what, "ok", f"{extension} {version} ({found[0].parent})"))
        else:
            package = "ipywidgets" if extension.startswith("@jupyter-widgets") else "ipympl"
            findings.append(Finding("JupyterLab", what, "problem",
                                    f"{extension} is in none of {', '.join(map(str, labextension_dirs))}",
                                    f"pip install --force-reinstall {package}  (into the environment that runs JupyterLab)"))
    return findings


# --- kernel -----------------------------------------------------------------------------------

def kernel_argv() -> list[str] | None:
    """argv of the ``python3`` kernelspec JupyterLab would start (None when there is none)."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        return list(KernelSpecManager().get_kernel_spec(KERNEL).argv)
    except NoSuchKernel:
        return None


def python_prefix(python: str, run: Callable[..., subprocess.CompletedProcess] = subprocess.run) -> str | None:
    """``sys.prefix`` of the interpreter ``python`` (a path or a name on PATH), None when it does not run."""
    try:
        done = run([python, "-c", "import sys; print(sys.prefix)"], capture_output=True, text=True, timeout=60)
    except OSError:
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def kernel_finding(argv: list[str] | None, jupyter_is_ours: bool,
                   prefix_of: Callable[[str], str | None] = python_prefix) -> Finding:
    """Whether the ``python3`` kernel runs this environment's Python (so it imports this course_lib).

    A kernelspec whose argv[0] is a bare ``python``/``python3`` runs the Python that runs JupyterLab
    (jupyter_client puts the server's ``sys.executable`` there); any other argv[0] runs as written.
    """
    fix = f"{sys.executable} -m ipykernel install --user --name {KERNEL}"
    if not argv:
        return Finding("kernel", f"{KERNEL} kernel", "problem", "no kernelspec named python3", fix)
    bare = {"python", f"python{sys.version_info[0]}", f"python{sys.version_info[0]}.{sys.version_info[1]}"}
    if argv[0] in bare:
        if jupyter_is_ours:
            return Finding("kernel", f"{KERNEL} kernel", "ok", f"`{argv[0]}`: JupyterLab's own Python, this environment's")
        return Finding("kernel", f"{KERNEL} kernel", "problem",
                       f"`{argv[0]}`: JupyterLab's own Python, and that JupyterLab is another environment's", fix)
    prefix = prefix_of(argv[0])
    if prefix is None:
        return Finding("kernel", f"{KERNEL} kernel", "problem", f"{argv[0]} does not run", fix)
    if Path(prefix).resolve() != Path(sys.prefix).resolve():
        return Finding("kernel", f"{KERNEL} kernel", "problem",
                       f"{argv[0]} runs the environment {prefix}, not this one ({sys.prefix})", fix)
    return Finding("kernel", f"{KERNEL} kernel", "ok", f"{argv[0]}: this environment's Python")


# --- all of it --------------------------------------------------------------------------------

def diagnose() -> list[Finding]:
    """Every check, in the order ``report`` prints them."""
    data_dirs = jupyter_data_dirs()
    jupyter = jupyter_finding(data_dirs)
    return [*version_findings(), device_finding(), jupyter, *front_end_findings(),
            kernel_finding(kernel_argv(), jupyter.status == "ok")]


def report(findings: list[Finding]) -> str:
    """The findings as text: a line each under its section, a fix under each problem or note, a verdict."""
    lines, section = [], None
    for f in findings:
        if f.section != section:
            section = f.section
            lines.append(section)
        lines.append(f"  {f.status.upper() if f.status != 'ok' else 'ok':<8} {f.name:<20} {f.detail}")
        if f.fix:
            lines.append(f"  {'':<8} {'fix:':<20} {f.fix}")
    problems = sum(f.status == "problem" for f in findings)
    lines.append("")
    lines.append(f"{problems} problem{'s' if problems != 1 else ''}: see the fixes above" if problems
                 else f"all well: {len(findings)} checks passed")
    return "\n".join(lines)


def main() -> int:
    """Print the report; 0 when nothing is a problem, else 1."""
    findings = diagnose()
    print(report(findings))
    return 1 if any(f.status == "problem" for f in findings) else 0
