"""Every notebook stores the kernelspec of the installed python3 kernel, so opening one changes nothing."""

import json
from pathlib import Path

import pytest
from jupyter_client.kernelspec import KernelSpecManager

from course_lib.grading.build import make_exercise
from course_lib.grading.cells import KERNELSPEC, code, notebook

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for folder in ("notebooks", "solutions", "exercises") for p in (ROOT / folder).glob("*.ipynb"))


def test_course_kernelspec_is_the_installed_one():
    spec = KernelSpecManager().get_kernel_spec(KERNELSPEC["name"])
    assert {"name": KERNELSPEC["name"], "display_name": spec.display_name, "language": spec.language} == KERNELSPEC


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebook_stores_the_course_kernelspec(path: Path):
    stored = json.loads(path.read_text(encoding="utf-8"))["metadata"].get("kernelspec")
    assert stored == KERNELSPEC, f"{path.relative_to(ROOT)}: kernelspec {stored}, expected {KERNELSPEC}"


def test_build_writes_the_course_kernelspec_whatever_the_solution_stores():
    solution = notebook([code("x = 1")])
    solution.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    assert make_exercise(solution, "00_demo").metadata["kernelspec"] == KERNELSPEC
