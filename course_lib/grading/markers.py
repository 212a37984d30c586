"""nbgrader-style markers: which cells are answers and tests, and how to strip them.

A solved exercise notebook marks its cells the way nbgrader does:

- an *answer* cell has metadata ``nbgrader = {solution: true, grade: false, grade_id: ...}`` and
  wraps the solution code in ``### BEGIN SOLUTION`` / ``### END SOLUTION``; an optional
  ``### HINT: ...`` line inside the block becomes the message of the student's stub;
- a *test* cell has ``{grade: true, solution: false, locked: true, grade_id: ..., points: ...}``;
  its visible self-checks stay, and ``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS``
  wrap the checks students do not see;
- any other cell may be ``locked``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
HINT = "### HINT:"
DEFAULT_HINT = "replace this line with your solution"

CellKind = Literal["answer", "test", "plain"]


class MarkerError(ValueError):
    """A solution notebook whose markers or metadata are inconsistent."""


@dataclass(frozen=True)
class Block:
    """A marked region: line numbers of its BEGIN and END lines (0-based, inclusive)."""

    begin: int
    end: int
    indent: str


def cell_kind(cell: dict) -> CellKind:
    """Classify a cell by its ``nbgrader`` metadata."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    solution, grade = bool(meta.get("solution")), bool(meta.get("grade"))
    if solution and grade:
        raise MarkerError("cells that are both solution and grade (manually graded answers) are not supported")
    if solution:
        return "answer"
    if grade:
        return "test"
    return "plain"


def find_blocks(lines: list[str], begin: str, end: str) -> list[Block]:
    """Locate ``begin``/``end`` marker pairs; raise MarkerError on unbalanced or nested markers."""
    blocks, open_at = [], None
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith(begin):
            if open_at is not None:
                raise MarkerError(f"line {i + 1}: '{begin}' inside the block opened on line {open_at + 1} (nested markers)")
            open_at = i
        elif stripped.startswith(end):
            if open_at is None:
                raise MarkerError(f"line {i + 1}: '{end}' without a matching '{begin}'")
            blocks.append(Block(open_at, i, _indent(lines[open_at])))
            open_at = None
    if open_at is not None:
        raise MarkerError(f"line {open_at + 1}: '{begin}' is never closed by '{end}'")
    return blocks


def strip_solution(source: str) -> str:
    """Replace every solution block with a stub that raises NotImplementedError with its hint."""
    lines = source.split("\n")
    blocks = find_blocks(lines, BEGIN_SOLUTION, END_SOLUTION)
    if not blocks:
        raise MarkerError(f"an answer cell must contain '{BEGIN_SOLUTION}' ... '{END_SOLUTION}'")
    for block in reversed(blocks):
        hint = _hint(lines[block.begin + 1:block.end]) or DEFAULT_HINT
        stub = [f"{block.indent}# YOUR CODE HERE", f"{block.indent}raise NotImplementedError({hint!r})"]
        lines[block.begin:block.end + 1] = stub
    return "\n".join(lines)


def strip_hidden_tests(source: str) -> str:
    """Drop every hidden-test block (markers included) from a test cell."""
    lines = source.split("\n")
    for block in reversed(find_blocks(lines, BEGIN_HIDDEN, END_HIDDEN)):
        del lines[block.begin:block.end + 1]
    return "\n".join(lines).rstrip("\n")


def has_marker(source: str, *markers: str) -> bool:
    return any(line.strip().startswith(m) for line in source.split("\n") for m in markers)


def _hint(lines: list[str]) -> str | None:
    for line in lines:
        stripped = line.strip()
        if stripped.startswith(HINT):
            return stripped[len(HINT):].strip()
    return None


def _indent(line: str) -> str:
    return re.match(r"\s*", line).group(0)
