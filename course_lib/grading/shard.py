"""Grading a class on several machines: each grades a slice of the students, then one merges.

``course grade --shard K/N`` grades the students whose shard is K (of N). A student's shard
depends on their name alone (a hash), never on who else is in the class, so N machines listing
the same folder agree on it, and a student never changes shard when a classmate is added.

Each shard's output folder gets ``shard.json``, signed with that folder's key (``cache``): the
shard's place (K, N), what was graded with what (the solutions' hashes, the limits, the sandbox),
every student the shard saw in the class, and its results. ``course grade merge`` checks that
the shards belong together (one course, the same limits, each K once, each student once) before
it writes anything, then writes the reports a single run would have written, byte for byte.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from course_lib.grading.cache import read_signed, output_key, write_signed
from course_lib.grading.report import write_reports
from course_lib.grading.results import Result
from course_lib.grading.written import save_run

MANIFEST = "shard.json"
VERSION = 1


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (1-based) of ``count``."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if not (isinstance(self.count, int) and isinstance(self.index, int) and 1 <= self.index <= self.count):
            raise ValueError(f"shard: expected K/N with 1 <= K <= N, got {self.index}/{self.count}")

    @classmethod
    def parse(cls, text: str) -> "Shard":
        """``"2/8"`` -> Shard(2, 8); anything else is a ValueError naming what was expected."""
        index, slash, count = text.partition("/")
        if not (slash and index.isdigit() and count.isdigit()):
            raise ValueError(f"shard: expected K/N such as 2/8, got {text!r}")
        return cls(int(index), int(count))

    def holds(self, student: str) -> bool:
        """Whether ``student`` is graded by this shard: sha256(name) mod N, counted from 1."""
        number = int.from_bytes(hashlib.sha256(student.encode("utf-8", "surrogateescape")).digest()[:8], "big")
        return number % self.count + 1 == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def write_manifest(out: Path, shard: Shard, settings: dict, everyone: list[str], tests: dict, warning: str,
                   results: list[Result]) -> None:
    """Save what ``merge`` needs from one shard, signed with the shard folder's key."""
    write_signed(Path(out) / MANIFEST, output_key(out), {
        "version": VERSION, "shard": [shard.index, shard.count], "settings": settings, "class": everyone,
        "tests": tests, "warning": warning, "results": [asdict(r) for r in results]})


def read_manifest(folder: Path) -> dict:
    """A shard folder's manifest, verified with its key; ValueError when it is not a shard's output."""
    key_file = Path(folder) / ".grader-key"
    data = None
    if key_file.is_file() and len(key_file.read_bytes()) == 32:
        data = read_signed(Path(folder) / MANIFEST, key_file.read_bytes())
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise ValueError(f"{folder}: expected the output folder of `course grade --shard K/N` "
                         f"(a signed {MANIFEST}), found none")
    return data


def merge(folders: list[Path], out: Path) -> list[Result]:
    """Check that ``folders`` are the N shards of one run, then write its reports under ``out``.

    Every check comes before the first write: on bad input nothing is written or overwritten.
    """
    out = Path(out)
    if any(out.resolve() == Path(f).resolve() for f in folders):
        raise ValueError(f"merge: the output folder {out} is one of the shards; choose a folder of its own")
    shards = [(Path(f), read_manifest(f)) for f in folders]
    first_folder, first = shards[0]
    for folder, data in shards[1:]:
        for part, what in (("sources", "courses (their solutions differ)"), ("limits", "limits"),
                           ("sandbox", "sandboxes")):
            if data["settings"].get(part) != first["settings"].get(part):
                raise ValueError(f"merge: {first_folder} and {folder} were graded with different {what}: "
                                 f"{json.dumps(first['settings'].get(part))} vs {json.dumps(data['settings'].get(part))}")
        if data["class"] != first["class"]:
            raise ValueError(f"merge: {first_folder} and {folder} saw different classes; grade every shard "
                             "from the same submissions folder")
    counts = {data["shard"][1] for _, data in shards}
    if len(counts) != 1:
        raise ValueError(f"merge: expected shards of one split, got counts {sorted(counts)}")
    count = counts.pop()
    seen: dict[int, Path] = {}
    for folder, data in shards:
        index = data["shard"][0]
        if index in seen:
            raise ValueError(f"merge: shard {index}/{count} appears twice: {seen[index]} and {folder}")
        seen[index] = folder
    if len(seen) != count:
        missing = sorted(set(range(1, count + 1)) - set(seen))
        raise ValueError(f"merge: expected {count} shards, missing {', '.join(f'{k}/{count}' for k in missing)}")
    owner: dict[str, Path] = {}
    results: list[Result] = []
    for folder, data in shards:
        shard = Shard(*data["shard"])
        for student in sorted({r["student"] for r in data["results"]}):
            if not shard.holds(student):
                raise ValueError(f"merge: {folder} graded {student!r}, who belongs to another shard than {shard}")
            if student in owner:
                raise ValueError(f"merge: student {student!r} was graded by two shards: {owner[student]} and {folder}")
            owner[student] = folder
        results += [Result.from_dict(r) for r in data["results"]]
    results.sort(key=lambda r: (r.student, r.notebook))
    tests = {name: [(gid, points) for gid, points in cells] for name, cells in first["tests"].items()}
    write_reports(results, tests, out, first["warning"])
    save_run(out, results, tests, first["warning"])  # so `course grade merge-scores` works on the merged folder
    return results
