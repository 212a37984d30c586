"""A warm process that forks a fresh worker (or judge) for each notebook: the heavy imports are paid once.

Starting Python, IPython, NumPy and PyTorch costs a notebook a second or more before its first
cell runs. A zygote pays it once: it imports them, then waits on a control socket. For each
notebook the grader (``warm``) sends it the two ends of a fresh pair of pipes, and the zygote forks.

The worker zygote runs inside one bubblewrap sandbox that has the read-only environment of every
sandbox (``sandbox.bwrap_command``) and no network, as root of that sandbox but never running
student code. Each notebook then gets, from the fork on:

    zygote (root, in bwrap) --fork--> init (root, pid 1 of a new pid namespace)
                                        own mount, network, IPC and UTS namespaces;
                                        fresh tmpfs on /work, /tmp, /dev/shm; a fresh /proc
                                      --fork--> worker (pid 2): setrlimit, a uid of its own, no
                                        groups, no capabilities (bounding set included),
                                        no_new_privs; every descriptor closed but its pipes

so each notebook sees what a sandbox of its own would show: the same read-only files, an empty
``/work`` nobody else sees, no classmate's process, socket or shared memory, and a uid that can
signal no other. The init process only reaps and reports the worker's exit status; when it dies
(or is killed by the grader), the kernel kills everything left in the namespace.

The judge zygote (trusted, outside any sandbox) forks judges the same way, without the walls: the
judge runs only the instructor's cells. The trusted zygote forks workers without walls, for code
the grader's user may run as itself (``Sandbox("none")``: an instructor's own solutions, their
mutants): the limits of ``set_limits`` and a host folder, nothing more.

Control messages are JSON on a SOCK_SEQPACKET socket, pipe ends passed with SCM_RIGHTS:

    grader -> zygote  {"spawn": ID, "uid", "limits", "forbid", "workdir"} + [request_r, answer_w]
                      {"kill": ID}
    zygote -> grader  {"spawned": ID} | {"failed": ID, "error"} | {"exited": ID, "status": returncode}
"""

from __future__ import annotations

import ctypes
import importlib
import json
import os
import select
import signal
import socket
import sys
from typing import Any

PRELOAD = ("numpy", "torch", "IPython.core.interactiveshell", "course_lib.checks", "course_lib.grading.remote",
           "course_lib.device", "course_lib.data",  # never scratch or viz: grading does not depend on them
           "torch._dynamo",  # what torch.optim imports at an optimizer's first step: seconds, paid here once
           "sklearn.datasets")  # what course_lib.data's small tabular sets import when first loaded
# from <sched.h> and <sys/mount.h>
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWNET = (
    0x00020000, 0x04000000, 0x08000000, 0x20000000, 0x40000000)
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 0x2, 0x4, 0x8, 0x4000, 0x40000
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS, PR_CAPBSET_DROP = 1, 38, 24
LAST_CAP = 63  # drop every capability number the kernel might know
WORKDIR = "/work"

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source: str, target: str, fstype: str | None, flags: int, options: str | None = None) -> None:
    _check(_libc.mount(source.encode(), target.encode(), fstype.encode() if fstype else None, flags,
                       options.encode() if options else None), f"mount {target}")


def preload() -> None:
    """Import what notebooks import, so that each fork starts with them (a missing one is skipped)."""
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a library this environment lacks is imported by the notebook, or not
            pass


# ---------------------------------------------------------------------------
# The sandboxed worker's side of a fork
# ---------------------------------------------------------------------------

def walls(limits: dict) -> None:
    """In the init process (pid 1, root): private namespaces and fresh, empty writable folders."""
    _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS), "unshare")
    _mount("none", "/", None, MS_REC | MS_PRIVATE)  # nothing mounted here propagates back
    _mount("tmpfs", WORKDIR, "tmpfs", MS_NOSUID | MS_NODEV, f"size={limits['disk_mb']}m,mode=1777")
    _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=1777")
    if os.path.isdir("/dev/shm"):
        _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "size=16m,mode=1777")
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)  # shows this namespace only


def drop_privileges(uid: int) -> None:
    """Become ``uid`` for good: no groups, no capabilities in any set, no way to gain them back."""
    for cap in range(LAST_CAP + 1):
        _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)  # numbers the kernel does not know fail harmlessly
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)  # clears the permitted and effective sets
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3, this process
    _check(_libc.capset(header, (ctypes.c_uint32 * 6)()), "capset")  # and the inheritable one
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")


def _as_child(control: socket.socket) -> None:
    """First thing in a forked child: forget the zygote's socket and its signal plumbing."""
    control.close()
    signal.set_wakeup_fd(-1)  # else a signal would write into whatever file reuses that number
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)


def as_init(request: dict, fds: list[int], status_w: int, control: socket.socket) -> None:
    """pid 1 of the notebook's namespace: build its walls, start the worker, report how it ended."""
    _as_child(control)
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # the zygote gone: this namespace goes too
    walls(request["limits"])
    pid = os.fork()
    if pid == 0:
        os.close(status_w)
        as_worker(request, fds)
    for fd in fds:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    os.write(status_w, str(os.waitstatus_to_exitcode(status)).encode())
    os._exit(0)


def as_worker(request: dict, fds: list[int]) -> None:
    """pid 2: the student's process, with the limits and the uid of a sandbox of its own."""
    from course_lib.grading.sandbox import Limits, set_limits

    _stdio(fds)  # closes the zygote's control socket above all
    os.chdir(WORKDIR)
    set_limits(Limits(**request["limits"]), processes=True)
    drop_privileges(request["uid"])
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # after the uid change, which clears it
    _serve(lambda: __import__("course_lib.grading.worker", fromlist=["main"]).main(request["forbid"]))


# ---------------------------------------------------------------------------
# The trusted sides of a fork: the judge, and a worker without walls
# ---------------------------------------------------------------------------

def _stdio(fds: list[int]) -> None:
    """The channel's two ends as stdin and stdout, stderr to /dev/null, every other descriptor closed."""
    os.dup2(fds[0], 0)
    os.dup2(fds[1], 1)
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
    os.closerange(3, 1 << 16)


def as_trusted_worker(request: dict, fds: list[int], control: socket.socket) -> None:
    """A worker for trusted code (``Sandbox("none")``): the grader's user, in a host folder, with limits."""
    from course_lib.grading.sandbox import Limits, set_limits

    _as_child(control)
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    _stdio(fds)
    os.chdir(request["workdir"])
    os.environ.update(HOME=request["workdir"], MPLCONFIGDIR=os.path.join(request["workdir"], ".mpl"))
    set_limits(Limits(**request["limits"]), processes=False)  # its own process group, memory and CPU caps
    _serve(lambda: __import__("course_lib.grading.worker", fromlist=["main"]).main(request["forbid"]))


def as_judge(request: dict, fds: list[int], control: socket.socket) -> None:
    _as_child(control)
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    os.setsid()
    _stdio(fds)
    os.chdir(request["workdir"])
    os.environ["MPLCONFIGDIR"] = os.path.join(request["workdir"], ".mpl")
    _serve(lambda: __import__("course_lib.grading.judge", fromlist=["main"]).main())


def _serve(main: Any) -> None:
    code = 0
    try:
        main()
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    except BaseException:  # noqa: BLE001 - the grader sees the pipe close and the exit code
        code = 1
    finally:
        try:
            sys.stdout.flush()
        except BaseException:  # noqa: BLE001
            pass
        os._exit(code)


# ---------------------------------------------------------------------------
# The zygote itself
# ---------------------------------------------------------------------------

def spawn(role: str, request: dict, fds: list[int], control: socket.socket) -> tuple[int, int | None]:
    """Fork the process(es) of one notebook; return (pid, read end of its status pipe or None)."""
    if role in ("judge", "trusted"):
        pid = os.fork()
        if pid == 0:
            (as_judge if role == "judge" else as_trusted_worker)(request, fds, control)
        return pid, None
    status_r, status_w = os.pipe()
    own_pid_ns = os.open("/proc/self/ns/pid", os.O_RDONLY)
    try:
        _check(_libc.unshare(CLONE_NEWPID), "unshare pid")  # the next child is pid 1 of a new namespace
        pid = os.fork()
        if pid == 0:
            os.close(status_r)
            as_init(request, fds, status_w, control)
    finally:
        _check(_libc.setns(own_pid_ns, CLONE_NEWPID), "setns pid")  # later children: a namespace each
        os.close(own_pid_ns)
    os.close(status_w)
    return pid, status_r


def main() -> None:
    role, control = sys.argv[1], socket.socket(fileno=int(sys.argv[2]))
    preload()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    children: dict[int, tuple[str, int | None]] = {}  # pid -> (id, status pipe)
    ids: dict[str, int] = {}

    def send(message: dict) -> None:
        control.send(json.dumps(message).encode())

    while True:
        ready, _, _ = select.select([control, wake_r], [], [], 1.0)
        if wake_r in ready:
            os.read(wake_r, 4096)
        while children:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            cid, status_r = children.pop(pid)
            ids.pop(cid, None)
            code = os.waitstatus_to_exitcode(status)
            if status_r is not None:  # the worker's own status, as its init reported it (if it could)
                os.set_blocking(status_r, False)
                try:
                    reported = os.read(status_r, 64)
                except BlockingIOError:
                    reported = b""
                os.close(status_r)
                code = int(reported) if reported.strip(b"-").isdigit() else code
            send({"exited": cid, "status": code})
        if control not in ready:
            continue
        message, fds, _, _ = socket.recv_fds(control, 1 << 16, 2)
        if not message:  # the grader is gone: so are its notebooks
            for pid in children:
                os.kill(pid, signal.SIGKILL)
            return
        request = json.loads(message)
        if "kill" in request:
            if request["kill"] in ids:
                os.kill(ids[request["kill"]], signal.SIGKILL)
            continue
        try:
            pid, status_r = spawn(role, request, fds, control)
        except OSError as error:
            send({"failed": request["spawn"], "error": str(error)})
        else:
            children[pid] = (request["spawn"], status_r)
            ids[request["spawn"]] = pid
            send({"spawned": request["spawn"]})
        finally:
            for fd in fds:
                os.close(fd)


if __name__ == "__main__":
    main()
    os._exit(0)  # nothing to flush: skip tearing down PyTorch and the rest (seconds on a busy machine)
