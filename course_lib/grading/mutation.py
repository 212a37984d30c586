"""``course mutants CHAPTER``: grade a chapter's mutants and list the mistakes its tests let through.

A mutant (``mutants``) is the solution with one standard mistake in one answer cell. It is
*killed* when grading it would cost points: a test that reads what the mutated cell defines
fails, or the mutated cell itself raises, times out or crashes. A mutant that keeps full marks
*survives*: a student making that mistake would too. A chapter marks the survivors that are no
mistake at all (``a * 1.0 -> a``) as equivalent, with a reason, in its metadata::

    "course": {"equivalent_mutants": [{"cell": "sgd", "operator": "constant",
                                        "line": "w = w - lr * grad", "reason": "..."}]}

matched by cell, operator and the text of the mutated line, never by a mutant's number.

Speed. The chapter is parsed once. A mutant runs only the cells it needs, in order (its *plan*):
the given cells, the answer cells those need, the mutated cell, the cells that use what it
defines, and the test cells that read any of it. Each plan runs once on the solution first, and
its mutants are compared with that run's records (``score.score_test``), so tests left out of a
plan change nothing. Cells run in the grader's own worker and judge (``runner.Session``),
forked warm from zygotes that have imported NumPy and PyTorch (``warm``), without a sandbox
(``Sandbox("none")``: the instructor's own code), several mutants at a time, each stopped at its
first failing test and within a time limit (a mutant that loops forever counts as killed).
"""

from __future__ import annotations

import ast
import random
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from course_lib.grading.assemble import GradedCell, assemble
from course_lib.grading.mutants import OPERATORS, Mutant, mutants_of_cell
from course_lib.grading.runner import Session, WorkerDied, cell_result
from course_lib.grading.sandbox import Limits, Sandbox
from course_lib.grading.score import score_test
from course_lib.grading.status import Status

MIN_SECONDS = 10.0  # the least time a mutant gets
SLOWDOWN = 5.0  # a mutant may take this many times its plan's run on the solution
TRUSTED = Sandbox("none")


@dataclass(frozen=True)
class Equivalent:
    """A chapter's note that a mutant changes nothing a student could get wrong."""

    cell: str
    operator: str
    line: str
    reason: str

    def matches(self, mutant: Mutant) -> bool:
        return (self.cell, self.operator, _words(self.line)) == (mutant.cell, mutant.operator, _words(mutant.after))


@dataclass(frozen=True)
class Verdict:
    """What grading one mutant gave: ``status`` is killed, survived or equivalent; ``why`` says how."""

    mutant: Mutant
    status: str
    why: str = ""


@dataclass
class ChapterReport:
    chapter: str
    verdicts: list[Verdict] = field(default_factory=list)
    unused: list[Equivalent] = field(default_factory=list)  # marks that match no mutant any more
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(v.status == status for v in self.verdicts)

    @property
    def kill_rate(self) -> float:
        """killed / (mutants - equivalent); 1.0 when there is nothing to kill."""
        counted = len(self.verdicts) - self.count("equivalent")
        return self.count("killed") / counted if counted else 1.0

    @property
    def survivors(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.status == "survived"]


@dataclass(frozen=True)
class Plan:
    """The cells one answer's mutants run (indices into the chapter's cells), and the solution's records."""

    answer: int
    cells: tuple[int, ...]
    reference: dict[str, list]
    seconds: float


def _words(text: str) -> str:
    return " ".join(text.split())


def equivalents_of(source: nbformat.NotebookNode) -> list[Equivalent]:
    """The chapter's ``course.equivalent_mutants``, checked: each needs cell, operator, line and reason."""
    marks = source.metadata.get("course", {}).get("equivalent_mutants", [])
    if not isinstance(marks, list):
        raise ValueError(f"metadata course.equivalent_mutants: expected a list, got {type(marks).__name__}")
    found = []
    for mark in marks:
        keys = ("cell", "operator", "line", "reason")
        if not isinstance(mark, dict) or not all(isinstance(mark.get(k), str) and mark[k].strip() for k in keys):
            raise ValueError(f"metadata course.equivalent_mutants: expected {{cell, operator, line, reason}} "
                             f"(all non-empty text), got {mark!r}")
        if mark["operator"] not in OPERATORS:
            raise ValueError(f"metadata course.equivalent_mutants: operator {mark['operator']!r} is not one of "
                             f"{', '.join(OPERATORS)}")
        found.append(Equivalent(*(mark[k] for k in keys)))
    return found


# ---------------------------------------------------------------------------
# Which cells a mutant needs
# ---------------------------------------------------------------------------

def names(source: str) -> tuple[set[str], set[str]] | None:
    """(names the cell binds at its top level, names it uses anywhere); None when it is not plain Python."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    bound: set[str] = set()
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
            continue  # what a function binds inside stays inside
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            bound |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        if not isinstance(node, ast.Lambda):
            stack.extend(ast.iter_child_nodes(node))
    return bound, used


def plan_cells(cells: list[GradedCell], answer: int) -> tuple[int, ...]:
    """The cells the mutants of ``cells[answer]`` run, in order; () when no test reads that cell.

    Forward from the answer: a later cell that uses a name it (or such a cell) binds is affected,
    a test that does is needed. Backward from the last needed test: every given cell, and every
    answer cell that binds a name a kept cell uses.
    """
    parsed = [names(c.source) for c in cells]
    everything = (set(), set())

    def bound(i: int) -> set[str]:
        return (parsed[i] or everything)[0]

    def uses(i: int, wanted: set[str]) -> bool:
        return parsed[i] is None or bool(parsed[i][1] & wanted)

    tainted, kept, tests = set(bound(answer)), {answer}, []
    for i in range(answer + 1, len(cells)):
        if uses(i, tainted):
            if cells[i].role == "test":
                tests.append(i)
            else:
                kept.add(i)
                tainted |= bound(i)
    if not tests:
        return ()
    kept |= set(tests)
    last = tests[-1]
    kept = {i for i in kept if i <= last}
    needed = set().union(*((parsed[i] or everything)[1] for i in kept))
    for i in range(last, -1, -1):
        if i in kept or cells[i].role == "test":
            continue
        if cells[i].role != "answer" or parsed[i] is None or bound(i) & needed:
            kept.add(i)
            needed |= (parsed[i] or everything)[1]
    return tuple(sorted(kept))


# ---------------------------------------------------------------------------
# Running a plan
# ---------------------------------------------------------------------------

def run_plan(cells: list[GradedCell], plan: tuple[int, ...], answer: int, source: str, limits: Limits,
             reference: dict[str, list] | None) -> tuple[str, str, dict[str, list]]:
    """Run the plan's cells with ``source`` in the answer cell; (killed or survived, why, records).

    With a reference, the run stops at the first test that would lose points. Without one (the
    solution's own run), every test's records are returned.
    """
    records: dict[str, list] = {}
    with tempfile.TemporaryDirectory(prefix="course-mutant-") as workdir:
        session = Session(Path(workdir), limits, TRUSTED, [])
        start = time.monotonic()
        try:
            for index in plan:
                cell = cells[index]
                text = source if index == answer else cell.source
                left = limits.notebook_seconds - (time.monotonic() - start)
                if left <= 0:
                    return "killed", f"ran past its {limits.notebook_seconds:.0f} s limit", records
                try:
                    outcome = cell_result(session.run(text, cell.role, min(limits.cell_seconds, left)),
                                          cell.role == "test")
                except WorkerDied as death:
                    return "killed", f"{death.status} in {_where(cell)}: {death}", records
                if cell.role != "test":
                    if outcome.status != Status.OK:
                        return "killed", f"{_where(cell)} raised {outcome.ename}: {outcome.evalue}", records
                    continue
                records[cell.grade_id] = outcome.records
                if reference is None:
                    continue
                test = score_test(cell.grade_id, cell.points, cell.source, outcome, reference[cell.grade_id], [])
                if test.status != Status.PASSED:
                    return "killed", f"{cell.grade_id}: {test.message}", records
        finally:
            session.cleanup()
    return "survived", "", records


def _where(cell: GradedCell) -> str:
    return f"{cell.role} {cell.grade_id!r}" if cell.grade_id else f"a {cell.role} cell"


def make_plan(cells: list[GradedCell], answer: int, limits: Limits) -> Plan:
    """The answer's plan, run once on the solution: its records are what mutants are compared with."""
    indices = plan_cells(cells, answer)
    if not indices:
        return Plan(answer, (), {}, 0.0)
    began = time.monotonic()
    status, why, records = run_plan(cells, indices, answer, cells[answer].source, limits, None)
    if status != "survived":
        raise RuntimeError(f"the solution fails when run for answer {cells[answer].grade_id!r}: {why}")
    for index in indices:
        if cells[index].role == "test" and not records.get(cells[index].grade_id):
            raise RuntimeError(f"test {cells[index].grade_id!r} makes no course_lib.checks call")
    return Plan(answer, indices, records, time.monotonic() - began)


# ---------------------------------------------------------------------------
# A chapter
# ---------------------------------------------------------------------------

def chapter_mutants(source: nbformat.NotebookNode, operators: list[str] | None = None, sample: int | None = None,
                    seed: int = 0) -> list[tuple[int, Mutant]]:
    """(cell index, mutant) for every answer cell; ``sample`` keeps that many, chosen with ``seed``."""
    cells = assemble(source, source).cells
    found = [(i, m) for i, c in enumerate(cells) if c.role == "answer"
             for m in mutants_of_cell(c.grade_id, c.source, operators)]
    if sample is not None and sample < len(found):
        keep = sorted(random.Random(seed).sample(range(len(found)), sample))
        found = [found[k] for k in keep]
    return found


def grade_mutants(path: Path, jobs: int = 2, timeout: float | None = None, operators: list[str] | None = None,
                  sample: int | None = None, seed: int = 0, on_verdict=None) -> ChapterReport:
    """Write, grade and sort every mutant of one solution notebook (see the module docstring)."""
    began = time.monotonic()
    source = nbformat.read(path, as_version=4)
    cells = assemble(source, source).cells
    marks = equivalents_of(source)
    found = chapter_mutants(source, operators, sample, seed)
    generous = Limits(cell_seconds=600.0, notebook_seconds=1200.0)
    answers = sorted({i for i, _ in found})
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        plans = dict(zip(answers, pool.map(lambda i: make_plan(cells, i, generous), answers)))

        def one(item: tuple[int, Mutant]) -> Verdict:
            index, mutant = item
            plan = plans[index]
            if not plan.cells:
                verdict = Verdict(mutant, "survived", "no test reads what this cell defines")
            else:
                seconds = timeout or max(MIN_SECONDS, SLOWDOWN * plan.seconds)
                status, why, _ = run_plan(cells, plan.cells, index, mutant.source,
                                          Limits(cell_seconds=seconds, notebook_seconds=seconds), plan.reference)
                verdict = Verdict(mutant, status, why)
            if verdict.status == "survived" and any(mark.matches(mutant) for mark in marks):
                verdict = Verdict(mutant, "equivalent", next(m.reason for m in marks if m.matches(mutant)))
            if on_verdict:
                on_verdict(verdict)
            return verdict

        verdicts = list(pool.map(one, found))
    unused = [mark for mark in marks if not any(mark.matches(m) for _, m in found)]
    return ChapterReport(Path(path).stem, verdicts, unused, time.monotonic() - began)


# ---------------------------------------------------------------------------
# What the author reads
# ---------------------------------------------------------------------------

def table(reports: list[ChapterReport]) -> str:
    """chapter, mutants, killed, equivalent, survivors, kill rate, seconds: one row per chapter."""
    header = f"{'chapter':<28} {'mutants':>7} {'killed':>6} {'equiv':>5} {'survive':>7} {'kill rate':>9} {'seconds':>7}"
    rows = [header, "-" * len(header)]
    for r in reports:
        rows.append(f"{r.chapter:<28} {len(r.verdicts):>7} {r.count('killed'):>6} {r.count('equivalent'):>5} "
                    f"{len(r.survivors):>7} {r.kill_rate:>9.1%} {r.seconds:>7.1f}")
    return "\n".join(rows)


def survivor_lines(report: ChapterReport) -> list[str]:
    """``cell:line  operator  before -> after`` per survivor, then marks that match nothing."""
    lines = [f"  {v.mutant.describe()}" + (f"   ({v.why})" if v.why else "") for v in report.survivors]
    lines += [f"  unused equivalent mark: {m.cell} {m.operator} {m.line!r}" for m in report.unused]
    return lines
