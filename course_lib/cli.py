"""The ``course`` command.

    course build            write exercises/ from solutions/
    course build --check    exit 1, naming each exercise that is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from course_lib.grading.build import BuildError, build, stale


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


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="course", description="Build and grade the course's exercises.")
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("build", help="write exercises/ from solutions/")
    p.add_argument("--check", action="store_true", help="only report exercises that are out of date (exit 1)")
    p.add_argument("--solutions", help="folder of solved notebooks (default: ./solutions)")
    p.add_argument("--exercises", help="folder to write (default: ./exercises)")
    p.set_defaults(run=_build)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
