"""``course grade``: grade a class's submissions against the solutions, whatever state they are in.

For each submitted notebook: find its chapter, rebuild it from the student's answers and the
source's tests (``assemble``), run it in a fresh sandboxed process in an empty temporary folder
(``runner``), and score each test cell by comparing the values its checks recorded with those of
the reference solution, run the same way (``score``). One result file per submission is written
atomically, so a re-run after an interruption only grades what is left.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat

from course_lib.grading.assemble import assemble
from course_lib.grading.build import BuildError, read_notebook
from course_lib.grading.markers import cell_kind
from course_lib.grading.runner import CellResult, Limits, run_cells
from course_lib.grading.score import compare_records

RESULT_VERSION = 1
COURSE_ROOT = Path(__file__).resolve().parents[2]  # a submission may not read this course's solutions either


@dataclass
class TestResult:
    grade_id: str
    points: float
    max_points: float
    status: str  # passed | failed | error | timeout | crashed | skipped
    message: str = ""


@dataclass
class Result:
    """The grade of one student's notebook."""

    student: str
    notebook: str
    chapter: str | None
    status: str  # ok | invalid | unknown-chapter
    message: str = ""
    tests: list[TestResult] = field(default_factory=list)
    diagnostics: list[str] = field(default_factory=list)
    key: str = ""

    @property
    def total(self) -> float:
        return sum(t.points for t in self.tests)

    @property
    def max_points(self) -> float:
        return sum(t.max_points for t in self.tests)


@dataclass(frozen=True)
class Submission:
    student: str
    path: Path


def find_submissions(paths: list[Path], chapters: set[str]) -> list[Submission]:
    """A folder holding notebooks is one student's; a folder of folders is a class, one folder per
    student; a file is named for its student, or for its chapter inside the student's folder."""
    found = []
    for path in map(Path, paths):
        if path.is_dir() and not any(path.glob("*.ipynb")):
            found += find_submissions(sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")),
                                      chapters)
        elif path.is_dir():
            found += [Submission(path.name, nb) for nb in sorted(path.rglob("*.ipynb")) if ".ipynb_checkpoints" not in nb.parts]
        elif path.exists():
            student = path.parent.name if path.stem in chapters else path.stem
            found.append(Submission(student, path))
        else:
            raise FileNotFoundError(f"{path}: no such file or folder")
    return found


# ---------------------------------------------------------------------------
# One submission
# ---------------------------------------------------------------------------

def chapter_of(path: Path, nb: nbformat.NotebookNode, chapters: set[str]) -> tuple[str | None, str]:
    """The chapter a submission answers: its file name first, then its metadata."""
    declared = nb.metadata.get("course", {}).get("chapter") if isinstance(nb.metadata.get("course"), dict) else None
    if path.stem in chapters:
        note = f"this file is named {path.stem} but holds {declared}'s exercises" if declared and declared != path.stem else ""
        return path.stem, note
    if declared in chapters:
        return declared, ""
    return None, f"cannot tell which chapter this is: name it like one of {sorted(chapters)}"


def source_cells(source: nbformat.NotebookNode) -> list[tuple[str, float]]:
    return [
        (c.metadata["nbgrader"]["grade_id"], float(c.metadata["nbgrader"]["points"]))
        for c in source.cells if c.cell_type == "code" and cell_kind(c) == "test"
    ]


def run_assembled(cells, limits: Limits, forbidden_reads: list[str], forbid: list[str]) -> list[CellResult]:
    with tempfile.TemporaryDirectory(prefix="course-grade-") as workdir:
        return run_cells(
            [c.source for c in cells], [c.role != "test" for c in cells], Path(workdir), limits, forbidden_reads, forbid
        )


def reference_records(source: nbformat.NotebookNode, limits: Limits, forbidden_reads: list[str]) -> dict[str, list]:
    """Run the solution itself and keep what each test cell's checks recorded."""
    cells = assemble(source, source).cells
    results = run_assembled(cells, limits, forbidden_reads, [])
    records = {}
    for cell, result in zip(cells, results):
        if cell.role == "test":
            if result.status != "ok":
                raise RuntimeError(f"the solution fails its own test {cell.grade_id!r}: {result.ename}: {result.evalue}")
            if not result.records:
                raise RuntimeError(f"test {cell.grade_id!r} makes no course_lib.checks call, so it cannot be graded")
            records[cell.grade_id] = result.records
    return records


def grade_submission(sub: Submission, sources: dict[str, nbformat.NotebookNode], references, limits, forbidden_reads) -> Result:
    result = Result(sub.student, sub.path.name, sub.path.stem if sub.path.stem in sources else None, "ok")
    try:
        student_nb = read_notebook(sub.path)
    except BuildError as error:
        result.status, result.message = "invalid", str(error).replace(str(sub.path), sub.path.name)
        return result
    chapter, note = chapter_of(sub.path, student_nb, set(sources))
    result.chapter = chapter
    if chapter is None:
        result.status, result.message = "unknown-chapter", note
        return result
    if note:
        result.diagnostics.append(note)
    source = sources[chapter]
    merged = assemble(source, student_nb)
    result.diagnostics += merged.diagnostics
    forbid = list(source.metadata.get("course", {}).get("forbid", []))
    outcomes = run_assembled(merged.cells, limits, forbidden_reads, forbid)
    forbidden_used = sorted({name for o in outcomes for name in o.forbidden})
    answer_trouble = ""  # what went wrong in the answer cell a test depends on
    for cell, outcome in zip(merged.cells, outcomes):
        if cell.role == "answer":
            answer_trouble = "" if outcome.status == "ok" else (
                f"the answer cell {cell.grade_id!r} failed ({outcome.status}: {outcome.ename}: {outcome.evalue})")
        if cell.role == "test":
            test = _score(cell, outcome, references[chapter][cell.grade_id], forbidden_used)
            if test.status == "error" and answer_trouble:
                test.message = f"{answer_trouble}; then {test.message}"
            result.tests.append(test)
    if forbidden_used:
        result.diagnostics.append(f"uses {', '.join(forbidden_used)}, which this exercise set forbids")
    fatal = [t for t in result.tests if t.status in {"timeout", "crashed", "skipped"}]
    if fatal:
        result.message = "; ".join(f"{t.grade_id}: {t.message}" for t in fatal)
    return result


def _score(cell, outcome: CellResult, reference: list, forbidden_used: list[str]) -> TestResult:
    test = TestResult(cell.grade_id, 0.0, cell.points, "failed")
    if outcome.status in {"timeout", "crashed", "skipped"}:
        test.status, test.message = outcome.status, outcome.evalue or outcome.status
        return test
    problem = compare_records(reference, outcome.records)
    if outcome.status == "error" and outcome.ename == "NotImplementedError":
        test.status, test.message = "failed", "not answered yet (NotImplementedError)"
    elif outcome.status == "error" and problem is not None and outcome.ename != "CheckError":
        test.status, test.message = "error", f"{outcome.ename}: {outcome.evalue}"
    elif problem is not None:
        test.message = problem
    elif forbidden_used and outcome.forbidden:
        test.message = f"uses {', '.join(outcome.forbidden)}, which this exercise forbids"
    else:
        test.status, test.points = "passed", cell.points
    return test


# ---------------------------------------------------------------------------
# A whole class
# ---------------------------------------------------------------------------

def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(hashlib.sha256(part).digest())
    return h.hexdigest()[:16]


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def grade_class(
    submissions: list[Path], solutions: Path, out: Path, jobs: int, limits: Limits, on_result=None
) -> list[Result]:
    """Grade every submission (in parallel), write results, grades.csv, feedback and the summary."""
    from course_lib.grading.report import write_reports

    sources = {p.stem: read_notebook(p) for p in sorted(Path(solutions).glob("*.ipynb"))}
    subs = find_submissions(submissions, set(sources))
    forbidden_reads = [str(Path(solutions).resolve()), str(Path(out).resolve()), str(COURSE_ROOT / "solutions"),
                       *{str(s.path.resolve().parent) for s in subs}]
    references = References(sources, out, limits, forbidden_reads)
    source_hash = {name: _digest(nbformat.writes(nb).encode()) for name, nb in sources.items()}

    def one(sub: Submission) -> Result:
        key = _digest(sub.path.read_bytes(), json.dumps(asdict(limits)).encode(), json.dumps(source_hash).encode())
        saved = Path(out) / "results" / sub.student / f"{sub.path.name}.json"
        if saved.exists():
            try:
                data = json.loads(saved.read_text())
                if data.get("key") == key and data.get("version") == RESULT_VERSION:
                    return _result_from(data)
            except (json.JSONDecodeError, KeyError, TypeError):
                pass  # a damaged result file is graded again
        result = grade_submission(sub, sources, references, limits, forbidden_reads)
        result.key = key
        write_atomic(saved, json.dumps({"version": RESULT_VERSION, **asdict(result)}, indent=1))
        if on_result:
            on_result(result)
        return result

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        results = list(pool.map(one, subs))
    results.sort(key=lambda r: (r.student, r.notebook))
    write_reports(results, sources, Path(out))
    return results


class References:
    """Reference records per chapter, computed on first use and cached in ``out`` by the solution's content."""

    def __init__(self, sources: dict[str, nbformat.NotebookNode], out: Path, limits: Limits, forbidden_reads) -> None:
        self.sources, self.out, self.forbidden_reads = sources, Path(out), forbidden_reads
        self.limits = Limits(limits.cell_seconds * 2, limits.notebook_seconds * 2, limits.memory_mb)
        self.cache: dict[str, dict] = {}
        self.locks = {name: threading.Lock() for name in sources}

    def __getitem__(self, chapter: str) -> dict:
        with self.locks[chapter]:
            if chapter not in self.cache:
                nb = self.sources[chapter]
                path = self.out / "reference" / f"{chapter}-{_digest(nbformat.writes(nb).encode())}.json"
                if path.exists():
                    self.cache[chapter] = json.loads(path.read_text())
                else:
                    self.cache[chapter] = reference_records(nb, self.limits, self.forbidden_reads)
                    write_atomic(path, json.dumps(self.cache[chapter]))
            return self.cache[chapter]


def _result_from(data: dict) -> Result:
    tests = [TestResult(**t) for t in data.pop("tests")]
    data.pop("version", None)
    return Result(**{**data, "tests": tests})
