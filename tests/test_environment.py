"""pyproject.toml and environment.yml must ask for the same packages at the same minimum versions."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# conda-forge names that differ from PyPI's
CONDA_NAMES = {"torch": "pytorch"}
NOT_PACKAGES = {"python", "pip"}


def _split(requirement: str) -> tuple[str, str]:
    name, spec = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", requirement).groups()
    return name.lower().replace("_", "-"), spec.replace(" ", "")


def pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + project["optional-dependencies"]["dev"]
    return dict(_split(CONDA_NAMES.get(_split(r)[0], _split(r)[0]) + _split(r)[1]) for r in requirements)


def conda_requirements() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    specs = [d for d in env["dependencies"] if isinstance(d, str)]
    return {name: spec for name, spec in map(_split, specs) if name not in NOT_PACKAGES}


def test_same_packages_and_versions():
    pip, conda = pyproject_requirements(), conda_requirements()
    assert sorted(set(pip) - set(conda)) == [], "in pyproject.toml but not in environment.yml"
    assert sorted(set(conda) - set(pip)) == [], "in environment.yml but not in pyproject.toml"
    differ = {name: (pip[name], conda[name]) for name in pip if pip[name] != conda[name]}
    assert differ == {}, f"version ranges differ (pyproject, environment.yml): {differ}"


def test_python_version_agrees():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert f"python{project['requires-python']}" in env["dependencies"]


def test_students_and_the_test_command_install_no_nbgrader():
    """nbgrader adds its menu and "Create Assignment" sidebar to every JupyterLab in the environment."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for group in (project["dependencies"], project["optional-dependencies"]["dev"]):
        assert "nbgrader" not in {_split(r)[0] for r in group}
    assert "nbgrader" in {_split(r)[0] for r in project["optional-dependencies"]["instructor"]}
