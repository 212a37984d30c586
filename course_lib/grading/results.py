"""What grading one notebook produces: a ``Result`` holding one ``TestResult`` per test cell."""

from __future__ import annotations

from dataclasses import dataclass, field

from course_lib.grading.status import Status


@dataclass
class TestResult:
    grade_id: str
    points: float
    max_points: float
    status: Status  # passed | failed | error | timeout | crashed | skipped | needs review | reviewed
    message: str = ""


@dataclass
class Result:
    """The grade of one student's notebook."""

    student: str
    notebook: str
    chapter: str | None
    status: Status  # ok | flagged | invalid | unknown-chapter | refused | extra | internal-error
    message: str = ""
    tests: list[TestResult] = field(default_factory=list)
    diagnostics: list[str] = field(default_factory=list)
    key: str = ""
    # how the notebook's processes fared, apart from the tests: ok | timeout | crashed | out-of-memory
    # | skipped, or None when nothing ran; ``run_message`` names the cell ("timed out after 5 s in ...")
    run: Status | None = None
    run_message: str = ""
    answers: dict[str, str] = field(default_factory=dict)  # written answers: grade_id -> the student's text

    @property
    def total(self) -> float:
        return sum(t.points for t in self.tests)

    @property
    def max_points(self) -> float:
        return sum(t.max_points for t in self.tests)

    @classmethod
    def from_dict(cls, data: dict) -> "Result":
        """Rebuild a Result from its saved form (``dataclasses.asdict``); raise on anything else."""
        tests = [TestResult(t["grade_id"], float(t["points"]), float(t["max_points"]), Status(t["status"]),
                            str(t["message"])) for t in data["tests"]]
        run = Status(data["run"]) if data["run"] is not None else None
        answers = {str(k): str(v) for k, v in data["answers"].items()}
        return cls(str(data["student"]), str(data["notebook"]), data["chapter"], Status(data["status"]),
                   str(data["message"]), tests, [str(d) for d in data["diagnostics"]], str(data["key"]),
                   run, str(data["run_message"]), answers)
