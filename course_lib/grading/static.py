"""Read the code a student wrote before running it: which routes around the exercise it takes.

The sandbox decides what a submission *can* do; this decides what the grader *reports*. Each cell
the student wrote is parsed (after IPython's own rewriting, so ``!ls`` and ``%system`` count as
the ``get_ipython()`` calls they are) and every use of these is named:

- imports of modules that reach the system or the interpreter's insides (ctypes, subprocess,
  socket, ...) (the exercise set's own forbidden names are read by ``forbid``);
- dynamic imports and dynamic code (``__import__``, ``importlib``, ``exec``, ``eval``, ``compile``);
- process, file-system and descriptor calls (``os.system``, ``os.fork``, ``open``, ``Path.read_text``);
- introspection that reaches other frames or functions' insides (``sys._getframe``, ``f_back``,
  ``__globals__``, ``__code__``, ``gc.get_objects``).

``policy`` in the set's metadata (``"course": {"routes": "flag" | "zero"}``) says what follows:
``flag`` (the default) keeps the points and marks the notebook for a person to review; ``zero``
scores every test of the notebook zero.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

POLICIES = ("flag", "zero")
SYSTEM_MODULES = {
    "ctypes", "cffi", "subprocess", "multiprocessing", "socket", "ssl", "urllib", "http", "requests", "ftplib",
    "smtplib", "shutil", "importlib", "signal", "pty", "mmap", "resource", "gc", "inspect", "pickle", "marshal",
    "threading", "_thread", "concurrent", "asyncio", "tempfile", "glob", "fcntl", "posix", "builtins",
}
DYNAMIC_CALLS = {"__import__", "exec", "eval", "compile", "breakpoint", "get_ipython", "globals", "vars"}
FILE_CALLS = {"open"}
OS_CALLS = {
    "system", "popen", "fork", "forkpty", "kill", "killpg", "_exit", "execv", "execve", "execl", "execlp", "execvp",
    "spawnv", "spawnl", "posix_spawn", "remove", "unlink", "rename", "replace", "link", "symlink", "open", "chmod",
    "chown", "rmdir", "mkdir", "makedirs", "listdir", "scandir", "walk", "dup", "dup2", "write", "read", "truncate",
    "setsid", "chdir", "pipe", "getpid", "getppid",
}
PATH_METHODS = {"read_text", "write_text", "read_bytes", "write_bytes", "unlink", "rmdir", "symlink_to",
                "hardlink_to", "glob", "rglob", "iterdir", "touch", "chmod"}
INSIDES = {"__globals__", "__code__", "__defaults__", "__kwdefaults__", "__builtins__", "__subclasses__", "__closure__", "__bases__", "__mro__",
           "f_back", "f_locals", "f_globals", "gi_frame", "tb_frame", "_getframe", "settrace", "setprofile",
           "__loader__", "__spec__"}
SYS_NAMES = {"sys.modules", "sys.stdin", "sys.stdout", "sys.__stdout__", "sys.__stdin__", "sys.exit"}


@dataclass(frozen=True)
class Route:
    """One use of a forbidden route: what it is and on which line of the cell."""

    what: str
    line: int

    def __str__(self) -> str:
        return f"{self.what} (line {self.line})"


def python_source(cell_source: str) -> str:
    """The Python a cell becomes in IPython: magics and ``!`` lines turned into calls."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        return TransformerManager().transform_cell(cell_source)
    except Exception:  # noqa: BLE001 - a cell IPython cannot read is reported when it runs
        return cell_source


def routes(cell_source: str) -> list[Route]:
    """Every forbidden route in one cell, in order of appearance (none if the cell does not parse)."""
    try:
        tree = ast.parse(python_source(cell_source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    found: list[Route] = []
    try:
        for node in ast.walk(tree):
            found += _node_routes(node, SYSTEM_MODULES)
    except RecursionError:
        found.append(Route("code nested too deeply to read", 1))
    return sorted(set(found), key=lambda r: (r.line, r.what))


def _node_routes(node: ast.AST, modules: set[str]) -> list[Route]:
    line = getattr(node, "lineno", 1)
    if isinstance(node, ast.Import):
        return [Route(f"imports {a.name}", line) for a in node.names if _listed(a.name, modules)]
    if isinstance(node, ast.ImportFrom):
        names = [node.module or ""] + [f"{node.module}.{a.name}" for a in node.names]
        hits = [name for name in names if _listed(name, modules)]
        return [Route(f"imports from {node.module}", line)] if hits else []
    if isinstance(node, ast.Call):
        name = _dotted(node.func)
        last = name.rsplit(".", 1)[-1]
        if name in DYNAMIC_CALLS:
            return [Route(f"calls {name}()", line)]
        if name in FILE_CALLS or name.startswith(("io.open", "os.fdopen")):
            return [Route(f"opens a file with {name}()", line)]
        if name.startswith("os.") and last in OS_CALLS:
            return [Route(f"calls {name}()", line)]
        if isinstance(node.func, ast.Attribute) and last in PATH_METHODS and not name.startswith(("np.", "numpy.")):
            return [Route(f"calls .{last}() on a path or file", line)]
    if isinstance(node, ast.Attribute) and node.attr in INSIDES:
        return [Route(f"reaches into .{node.attr}", line)]
    if isinstance(node, ast.Attribute) and _dotted(node) in SYS_NAMES:
        return [Route(f"uses {_dotted(node)}", line)]
    if isinstance(node, ast.Name) and node.id in {"__builtins__", "__loader__", "__spec__"}:
        return [Route(f"uses {node.id}", line)]
    return []


def _listed(module: str, modules: set[str]) -> bool:
    parts = module.split(".")
    return any(".".join(parts[:i]) in modules for i in range(1, len(parts) + 1))


def _dotted(node: ast.AST) -> str:
    """``os.path.join`` for an attribute chain on a name; the last attribute alone otherwise."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))
