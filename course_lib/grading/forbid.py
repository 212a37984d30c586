"""What an exercise set forbids, and reading a student's code for uses of it.

A set lists in its notebook metadata the library routes around what it asks students to build:

    "course": {"forbid": ["torch.nn.functional", "torch.Tensor.softmax", "sklearn.linear_model"],
               "allow": ["course_lib.scratch.layers.Linear"]}

Every set also forbids ``DEFAULT`` (the course's own answers, ``course_lib.scratch`` and all under
it); ``allow`` names exceptions the set hands to students on purpose. A name forbids itself and
everything under it: ``torch.nn.functional`` covers ``torch.nn.functional.softmax``.

``uses`` reads one cell for every way to reach a forbidden name that the code shows:

    import torch.nn.functional as F          from torch.nn.functional import softmax
    from torch.nn.functional import *        importlib.import_module("torch.nn.functional")
    __import__("course_lib.scratch.losses")  getattr(torch, "softmax")
    torch.nn.functional.softmax(z, 1)        # reached from an allowed ``import torch``
    F.softmax(z, 1)                          # ``F`` bound by a cell the student was given
    z.softmax(1)                             # a tensor method, when ``torch.Tensor.softmax`` is listed

What the code does not show (a name built at run time, a library calling another) is caught by
the worker, which wraps every forbidden function and reports calls made from a student's cell.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from course_lib.grading.static import Route, python_source

DEFAULT = ("course_lib.scratch",)
TENSOR = "torch.Tensor."
# a route the library takes for us: forbidding the left one forbids the right ones too
IMPLIES = {"torch.autograd": ("torch.Tensor.backward",)}
IMPORT_CALLS = {"__import__", "importlib.import_module", "import_module", "importlib.__import__"}


@dataclass(frozen=True)
class Forbidden:
    """A set's forbidden names (each with everything under it) and the exceptions it allows."""

    names: tuple[str, ...]
    allow: tuple[str, ...] = ()

    @classmethod
    def of(cls, course: dict) -> "Forbidden":
        """From a notebook's ``course`` metadata: ``DEFAULT`` plus ``forbid``, minus ``allow``."""
        declared, allow = course.get("forbid", []), course.get("allow", [])
        for key, value in (("forbid", declared), ("allow", allow)):
            if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
                raise ValueError(f"metadata course.{key}: expected a list of dotted names, got {value!r}")
        names = list(DEFAULT) + list(declared)
        names += [implied for name in names for implied in IMPLIES.get(name, ())]
        return cls(tuple(dict.fromkeys(names)), tuple(allow))

    def match(self, dotted: str) -> str | None:
        """The forbidden name ``dotted`` falls under (None when it is allowed or not forbidden)."""
        if any(_under(dotted, a) for a in self.allow):
            return None
        return next((name for name in self.names if _under(dotted, name)), None)

    def star(self, module: str) -> list[str]:
        """The forbidden names ``from module import *`` binds: the module's own, or those directly in it."""
        whole = self.match(module)
        if whole:
            return [whole]
        return [n for n in self.names if n.rpartition(".")[0] == module and self.match(n)]

    @property
    def methods(self) -> dict[str, str]:
        """Tensor method name -> its forbidden dotted name ('softmax' -> 'torch.Tensor.softmax')."""
        return {n[len(TENSOR):]: n for n in self.names if n.startswith(TENSOR) and "." not in n[len(TENSOR):]}


def _under(dotted: str, name: str) -> bool:
    return dotted == name or dotted.startswith(name + ".")


def import_aliases(source: str) -> dict[str, str]:
    """The modules and objects a cell's imports bind: ``import torch.nn.functional as F`` -> {"F": ...}."""
    try:
        tree = ast.parse(python_source(source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {}
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                if a.name != "*":
                    aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    return aliases


def uses(source: str, forbidden: Forbidden, aliases: dict[str, str]) -> list[Route]:
    """Every use of a forbidden name the cell's code shows, in order (none if it does not parse).

    ``aliases`` maps names bound before this cell to what they are ("F" -> "torch.nn.functional");
    the cell's own imports are added to it, so later cells see them too.
    """
    try:
        tree = ast.parse(python_source(source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    aliases.update(import_aliases(source))
    reader = _Reader(forbidden, aliases)
    try:
        reader.visit(tree)
    except RecursionError:
        return [Route("code nested too deeply to read", 1)]
    return sorted(set(reader.found), key=lambda r: (r.line, r.what))


class _Reader(ast.NodeVisitor):
    """Walks a cell, resolving names through ``aliases``; each hit becomes a Route."""

    def __init__(self, forbidden: Forbidden, aliases: dict[str, str]) -> None:
        self.forbidden, self.aliases = forbidden, aliases
        self.found: list[Route] = []

    def hit(self, node: ast.AST, what: str, dotted: str) -> None:
        if self.forbidden.match(dotted):
            self.found.append(Route(what, getattr(node, "lineno", 1)))

    def visit_Import(self, node: ast.Import) -> None:
        for a in node.names:
            self.hit(node, f"imports {a.name}", a.name)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        for a in node.names:
            if a.name == "*":
                for name in self.forbidden.star(module):
                    self.found.append(Route(f"imports * from {module} (with {name})", node.lineno))
            else:
                self.hit(node, f"imports {module}.{a.name}", f"{module}.{a.name}")

    def visit_Call(self, node: ast.Call) -> None:
        called = self.resolve(node.func)
        text = node.args[0].value if node.args and isinstance(node.args[0], ast.Constant) else None
        if called in IMPORT_CALLS and isinstance(text, str):
            self.hit(node, f"imports {text} with {called}()", text)
        elif called == "getattr" and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant):
            owner = self.resolve(node.args[0])
            if owner and isinstance(node.args[1].value, str):
                self.hit(node, f"reaches {owner}.{node.args[1].value} with getattr()", f"{owner}.{node.args[1].value}")
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        dotted = self.resolve(node)
        if dotted and self.forbidden.match(dotted):
            self.hit(node, f"uses {dotted}", dotted)
            return  # the longest chain names it; its parts would say the same again
        method = self.forbidden.methods.get(node.attr)
        if method and dotted is None:  # x.softmax(1) on a value; F.softmax is a module's, named above
            self.found.append(Route(f"calls the tensor method .{node.attr} ({method})", node.lineno))
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in self.aliases:
            self.hit(node, f"uses {self.aliases[node.id]}", self.aliases[node.id])

    def resolve(self, node: ast.AST) -> str | None:
        """The dotted name an expression is, through the aliases: ``F.softmax`` -> 'torch.nn.functional.softmax'."""
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        root = self.aliases.get(node.id, node.id if node.id in ("getattr", "__import__") else None)
        return ".".join([root, *reversed(parts)]) if root else None
