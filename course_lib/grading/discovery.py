"""Which notebooks a class handed in, and whose they are, decided from the folder layout alone.

- A folder given on the command line that holds notebooks is one student's (named after it); a
  folder without notebooks is a class: each folder in it is a student's.
- Only the notebooks directly in a student's folder count. A notebook in a folder inside it is
  listed as refused: a nested folder is never taken for another student.
- A symbolic link (anywhere on the way) or a file with more than one hard link is refused: it
  may point into solutions/ or at a classmate's work.
- A file given on the command line is named for its student, or for its chapter inside the
  student's folder.

Every notebook found gets a ``Submission``, refused ones with the reason, so every notebook gets
a row in the grades.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

MAX_NOTEBOOK_BYTES = 64 * 2**20  # larger files are refused unread


@dataclass(frozen=True)
class Submission:
    student: str
    path: Path
    refused: str = ""  # why it is not graded, or "" when it is

    @property
    def notebook(self) -> str:
        return printable(self.path.name)


def printable(name: str) -> str:
    """A file or folder name as text that any report can hold (undecodable bytes become U+FFFD)."""
    return os.fsencode(name).decode("utf-8", "replace")


def refusal(path: Path, below: Path | None = None) -> str:
    """Why ``path`` may not be graded ("" if it may): links anywhere from ``below`` down, odd files."""
    folders = [path] + [p for p in path.parents if below is None or p.is_relative_to(below)]
    for part in folders:
        try:
            if stat.S_ISLNK(os.lstat(part).st_mode):
                return f"{printable(part.name)} is a symbolic link; hand in the file itself"
        except OSError as error:
            return f"cannot be read ({error.strerror})"
    info = os.lstat(path)
    if not stat.S_ISREG(info.st_mode):
        return "not a regular file"
    if info.st_nlink > 1:
        return "a hard link to another file; hand in a copy of your own"
    if info.st_size > MAX_NOTEBOOK_BYTES:
        return f"{info.st_size} bytes, more than the {MAX_NOTEBOOK_BYTES} a notebook may have"
    return ""


def find_submissions(paths: list[Path], chapters: set[str]) -> list[Submission]:
    """Every notebook under ``paths`` (see the module docstring), sorted by student and file name."""
    found: list[Submission] = []
    for path in map(Path, paths):
        if not os.path.lexists(path):
            raise FileNotFoundError(f"{path}: no such file or folder")
        if path.is_dir() and not path.is_symlink() and not _notebooks_in(path):
            for folder in sorted(path.iterdir()):
                if not folder.name.startswith(".") and (folder.is_dir() or folder.is_symlink()):
                    found += _student_folder(folder, path)
        elif path.is_dir() and not path.is_symlink():
            found += _student_folder(path, path.parent)
        else:
            student = path.parent.name if path.stem in chapters else path.stem
            found.append(Submission(printable(student or path.stem), path, refusal(path)))
    return sorted(found, key=lambda s: (s.student, s.notebook))


def _notebooks_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix == ".ipynb" and not p.name.startswith("."))


def _student_folder(folder: Path, below: Path) -> list[Submission]:
    student = printable(folder.name)
    if folder.is_symlink():
        return [Submission(student, folder, f"{student} is a symbolic link to a folder; hand in the folder itself")]
    found = [Submission(student, nb, refusal(nb, below)) for nb in _notebooks_in(folder)]
    for nested in sorted(folder.rglob("*.ipynb")):
        if nested.parent != folder and ".ipynb_checkpoints" not in nested.parts:
            where = printable(str(nested.parent.relative_to(folder)))
            found.append(Submission(student, nested, f"in the nested folder {where}/; notebooks are graded only "
                                                      "directly in a student's folder"))
    return found
