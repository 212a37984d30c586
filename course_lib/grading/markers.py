"""nbgrader-style markers: which cells are answers and tests, and how to strip them.

A solved exercise notebook marks its cells the way nbgrader does:

- an *answer* cell has metadata ``nbgrader = {solution: true, grade: false, grade_id: ...}`` and
  wraps the solution code in ``### BEGIN SOLUTION`` / ``### END SOLUTION``; an optional
  ``### HINT: ...`` line inside the block becomes the message of the student's stub;
- a *test* cell has ``{grade: true, solution: false, locked: true, grade_id: ..., points: ...}``;
  its visible self-checks stay, and ``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS``
  wrap the checks students do not see;
- a *written* answer (graded by a person, as nbgrader's manually graded answers) is a markdown
  cell with ``{solution: true, grade: true, grade_id: "written_...", points: P}`` and, beside it,
  ``"course": {"rubric": ["2 pts: names X", ...]}`` whose points add up to P; the solution holds
  the model answer, the student's copy ``YOUR ANSWER HERE``;
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
WRITTEN_STUB = "YOUR ANSWER HERE"  # what nbgrader's release step writes into a manually graded answer
WRITTEN_PREFIX = "written_"

CellKind = Literal["answer", "test", "written", "plain"]


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
        if cell.get("cell_type") != "markdown":
            raise MarkerError("a cell that is both solution and grade must be a markdown cell (a written answer); "
                              f"got a {cell.get('cell_type')} cell")
        return "written"
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


def rubric_points(line: str) -> float | None:
    """The points a rubric line gives: ``"2 pts: names X"`` -> 2.0, ``"0.5 pt: ..."`` -> 0.5."""
    match = re.match(r"\s*(\d+(?:\.\d+)?)\s*pts?\b", line)
    return float(match.group(1)) if match else None


def check_written(cell: dict) -> list[str]:
    """Check a written answer's metadata; return its rubric lines (MarkerError when inconsistent)."""
    meta = cell["metadata"]["nbgrader"]
    grade_id, points = meta.get("grade_id"), meta.get("points")
    if not isinstance(grade_id, str) or not grade_id.startswith(WRITTEN_PREFIX):
        raise MarkerError(f"a written answer's grade_id must start with {WRITTEN_PREFIX!r}, got {grade_id!r}")
    if not isinstance(points, (int, float)) or isinstance(points, bool) or points <= 0:
        raise MarkerError(f"written answer {grade_id!r}: expected positive numeric nbgrader 'points', got {points!r}")
    rubric = cell["metadata"].get("course", {}).get("rubric")
    if not isinstance(rubric, list) or not rubric or not all(isinstance(line, str) for line in rubric):
        raise MarkerError(f"written answer {grade_id!r}: expected metadata course.rubric, a list of lines "
                          f"like '2 pts: names X', got {rubric!r}")
    given = [rubric_points(line) for line in rubric]
    if None in given:
        raise MarkerError(f"written answer {grade_id!r}: rubric line {rubric[given.index(None)]!r} "
                          "does not start with its points ('2 pts: ...')")
    if abs(sum(given) - points) > 1e-9:
        raise MarkerError(f"written answer {grade_id!r}: its rubric gives {sum(given):g} points, "
                          f"its metadata {points:g}")
    return rubric


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
