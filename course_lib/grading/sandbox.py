"""The operating system's walls around a student's notebook: bubblewrap, a container, or none.

A submission runs in a process that sees only what it needs:

- the Python environment (``sys.base_prefix``, ``sys.prefix``) and the system's libraries, read-only;
- the ``course_lib`` package folder, read-only, at a neutral path (``/opt/course/course_lib``) put
  on ``PYTHONPATH``: the rest of the course folder (``solutions/`` beside the package) is not there;
- one empty working folder, ``/work``, a size-limited tmpfs that vanishes with the sandbox;
- nothing else: no solutions, no classmates, no output folder, no grader, no network, its own
  process namespace, and an unprivileged user of its own (a fresh uid per sandbox, so sandboxes
  cannot signal or count against one another).

Limits are set with ``setrlimit`` on the process that starts the sandbox and are inherited:
address space (memory), CPU time, processes (``RLIMIT_NPROC``, counted per uid, hence one uid per
sandbox), file size, and the tmpfs size bounds total disk.

``bwrap`` (Debian package ``bubblewrap``) is the default on Linux. Run as root, workers are not
started one by one but forked from a warm zygote in one bwrap sandbox (``zygote``, ``warm``), each
fork given the walls above by the zygote itself: its own namespaces, tmpfs folders, uid and limits. ``docker`` and ``podman`` run
the same worker in a container image that holds the course's environment (``--image``), the way
otter-grader does. ``none`` runs the worker as a plain child process: for trusted runs only, and
every report says so.
"""

from __future__ import annotations

import itertools
import os
import resource
import shutil
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import course_lib

KINDS = ("bwrap", "docker", "podman", "none")
WORKDIR = "/work"  # the working folder inside a sandbox
PACKAGE_ROOT = "/opt/course"  # course_lib is bound at PACKAGE_ROOT/course_lib
SYSTEM_DIRS = ("/usr", "/bin", "/lib", "/lib32", "/lib64", "/sbin")
SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime")
UID_BASE = 70_000  # sandboxes run as UID_BASE + n, users that exist nowhere else
UNSAFE_WARNING = "graded WITHOUT a sandbox (--sandbox none): only for trusted submissions"


@dataclass(frozen=True)
class Limits:
    """What one notebook may use. Every default of the grader lives here."""

    cell_seconds: float = 60.0
    notebook_seconds: float = 600.0
    memory_mb: int = 4096
    processes: int = 64  # processes and threads of the sandbox's user
    file_mb: int = 256  # largest file a notebook may write
    disk_mb: int = 512  # all files of the working folder together

    def __post_init__(self) -> None:
        for name in ("cell_seconds", "notebook_seconds", "memory_mb", "processes", "file_mb", "disk_mb"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"Limits.{name}: expected a positive number, got {value!r}")


@dataclass(frozen=True)
class Sandbox:
    """How worker processes are walled in: ``kind`` is one of KINDS; ``image`` is for docker/podman."""

    kind: str = "bwrap"
    image: str = "course-grader"
    warm: bool = True  # fork each notebook's processes from warm zygotes (``zygote``) where possible

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"sandbox: expected one of {', '.join(KINDS)}, got {self.kind!r}")

    @property
    def trusted_only(self) -> bool:
        return self.kind == "none"

    @property
    def warm_workers(self) -> bool:
        """Whether workers fork from a warm zygote: bwrap run as root, which the zygote needs to
        give each notebook its own namespaces and uid (elsewhere each worker starts cold)."""
        return self.warm and self.kind == "bwrap" and os.geteuid() == 0

    @property
    def limits_processes(self) -> bool:
        """Whether RLIMIT_NPROC can bound the sandbox alone: only when it has a uid of its own.

        Containers have ``--pids-limit`` instead; without a sandbox (or with a bwrap started by a
        plain user) the count would include all of the grader's user's processes.
        """
        return self.kind == "bwrap" and os.geteuid() == 0

    def check_available(self) -> None:
        """Raise RuntimeError saying how to install the sandbox when its program is missing."""
        program = {"bwrap": "bwrap", "docker": "docker", "podman": "podman"}.get(self.kind)
        if program and shutil.which(program) is None:
            how = ("install bubblewrap (apt-get install bubblewrap)" if program == "bwrap"
                   else f"install {program}")
            raise RuntimeError(f"the {self.kind} sandbox needs `{program}`, which is not installed: {how}, "
                               "choose another with --sandbox, or --no-sandbox for a trusted class")

    def command(self, argv: list[str], limits: Limits, env: dict[str, str], workdir: Path) -> list[str]:
        """The command line that runs ``argv`` (a Python command) inside this sandbox.

        ``workdir`` is the host folder used when there is no sandbox; sandboxes get their own.
        """
        if self.kind == "bwrap":
            return bwrap_command(argv, limits, env, next_uid())
        if self.kind in ("docker", "podman"):
            return container_command(self.kind, self.image, argv, limits, env, next_uid())
        return argv


_uids = itertools.count()
_uids_lock = threading.Lock()


def next_uid() -> int:
    """A uid no other sandbox of this run is using (the pool is far larger than any --jobs)."""
    with _uids_lock:
        return UID_BASE + next(_uids) % 20_000


def python_paths() -> list[str]:
    """The folders of the running Python and its packages, found from the interpreter itself."""
    found = {os.path.realpath(p) for p in (sys.base_prefix, sys.prefix, sys.exec_prefix)}
    executable = os.path.realpath(sys.executable)
    if not any(executable.startswith(p + os.sep) for p in found):
        found.add(os.path.dirname(executable))
    return sorted(p for p in found if not any(p.startswith(q + os.sep) for q in found if q != p))


def package_dir() -> str:
    """The ``course_lib`` package folder only, never the course folder around it."""
    return os.path.dirname(os.path.realpath(course_lib.__file__))


def sandbox_env(env: dict[str, str]) -> dict[str, str]:
    """The environment inside a sandbox: the given variables, and where course_lib and home are."""
    return {**env, "PYTHONPATH": PACKAGE_ROOT, "HOME": WORKDIR, "TMPDIR": WORKDIR, "MPLCONFIGDIR": f"{WORKDIR}/.mpl",
            "PYTHONNOUSERSITE": "1"}


def _dirs_then_bind(target: str, made: set[str]) -> list[str]:
    """Create the parents of ``target`` world-readable (bwrap makes them 0700 otherwise)."""
    args = []
    parts = Path(target).parts
    for depth in range(2, len(parts)):
        folder = str(Path(*parts[:depth]))
        if folder not in made:
            made.add(folder)
            args += ["--perms", "0755", "--dir", folder]
    return args


def bwrap_command(argv: list[str], limits: Limits, env: dict[str, str], uid: int, drop: bool = True) -> list[str]:
    """bubblewrap: new mount, pid, net, ipc, uts namespaces; drop to ``uid`` with no capabilities.

    ``drop=False`` (root only) keeps root inside: for the worker zygote (``zygote``), which never
    runs student code and makes each notebook's walls and uid itself.

    bwrap runs as root here without a user namespace, so that the worker's uid is a real
    unprivileged uid outside the sandbox too (inside a user namespace started by root, uid 65534
    would still be root to the kernel, and RLIMIT_NPROC would not apply). Without root, bwrap
    makes a user namespace and ``--uid`` does the same job.
    """
    root = os.geteuid() == 0
    args = ["bwrap", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--new-session", "--clearenv"]
    if not root:
        args += ["--unshare-user", "--uid", str(uid), "--gid", str(uid)]
    made: set[str] = set()
    for folder in SYSTEM_DIRS:
        if os.path.islink(folder):
            args += ["--symlink", os.readlink(folder), folder]
        elif os.path.isdir(folder):
            args += ["--ro-bind", folder, folder]
    for path in SYSTEM_FILES:
        if os.path.exists(path):
            args += [*_dirs_then_bind(path, made), "--ro-bind", path, path]
    # The private folders first, the Python environment after: a virtual environment that lives
    # under /tmp or the working folder's path (a CI checkout's) must stay visible on top of them.
    args += ["--proc", "/proc", "--dev", "/dev",
             "--perms", "1777", "--size", str(limits.disk_mb * 2**20), "--tmpfs", WORKDIR,
             "--perms", "1777", "--size", str(16 * 2**20), "--tmpfs", "/tmp"]
    for path in python_paths():
        args += [*_dirs_then_bind(path, made), "--ro-bind", path, path]
    target = f"{PACKAGE_ROOT}/course_lib"
    args += [*_dirs_then_bind(target, made), "--ro-bind", package_dir(), target, "--chdir", WORKDIR]
    for name, value in sorted(sandbox_env(env).items()):
        args += ["--setenv", name, value]
    if root and not drop:
        args += ["--"]
    elif root:  # become a real unprivileged user, with no capabilities and no way back
        args += ["--", "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all",
                 "--bounding-set=-all", "--no-new-privs"]
    else:
        args += ["--"]
    return args + argv


def container_command(engine: str, image: str, argv: list[str], limits: Limits, env: dict[str, str],
                      uid: int) -> list[str]:
    """docker/podman: the same walls from a container engine; the image must hold the course's Python.

    The package folder is mounted read-only over the image's copy, so the grader and the worker
    always run the same code.
    """
    args = [engine, "run", "--rm", "-i", "--network", "none", "--read-only",
            "--user", f"{uid}:{uid}", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
            "--memory", f"{limits.memory_mb}m", "--memory-swap", f"{limits.memory_mb}m",
            "--pids-limit", str(limits.processes), "--cpus", "1",
            "--ulimit", f"fsize={limits.file_mb * 2**20}", "--ulimit", "core=0",
            "--tmpfs", f"{WORKDIR}:rw,size={limits.disk_mb}m,mode=1777",
            "--tmpfs", "/tmp:rw,size=16m,mode=1777", "--workdir", WORKDIR,
            "-v", f"{package_dir()}:{PACKAGE_ROOT}/course_lib:ro"]
    for name, value in sorted(sandbox_env(env).items()):
        args += ["-e", f"{name}={value}"]
    program = ["python", *argv[1:]] if argv and argv[0] == sys.executable else argv
    return args + [image, *program]


def set_limits(limits: Limits, processes: bool = True) -> None:
    """Called in the child before it starts the sandbox: limits inherited by everything inside.

    RLIMIT_CPU is the notebook's whole time budget in CPU seconds: the wall-clock limits of the
    runner stop a cell that sleeps, this one a process that escaped into a child.
    """
    os.setsid()  # the whole sandbox is one process group the grader can kill at once
    memory = limits.memory_mb * 2**20
    cpu = int(limits.notebook_seconds) + 5
    file_size = limits.file_mb * 2**20
    for which, value in ((resource.RLIMIT_AS, memory), (resource.RLIMIT_CPU, cpu),
                         (resource.RLIMIT_FSIZE, file_size), (resource.RLIMIT_CORE, 0)):
        resource.setrlimit(which, (value, value))
    if processes:  # counts the processes of the sandbox's own uid; root (bwrap itself) is exempt
        resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes, limits.processes))
