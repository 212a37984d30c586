"""course_lib: the helper package behind the deep-learning course.

One module per idea: ``device`` and ``data`` for the plumbing, ``checks`` for the
self-checks in the exercises, ``scratch`` for everything built by hand in NumPy,
``models`` and ``train`` for the PyTorch twins, ``viz`` for plots and widgets, and
``grading`` for ``course build`` / ``course grade``.
"""

__version__ = "0.1.0"
