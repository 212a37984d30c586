"""Workers forked from the warm zygote: each notebook alone in its walls, its death reported as it happened."""

import os
from pathlib import Path

import pytest

from course_lib.grading.runner import Worker, WorkerDied
from course_lib.grading.sandbox import Limits, Sandbox
from course_lib.grading.status import Status
from demo_chapter import NO_BWRAP, bwrap_works

pytestmark = pytest.mark.skipif(not (bwrap_works() and os.geteuid() == 0), reason=NO_BWRAP + " (warm workers: as root)")
LIMITS = Limits(cell_seconds=30, memory_mb=3072)
SANDBOX = Sandbox("bwrap")
PORT = 47613

LEAVE_TRACES = f"""import os, socket
server = socket.socket()
server.bind(('127.0.0.1', {PORT}))
server.listen()
for path in ('/tmp/mark', '/work/mark', '/dev/shm/mark'):
    open(path, 'w').write('a')
"""
LOOK_FOR_TRACES = f"""import os, socket
try:
    socket.create_connection(('127.0.0.1', {PORT}), timeout=1)
    reached = True
except OSError:
    reached = False
seen = [p for p in ('/tmp/mark', '/work/mark', '/dev/shm/mark') if os.path.exists(p)]
others = [p for p in os.listdir('/proc') if p.isdigit() and int(p) not in (1, os.getpid())]
assert not reached and not seen and not others, (reached, seen, others)
"""


@pytest.fixture
def workers(tmp_path):
    started = [Worker(Path(tmp_path), LIMITS, SANDBOX, []) for _ in range(2)]
    yield started
    for worker in started:
        worker.close()


def uid_of(worker: Worker) -> str:
    answer = worker.run("import os\nraise SystemError(str(os.getuid()))", 30)
    return answer["evalue"]


def test_two_notebooks_of_one_zygote_share_no_port_file_or_process(workers):
    first, second = workers
    assert first.run(LEAVE_TRACES, 30)["status"] == "ok"
    answer = second.run(LOOK_FOR_TRACES, 30)
    assert answer["status"] == "ok", answer["evalue"]
    assert uid_of(first) != uid_of(second) and int(uid_of(first)) >= 70_000


@pytest.mark.parametrize("cell, words", [
    ("import os\nos._exit(3)", "exited with code 3"),
    ("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)", "signal 11 segmentation fault"),
])
def test_a_forked_worker_s_death_is_reported_as_it_happened(workers, cell, words):
    with pytest.raises(WorkerDied) as died:
        workers[0].run(cell, 30)
    assert died.value.status == Status.CRASHED and words in str(died.value)
