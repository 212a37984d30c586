"""Every chapter's tests catch the standard mistakes: ``course mutants`` kills >= 95 % of them.

A mutant is a solution with one plausible student mistake written into one answer (a sign, a
dropped term, a skipped shuffle, an ignored argument, ...; ``course_lib.grading.mutants``). A
survivor is a mistake that would earn full marks, so the chapter needs a test for it, or, if the
mistake changes nothing, a mark ``course.equivalent_mutants`` with the reason.
"""

from pathlib import Path

import pytest

from course_lib.grading.mutation import grade_mutants, survivor_lines

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted(p.stem for p in (ROOT / "solutions").glob("*.ipynb"))
MIN_KILL = 0.95


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_the_tests_kill_the_standard_mistakes(chapter):
    report = grade_mutants(ROOT / "solutions" / f"{chapter}.ipynb", jobs=1)
    assert report.verdicts, f"{chapter}: no mutants written: its answers hold no code the operators apply to"
    assert report.kill_rate >= MIN_KILL, (
        f"{chapter}: {report.kill_rate:.1%} of the mutants killed (at least {MIN_KILL:.0%} expected); survivors:\n"
        + "\n".join(survivor_lines(report)))
    assert not report.unused, f"{chapter}: equivalent-mutant marks that match no mutant:\n" + "\n".join(survivor_lines(report))
