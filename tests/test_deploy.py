"""The deployment files, checked without a cluster: scripts parse, manifests have what their kind
requires, and a dry run of each (with `course` stubbed) gives `course grade` commands its parser accepts."""

import re
import subprocess
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")
ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"


def manifest(name: str) -> dict:
    return yaml.safe_load((DEPLOY / "kubernetes" / name).read_text())


COURSE_STUB = """#!{python}
import json, sys
sys.path.insert(0, {root!r})
from course_lib.cli import make_merge_parser, make_parser
argv = sys.argv[1:]
make_merge_parser().parse_args(argv[2:]) if argv[:2] == ["grade", "merge"] else make_parser().parse_args(argv)
print(json.dumps(argv))
"""
APPTAINER_STUB = """#!/usr/bin/env bash
shift                                            # exec
while [[ $1 == --* ]]; do shift 2; done          # --bind X, --pwd Y
shift                                            # the image
exec "$@"
"""


@pytest.fixture
def dry_run(tmp_path):
    """Run a script with `course` (and `apptainer`) replaced by stubs: each `course` command is parsed
    by the course's own parser (a bad one fails the run) and printed as a JSON list."""
    import json
    import os
    import sys

    for name, text in (("course", COURSE_STUB.format(python=sys.executable, root=str(ROOT))),
                       ("apptainer", APPTAINER_STUB)):
        (tmp_path / name).write_text(text)
        (tmp_path / name).chmod(0o755)

    def run(argv: list[str], **env: str) -> list[list[str]]:
        done = subprocess.run(argv, capture_output=True, text=True, cwd=tmp_path,
                              env={**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}", **env})
        assert done.returncode == 0, done.stderr
        return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("[")]
    return run


@pytest.mark.parametrize("script", sorted((DEPLOY / "slurm").iterdir()), ids=lambda p: p.name)
def test_slurm_scripts_parse(script):
    assert subprocess.run(["bash", "-n", str(script)], capture_output=True).returncode == 0


def test_slurm_array_grades_shards_and_merges_them(dry_run):
    grade, merge = DEPLOY / "slurm" / "grade.sbatch", DEPLOY / "slurm" / "merge.sbatch"
    assert re.search(r"^#SBATCH --array=1-\d+$", grade.read_text(), re.M)
    [shard] = dry_run(["bash", str(grade)], SLURM_ARRAY_TASK_ID="2", SLURM_ARRAY_TASK_COUNT="3")
    assert shard[shard.index("--shard") + 1] == "2/3" and shard[shard.index("--out") + 1].endswith("grades/shard-2")
    [merged] = dry_run(["bash", str(merge)], SHARDS="3")
    assert merged[:2] == ["grade", "merge"] and [Path(p).name for p in merged[2:5]] == ["shard-1", "shard-2",
                                                                                          "shard-3"]
    submit = (DEPLOY / "slurm" / "submit.sh").read_text()
    assert "--dependency=\"afterok:" in submit and "grade.sbatch" in submit and "merge.sbatch" in submit


def check_job(job: dict) -> dict:
    """What a batch/v1 Job must have; return its one container."""
    assert (job["apiVersion"], job["kind"]) == ("batch/v1", "Job") and job["metadata"]["name"]
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] in ("Never", "OnFailure")
    [container] = pod["containers"]
    assert container["name"] and container["image"]
    volumes = {v["name"] for v in pod.get("volumes", [])}
    assert {m["name"] for m in container.get("volumeMounts", [])} <= volumes
    return container


def env_of(container: dict) -> dict:
    return {e["name"]: e["value"] for e in container.get("env", [])}


def test_kubernetes_indexed_job_runs_every_shard(dry_run):
    job = manifest("grade-job.yaml")
    container = check_job(job)
    spec = job["spec"]
    assert spec["completionMode"] == "Indexed"
    shards = env_of(container)["SHARDS"]
    assert spec["completions"] == spec["parallelism"] == int(shards)
    for index in (0, spec["completions"] - 1):  # indices count from 0, shards from 1
        [shard] = dry_run([*container["command"], *container["args"]], JOB_COMPLETION_INDEX=str(index),
                          SHARDS=shards)
        assert shard[shard.index("--shard") + 1] == f"{index + 1}/{shards}"
    assert "SYS_ADMIN" in container["securityContext"]["capabilities"]["add"]  # bubblewrap's namespaces


def test_kubernetes_merge_job_merges_the_same_shards(dry_run):
    grade, merge = manifest("grade-job.yaml"), manifest("merge-job.yaml")
    container = check_job(merge)
    shards = env_of(container)["SHARDS"]
    assert shards == str(grade["spec"]["completions"])
    assert container["image"] == grade["spec"]["template"]["spec"]["containers"][0]["image"]
    [merged] = dry_run([*container["command"], *container["args"]], SHARDS=shards)
    assert merged[2:-2] == [f"/data/grades/shard-{k}" for k in range(1, int(shards) + 1)]


def test_jupyterhub_config_serves_the_course_image():
    config = yaml.safe_load((DEPLOY / "jupyterhub" / "config.yaml").read_text())
    assert config["singleuser"]["image"]["name"] and config["singleuser"]["defaultUrl"] == "/lab"
    docker = (DEPLOY / "Dockerfile").read_text()
    assert "environment.yml" in docker and "nbgitpuller" in docker and "bubblewrap" in docker


def readme_test_command() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Run all the tests", 1)[1]
    return re.search(r"```bash\n(.+?)\n```", section, re.S).group(1).strip()


def test_ci_workflow_runs_the_readme_test_command():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "tests.yml").read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "push" in triggers and "pull_request" in triggers
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    assert any(step.get("uses", "").startswith("actions/checkout@") for step in steps)
    assert readme_test_command() in [step.get("run", "").strip() for step in steps]


def test_readme_links_binder_and_nbgitpuller():
    readme = (ROOT / "README.md").read_text()
    assert "https://mybinder.org/badge_logo.svg" in readme and "mybinder.org/v2/gh/" in readme
    assert "/hub/user-redirect/git-pull?repo=" in readme
    for path in ("deploy/slurm/submit.sh", "deploy/kubernetes/grade-job.yaml", "deploy/jupyterhub/config.yaml"):
        assert path in readme and (ROOT / path).exists()
