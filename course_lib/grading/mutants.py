"""Standard mistakes, written into a solution's answer cells: the mutants of ``course mutants``.

A test suite is as good as the mistakes it catches. Each operator below is one mistake a student
makes (a flipped sign, a forgotten term, the wrong axis, an edit in place...). It looks at one
node of the cell's syntax tree and proposes edits: pairs ``(old node, new node)``. An edit is
written back into the cell's *text* (only the old node's span changes, so comments, markers and
layout stay as the author wrote them), and only inside ``### BEGIN SOLUTION`` ... ``### END
SOLUTION``: given code around the answer is not the student's to get wrong.

    >>> [m.after for m in mutants_of_cell("f", "def f(a, b):\\n    ### BEGIN SOLUTION\\n"
    ...                                       "    return a - b\\n    ### END SOLUTION", ["sign_flip"])]
    ['return a + b']

Mutants come out in a fixed order (cells, then nodes in source order, then operators), so the
same solution always gives the same list.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from course_lib.grading.markers import BEGIN_SOLUTION, END_SOLUTION, find_blocks

Edits = tuple[tuple[ast.AST, ast.AST], ...]  # (old node, new node): old's text becomes unparse(new)
Operator = Callable[[ast.AST], Iterator[Edits]]


@dataclass(frozen=True)
class Mutant:
    """One answer cell with one mistake: ``source`` is the whole mutated cell.

    ``line`` is the 1-based line of the cell where the mistake starts, ``before`` and ``after``
    that line's text (stripped) in the solution and in the mutant.
    """

    cell: str
    operator: str
    line: int
    before: str
    after: str
    source: str

    def describe(self) -> str:
        """``cell:line  operator  before -> after``, the way ``course mutants`` lists a survivor."""
        return f"{self.cell}:{self.line}  {self.operator}  {self.before} -> {self.after}"


def swap(old: ast.AST, new: ast.AST) -> Edits:
    return ((old, new),)


def changed(node: ast.AST, **fields) -> ast.AST:
    """A shallow copy of ``node`` with ``fields`` replaced (the original tree is never touched)."""
    new = copy.copy(node)
    for name, value in fields.items():
        setattr(new, name, value)
    return new


def call(func: str, *args: ast.expr) -> ast.Call:
    """``module.name(args)`` as a node, e.g. call("np.arange", n)."""
    module, name = func.split(".")
    return ast.Call(ast.Attribute(ast.Name(module, ast.Load()), name, ast.Load()), list(args), [])


def _int(node: ast.AST) -> int | None:
    """The value of an integer literal, negative ones (``-1``) included; None for anything else."""
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and _int(node.operand) is not None:
        return -_int(node.operand)
    return None


def _literal(value: int) -> ast.expr:
    return ast.UnaryOp(ast.USub(), ast.Constant(-value)) if value < 0 else ast.Constant(value)


# ---------------------------------------------------------------------------
# The operators: one mistake each
# ---------------------------------------------------------------------------

def sign_flip(node: ast.AST) -> Iterator[Edits]:
    """``a + b -> a - b``, ``a - b -> a + b``, ``-a -> a``."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        yield swap(node, changed(node, op=ast.Sub() if isinstance(node.op, ast.Add) else ast.Add()))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        yield swap(node, node.operand)


def dropped_term(node: ast.AST) -> Iterator[Edits]:
    """A forgotten term: ``a + b -> a``, ``a + b -> b``, ``a - b -> a``."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        yield swap(node, node.left)
        if isinstance(node.op, ast.Add):
            yield swap(node, node.right)


def dropped_factor(node: ast.AST) -> Iterator[Edits]:
    """A forgotten factor: ``a * b -> a``, ``a * b -> b``, ``a / b -> a`` (e.g. the learning rate)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mult, ast.Div)):
        yield swap(node, node.left)
        if isinstance(node.op, ast.Mult):
            yield swap(node, node.right)


def transpose(node: ast.AST) -> Iterator[Edits]:
    """A transpose too many or too few: ``X.T -> X``; ``A @ B -> A.T @ B`` and ``A @ B.T``."""
    if isinstance(node, ast.Attribute) and node.attr == "T":
        yield swap(node, node.value)
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
        for side in (node.left, node.right):
            if not (isinstance(side, ast.Attribute) and side.attr == "T"):
                yield swap(side, ast.Attribute(side, "T", ast.Load()))


AXIS_KEYWORDS = ("axis", "dim")
KEEPDIMS_KEYWORDS = ("keepdims", "keepdim")


def wrong_axis(node: ast.AST) -> Iterator[Edits]:
    """Reduce along another axis (``axis=1 -> axis=0``, ``-1 -> 0``, ``k -> k - 1``); drop ``keepdims``."""
    if not isinstance(node, ast.Call):
        return
    for keyword in node.keywords:
        axis = _int(keyword.value) if keyword.arg in AXIS_KEYWORDS else None
        if axis is not None:
            other = {0: 1, 1: 0, -1: 0}.get(axis, axis - 1 if axis > 0 else axis + 1)
            yield swap(keyword.value, _literal(other))
        if keyword.arg in KEEPDIMS_KEYWORDS:
            yield swap(node, changed(node, keywords=[k for k in node.keywords if k is not keyword]))


def off_by_one(node: ast.AST) -> Iterator[Edits]:
    """Slices one off: ``a[i:j] -> a[i + 1:j]`` and ``a[i:j - 1]`` (``a[:j] -> a[1:j]``, ``a[i:] -> a[i:-1]``)."""
    if not isinstance(node, ast.Slice) or (node.lower is None and node.upper is None):
        return
    yield swap(node, changed(node, lower=_plus(node.lower, 1) if node.lower else ast.Constant(1)))
    yield swap(node, changed(node, upper=_plus(node.upper, -1) if node.upper else _literal(-1)))


def _plus(expr: ast.expr, step: int) -> ast.expr:
    value = _int(expr)
    if value is not None:
        return _literal(value + step)
    return ast.BinOp(expr, ast.Add() if step > 0 else ast.Sub(), ast.Constant(abs(step)))


COPY_METHODS = ("copy", "clone")


def in_place(node: ast.AST) -> Iterator[Edits]:
    """Work on the argument instead of a copy: ``x.copy() -> x``, ``np.copy(x) -> x``, ``x = x - y -> x -= y``."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and not node.args and not node.keywords:
        if node.func.attr in COPY_METHODS:
            yield swap(node, node.func.value)
    elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "copy"
          and isinstance(node.func.value, ast.Name) and len(node.args) == 1 and not node.keywords):
        yield swap(node, node.args[0])
    elif (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
          and isinstance(node.value, ast.BinOp) and isinstance(node.value.left, ast.Name)
          and node.value.left.id == node.targets[0].id):
        target = ast.Name(node.targets[0].id, ast.Store())
        yield swap(node, ast.AugAssign(target, node.value.op, node.value.right))


def dtype_cast(node: ast.AST) -> Iterator[Edits]:
    """A returned array cast to float32: ``return y -> return y.astype(np.float32)`` (each of a tuple)."""
    if not isinstance(node, ast.Return) or node.value is None:
        return
    values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
    for value in values:
        if not isinstance(value, (ast.Constant, ast.Tuple, ast.List, ast.Dict)) and not _builds_scalar(value):
            cast = ast.Call(ast.Attribute(value, "astype", ast.Load()),
                            [ast.Attribute(ast.Name("np", ast.Load()), "float32", ast.Load())], [])
            yield swap(value, cast)


def _builds_scalar(node: ast.AST) -> bool:
    """``float(x)``, ``int(x)``, ``len(x)``...: Python scalars, which have no ``astype`` to get wrong."""
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in (
        "float", "int", "bool", "len", "str")


def no_shuffle(node: ast.AST) -> Iterator[Edits]:
    """Shuffling skipped: ``rng.permutation(n) -> np.arange(n)``, ``torch.randperm(n) -> torch.arange(n)``,
    ``rng.shuffle(x) -> None``."""
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute) or not node.args:
        return
    if node.func.attr == "permutation":
        yield swap(node, call("np.arange", node.args[0]))
    elif node.func.attr == "randperm":
        yield swap(node, call("torch.arange", node.args[0]))
    elif node.func.attr == "shuffle":
        yield swap(node, ast.Constant(None))


def ignored_argument(node: ast.AST) -> Iterator[Edits]:
    """An option ignored: every use of a parameter with a default is replaced by that default."""
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return
    arguments = node.args
    positional = arguments.posonlyargs + arguments.args
    defaults = list(zip(positional[len(positional) - len(arguments.defaults):], arguments.defaults))
    defaults += [(a, d) for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults) if d is not None]
    for parameter, default in defaults:
        uses = [n for statement in node.body for n in ast.walk(statement)
                if isinstance(n, ast.Name) and n.id == parameter.arg and isinstance(n.ctx, ast.Load)]
        if uses:
            yield tuple((use, default) for use in uses)


def return_input(node: ast.AST) -> Iterator[Edits]:
    """The input handed back: every ``return ...`` of a function -> ``return <its first argument>``."""
    if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return
    positional = node.args.posonlyargs + node.args.args
    if not positional or positional[0].arg in ("self", "cls"):
        return
    first = positional[0].arg
    for statement in _own_statements(node):
        if isinstance(statement, ast.Return) and statement.value is not None:
            if not (isinstance(statement.value, ast.Name) and statement.value.id == first):
                yield swap(statement.value, ast.Name(first, ast.Load()))


def _own_statements(function: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a function's body, not those of functions or classes defined inside it."""
    stack = list(function.body)
    while stack:
        node = stack.pop(0)
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            stack[:0] = list(ast.iter_child_nodes(node))


CONSTANTS = {0: 1, 1: 0, 2: 1}


def constant(node: ast.AST) -> Iterator[Edits]:
    """A number off: ``0 <-> 1``, ``2 -> 1`` (floats too: ``1.0 -> 0.0``)."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float) and node.value in CONSTANTS:
        yield swap(node, ast.Constant(type(node.value)(CONSTANTS[node.value])))


FLIPS = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt}


def comparison(node: ast.AST) -> Iterator[Edits]:
    """A boundary moved: ``< -> <=``, ``<= -> <``, ``> -> >=``, ``>= -> >``."""
    if not isinstance(node, ast.Compare):
        return
    for index, op in enumerate(node.ops):
        if type(op) in FLIPS:
            ops = list(node.ops)
            ops[index] = FLIPS[type(op)]()
            yield swap(node, changed(node, ops=ops))


OPERATORS: dict[str, Operator] = {
    "sign_flip": sign_flip,
    "dropped_term": dropped_term,
    "dropped_factor": dropped_factor,
    "transpose": transpose,
    "wrong_axis": wrong_axis,
    "off_by_one": off_by_one,
    "in_place": in_place,
    "dtype_cast": dtype_cast,
    "no_shuffle": no_shuffle,
    "ignored_argument": ignored_argument,
    "return_input": return_input,
    "constant": constant,
    "comparison": comparison,
}


# ---------------------------------------------------------------------------
# Writing edits back into the cell's text
# ---------------------------------------------------------------------------

def mutants_of_cell(grade_id: str, source: str, operators: list[str] | None = None) -> list[Mutant]:
    """Every mutant of one answer cell, in source order; a cell that is not plain Python gives none."""
    names = list(OPERATORS) if operators is None else operators
    unknown = [n for n in names if n not in OPERATORS]
    if unknown:
        raise ValueError(f"mutation operators: expected names among {', '.join(OPERATORS)}, got {unknown}")
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    lines = source.split("\n")
    blocks = [(b.begin + 1, b.end + 1) for b in find_blocks(lines, BEGIN_SOLUTION, END_SOLUTION)]  # 1-based
    found: list[Mutant] = []
    seen = {source}
    for node in _nodes(tree):
        for name in names:
            for edits in OPERATORS[name](node):
                if not all(_inside(old, blocks) for old, _ in edits):
                    continue
                text = _apply(source, edits)
                if text is None or text in seen:
                    continue
                seen.add(text)
                found.append(_mutant(grade_id, name, lines, text))
    return found


def _nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node in source order, skipping f-strings (their parts have no reliable positions)."""
    stack = [tree]
    while stack:
        node = stack.pop(0)
        if isinstance(node, ast.JoinedStr):
            continue
        yield node
        stack[:0] = list(ast.iter_child_nodes(node))


def _inside(node: ast.AST, blocks: list[tuple[int, int]]) -> bool:
    start, end = getattr(node, "lineno", None), getattr(node, "end_lineno", None)
    return start is not None and any(begin < start and end < stop for begin, stop in blocks)


def _apply(source: str, edits: Edits) -> str | None:
    """``source`` with each old node's text replaced; None when that does not parse to the intended tree."""
    encoded = [line.encode() for line in source.split("\n")]  # node columns count UTF-8 bytes
    offsets = [0]
    for line in encoded:
        offsets.append(offsets[-1] + len(line) + 1)
    text = "\n".join(source.split("\n")).encode()
    spans = sorted(((offsets[old.lineno - 1] + old.col_offset, offsets[old.end_lineno - 1] + old.end_col_offset, new)
                    for old, new in edits), key=lambda s: s[0], reverse=True)
    plain, bracketed = text, text
    for start, stop, new in spans:
        piece = ast.unparse(new).encode()
        plain = plain[:start] + piece + plain[stop:]
        wrapped = piece if isinstance(new, ast.stmt) else b"(" + piece + b")"
        bracketed = bracketed[:start] + wrapped + bracketed[stop:]
    try:  # brackets never change the tree except where precedence needs them
        wanted = ast.dump(ast.parse(bracketed))
    except SyntaxError:
        return None
    try:
        return plain.decode() if ast.dump(ast.parse(plain)) == wanted else bracketed.decode()
    except SyntaxError:
        return bracketed.decode()


def _mutant(grade_id: str, operator: str, lines: list[str], text: str) -> Mutant:
    mutated = text.split("\n")
    first = next(i for i, (a, b) in enumerate(zip(lines + [""], mutated + [""])) if a != b)
    before = lines[first].strip() if first < len(lines) else ""
    after = mutated[first].strip() if first < len(mutated) else ""
    return Mutant(grade_id, operator, first + 1, before, after, text)
