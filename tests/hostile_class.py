"""A hostile class for the demo chapter: each submission tries one way to gain points it did not
compute, read what is hidden, or change someone else's grade, and states what it must get.

``HOSTILE[name] = (double answer, normalize answer, points (double, normalize), status)``. The
double test is worth 1, normalize 2; GOOD_NORM is a right answer, so most attacks are on
``double``: it is right only if the attack worked. ``SOLUTIONS`` and ``CLASS`` in the sources are
replaced by the real folders when the class is written, so the attacks aim at real files.
"""

from __future__ import annotations

from demo_chapter import GOOD_DOUBLE, GOOD_NORM

WRONG = "def double(x):\n    return 0"
LEAK = "def double(x):\n    return 2 * x if SECRET else 0"  # right only when the attack read something

# 1. escapes from the sandbox: each sets SECRET only if it reached something outside its folder
ESCAPES = {
    "read_solutions_open": "SECRET = open(SOLUTIONS + '/07_demo.ipynb').read()",
    "read_classmate": "SECRET = open(CLASS + '/good/07_demo.ipynb').read()",
    "list_class": "import os\nSECRET = os.listdir(CLASS)",
    "ctypes_open": "import ctypes\nlibc = ctypes.CDLL(None)\nSECRET = libc.open((SOLUTIONS + '/07_demo.ipynb').encode(), 0) >= 0",
    "hard_link": "import os\nos.link(SOLUTIONS + '/07_demo.ipynb', 'copy.ipynb')\nSECRET = open('copy.ipynb').read()",
    "symlink": "import os\nos.symlink(SOLUTIONS + '/07_demo.ipynb', 'l')\nSECRET = open('l').read()",
    "dir_fd_open": "import os\nd = os.open(SOLUTIONS, os.O_RDONLY)\nSECRET = os.open('07_demo.ipynb', os.O_RDONLY, dir_fd=d)",
    "rename_into_class": "import os\nopen('x', 'w').write('x')\nos.rename('x', CLASS + '/good/planted.txt')\nSECRET = True",
    "truncate_classmate": "open(CLASS + '/good/07_demo.ipynb', 'w').close()\nSECRET = True",
    "write_sibling_prefix": "import os\nopen(os.getcwd() + '-evil.txt', 'w').write('x')\nSECRET = True",
    "write_tmp_host": "open('/tmp/course_hostile_escape.txt', 'w').write('x')\nimport os\n"
                      "SECRET = os.path.exists('/tmp/course_hostile_escape.txt') and False",
    "proc_grader_cmdline": "import os\nSECRET = [p for p in os.listdir('/proc') if p.isdigit() and "
                           "b'pytest' in open(f'/proc/{p}/cmdline', 'rb').read()]",
    "proc_parent_mem": "import os\nSECRET = open(f'/proc/{os.getppid()}/mem', 'rb').read(1)",
    "signal_parent": "import os, signal\nos.kill(os.getppid(), signal.SIGSTOP)\nSECRET = True",
    "spawn_child_reads": "import multiprocessing as mp\nq = mp.Queue()\n"
                         "p = mp.Process(target=lambda: q.put(open(SOLUTIONS + '/07_demo.ipynb').read()))\n"
                         "p.start(); p.join()\nSECRET = q.get(timeout=2)",
    "subprocess_cat": "import subprocess\nSECRET = subprocess.run(['cat', SOLUTIONS + '/07_demo.ipynb'], "
                      "capture_output=True).stdout",
    "network": "import socket\nSECRET = socket.create_connection(('1.1.1.1', 80), timeout=2)",
    "shell_escape": "out = !cat SOLUTIONS/07_demo.ipynb\nSECRET = 'BEGIN' in ''.join(out)",
    "dynamic_import": "SECRET = __import__('os').listdir(SOLUTIONS)",
    "home_course": "import os, glob\nSECRET = glob.glob('/work*/**/solutions/*.ipynb', recursive=True) + "
                   "glob.glob('/root/**/solutions/*.ipynb', recursive=True)",
    "package_neighbours": "import course_lib, os\nSECRET = os.listdir(os.path.dirname(os.path.dirname(course_lib.__file__)) "
                          "+ '/solutions')",
    # the walls a notebook forked from the warm zygote must have, as a sandbox of its own has them
    "inherited_socket": "import os\nlinks = []\nfor f in os.listdir('/proc/self/fd'):\n    try:\n"
                        "        links.append(os.readlink('/proc/self/fd/' + f))\n    except OSError:\n        pass\n"
                        "SECRET = [link for link in links if link.startswith('socket:')]",
    "capabilities_kept": "lines = open('/proc/self/status').read().splitlines()\n"
                         "SECRET = [l for l in lines if l.split(':')[0] in ('CapInh', 'CapPrm', 'CapEff', 'CapBnd', "
                         "'CapAmb') and int(l.split()[1], 16)] + [l for l in lines if l.startswith('NoNewPrivs') "
                         "and l.split()[1] != '1']",
    "root_or_groups": "lines = open('/proc/self/status').read().splitlines()\n"
                      "SECRET = [l for l in lines if l.split(':')[0] in ('Uid', 'Gid') and '0' in l.split()[1:]] + "
                      "[l for l in lines if l.startswith('Groups:') and l.split()[1:]]",
    "other_processes": "import os\nSECRET = [p for p in os.listdir('/proc') if p.isdigit() and int(p) not in "
                       "(1, os.getpid())]",
    "shared_tmp": "import os\nSECRET = os.listdir('/tmp') + os.listdir('/dev/shm')",
}
# 2. abuse of the process's own resources: cost only this notebook
RESOURCES = {
    "fork_bomb": ("import os, time\ntry:\n    while True:\n        if os.fork() == 0:\n            time.sleep(600)\n"
                  "            os._exit(0)\nexcept OSError:\n    pass\n" + GOOD_DOUBLE, (1, 2), "flagged"),
    "orphan_daemon": ("import subprocess\nsubprocess.Popen(['sleep', '600'], start_new_session=True)\n" + GOOD_DOUBLE,
                      (1, 2), "flagged"),
    "disk_fill": ("try:\n    with open('big', 'wb') as f:\n        f.write(b'x' * (300 * 2**20))\nexcept OSError:\n"
                  "    pass\n" + GOOD_DOUBLE, (1, 2), "flagged"),
    "stop_self": ("import os, signal\nos.kill(os.getpid(), signal.SIGSTOP)\n" + GOOD_DOUBLE, (0, 2), "flagged"),
    "kill_everyone": ("import os\nos.kill(-1, 9)\n" + GOOD_DOUBLE, (0, 2), "flagged"),
    "memory_bomb": ("import numpy as np\nhog = np.ones(10**10)\n" + GOOD_DOUBLE, (0, 2), "ok"),
}
# 3. fooling the scoring from inside the process: what they change is put back, or seen
SCORING = {
    "patch_check_names": ("import course_lib.checks as c\nc.check_equal = lambda *a, **k: None\n"
                          "check_equal = c.check_equal\n" + WRONG, (0, 2), "ok"),
    "patch_check_code": ("check_equal.__code__ = (lambda name, actual, expected: None).__code__\n" + WRONG,
                         (0, 2), "flagged"),
    # a transformer rewrites the student's own later cells (normalize never runs); tests run elsewhere
    "input_transformer": ("get_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])\n" + WRONG,
                          (0, 0), "flagged"),
    "ast_transformer": ("import ast\nclass Drop(ast.NodeTransformer):\n    def visit_Module(self, node):\n"
                        "        node.body = []\n        return node\nget_ipython().ast_transformers.append(Drop())\n"
                        + WRONG, (0, 0), "flagged"),
    "pre_run_event": ("import course_lib.checks as c\nget_ipython().events.register('pre_run_cell', "
                      "lambda *a: c.set_recorder(None))\n" + WRONG, (0, 2), "flagged"),
    "patch_builtins": ("import builtins\nbuiltins.isinstance = lambda *a: True\nbuiltins.type = lambda *a: int\n"
                       + WRONG, (0, 2), "flagged"),
    "forge_records": ("import course_lib.checks as c\ndef double(x):\n    c._recorder.__defaults__[0].append("
                      "{'kind': 'equal', 'name': f'double({x})', 'value': 2 * 2, 'options': {}})\n    return 0",
                      (0, 2), "flagged"),
    "forge_channel": ("import os\nfor fd in range(3, 64):\n    try:\n        os.write(fd, b'{\"status\": \"ok\", "
                      "\"records\": []}\\n')\n    except OSError:\n        pass\n" + WRONG, (0, 2), "flagged"),
    "channel_garbage": ("import os\nfor fd in range(3, 64):\n    try:\n        os.write(fd, b'\\xff' * 100000)\n"
                        "    except OSError:\n        pass\n" + GOOD_DOUBLE, (0, 2), "flagged"),
    "settrace": ("import sys\nsys.settrace(lambda *a: None)\n" + WRONG, (0, 2), "flagged"),
    "leak_hidden_in_error": ("def double(x):\n    raise ValueError(get_ipython().user_ns['_ih'][-1])", (0, 2),
                             "flagged"),
}
# 3b. the channel between the trusted test process and the sandbox: the tests run outside, so
# nothing of them is here to read or forge, and anything but a well-formed reply to the call in
# flight ends the cell as a crash
_OBJECTS = "import gc\nobjects = [o for o in gc.get_objects() if type(o).__name__ == 'Objects'][0]\n"
CHANNEL = {
    "read_test_source": ("import sys\ndef double(x):\n    seen = ''.join(get_ipython().user_ns['_ih']) + "
                         "str([f.f_locals for f in (sys._getframe(i) for i in range(1, 6))])\n"
                         "    return 2 * x if 'double(' + '-7)' in seen else 0", (0, 2), "flagged"),
    "forge_record": ("import course_lib.checks as c\ndef double(x):\n    c._record('equal', 'double(2)', 4)\n"
                     "    c._record('equal', 'double(-7)', -14)\n    return 0", (0, 2), "ok"),
    "guess_callback": (_OBJECTS + "def double(x):\n    for guess in ('0' * 32, 'f' * 32):\n        try:\n"
                       "            return objects.endpoint.request({'op': 'callback', 'target': guess, "
                       "'args': {'list': [x]}, 'kwargs': {'dict': []}})\n        except Exception:\n"
                       "            pass\n    return 0", (0, 2), "flagged"),
    "oversized_reply": ("def double(x):\n    return 'x' * 20_000_000", (0, 2), "ok"),
    "malformed_reply": (_OBJECTS + "def double(x):\n    objects.endpoint.write_line('{\"re\": [1, 2\\n')\n"
                        "    return 2 * x", (0, 2), "flagged"),
    "reply_not_asked_for": (_OBJECTS + "def double(x):\n    objects.endpoint.send({'re': 'f' * 32, 'value': 2 * x})\n"
                            "    return 2 * x", (0, 2), "flagged"),
    "lying_object": ("class Liar:\n    def __getattr__(self, name):\n        return lambda *a, **k: self\n"
                     "    def __eq__(self, other):\n        return True\n    def __array__(self, *a, **k):\n"
                     "        import numpy\n        return numpy.array(4)\n    def __int__(self):\n        return 4\n"
                     "def double(x):\n    return Liar()", (0, 2), "ok"),
}
# 4. what normalize returns to the checks: plain data or nothing
VALUES = {
    "flood_records": ("def normalize(v):\n    return np.zeros(3 * 10**6)", "crashed"),
    "nan_answer": ("def normalize(v):\n    return v * np.nan", "failed"),
    "ndarray_subclass": ("class Liar(np.ndarray):\n    def tolist(self):\n        return [0.2] * 5\n"
                         "def normalize(v):\n    return np.zeros_like(v).view(Liar)", "failed"),
    "rigged_float": ("class F(float):\n    def __eq__(self, other):\n        return True\n"
                     "def normalize(v):\n    return F(1.0)", "failed"),
}


def hostile() -> dict[str, tuple[str, str, tuple[int, int], str]]:
    """name -> (double source, normalize source, points (double, normalize), status)."""
    cases = {}
    for name, attack in ESCAPES.items():
        cases[name] = (attack + "\n" + LEAK, GOOD_NORM, (0, 2), "flagged")
    for name, (double, points, status) in {**RESOURCES, **SCORING, **CHANNEL}.items():
        cases[name] = (double, GOOD_NORM, points, status)
    for name, (norm, _) in VALUES.items():
        cases[name] = (GOOD_DOUBLE, norm, (1, 0), "ok")
    return cases
