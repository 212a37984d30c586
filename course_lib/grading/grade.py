"""``course grade``: grade a class's submissions against the solutions, whatever state they are in.

The steps, each in its own module:

1. ``discovery`` finds every notebook and whose it is (links and nested folders refused);
2. the reference records of every chapter are computed from the solutions first, before any
   student code runs, and kept signed in the output folder (``cache``);
3. each submission is rebuilt from the student's answers and the source's tests (``assemble``),
   its code read for forbidden routes (``static``), and run in a fresh process inside the OS
   sandbox (``runner``, ``sandbox``);
4. each test cell is scored by comparing the values its checks recorded with the reference's
   (``score``); one signed result file per submission makes a re-run resume;
5. ``report`` writes grades.csv, the feedback pages and the summary, always, for every notebook.
"""

from __future__ import annotations

import json
import tempfile
import traceback
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

import nbformat

from course_lib.grading import forbid, static, written
from course_lib.grading.assemble import GradedCell, assemble
from course_lib.grading.build import BuildError, read_notebook
from course_lib.grading.cache import digest, output_key, read_signed, write_signed
from course_lib.grading.discovery import Submission, find_submissions
from course_lib.grading.markers import cell_kind
from course_lib.grading.report import write_reports
from course_lib.grading.results import Result
from course_lib.grading.runner import CellResult, run_cells
from course_lib.grading.sandbox import UNSAFE_WARNING, Limits, Sandbox
from course_lib.grading.score import score_test
from course_lib.grading.shard import Shard, write_manifest
from course_lib.grading.status import FATAL, Status

RESULT_VERSION = 4


def chapter_of(path: Path, nb: nbformat.NotebookNode, chapters: set[str]) -> tuple[str | None, str]:
    """The chapter a submission answers: its file name first, then its metadata."""
    course = nb.metadata.get("course") if isinstance(nb.metadata, dict) else None
    declared = course.get("chapter") if isinstance(course, dict) else None
    declared = declared if isinstance(declared, str) else None
    if path.stem in chapters:
        note = f"this file is named {path.stem} but holds {declared}'s exercises" if declared and declared != path.stem else ""
        return path.stem, note
    if declared in chapters:
        return declared, ""
    return None, f"cannot tell which chapter this is: name it like one of {sorted(chapters)}"


def source_cells(source: nbformat.NotebookNode) -> list[tuple[str, float]]:
    """(grade_id, points) of every test cell of a source notebook, then of its written questions."""
    tests = [
        (c.metadata["nbgrader"]["grade_id"], float(c.metadata["nbgrader"]["points"]))
        for c in source.cells if c.cell_type == "code" and cell_kind(c) == "test"
    ]
    return tests + [(q.grade_id, q.points) for q in written.questions(source)]


def policy_of(source: nbformat.NotebookNode) -> tuple[dict, str]:
    """What the set forbids (``{"forbid", "allow"}``, see ``forbid``) and its policy for system routes."""
    course = source.metadata.get("course", {})
    policy = course.get("routes", "flag")
    if policy not in static.POLICIES:
        raise BuildError(f"metadata course.routes: expected one of {static.POLICIES}, got {policy!r}")
    try:
        forbidden = forbid.Forbidden.of(course)
    except ValueError as error:
        raise BuildError(str(error)) from None
    return {"forbid": list(forbidden.names), "allow": list(forbidden.allow)}, policy


def run_assembled(cells: list[GradedCell], limits: Limits, sandbox: Sandbox, forbid: dict) -> list[CellResult]:
    with tempfile.TemporaryDirectory(prefix="course-grade-") as workdir:
        return run_cells([c.source for c in cells], [c.role for c in cells], Path(workdir), limits, sandbox, forbid)


def reference_records(source: nbformat.NotebookNode, limits: Limits, sandbox: Sandbox) -> dict[str, list]:
    """Run the solution itself and keep what each test cell's checks recorded."""
    cells = assemble(source, source).cells
    results = run_assembled(cells, limits, sandbox, {})
    records = {}
    for cell, result in zip(cells, results):
        if cell.role == "test":
            if result.status != Status.OK:
                raise RuntimeError(f"the solution fails its own test {cell.grade_id!r}: {result.ename}: {result.evalue}")
            if not result.records:
                raise RuntimeError(f"test {cell.grade_id!r} makes no course_lib.checks call, so it cannot be graded")
            records[cell.grade_id] = result.records
    return records


def student_routes(source: nbformat.NotebookNode, cells: list[GradedCell]) -> list[str]:
    """The system routes in every cell the student wrote (cells equal to the source's are not read)."""
    theirs = {c.source for c in source.cells if c.cell_type == "code"}
    found = []
    for cell in cells:
        if cell.role != "test" and cell.source not in theirs:
            where = f"answer {cell.grade_id!r}" if cell.grade_id else "a cell"
            found += [f"{where}: {route}" for route in static.routes(cell.source)]
    return found


def forbidden_uses(source: nbformat.NotebookNode, cells: list[GradedCell], rules: dict) -> dict[int, list[str]]:
    """Index of each test cell -> the forbidden uses its answer's code shows.

    Cells are read in order, so a name a given cell binds (``import torch.nn.functional as F``)
    is known in the student's cells after it. A use in an answer cell, or in a cell the student
    added after it, costs the tests that follow that answer up to the next one.
    """
    theirs = {c.source for c in source.cells if c.cell_type == "code"}
    forbidden = forbid.Forbidden(tuple(rules.get("forbid", ())), tuple(rules.get("allow", ())))
    aliases: dict[str, str] = {}
    costs: dict[int, list[str]] = {}
    pending: list[str] = []
    answer = "a cell"
    for index, cell in enumerate(cells):
        if cell.role == "answer":
            answer, pending = f"answer {cell.grade_id!r}", []
        if cell.role == "test":
            if pending:
                costs[index] = list(pending)
        elif cell.source in theirs:
            aliases.update(forbid.import_aliases(cell.source))
        else:
            pending += [f"{answer}: {route}" for route in forbid.uses(cell.source, forbidden, aliases)]
    return costs


def grade_submission(sub: Submission, sources: dict[str, nbformat.NotebookNode], references: dict[str, dict],
                     limits: Limits, sandbox: Sandbox) -> Result:
    """Grade one notebook; every failure of the notebook becomes its status, never an exception."""
    result = Result(sub.student, sub.notebook, sub.path.stem if sub.path.stem in sources else None, Status.OK)
    if sub.refused:
        result.status, result.message = Status.REFUSED, sub.refused
        return result
    try:
        student_nb = read_notebook(sub.path)
    except BuildError as error:
        result.status, result.message = Status.INVALID, str(error).replace(str(sub.path), sub.notebook)
        return result
    chapter, note = chapter_of(sub.path, student_nb, set(sources))
    result.chapter = chapter
    if chapter is None:
        result.status, result.message = Status.UNKNOWN_CHAPTER, note
        return result
    if note:
        result.diagnostics.append(note)
    source = sources[chapter]
    try:
        merged = assemble(source, student_nb)
    except Exception as error:  # noqa: BLE001 - a notebook nbformat accepts but whose cells make no sense
        result.status, result.message = Status.INVALID, f"its cells cannot be read ({type(error).__name__})"
        return result
    result.diagnostics += merged.diagnostics
    rules, policy = policy_of(source)
    found = student_routes(source, merged.cells)
    shown = forbidden_uses(source, merged.cells, rules)
    outcomes = run_assembled(merged.cells, limits, sandbox, rules)
    result.run, result.run_message = run_status(merged.cells, outcomes)
    # calls the student's code made: given cells are the instructor's (their calls are not counted)
    forbidden_used = sorted({name for c, o in zip(merged.cells, outcomes) if c.role != "given" for name in o.forbidden})
    answer_trouble = ""  # what went wrong in the answer cell a test depends on
    for index, (cell, outcome) in enumerate(zip(merged.cells, outcomes)):
        if cell.role == "answer":
            answer_trouble = "" if outcome.status == Status.OK else (
                f"the answer cell {cell.grade_id!r} failed ({outcome.status}: {outcome.ename}: {outcome.evalue})")
        if cell.role == "test":
            test = score_test(cell.grade_id, cell.points, cell.source, outcome, references[chapter][cell.grade_id],
                              forbidden_used)
            if test.status == Status.ERROR and answer_trouble:
                test.message = f"{answer_trouble}; then {test.message}"
            if index in shown and test.status == Status.PASSED:
                test.points, test.status = 0.0, Status.FAILED
                test.message = f"{'; '.join(shown[index])}, which this exercise set forbids"
            result.tests.append(test)
    if forbidden_used:
        result.diagnostics.append(f"uses {', '.join(forbidden_used)}, which this exercise set forbids")
    seen = sorted({use for uses in shown.values() for use in uses})
    if seen:
        result.diagnostics.append("forbidden in the code: " + "; ".join(seen))
    if found:
        result.status = Status.FLAGGED
        result.diagnostics.append("for review: " + "; ".join(found))
        if policy == "zero":
            for test in result.tests:
                test.points, test.status = 0.0, Status.FAILED
                test.message = "zero: the answers take routes this exercise set forbids (see the notes)"
    fatal = [t for t in result.tests if t.status in FATAL]
    if fatal:
        result.message = "; ".join(f"{t.grade_id}: {t.message}" for t in fatal)
    for question in written.questions(source):
        result.answers[question.grade_id] = text = written.student_answer(question, student_nb)
        result.tests.append(written.pending(question, text))
    return result


def cell_name(cell: GradedCell, index: int) -> str:
    """How a report names a cell: "answer 'double' (code cell 2)", "code cell 5"."""
    role = {"answer": "answer", "test": "test"}.get(cell.role)
    return f"{role} {cell.grade_id!r} (code cell {index + 1})" if role and cell.grade_id else f"code cell {index + 1}"


def what_happened(cell: GradedCell, index: int, outcome: CellResult) -> tuple[Status, str] | None:
    """The notebook-level event a cell's outcome is, if any: a timeout, a dead process, memory run out."""
    where = cell_name(cell, index)
    if outcome.status == Status.TIMEOUT:
        return Status.TIMEOUT, f"timed out after {outcome.seconds:.0f} s in {where}"
    if outcome.status == Status.ERROR and outcome.ename == "MemoryError":
        return Status.OUT_OF_MEMORY, f"out of memory in {where} (MemoryError)"
    if outcome.status == Status.CRASHED and "signal 9" in (outcome.evalue or ""):
        return Status.OUT_OF_MEMORY, f"killed in {where}, most likely for using more than its memory"
    if outcome.status == Status.CRASHED:
        death = (outcome.evalue or "").removeprefix("the ")
        return Status.CRASHED, f"{death} in {where}"
    if outcome.status == Status.SKIPPED:
        return Status.SKIPPED, f"the notebook's time limit was reached before {where}"
    return None


def run_status(cells: list[GradedCell], outcomes: list[CellResult]) -> tuple[Status, str]:
    """How the notebook's processes fared: the first event's status, and every event in order.

    Skipped cells are folded into one note after the event that used up the time.
    """
    events = [e for i, (c, o) in enumerate(zip(cells, outcomes)) if (e := what_happened(c, i, o))]
    if not events:
        return Status.OK, ""
    kept = [e for e in events if e[0] != Status.SKIPPED]
    skipped = len(events) - len(kept)
    message = "; ".join(m for _, m in kept)
    if skipped:
        message = "; ".join(filter(None, [message, f"{skipped} cell(s) skipped: the notebook's time limit was reached"]))
    return (kept or events)[0][0], message


def one_per_chapter(results: list[Result]) -> None:
    """Keep one graded notebook per student and chapter (the one named after it, else the first)."""
    groups: dict[tuple[str, str], list[Result]] = defaultdict(list)
    for r in results:
        if r.chapter and r.status in (Status.OK, Status.FLAGGED):
            groups[(r.student, r.chapter)].append(r)
    for (_, chapter), group in groups.items():
        kept = next((r for r in group if r.notebook == f"{chapter}.ipynb"), group[0])
        for r in group:
            if r is not kept:
                r.status, r.message = Status.EXTRA, f"a second notebook for {chapter}; {kept.notebook} is the one graded"
                for test in r.tests:
                    test.points = 0.0


# ---------------------------------------------------------------------------
# A whole class
# ---------------------------------------------------------------------------

def grade_class(
    submissions: list[Path], solutions: Path, out: Path, jobs: int, limits: Limits,
    on_result=None, sandbox: Sandbox | None = None, shard: Shard | None = None,
) -> list[Result]:
    """Grade every submission (in parallel), write results, grades.csv, feedback and the summary.

    With ``shard``, only that shard's students are graded, and ``shard.json`` is written for
    ``course grade merge`` (see ``shard``).
    """
    sandbox = sandbox or Sandbox()
    sandbox.check_available()
    out = Path(out)
    sources = {p.stem: read_notebook(p) for p in sorted(Path(solutions).glob("*.ipynb"))}
    for source in sources.values():
        policy_of(source)
    subs = find_submissions(submissions, set(sources))
    everyone = sorted({s.student for s in subs})
    key = output_key(out)
    named = {s.path.stem for s in subs if not s.refused}
    # every reference is computed (or its signed copy verified) before any student code runs
    needed = sorted(named) if named <= set(sources) else sorted(sources)
    references = {name: reference(name, sources[name], out, key, limits, sandbox) for name in needed}
    source_hash = {name: digest(nbformat.writes(nb).encode()) for name, nb in sources.items()}
    # what decides a grade: warm or cold processes grade alike, so results and shards mix freely
    config = {"limits": asdict(limits), "sandbox": {"kind": sandbox.kind, "image": sandbox.image},
              "sources": source_hash}
    settings = json.dumps(config).encode()
    if shard:  # after the references: every shard computes (or verifies) the same ones
        subs = [s for s in subs if shard.holds(s.student)]

    def one(sub: Submission) -> Result:
        if sub.refused:  # nothing to run: not worth keeping
            result = grade_submission(sub, sources, references, limits, sandbox)
            if on_result:
                on_result(result)
            return result
        saved = out / "results" / sub.student / f"{sub.notebook}.json"
        try:
            result_key = digest(sub.path.read_bytes(), settings)
        except OSError:
            result_key = ""
        data = read_signed(saved, key)
        if isinstance(data, dict) and data.get("version") == RESULT_VERSION and data.get("key") == result_key:
            try:
                return Result.from_dict(data)
            except (KeyError, TypeError, ValueError):
                pass  # a result this version cannot read is graded again
        try:
            result = grade_submission(sub, sources, references, limits, sandbox)
        except Exception as error:  # noqa: BLE001 - a bug of the grader stays this notebook's problem
            result = Result(sub.student, sub.notebook, None, Status.INTERNAL_ERROR,
                            f"the grader failed on this notebook ({type(error).__name__}: {error}); please report it")
            traceback.print_exc()
        result.key = result_key
        write_signed(saved, key, {"version": RESULT_VERSION, **asdict(result)})
        if on_result:
            on_result(result)
        return result

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        results = list(pool.map(one, subs))
    one_per_chapter(results)
    results.sort(key=lambda r: (r.student, r.notebook))
    tests = {name: source_cells(nb) for name, nb in sources.items()}
    warning = UNSAFE_WARNING if sandbox.trusted_only else ""
    written.save_run(out, results, tests, warning)
    written.apply_scores(results, written.kept_scores(out, results))
    write_reports(results, tests, out, warning)
    written.write_review(results, sources, out)
    if shard:
        write_manifest(out, shard, config, everyone, tests, warning, results)
    return results


def reference(chapter: str, source: nbformat.NotebookNode, out: Path, key: bytes, limits: Limits,
              sandbox: Sandbox) -> dict:
    """The reference records of a chapter: from the signed cache when it matches, else computed now."""
    path = out / "reference" / f"{chapter}-{digest(nbformat.writes(source).encode())}.json"
    cached = read_signed(path, key)
    if isinstance(cached, dict):
        return cached
    generous = Limits(limits.cell_seconds * 2, limits.notebook_seconds * 2, limits.memory_mb, limits.processes,
                      limits.file_mb, limits.disk_mb)
    records = reference_records(source, generous, sandbox)
    write_signed(path, key, records)
    return records
