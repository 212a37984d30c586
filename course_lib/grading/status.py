"""The one vocabulary of outcomes: of a cell, of a test, and of a submitted notebook.

A ``Status`` is a string (``Status.OK == "ok"``), so it reads the same in grades.csv, in the
result files and in code.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    # a cell, as the runner saw it
    OK = "ok"  # ran to the end (also: a notebook that was graded)
    ERROR = "error"  # raised an exception
    TIMEOUT = "timeout"  # ran past its time limit; the process was killed
    CRASHED = "crashed"  # the process died, stopped answering, or broke the channel
    SKIPPED = "skipped"  # never ran: the notebook's time limit was used up
    OUT_OF_MEMORY = "out-of-memory"  # hit the memory limit (a MemoryError, or killed for it)
    # a test, as scored
    PASSED = "passed"
    FAILED = "failed"
    NEEDS_REVIEW = "needs review"  # a written answer, waiting for a person's score (0 points until then)
    REVIEWED = "reviewed"  # a written answer a person scored
    # a notebook, as found
    INVALID = "invalid"  # not a readable notebook
    UNKNOWN_CHAPTER = "unknown-chapter"  # no chapter of the course matches it
    REFUSED = "refused"  # a symbolic or hard link, or a file that is not a plain notebook file
    EXTRA = "extra"  # a second notebook for a chapter the student already submitted
    FLAGGED = "flagged"  # graded, but its answers use routes the policy asks a person to review
    INTERNAL_ERROR = "internal-error"  # the grader itself failed on this notebook (a bug to report)


FATAL = frozenset({Status.TIMEOUT, Status.CRASHED, Status.SKIPPED})  # the process was lost with the cell
