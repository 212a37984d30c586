"""course_lib: the helper package behind the deep-learning course.

One module per idea: ``device``, ``timing`` and ``data`` for the plumbing, ``checks`` for the
self-checks in the exercises, ``scratch`` for everything built by hand in NumPy,
``models`` and ``train`` for the PyTorch twins, ``viz`` for plots and widgets (drawing only:
the maths lives in ``scratch``), and ``grading`` for ``course build`` / ``course grade``.
CONTRIBUTING.md's architecture section says what may import what.
"""

__version__ = "0.1.0"
