"""PyTorch models (nn.Module): the twins of what scratch/ builds by hand, on any device.

Import from the module itself: ``from course_lib.models.mlp import MLP``. Every model takes a
``seed`` so that its initial weights do not depend on torch's global generator.

- ``mlp``: MLP, LogisticRegression
- ``lenet``: LeNet5 (8x8 or 28x28 digits)
- ``resnet``: DeepCNN, a plain deep CNN or its residual twin (``residual=True``)
- ``blocks``: DenseBlock, TwoBranchBlock
- ``init``: seeded initialization shared by all of them
"""
