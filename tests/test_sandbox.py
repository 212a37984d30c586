"""The sandbox's command lines and limits, checked without running them (docker and podman cannot run here)."""

import sys

import pytest

from course_lib.cli import main
from course_lib.grading.sandbox import PACKAGE_ROOT, Limits, Sandbox, bwrap_command, container_command, package_dir

ARGV = [sys.executable, "-m", "course_lib.grading.worker", "[]"]


def test_bwrap_shows_only_the_environment_the_package_and_a_limited_working_folder():
    args = bwrap_command(ARGV, Limits(disk_mb=100), {"A": "1"}, 70_123)
    binds = {args[i + 2]: args[i + 1] for i, a in enumerate(args) if a == "--ro-bind"}
    assert binds[f"{PACKAGE_ROOT}/course_lib"] == package_dir()
    assert not any(target.endswith("solutions") or target == "/" for target in binds)
    course_folder = package_dir().rsplit("/", 1)[0]
    assert course_folder not in binds, "the course folder (with solutions/) must not be visible"
    for flag in ("--unshare-pid", "--unshare-net", "--die-with-parent", "--new-session", "--clearenv"):
        assert flag in args
    tmpfs = args.index("/work")
    assert args[tmpfs - 3:tmpfs] == ["--size", str(100 * 2**20), "--tmpfs"]
    assert args[-len(ARGV):] == ARGV and "--reuid=70123" in args


@pytest.mark.parametrize("engine", ["docker", "podman"])
def test_container_command_has_the_same_walls(engine):
    args = container_command(engine, "course-grader:1", ARGV, Limits(memory_mb=2048, processes=32, disk_mb=64),
                             {"A": "1"}, 70_001)
    text = " ".join(args)
    assert args[:3] == [engine, "run", "--rm"]
    for part in ("--network none", "--read-only", "--user 70001:70001", "--cap-drop ALL", "--memory 2048m",
                 "--pids-limit 32", "--tmpfs /work:rw,size=64m,mode=1777",
                 f"-v {package_dir()}:{PACKAGE_ROOT}/course_lib:ro", "-e A=1", "-e PYTHONPATH=/opt/course"):
        assert part in text
    assert args[-5:] == ["course-grader:1", "python", "-m", "course_lib.grading.worker", "[]"]


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="expected one of bwrap, docker, podman, none, got 'chroot'"):
        Sandbox("chroot")
    with pytest.raises(ValueError, match="Limits.memory_mb: expected a positive number, got 0"):
        Limits(memory_mb=0)


def test_no_sandbox_warns_in_every_report(tmp_path, capsys):
    from demo_chapter import write_class

    classroom = write_class(tmp_path, ["good"])
    out = tmp_path / "out"
    assert main(["grade", str(classroom), "--out", str(out), "--no-sandbox", "--jobs", "1",
                 "--solutions", str(tmp_path / "solutions")]) == 0
    assert "WARNING" in capsys.readouterr().err
    for report in ("grades.csv", "summary.txt", "feedback/good.html"):
        assert "WITHOUT a sandbox" in (out / report).read_text(), report
