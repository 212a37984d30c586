"""The ``course`` command.

    course build            write exercises/ from solutions/
    course build --check    exit 1, naming each exercise that is out of date
    course grade SUBMISSIONS... --out DIR    grade a class, each notebook in a bubblewrap sandbox
    course grade SUBMISSIONS... --out DIR --shard K/N    grade only shard K of N of the students
    course grade merge SHARD_DIR... --out DIR            one class's reports from its N shards
    course grade merge-scores OUT scores.csv             put a person's scores of written answers into OUT
    course check exercises/NN_topic.ipynb    run your self-checks before you submit
    course doctor           versions, device, JupyterLab's front ends, kernel: what is wrong and how to fix it
    course mutants 02 [03 ...] [--min-kill 0.95]   grade standard mistakes in the solutions' answers
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from course_lib.grading.build import BuildError, build, stale
from course_lib.grading.sandbox import KINDS, Limits
from course_lib.grading.shard import Shard

DEFAULT = Limits()


def find_root(start: Path | None = None) -> Path:
    """The course folder: the nearest folder, from ``start`` upwards, that holds solutions/."""
    start = (start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / "solutions").is_dir():
            return folder
    return start


def _build(args: argparse.Namespace) -> int:
    root = find_root()
    solutions = Path(args.solutions) if args.solutions else root / "solutions"
    exercises = Path(args.exercises) if args.exercises else root / "exercises"
    try:
        if args.check:
            problems = stale(solutions, exercises)
            for problem in problems:
                print(f"stale: {problem}", file=sys.stderr)
            if problems:
                print("run `course build` to regenerate exercises/", file=sys.stderr)
                return 1
            print(f"exercises/ is up to date with {solutions}")
            return 0
        for path in build(solutions, exercises):
            print(f"wrote {path}")
        return 0
    except BuildError as error:
        print(f"course build: {error}", file=sys.stderr)
        return 2


def _grade(args: argparse.Namespace) -> int:
    from course_lib.grading.grade import grade_class
    from course_lib.grading.sandbox import UNSAFE_WARNING, Sandbox

    root = find_root()
    solutions = Path(args.solutions) if args.solutions else root / "solutions"
    try:
        limits = Limits(cell_seconds=args.timeout, notebook_seconds=args.notebook_timeout, memory_mb=args.memory,
                        processes=args.processes, file_mb=args.file_size, disk_mb=args.disk)
        sandbox = Sandbox("none" if args.no_sandbox else args.sandbox, args.image)
        shard = Shard.parse(args.shard) if args.shard else None
    except ValueError as error:
        print(f"course grade: {error}", file=sys.stderr)
        return 2
    if sandbox.trusted_only:
        print(f"course grade: WARNING: {UNSAFE_WARNING}", file=sys.stderr)

    def progress(result) -> None:
        print(f"{result.student:>20}  {result.notebook:<32} {result.total:g}/{result.max_points:g}  {result.status}")

    try:
        results = grade_class(args.submissions, solutions, Path(args.out), args.jobs, limits, progress, sandbox,
                              shard)
    except (FileNotFoundError, BuildError, RuntimeError) as error:
        print(f"course grade: {error}", file=sys.stderr)
        return 2
    print((Path(args.out) / "summary.txt").read_text(), end="")
    print(f"grades: {Path(args.out) / 'grades.csv'}; feedback: {Path(args.out) / 'feedback'}/")
    if shard:
        print(f"shard {shard}: {len(results)} notebooks; `course grade merge` the {shard.count} shard folders")
        return 0  # a shard may hold no student at all
    return 0 if results else 1


def _merge(args: argparse.Namespace) -> int:
    from course_lib.grading.shard import merge

    try:
        merge([Path(f) for f in args.shards], Path(args.out))
    except ValueError as error:
        print(f"course grade merge: {error}", file=sys.stderr)
        return 2
    return _report(Path(args.out))


def _report(out: Path) -> int:
    """Print a grading folder's summary and where its grades and feedback are."""
    print((out / "summary.txt").read_text(), end="")
    print(f"grades: {out / 'grades.csv'}; feedback: {out / 'feedback'}/")
    return 0


def _merge_scores(args: argparse.Namespace) -> int:
    from course_lib.grading.written import merge_scores

    try:
        merge_scores(Path(args.out), Path(args.scores))
    except ValueError as error:
        print(f"course grade merge-scores: {error}", file=sys.stderr)
        return 2
    return _report(Path(args.out))


def _check(args: argparse.Namespace) -> int:
    from course_lib.grading.check import check_notebook

    try:
        return 0 if check_notebook(Path(args.notebook), timeout=args.timeout) else 1
    except BuildError as error:
        print(f"course check: {error}", file=sys.stderr)
        return 2


def _doctor(_args: argparse.Namespace) -> int:
    from course_lib.doctor import main as doctor

    return doctor()


def solution_path(chapter: str, solutions: Path) -> Path:
    """A solution notebook from a path, a chapter's name (02_logistic_regression) or its number (02)."""
    if chapter.endswith(".ipynb"):
        return Path(chapter)
    found = sorted(solutions.glob(f"{chapter}.ipynb")) or sorted(solutions.glob(f"{chapter}_*.ipynb"))
    if len(found) != 1:
        names = ", ".join(p.stem for p in sorted(solutions.glob("*.ipynb")))
        raise ValueError(f"chapter {chapter!r}: expected one of {names}, got {len(found)} matches")
    return found[0]


def _mutants(args: argparse.Namespace) -> int:
    from course_lib.grading.mutation import grade_mutants, survivor_lines, table, verdicts_data

    solutions = Path(args.solutions) if args.solutions else find_root() / "solutions"
    chapters = args.chapters or sorted(p.stem for p in solutions.glob("*.ipynb"))
    operators = args.operators.split(",") if args.operators else None
    reports = []
    try:
        if not 0.0 <= args.min_kill <= 1.0:
            raise ValueError(f"--min-kill: expected a share between 0 and 1 (0.95 for 95 %), got {args.min_kill}")
        if args.sample is not None and args.sample < 1:
            raise ValueError(f"--sample: expected a positive number of mutants, got {args.sample}")
        paths = [solution_path(c, solutions) for c in chapters]
        for path in paths:
            report = grade_mutants(path, args.jobs, args.timeout, operators, args.sample, args.seed, args.exact)
            reports.append(report)
            print(f"{report.chapter}: {len(report.verdicts)} mutants, {len(report.survivors)} survive "
                  f"({report.seconds:.0f} s)", file=sys.stderr)
    except (ValueError, RuntimeError, OSError) as error:
        print(f"course mutants: {error}", file=sys.stderr)
        return 2
    if args.json:
        Path(args.json).write_text(json.dumps([verdicts_data(r) for r in reports], indent=1) + "\n")
    print(table(reports))
    for report in reports:
        lines = survivor_lines(report)
        if lines:
            print(f"\n{report.chapter}: survivors (cell:line  operator  before -> after)")
            print("\n".join(lines))
    low = [r.chapter for r in reports if r.kill_rate < args.min_kill]
    if low:
        print(f"\nbelow the {args.min_kill:.0%} kill bar: {', '.join(low)}", file=sys.stderr)
        return 1
    return 0


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="course", description="Build and grade the course's exercises.")
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("build", help="write exercises/ from solutions/")
    p.add_argument("--check", action="store_true", help="only report exercises that are out of date (exit 1)")
    p.add_argument("--solutions", help="folder of solved notebooks (default: ./solutions)")
    p.add_argument("--exercises", help="folder to write (default: ./exercises)")
    p.set_defaults(run=_build)

    p = commands.add_parser("grade", help="grade students' notebooks against solutions/")
    p.add_argument("submissions", nargs="+", help="notebooks, or folders of notebooks (one folder per student)")
    p.add_argument("--out", required=True, help="folder for grades.csv, feedback/ and summary.txt")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="notebooks graded at once (default: cores)")
    p.add_argument("--timeout", type=float, default=DEFAULT.cell_seconds, help="seconds allowed per cell (default %(default)s)")
    p.add_argument("--notebook-timeout", type=float, default=DEFAULT.notebook_seconds,
                   help="seconds allowed per notebook (default %(default)s)")
    p.add_argument("--memory", type=int, default=DEFAULT.memory_mb, help="memory per notebook, MB (default %(default)s)")
    p.add_argument("--processes", type=int, default=DEFAULT.processes,
                   help="processes and threads per notebook (default %(default)s)")
    p.add_argument("--file-size", type=int, default=DEFAULT.file_mb,
                   help="largest file a notebook may write, MB (default %(default)s)")
    p.add_argument("--disk", type=int, default=DEFAULT.disk_mb,
                   help="all files a notebook may write together, MB (default %(default)s)")
    p.add_argument("--sandbox", default="bwrap", choices=[k for k in KINDS if k != "none"],
                   help="how each notebook is isolated (default bwrap; docker/podman need --image)")
    p.add_argument("--image", default="course-grader",
                   help="container image holding the course's Python environment (docker/podman)")
    p.add_argument("--no-sandbox", action="store_true",
                   help="run notebooks as plain processes: only for trusted submissions; every report says so")
    p.add_argument("--solutions", help="folder of solved notebooks (default: ./solutions)")
    p.add_argument("--shard", help="grade only shard K of N of the students (e.g. 2/8); then `course grade merge`")
    p.set_defaults(run=_grade)

    p = commands.add_parser("check", help="run an exercise notebook's self-checks and say which pass")
    p.add_argument("notebook", help="your exercises/NN_topic.ipynb")
    p.add_argument("--timeout", type=float, default=120.0, help="seconds allowed per cell (default 120)")
    p.set_defaults(run=_check)

    p = commands.add_parser("doctor", help="check this environment for the course and say how to fix each problem")
    p.set_defaults(run=_doctor)
    p = commands.add_parser("mutants", help="grade standard mistakes written into the solutions' answers")
    p.add_argument("chapters", nargs="*", help="chapter numbers (02), names or solution notebooks (default: all)")
    p.add_argument("--solutions", help="folder of solved notebooks (default: ./solutions)")
    p.add_argument("--min-kill", type=float, default=0.0,
                   help="exit 1 when a chapter kills less than this share of its non-equivalent mutants (e.g. 0.95)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="mutants graded at once (default: cores)")
    p.add_argument("--timeout", type=float, default=None,
                   help="seconds per mutant (default: 5 times its cells' run on the solution, at least 10)")
    p.add_argument("--operators", help="comma-separated mutation operators (default: all)")
    p.add_argument("--sample", type=int, default=None, help="grade this many mutants per chapter, chosen by --seed")
    p.add_argument("--seed", type=int, default=0, help="seed of --sample (default 0)")
    p.add_argument("--exact", action="store_true",
                   help="run answers in the grader's worker, as `course grade` does (slower; default: in the judge)")
    p.add_argument("--json", help="also write every mutant and its verdict to this file")
    p.set_defaults(run=_mutants)
    return parser


def make_merge_parser() -> argparse.ArgumentParser:
    """``course grade merge``: parsed on its own, since ``course grade`` takes any folder names."""
    p = argparse.ArgumentParser(prog="course grade merge",
                                description="Write one class's reports from the output folders of its shards.")
    p.add_argument("shards", nargs="+", help="the output folders of `course grade --shard K/N`, all N of them")
    p.add_argument("--out", required=True, help="folder for the merged grades.csv, feedback/ and summary.txt")
    p.set_defaults(run=_merge)
    return p


def make_merge_scores_parser() -> argparse.ArgumentParser:
    """``course grade merge-scores``: parsed on its own, like ``merge``."""
    p = argparse.ArgumentParser(prog="course grade merge-scores",
                                description="Put the scores of written answers (a CSV) into a graded class's reports.")
    p.add_argument("out", help="the output folder of `course grade`")
    p.add_argument("scores", help="CSV with columns student, chapter, grade_id, score, comment "
                                  "(fill in the written_scores.csv that `course grade` wrote)")
    p.set_defaults(run=_merge_scores)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:2] == ["grade", "merge"]:  # a class folder named merge: pass it as ./merge
        args = make_merge_parser().parse_args(argv[2:])
    elif argv[:2] == ["grade", "merge-scores"]:
        args = make_merge_scores_parser().parse_args(argv[2:])
    else:
        args = make_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
