"""The switch between fused and reference implementations of the model's hot operations.

Two operations dominate an NTM step, the cosine similarity of keys with memory rows and the
one-head write followed by a read, and each has two implementations side by side in its module:

``fused`` (the default)
    `torch.autograd.Function`s with hand-written backward passes that make fewer memory-sized
    temporaries (`ntmkit.addressing._CosineSimilarity`, `ntmkit.memory._OneHeadWriteRead`).
``reference``
    the plain autograd formulas they were derived from (`cosine_similarity_reference`,
    `write_and_read_reference`): the readable definition of the model. They support double
    backward (``create_graph=True``), which the fused backward passes do not.

Both give the same values and gradients to rounding; `tests/test_engine.py` checks it. Inside a
`torch.func` transform (``grad``, ``vmap``, ...) the reference formulas are used whatever the
switch says, since the fused Functions define no transform rules.

Choose with ``ntmkit.engine.set_engine("reference")``, for a block with
``with ntmkit.engine.use("reference"): ...``, or for a whole process (the command line
included) with the environment variable ``NTMKIT_ENGINE=reference``.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager

import torch

from .validation import check_choice
from .vocabulary import EngineName

ENVIRONMENT_VARIABLE = "NTMKIT_ENGINE"

_current: str = check_choice(
    ENVIRONMENT_VARIABLE, os.environ.get(ENVIRONMENT_VARIABLE, "fused"), EngineName
)


def current() -> EngineName:
    """The engine in use: ``"fused"`` or ``"reference"``."""
    return _current  # type: ignore[return-value]


def set_engine(name: EngineName) -> EngineName:
    """Use engine ``name`` from now on; returns the one used before."""
    global _current
    previous, _current = _current, check_choice("engine", name, EngineName)
    return previous  # type: ignore[return-value]


@contextmanager
def use(name: EngineName) -> Iterator[None]:
    """Use engine ``name`` inside the ``with`` block, and the previous one after it."""
    previous = set_engine(name)
    try:
        yield
    finally:
        set_engine(previous)


def fused_enabled() -> bool:
    """Whether the fused Functions should run: the switch says so and no `torch.func`
    transform is active (they define no rules for one)."""
    return _current == "fused" and not torch._C._are_functorch_transforms_active()
