"""The switch between ntmkit's three ways of running an NTM.

``fused`` (the default)
    `ntmkit.NTM.forward` runs the whole sequence in the C++ engine of `ntmkit.fused`, forward
    and backward, where it applies (`ntmkit.fused.why_not`); elsewhere, the ``eager`` path.
``eager``
    the step loop of `ntmkit.cell` in PyTorch, whose two hottest operations, the cosine
    similarity of keys with memory rows and the one-head write followed by a read, are
    `torch.autograd.Function`s with hand-written backward passes that make fewer memory-sized
    temporaries (`ntmkit.addressing._CosineSimilarity`, `ntmkit.memory._OneHeadWriteRead`).
``reference``
    the same step loop with the plain autograd formulas those were derived from
    (`cosine_similarity_reference`, `write_and_read_reference`): the readable definition of
    the model.

All three give second derivatives (``create_graph=True``: Hessian-vector products,
``torch.autograd.gradgradcheck``): when the backward pass is asked for a graph of its own, the
hand-written backward passes of ``fused`` and ``eager`` hand over to autograd on the
reference formulas (`differentiable_backward`), so the second derivative is exact, at the
reference engine's speed.

All three give the same values and gradients to rounding; `tests/test_engine.py` and
`tests/test_fused.py` check it. Inside a `torch.func` transform (``grad``, ``vmap``, ...) the
reference formulas are used whatever the switch says, since the others define no transform
rules.

Choose with ``ntmkit.engine.set_engine("reference")``, for a block with
``with ntmkit.engine.use("reference"): ...``, or for a whole process (the command line
included) with the environment variable ``NTMKIT_ENGINE=reference``.
"""

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Protocol, cast

import torch

from .validation import check_choice
from .vocabulary import EngineName

ENVIRONMENT_VARIABLE = "NTMKIT_ENGINE"

_current: EngineName | None = None
"""The engine in use; None until first asked, then read from `ENVIRONMENT_VARIABLE`."""


def current() -> EngineName:
    """The engine in use: ``"fused"``, ``"eager"`` or ``"reference"``. The first call reads
    ``NTMKIT_ENGINE`` (a bad name there is a one-line `ValueError` naming it, at first use
    rather than at import, where nothing could catch it)."""
    global _current
    if _current is None:
        value = os.environ.get(ENVIRONMENT_VARIABLE, "fused")
        # check_choice checks the name against the Literal at run time; cast says so to mypy.
        _current = cast(EngineName, check_choice(ENVIRONMENT_VARIABLE, value, EngineName))
    return _current


def set_engine(name: EngineName) -> EngineName:
    """Use engine ``name`` from now on; returns the one used before."""
    global _current
    previous = current()
    _current = cast(EngineName, check_choice("engine", name, EngineName))
    return previous


@contextmanager
def use(name: EngineName) -> Iterator[None]:
    """Use engine ``name`` inside the ``with`` block, and the previous one after it."""
    previous = set_engine(name)
    try:
        yield
    finally:
        set_engine(previous)


def exporting() -> bool:
    """Whether `torch.export` is capturing the model: it then runs the eager loop, and checks
    that need the tensors' values (finite inputs, lengths in range) are left out."""
    is_exporting = getattr(torch.compiler, "is_exporting", None)  # torch >= 2.6
    return bool(is_exporting is not None and is_exporting())


def fused_functions_enabled() -> bool:
    """Whether the eager loop should use its hand-written autograd Functions: the switch is
    not ``reference`` and no `torch.func` transform is active (they define no rules for one)."""
    return current() != "reference" and not torch._C._are_functorch_transforms_active()


class FunctionContext(Protocol):
    """The ``ctx`` of a hand-written `torch.autograd.Function`, as its forward and backward use
    it (torch types ``ctx`` as Any, and its stubs make ``saved_tensors`` a one-tuple)."""

    @property
    def saved_tensors(self) -> tuple[torch.Tensor, ...]: ...

    @property
    def needs_input_grad(self) -> tuple[bool, ...]: ...

    def save_for_backward(self, *tensors: torch.Tensor) -> None: ...


def differentiable_backward(
    reference: Callable[..., torch.Tensor | tuple[torch.Tensor, ...]],
    inputs: Sequence[torch.Tensor],
    grad_outputs: Sequence[torch.Tensor],
    needs_input_grad: Sequence[bool],
) -> tuple[torch.Tensor | None, ...]:
    """The backward pass of a hand-written autograd Function when a graph of it is wanted.

    A Function's ``backward`` runs with grad mode on exactly when the caller asked for
    ``create_graph=True``; a hand-written backward then cannot be differentiated again, so it
    calls this instead: autograd differentiates ``reference`` (the Function's plain formula)
    at the saved ``inputs`` with ``create_graph=True``, and the returned gradients carry the
    graph a second derivative needs. One gradient per input, None where none is needed.
    """
    with torch.enable_grad():
        # Each input through a view of its own: autograd then differentiates with respect to
        # that input alone, not also along another input that was computed from it (a step's
        # write weights from its memory), which would count those paths twice.
        inputs = [x.view_as(x) for x in inputs]
        wanted = [x for x, need in zip(inputs, needs_input_grad) if need]
        outputs = reference(*inputs)
        outputs = outputs if isinstance(outputs, tuple) else (outputs,)
        # Outputs that do not depend on any input (an empty controller state) carry no graph.
        pairs = [(out, grad) for out, grad in zip(outputs, grad_outputs) if out.requires_grad]
        grads = iter(
            torch.autograd.grad(
                [out for out, _ in pairs],
                wanted,
                [grad for _, grad in pairs],
                create_graph=True,
                allow_unused=True,
            )
        )
    return tuple(next(grads) if need else None for need in needs_input_grad)
