"""``course doctor``: healthy here, and each kind of broken environment named with its fix."""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

import pytest

from course_lib import doctor
from course_lib.cli import main


def test_this_environment_is_healthy(capsys):
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    for name in ("python", *doctor.PACKAGES, "device", "widgets front end", "ipympl front end", "python3 kernel"):
        assert f" {name} " in out
    assert "all well" in out and "PROBLEM" not in out


def test_a_problem_prints_its_fix_and_exits_1(monkeypatch, capsys, tmp_path):
    real = doctor.front_end_findings
    monkeypatch.setattr(doctor, "front_end_findings", lambda: real([tmp_path]))  # an empty labextensions folder
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "PROBLEM  ipympl front end" in out and "pip install --force-reinstall ipympl" in out
    assert "2 problems" in out


def test_a_missing_front_end_is_named_and_the_other_found(tmp_path):
    (tmp_path / "@jupyter-widgets" / "jupyterlab-manager").mkdir(parents=True)
    (tmp_path / "@jupyter-widgets" / "jupyterlab-manager" / "package.json").write_text('{"version": "5.0.9"}')
    widgets, ipympl = doctor.front_end_findings([tmp_path])
    assert widgets.status == "ok" and "5.0.9" in widgets.detail
    assert ipympl.status == "problem" and "jupyter-matplotlib" in ipympl.detail and "ipympl" in ipympl.fix


def fake_python(tmp_path: Path, prefix: str) -> str:
    """An executable that answers the prefix question as another environment's Python would."""
    script = tmp_path / "python"
    script.write_text(f"#!/bin/sh\necho {prefix}\n")
    script.chmod(0o755)
    return str(script)


def test_a_kernel_of_another_environment_is_a_problem(tmp_path):
    other = fake_python(tmp_path, "/opt/other-env")
    finding = doctor.kernel_finding([other, "-m", "ipykernel_launcher", "-f", "{connection_file}"], True)
    assert finding.status == "problem" and "/opt/other-env" in finding.detail
    assert finding.fix == f"{sys.executable} -m ipykernel install --user --name python3"


def test_a_kernel_of_this_environment_is_fine(tmp_path):
    ours = fake_python(tmp_path, sys.prefix)
    assert doctor.kernel_finding([ours, "-m", "ipykernel_launcher"], True).status == "ok"
    assert doctor.kernel_finding([sys.executable, "-m", "ipykernel_launcher"], True).status == "ok"


@pytest.mark.parametrize("argv, jupyter_is_ours, status", [
    (["python", "-m", "ipykernel_launcher"], True, "ok"),          # JupyterLab's Python: this one
    (["python3", "-m", "ipykernel_launcher"], False, "problem"),   # JupyterLab's Python: another one
    (["/no/such/python", "-m", "ipykernel_launcher"], True, "problem"),
    (None, True, "problem"),                                      # no python3 kernelspec at all
])
def test_kernel_cases(argv, jupyter_is_ours, status):
    finding = doctor.kernel_finding(argv, jupyter_is_ours)
    assert finding.status == status
    assert (finding.fix != "") == (status == "problem")


def test_a_jupyter_of_another_environment_is_a_problem():
    assert doctor.jupyter_finding([str(Path(sys.prefix) / "share" / "jupyter")]).status == "ok"
    other = doctor.jupyter_finding(["/opt/other-env/share/jupyter"])
    assert other.status == "problem" and "/opt/other-env" in other.detail and "-m jupyterlab" in other.fix
    assert doctor.jupyter_finding(None).status == "problem"


def test_old_and_missing_packages_are_problems(monkeypatch):
    monkeypatch.setattr(doctor, "minimum_versions", lambda: {"numpy": "1.24", "torch": "2.2"})

    def version(name: str) -> str:
        if name == "ipympl":
            raise metadata.PackageNotFoundError(name)
        return "1.20.0" if name == "numpy" else "9.9"

    found = {f.name: f for f in doctor.version_findings(version)}
    assert found["numpy"].status == "problem" and found["numpy"].fix == "pip install 'numpy>=1.24'"
    assert found["ipympl"].status == "problem" and found["ipympl"].detail == "not installed"
    assert found["torch"].status == "ok" and found["python"].status == "ok"


def test_a_gpu_that_this_torch_cannot_use_gets_a_note():
    import torch

    if torch.version.cuda is not None:
        pytest.skip("this torch is a CUDA build")
    finding = doctor.device_finding(has_nvidia_gpu=lambda: True)
    assert finding.status == "note" and "torch" in finding.fix
    assert doctor.device_finding(has_nvidia_gpu=lambda: False).status == "ok"


def test_a_finding_that_is_not_ok_needs_a_fix():
    with pytest.raises(ValueError, match="needs a fix"):
        doctor.Finding("kernel", "python3 kernel", "problem", "broken")
    with pytest.raises(ValueError, match="status must be"):
        doctor.Finding("kernel", "python3 kernel", "bad", "broken", "fix")
