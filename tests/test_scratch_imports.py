"""course_lib.scratch is NumPy only: no module of it may pull in torch, matplotlib or viz."""

import pkgutil
import subprocess
import sys

import course_lib.scratch

MODULES = sorted(f"course_lib.scratch.{m.name}" for m in pkgutil.iter_modules(course_lib.scratch.__path__))


def test_scratch_imports_neither_torch_nor_drawing():
    code = (
        "import importlib, sys\n"
        f"for name in {MODULES + ['course_lib.early_stopping']!r}: importlib.import_module(name)\n"
        "print(sorted(k for k in ('torch', 'matplotlib', 'course_lib.viz') if k in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    assert "course_lib.scratch.batchnorm" in MODULES  # the listing found the modules
