"""PyTorch models (nn.Module): the twins of what scratch/ builds by hand, on any device.

Import from the module itself: ``from course_lib.models.mlp import MLP``. Every model takes a
``seed`` (``models.seeding``) so that its initial weights do not depend on torch's global generator.
"""
